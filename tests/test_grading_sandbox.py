"""The bwrap command line itself: every tmpfs is sized, and nothing the kernel needs is hidden by one.

A CI clone (or an instructor's checkout) may live under /tmp, with its venv in /tmp/.../.venv: the sandbox's
fresh /tmp must be mounted before that venv is bound, or the kernel finds no Python and dies at start.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.grading.sandbox import Limits, sandbox_command

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
