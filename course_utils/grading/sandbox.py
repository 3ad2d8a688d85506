"""The OS sandbox around a grading kernel: bubblewrap (``bwrap``), resource limits via ``prlimit`` and a pids cgroup.

Inside the sandbox a kernel sees, read-only, the system folders, the Python installation, the venv and the
grading build of ``course_utils``; it can write only its scratch folder (a size-limited tmpfs) and the
private I/O folder the grader shares with it (connection file, IPC sockets, cases in, values out); HOME is a
fresh empty tmpfs; there is no network (its own network namespace); it has its own PID namespace and dies
with its parent (``--die-with-parent``), so no process it started outlives it; and it gets only the
environment variables listed in :func:`kernel_environment`. Nothing of the instructor's (working directory,
submissions, gradebook, home folder) is mounted.

The number of processes is capped by a pids cgroup (:class:`ProcessCap`) wherever the machine offers one the
grader may write (cgroup v1's ``pids`` hierarchy, or cgroup v2 with the ``pids`` controller): Linux does not
enforce RLIMIT_NPROC for root, so prlimit alone caps nothing when the instructor grades as root.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Limits",
    "ProcessCap",
    "remove_stale_process_caps",
    "is_running",
    "SandboxUnavailable",
    "check_sandbox",
    "sandbox_command",
    "kernel_environment",
]

SCRATCH = "/sandbox/work"  # the submission's working directory inside the sandbox
PACKAGE = "/sandbox/pkg"  # the grading build of course_utils (read-only)
HOME = "/sandbox/home"
_INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install bubblewrap`) "
    "on a Linux machine that allows user namespaces, or pass --no-sandbox to grade without one (unsafe: "
    "submissions then run with your rights)"
)


class SandboxUnavailable(RuntimeError):
    """No working sandbox on this machine: the message names what to install."""


@dataclass(frozen=True)
class Limits:
    """Per-kernel resource limits (bytes, counts)."""

    memory: int = 3 * 2**30  # address space of each process (RLIMIT_AS)
    processes: int = 64  # tasks (processes and threads) in the sandbox's pids cgroup; also RLIMIT_NPROC
    file_size: int = 256 * 2**20  # largest file a process may write (RLIMIT_FSIZE)
    disk: int = 512 * 2**20  # size of the scratch tmpfs (the working directory)
    small_tmpfs: int = 64 * 2**20  # size of each of the sandbox's /tmp and HOME
    open_files: int = 256


def _system_binds() -> list[str]:
    """Read-only binds of the system folders and the Python installation (same paths as outside)."""
    args: list[str] = []
    for folder in ("/usr", "/etc/alternatives", "/etc/ssl", "/etc/ld.so.cache", "/etc/localtime"):
        args += ["--ro-bind-try", folder, folder]
    for link in ("lib", "lib64", "bin", "sbin"):
        target = Path("/" + link)
        if target.is_symlink():
            args += ["--symlink", str(target.readlink()), str(target)]
        elif target.is_dir():
            args += ["--ro-bind", str(target), str(target)]
    for prefix in sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).absolute()}):
        if not str(prefix).startswith("/usr/"):
            args += ["--ro-bind", str(prefix), str(prefix)]
    return args


def _pids_cgroup_root() -> Path | None:
    """A cgroup hierarchy with the pids controller that this process may create groups in, or ``None``."""
    v1 = Path("/sys/fs/cgroup/pids")
    if (v1 / "cgroup.procs").is_file() and os.access(v1, os.W_OK):
        return v1
    v2 = Path("/sys/fs/cgroup")
    try:
        if "pids" in (v2 / "cgroup.subtree_control").read_text().split() and os.access(v2, os.W_OK):
            return v2
    except OSError:
        pass
    return None


class ProcessCap:
    """A pids cgroup for one sandbox: every process and thread started in it counts against ``limit``.

    ``launcher()`` is the prefix that moves the sandbox's first process into the group before it execs
    prlimit and bwrap, so everything the kernel starts inherits the cap; ``close()`` kills whatever is
    left in the group and removes it. Where the machine has no writable pids cgroup, ``path`` is ``None``,
    ``launcher()`` is empty and only RLIMIT_NPROC applies (not enforced for root).
    """

    def __init__(self, limit: int) -> None:
        self.path: Path | None = None
        root = _pids_cgroup_root()
        if root is None:
            return
        path = root / f"course-grade-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
        except OSError:
            self._remove(path)
            return
        self.path = path

    @staticmethod
    def available() -> bool:
        """Whether this machine offers a pids cgroup the grader may write (else only RLIMIT_NPROC applies)."""
        return _pids_cgroup_root() is not None

    def launcher(self) -> list[str]:
        if self.path is None:
            return []
        return ["/bin/sh", "-c", 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "sh", str(self.path)]

    def close(self) -> None:
        if self.path is not None:
            self._remove(self.path)
            self.path = None

    @staticmethod
    def _remove(path: Path) -> None:
        for _ in range(50):  # kill what is left (a kernel that outlived its stop), then remove the group
            try:
                pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)


def remove_stale_process_caps() -> list[Path]:
    """Remove the pids cgroups whose creator is gone (a worker or grader that was killed); return them.

    A group is named ``course-grade-<creator pid>-<token>``; a live creator's group (another batch running
    at the same time) is left alone.
    """
    root = _pids_cgroup_root()
    removed: list[Path] = []
    for path in sorted(root.glob("course-grade-*")) if root is not None else []:
        try:
            creator = int(path.name.split("-")[2])
        except (ValueError, IndexError):
            continue
        if not is_running(creator):
            ProcessCap._remove(path)
            removed.append(path)
    return removed


def is_running(pid: int) -> bool:
    """Whether process ``pid`` exists (someone else's process counts: it is alive, only not ours to signal)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sandbox_command(
    command: list[str], *, io_dir: Path, package_dir: Path, limits: Limits, cap: ProcessCap | None = None
) -> list[str]:
    """``command`` wrapped in prlimit + bwrap (see the module docstring), started inside ``cap``'s cgroup."""
    rlimits = [
        f"--as={limits.memory}",
        f"--nproc={limits.processes}",
        f"--fsize={limits.file_size}",
        f"--nofile={limits.open_files}",
        "--core=0",
    ]
    env: list[str] = []
    for key, value in kernel_environment().items():
        env += ["--setenv", key, value]
    return [
        *(cap.launcher() if cap is not None else []),
        "prlimit",
        *rlimits,
        "--",
        "bwrap",
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup namespaces: no network, own PIDs
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        *env,
        # bwrap's --size sizes the *next* --tmpfs. /tmp comes first: a venv or a Python that lives under the
        # host's /tmp (a CI clone, say) is bound on top of it, not hidden by it.
        "--size",
        str(limits.small_tmpfs),
        "--tmpfs",
        "/tmp",  # noqa: S108 - a fresh tmpfs inside the sandbox, not the host's /tmp
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(limits.small_tmpfs),
        "--tmpfs",
        HOME,
        "--size",
        str(limits.disk),
        "--tmpfs",
        SCRATCH,
        "--ro-bind",
        str(package_dir),
        PACKAGE + "/course_utils",
        "--bind",
        str(io_dir),
        str(io_dir),
        "--chdir",
        SCRATCH,
        *command,
    ]


def kernel_environment() -> dict[str, str]:
    """The only variables a grading kernel gets (none of the grader's)."""
    return {
        "HOME": HOME,
        "PATH": f"{Path(sys.prefix).absolute()}/bin:/usr/bin:/bin",
        "PYTHONPATH": PACKAGE,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "TMPDIR": "/tmp",  # noqa: S108 - the sandbox's own tmpfs
        "LANG": "C.UTF-8",
    }


@functools.lru_cache(maxsize=1)
def check_sandbox() -> str:
    """The bwrap version when a sandbox can be made here; ``SandboxUnavailable`` naming what to install otherwise."""
    for tool in ("bwrap", "prlimit"):
        if shutil.which(tool) is None:
            raise SandboxUnavailable(f"grading needs `{tool}`, which is not on PATH: {_INSTALL_HINT}")
    probe: list[Any] = ["bwrap", "--unshare-all", "--die-with-parent", *_system_binds(), "--proc", "/proc"]
    probe += ["--size", "1048576", "--tmpfs", "/sandbox", sys.executable, "-c", "pass"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SandboxUnavailable(f"bwrap could not start a sandbox ({err}): {_INSTALL_HINT}") from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1][:300]
        raise SandboxUnavailable(
            f"bwrap could not start a sandbox ({why}); user namespaces may be refused: {_INSTALL_HINT}"
        )
    version = subprocess.run(["bwrap", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    return version.stdout.strip()
