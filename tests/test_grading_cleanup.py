"""A grader killed by SIGKILL cannot remove its temporary folder (which holds the hidden cases): the next batch
removes it. Only folders of graders that are gone are removed, and never a link or another user's folder."""

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

from course_utils.grading.batch import WORK_ROOT_PREFIX, remove_stale_work_roots

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "00_multichannel_conv.ipynb"


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def tmpdir_env(monkeypatch: pytest.MonkeyPatch) -> Path:
    """A short private TMPDIR, where this test's graders make their folders."""
    folder = Path(tempfile.mkdtemp(prefix="cgc-", dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_only_folders_of_graders_that_are_gone_are_removed(tmpdir_env: Path) -> None:
    dead = tmpdir_env / f"{WORK_ROOT_PREFIX}{_dead_pid()}-abc"
    (dead / "s-x").mkdir(parents=True)
    (dead / "s-x" / "hidden.pt").write_bytes(b"answers")
    live = tmpdir_env / f"{WORK_ROOT_PREFIX}{os.getpid()}-def"  # a batch running now (this process)
    live.mkdir()
    odd = tmpdir_env / f"{WORK_ROOT_PREFIX}notapid"
    odd.mkdir()
    target = tmpdir_env / "precious"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    link = tmpdir_env / f"{WORK_ROOT_PREFIX}{_dead_pid()}-link"
    link.symlink_to(target)

    removed = remove_stale_work_roots()

    assert removed == [dead] and not dead.exists()
    assert live.is_dir() and odd.is_dir() and link.is_symlink() and (target / "keep.txt").read_text() == "mine"


@pytest.mark.slow  # starts a grader and a sandboxed kernel
def test_a_sigkilled_graders_folder_is_removed_by_the_next_batch(tmp_path: Path, tmpdir_env: Path) -> None:
    if shutil.which("bwrap") is None:  # must not pass silently where the sandbox is missing
        message = "bubblewrap (bwrap) is not installed: `make test` installs it as root"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    nb = json.loads(SOLUTION.read_text())
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": "import time\ntime.sleep(300)"})  # fmt: skip
    (tmp_path / "subs" / "slow").mkdir(parents=True)
    (tmp_path / "subs" / "slow" / SOLUTION.name).write_text(json.dumps(nb))
    command = [sys.executable, "-m", "course_utils", "grade", str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv")]
    grader = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(tmpdir_env.glob(f"{WORK_ROOT_PREFIX}{grader.pid}-*/s-*")):  # a submission is being graded
            assert time.monotonic() < deadline and grader.poll() is None, "the grader never started the submission"
            time.sleep(0.2)
        grader.send_signal(signal.SIGKILL)
        grader.wait(timeout=30)
    finally:
        if grader.poll() is None:
            grader.kill()
    (left,) = tmpdir_env.glob(f"{WORK_ROOT_PREFIX}{grader.pid}-*")  # what SIGKILL leaves: nobody could clean up

    (tmp_path / "next" / "broken").mkdir(parents=True)
    (tmp_path / "next" / "broken" / SOLUTION.name).write_text('{"cells": [ not json')
    command = [sys.executable, "-m", "course_utils", "grade", str(tmp_path / "next"), "--out", str(tmp_path / "h.csv")]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=dict(os.environ))

    assert done.returncode == 0, done.stderr
    assert not left.exists() and list(tmpdir_env.glob(f"{WORK_ROOT_PREFIX}*")) == []
