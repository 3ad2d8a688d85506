"""The bwrap command line itself: every tmpfs is sized, and nothing the kernel needs is hidden by one.

A CI clone (or an instructor's checkout) may live under /tmp, with its venv in /tmp/.../.venv: the sandbox's
fresh /tmp must be mounted before that venv is bound, or the kernel finds no Python and dies at start.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_utils.grading.sandbox import Limits, ProcessCap, remove_stale_process_caps, sandbox_command

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


def _command(tmp_path: Path) -> list[str]:
    io_dir, pkg = tmp_path / "io", tmp_path / "pkg"
    io_dir.mkdir()
    pkg.mkdir()
    return sandbox_command(["true"], io_dir=io_dir, package_dir=pkg, limits=Limits())


def test_every_tmpfs_is_sized_and_tmp_is_mounted_before_any_bind(tmp_path):
    cmd = _command(tmp_path)
    tmpfs_at = [i for i, arg in enumerate(cmd) if arg == "--tmpfs"]
    assert tmpfs_at and all(cmd[i - 2] == "--size" for i in tmpfs_at), cmd  # --size sizes the next --tmpfs
    tmp_at = next(i for i in tmpfs_at if cmd[i + 1] == "/tmp")
    binds = [i for i, arg in enumerate(cmd) if arg in ("--ro-bind", "--ro-bind-try", "--bind")]
    assert binds and min(binds) > tmp_at, "a bind before --tmpfs /tmp is hidden when it lies under /tmp"


@needs_bwrap
def test_a_venv_that_lives_under_tmp_runs_in_the_sandbox(tmp_path, monkeypatch):
    """A venv made under pytest's tmp_path (under TMPDIR, /tmp by default) stands in for a clone's .venv."""
    if not str(tmp_path).startswith("/tmp/"):
        pytest.skip(f"tmp_path {tmp_path} is not under /tmp")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    monkeypatch.setattr(sys, "prefix", str(venv))  # the sandbox binds the grader's sys.prefix
    cmd = _command(tmp_path)
    probe = [str(venv / "bin" / "python"), "-c", "import sys; print(sys.prefix)"]
    done = subprocess.run([*cmd[: cmd.index("true")], *probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(venv)


needs_cgroup = pytest.mark.skipif(not ProcessCap.available(), reason="no writable pids cgroup on this machine")


@needs_cgroup
def test_a_process_cap_limits_tasks_and_close_kills_what_is_left_and_removes_the_group():
    cap = ProcessCap(8)
    assert cap.path is not None and (cap.path / "pids.max").read_text().strip() == "8"
    script = "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1234 & done; wait"
    child = subprocess.Popen([*cap.launcher(), "/bin/sh", "-c", script], stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    inside = (cap.path / "cgroup.procs").read_text().split()
    assert 1 < len(inside) <= 8  # the shell and at most 7 sleeps: the 13th task could not be forked
    path = cap.path
    cap.close()
    child.wait(timeout=10)
    assert not path.exists() and child.returncode != 0


@needs_cgroup
def test_groups_whose_creator_is_gone_are_removed_and_live_ones_are_kept():
    live = ProcessCap(1).path  # created by this process, which is alive
    assert live is not None
    dead_pid = subprocess.run(["/bin/sh", "-c", "echo $$"], capture_output=True, text=True).stdout.strip()
    stale = live.parent / f"course-grade-{dead_pid}-deadbeef"
    stale.mkdir()
    try:
        removed = remove_stale_process_caps()
        assert stale in removed and not stale.exists() and live.exists()
    finally:
        ProcessCap._remove(live)
        if stale.exists():
            stale.rmdir()
