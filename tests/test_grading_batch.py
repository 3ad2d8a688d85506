"""The batch around the kernels: no sandbox → refusal naming what to install; --no-sandbox → a warning in the
gradebook; SIGTERM → everything graded so far kept, no temp folder or process left; --resume goes on."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from course_utils.grading.gradebook import state_path

pytestmark = pytest.mark.slow  # starts graders, kernels and sandboxes: `make check` leaves it to `make test`

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "00_multichannel_conv.ipynb"
NB = SOLUTION.name


def _grade(*args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "course_utils", "grade", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=cwd, env=env or dict(os.environ))


def _broken(tmp: Path) -> Path:
    (tmp / "subs" / "broken").mkdir(parents=True)
    (tmp / "subs" / "broken" / NB).write_text('{"cells": [ not json')
    return tmp / "subs"


def test_grading_refuses_to_run_without_a_sandbox_and_names_what_to_install(tmp_path):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    done = _grade(str(_broken(tmp_path)), "--out", "g.csv", env={**os.environ, "PATH": str(empty)}, cwd=tmp_path)
    assert done.returncode == 2 and "apt-get install bubblewrap" in done.stderr
    assert not (tmp_path / "g.csv").exists()


def test_no_sandbox_prints_a_warning_and_writes_it_into_the_gradebook_header(tmp_path):
    done = _grade(str(_broken(tmp_path)), "--out", "g.csv", "--no-sandbox", cwd=tmp_path)
    assert done.returncode == 0 and "WARNING: graded with --no-sandbox" in done.stdout
    assert (tmp_path / "g.csv").read_text().startswith("# WARNING: graded with --no-sandbox")


def _kernels_under(folder: Path) -> list[str]:
    ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in ps if str(folder) in line]


def _sandboxes_under(folder: Path) -> dict[int, int]:
    """Outer bwrap processes of kernels whose I/O folder is under ``folder``: pid → parent (a grading worker)."""
    ps = subprocess.run(["ps", "-eww", "-o", "pid=,ppid=,args="], capture_output=True, text=True).stdout.splitlines()
    rows = [line.split(None, 2) for line in ps]
    bwraps = {int(r[0]): int(r[1]) for r in rows if len(r) == 3 and r[2].startswith("bwrap") and str(folder) in r[2]}
    return {pid: parent for pid, parent in bwraps.items() if parent not in bwraps}


def _wait_for(condition, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.3)


def test_killed_worker_and_sigterm_keep_what_was_graded_leave_nothing_and_resume_goes_on(tmp_path):
    """A killed grading worker: its submission is retried and its temp folder removed; then SIGTERM to the
    grader: every graded row is kept, no temp folder or kernel is left; --resume grades only the rest."""
    if shutil.which("bwrap") is None:  # must not pass silently where the sandbox is missing
        message = "bubblewrap (bwrap) is not installed: `make test` installs it as root"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    subs = _broken(tmp_path)
    (subs / "a_correct").mkdir()
    (subs / "a_correct" / NB).write_bytes(SOLUTION.read_bytes())
    nb = json.loads(SOLUTION.read_text())
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": "import time\ntime.sleep(300)"})  # fmt: skip
    (subs / "b_slow").mkdir()
    (subs / "b_slow" / NB).write_text(json.dumps(nb))
    tmpdir = Path(tempfile.mkdtemp(prefix="cgt-", dir="/tmp"))  # short: the kernels' IPC sockets live below it
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    out = tmp_path / "g.csv"
    command = [sys.executable, "-m", "course_utils", "grade", str(subs), "--out", str(out), "--timeout", "200"]
    command += ["--jobs", "2"]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: state_path(out).exists() and "a_correct" in state_path(out).read_text())
        _wait_for(lambda: len(_sandboxes_under(tmpdir)) == 1)  # only the slow one is running now
        (worker,) = _sandboxes_under(tmpdir).values()
        os.kill(worker, signal.SIGKILL)
        _wait_for(lambda: _sandboxes_under(tmpdir) and worker not in _sandboxes_under(tmpdir).values())  # retried
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "--resume" in err
    assert "a_correct__00_multichannel_conv,00,2,3,4,9,9," in out.read_text()
    assert os.listdir(tmpdir) == [] and _kernels_under(tmpdir) == []
    done = _grade(str(subs), "--out", str(out), "--resume", "--budget", "1", env=env, cwd=tmp_path)
    assert done.returncode == 0 and "resuming: 2 already graded, 1 to grade" in done.stdout
    rows = out.read_text().splitlines()
    slow = [r for r in rows if r.startswith("b_slow__00_multichannel_conv,00,0,0,0,0,9,")]
    assert len(rows) == 4 and len(slow) == 1 and "over the time budget of 1 s" in slow[0]
    assert os.listdir(tmpdir) == []
    tmpdir.rmdir()


def test_make_test_installs_bubblewrap_the_way_test_browser_installs_chromium():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "test"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert "apt-get install -y bubblewrap" in dry.stdout and "command -v bwrap" in dry.stdout
