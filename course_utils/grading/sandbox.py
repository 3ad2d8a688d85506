"""The OS sandbox around a grading kernel: bubblewrap (``bwrap``), resource limits via ``prlimit``.

Inside the sandbox a kernel sees, read-only, the system folders, the Python installation, the venv and the
grading build of ``course_utils``; it can write only its scratch folder (a size-limited tmpfs) and the
private I/O folder the grader shares with it (connection file, IPC sockets, cases in, values out); HOME is a
fresh empty tmpfs; there is no network (its own network namespace); it has its own PID namespace and dies
with its parent (``--die-with-parent``), so no process it started outlives it; and it gets only the
environment variables listed in :func:`kernel_environment`. Nothing of the instructor's (working directory,
submissions, gradebook, home folder) is mounted.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Limits", "SandboxUnavailable", "check_sandbox", "sandbox_command", "kernel_environment"]

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
    processes: int = 64  # RLIMIT_NPROC (not enforced by Linux for uid 0)
    file_size: int = 256 * 2**20  # largest file a process may write (RLIMIT_FSIZE)
    disk: int = 512 * 2**20  # size of the scratch tmpfs
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


def sandbox_command(command: list[str], *, io_dir: Path, package_dir: Path, limits: Limits) -> list[str]:
    """``command`` wrapped in prlimit + bwrap (see the module docstring)."""
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
        "prlimit",
        *rlimits,
        "--",
        "bwrap",
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup namespaces: no network, own PIDs
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        *env,
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",  # noqa: S108 - a fresh tmpfs inside the sandbox, not the host's /tmp
        "--size",
        str(64 * 2**20),
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
