"""Fixtures for the end-to-end tests: JupyterLab from the project's venv, driven by Debian's headless Chromium.

Run them with ``make test-browser`` (or ``pytest -m browser tests/browser``). They skip, with the reason,
where Chromium or Playwright is missing; ``make test-browser`` installs both when it can.

- ``lab_server``: JupyterLab on a free loopback port with a random token, serving a temporary copy of the
  course (running cells in the browser must never rewrite the repository's notebooks), with its own
  config, settings, workspace and runtime folders so nothing of the user's setup leaks in or out.
  Readiness is polled on the REST API (``/api/status``). At the end the server is asked to shut down
  (it stops its kernels), then its process group is terminated, waited for and killed.
- ``chromium``: a Playwright browser context on ``/usr/bin/chromium`` with a fresh profile. The
  background-networking flags matter: without them Chromium's connections are refused on a closed network.
- ``process_guard``: set up first and torn down last; fails the run if any process this session started
  (a kernel, JupyterLab, Chromium or Playwright's driver) is still alive afterwards, and kills it.
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
# JupyterLab user settings for a test run: every cell attached to the DOM (the default windowing mode
# detaches cells outside the viewport, which a test cannot read), and no news / update pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


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


def _describe(proc: psutil.Process) -> str:
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


def _stop(procs: list[psutil.Process], timeout: float = 5.0) -> None:
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


@pytest.fixture(scope="session")
def browser_requirements() -> None:
    """Skip (not fail) where no browser can be driven, saying how to get one."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` "
            "(`make test-browser` does so when run as root)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip(
            "Playwright for Python is not installed: `pip install -e '.[browser]'` (`make test-browser` does so)"
        )


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab-e2e")


@pytest.fixture(scope="session")
def process_guard(browser_requirements: None, scratch: Path) -> Iterator[ProcessGuard]:
    guard = ProcessGuard(marker=f"{scratch}{os.sep}")
    yield guard
    leftovers = guard.leftovers()
    _stop(leftovers)
    problems = guard.killed_at_teardown + [_describe(p) for p in leftovers]
    assert not problems, "processes left behind by the browser tests (now killed):\n" + "\n".join(problems)


@dataclass
class LabServer:
    url: str
    token: str
    root: Path  # the served (temporary) copy of the course
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

    def page_url(self, relpath: str, workspace: str) -> str:
        """URL opening ``relpath`` in its own (fresh) workspace, so notebooks of earlier tests stay closed."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{relpath}?token={self.token}"

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
    guard.killed_at_teardown.extend(f"not stopped by JupyterLab's shutdown: {_describe(p)}" for p in stray)
    _stop(stray)


@pytest.fixture(scope="session")
def lab_server(process_guard: ProcessGuard, scratch: Path) -> Iterator[LabServer]:
    served = scratch / "course"
    for folder in COURSE_FOLDERS:
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, served / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    home = scratch / "jupyter"
    for name, values in LAB_SETTINGS.items():
        target = home / "settings" / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=str(home / "matplotlib"),
    )
    port, token = _free_port(), secrets.token_hex(24)
    command = [
        str(_venv_python()),
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={served}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses to run as root without it
    log = scratch / "jupyterlab.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=served, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, served, process, log)
    process_guard.watch(process.pid)
    try:
        _wait_until_ready(server, SERVER_START_TIMEOUT)
        yield server
    finally:
        process_guard.watch(process.pid)  # remember the kernels it started, to check they stop
        _shutdown(server, process_guard)


@pytest.fixture(scope="session")
def chromium(process_guard: ProcessGuard, scratch: Path) -> Iterator[Any]:
    """A Playwright ``BrowserContext`` on Debian's Chromium with a fresh profile (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(scratch / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        for proc in psutil.Process().children(recursive=True):
            process_guard.watch(proc.pid)  # Playwright's driver and the browser it launched
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = ROOT / "screenshots"  # git-ignored
    folder.mkdir(exist_ok=True)
    return folder
