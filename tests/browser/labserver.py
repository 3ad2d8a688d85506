"""The course's JupyterLab for the browser tests: started by `make lab` itself, watched, and stopped.

- ``course_lab``: `make lab` as a learner runs it (the course's own configuration, its venv's kernel), with
  only a port, a token and ``--no-browser`` added (``LAB_ARGS``), serving a temporary copy of the course
  (running cells must never rewrite the repository's notebooks) for a learner whose HOME is a temporary
  folder. Readiness is polled on the REST API (``/api/status``). At the end the server is asked to shut
  down (it stops its kernels), then its process group is terminated, waited for and killed.
- ``learner_with_decoys``: fills such a HOME with a learner's own Jupyter setup that would take the course's
  notebooks elsewhere if `make lab` let it (a ``python3`` kernel of their own, a global configuration).
- ``ProcessGuard``: remembers every process a session started and lists those still alive at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The course folders a learner opens; copied to a temporary root that JupyterLab serves.
COURSE_FOLDERS = ("notebooks", "exercises", "solutions")
SERVER_START_TIMEOUT = 90.0
# What the notebook tests add to a learner's settings: every cell attached to the DOM (the default windowing
# mode detaches cells outside the viewport, which a test cannot read). Nothing else: the news and update
# prompts must stay off by the course's own configuration (jupyter/overrides.json5), not by the test's.
TEST_SETTINGS = {"@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"}}


def _venv_python() -> Path:
    """The project's venv interpreter (what `make lab` runs JupyterLab with), else the current one."""
    venv = ROOT / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def describe(proc: psutil.Process) -> str:
    try:
        return f"pid {proc.pid}: {' '.join(proc.cmdline())[:160]}"
    except psutil.Error:
        return f"pid {proc.pid}"


@dataclass
class ProcessGuard:
    """Remembers what this session started; ``leftovers()`` lists what is still running."""

    marker: str  # the session's scratch folder: every server, kernel and browser process names it
    started: list[psutil.Process] = field(default_factory=list)
    killed_at_teardown: list[str] = field(default_factory=list)

    def watch(self, pid: int) -> None:
        """Remember ``pid`` and its current descendants."""
        try:
            root = psutil.Process(pid)
            self.started.extend([root, *root.children(recursive=True)])
        except psutil.Error:
            pass

    def leftovers(self) -> list[psutil.Process]:
        found = {p.pid: p for p in self.started if _alive(p)}
        for proc in psutil.Process().children(recursive=True):
            if _alive(proc):
                found.setdefault(proc.pid, proc)
        for proc in psutil.process_iter(["cmdline"]):
            if proc.pid != os.getpid() and self.marker in " ".join(proc.info["cmdline"] or []) and _alive(proc):
                found.setdefault(proc.pid, proc)
        return list(found.values())


def stop_all(procs: list[psutil.Process], timeout: float = 5.0) -> None:
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=timeout)


@dataclass
class LabServer:
    url: str
    token: str
    root: Path  # the served (temporary) copy of the course
    home: Path  # the learner's HOME for this server
    process: subprocess.Popen[bytes]
    log: Path

    def api(self, path: str, method: str = "GET", timeout: float = 5.0) -> Any:
        """Call the REST API with the token; return the decoded JSON (``None`` for an empty body)."""
        request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1 (the test's own server)
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the same local URL
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_ready(server: LabServer, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {server.process.returncode}:\n{server.log_tail()}")
        try:
            return server.api("/api/status", timeout=2)
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer /api/status within {timeout:.0f} s:\n{server.log_tail()}")


def _shutdown(server: LabServer, guard: ProcessGuard) -> None:
    """Ask politely (stops kernels), then terminate the process group, wait, and kill."""
    try:
        tree = [psutil.Process(server.process.pid), *psutil.Process(server.process.pid).children(recursive=True)]
    except psutil.Error:
        tree = []
    try:
        server.api("/api/shutdown", method="POST", timeout=5)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.process.pid, sig)
        except ProcessLookupError:
            break  # the group is gone
        try:
            server.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    # Kernels run in sessions of their own: the server stops them on shutdown; anything still
    # alive here was not stopped cleanly, so it is killed and reported by the process guard.
    stray = [p for p in tree if _alive(p)]
    guard.killed_at_teardown.extend(f"not stopped by JupyterLab's shutdown: {describe(p)}" for p in stray)
    stop_all(stray)


def _server_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of a learner whose home is ``home``: nothing of this machine's Jupyter, XDG or make setup."""
    dropped = ("JUPYTER", "IPYTHON", "MPLCONFIGDIR", "XDG_", "MAKE", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    return {**env, "HOME": str(home), **extra}


def _require_setup_done() -> None:
    """`make lab` sets up .venv when it is stale: that must not happen (slowly, on the network) inside a test."""
    stale = subprocess.run(["make", "-q", "-C", str(ROOT), "setup"], env=_server_env(Path.home(), {}), check=False)
    if stale.returncode != 0:
        pytest.fail("the venv is not up to date: run `make setup` (or `make test-browser`, which does) first")


@contextmanager
def course_lab(
    guard: ProcessGuard, folder: Path, *, settings: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> Iterator[LabServer]:
    """`make lab` as a learner runs it, on a free port with a random token and no browser of its own.

    It serves a copy of the course (running cells must never rewrite the repository's notebooks) from
    ``folder/course``, with HOME at ``folder/home`` (empty unless the caller put something there) and the
    course's JupyterLab configuration (``LAB_CONFIG``) at ``folder/lab-config``, seeded with ``settings``
    (``{plugin: values}``, as a learner's Settings editor would save them). ``env`` is added to the
    learner's environment.
    """
    _require_setup_done()
    served, home, lab_config = folder / "course", folder / "home", folder / "lab-config"
    for course_folder in COURSE_FOLDERS:
        if (ROOT / course_folder).is_dir():
            shutil.copytree(
                ROOT / course_folder, served / course_folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
            )
    home.mkdir(parents=True, exist_ok=True)
    for plugin, values in (settings or {}).items():
        package, name = plugin.rsplit(":", 1)
        target = lab_config / "lab" / "user-settings" / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(24)
    lab_args = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --ServerApp.port_retries=0 "
    lab_args += f"--IdentityProvider.token={token}"
    command = [
        "make", "--no-print-directory", "-C", str(ROOT), "lab",
        f"LAB_ROOT={served}", f"LAB_CONFIG={lab_config}", f"LAB_ARGS={lab_args}",
    ]  # fmt: skip
    log = folder / "jupyterlab.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=served,
            env=_server_env(home, env or {}),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, served, home, process, log)
    guard.watch(process.pid)
    try:
        _wait_until_ready(server, SERVER_START_TIMEOUT)
        yield server
    finally:
        guard.watch(process.pid)  # remember the kernels it started, to check they stop
        _shutdown(server, guard)


def _decoy_python(home: Path) -> Path:
    """A working Python with ipykernel that is *not* the course's venv: a venv of its own, in ``home``.

    Its one ``.pth`` file adds the course venv's site-packages (with their own ``.pth`` files, so the editable
    course_utils imports too): a kernel started from it runs the lessons, and only ``sys.executable`` and
    ``sys.prefix`` tell it apart. That is the dangerous case: nothing fails, the learner is in another env.
    """
    decoy = home / "decoy-env"
    subprocess.run([str(_venv_python()), "-m", "venv", "--without-pip", str(decoy)], check=True)
    purelib = subprocess.run(
        [str(_venv_python()), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    decoy_python = decoy / "bin" / "python"
    decoy_purelib = subprocess.run(
        [str(decoy_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(decoy_purelib) / "course-packages.pth").write_text(f"import site; site.addsitedir({purelib!r})\n")
    return decoy_python


def learner_with_decoys(home: Path) -> dict[str, str]:
    """Fill ``home`` with what a learner's own Jupyter may hold; return the environment variables to add.

    - a ``python3`` kernelspec of their own in ``~/.local/share/jupyter/kernels`` (what
      ``python -m ipykernel install --user`` writes) and another on ``JUPYTER_PATH``, both starting a decoy
      interpreter (``_decoy_python``);
    - ``JUPYTER_PREFER_ENV_PATH=0`` (user folders before the venv's);
    - a global server configuration (``~/.jupyter/jupyter_server_config.json``) that points the kernel search
      at their own kernels only, and global JupyterLab settings that ask for news (``fetchNews: "none"``).
    """
    decoy_python = _decoy_python(home)
    spec = {
        "argv": [str(decoy_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (the learner's own)",
        "language": "python",
    }
    user_kernels = home / ".local" / "share" / "jupyter" / "kernels"
    jupyter_path = home / "jupyter-path"
    for kernels in (user_kernels, jupyter_path / "kernels"):
        (kernels / "python3").mkdir(parents=True)
        (kernels / "python3" / "kernel.json").write_text(json.dumps(spec))
    global_config = home / ".jupyter"
    global_config.mkdir()
    (global_config / "jupyter_server_config.json").write_text(
        json.dumps({"KernelSpecManager": {"kernel_dirs": [str(user_kernels)]}})
    )
    news = global_config / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "none"}))
    return {"JUPYTER_PATH": str(jupyter_path), "JUPYTER_PREFER_ENV_PATH": "0"}
