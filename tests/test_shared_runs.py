"""``families._shared``: the test session's trainings shared between processes, and nothing when unset."""

from __future__ import annotations

import os
import subprocess
import sys

from course_utils import families

RUNS = (families.Run("plain", 8, 0, 0.1 + 0.2, 123, 4567, 1.5), families.Run("plain", 8, 1, 2 / 3, 123, 4567, 0.25))


def _trainer(calls: list[int]):
    def train_them():
        calls.append(1)
        return RUNS

    return train_them


def test_unset_trains_every_time_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.delenv(families.SHARED_RUNS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    calls: list[int] = []
    assert families._shared("key", _trainer(calls)) == RUNS
    assert families._shared("key", _trainer(calls)) == RUNS
    assert len(calls) == 2 and not list(tmp_path.iterdir())


def test_set_trains_once_and_another_process_reads_the_same_runs(monkeypatch, tmp_path):
    monkeypatch.setenv(families.SHARED_RUNS_ENV, str(tmp_path / "shared"))
    calls: list[int] = []
    assert families._shared("key", _trainer(calls)) == RUNS
    assert families._shared("key", _trainer(calls)) == RUNS
    assert families._shared("other key", _trainer(calls)) == RUNS
    assert len(calls) == 2  # one training per key
    reader = (
        "from course_utils import families\n"
        "def fail():\n    raise AssertionError('trained again')\n"
        "print(repr(families._shared('key', fail)))"
    )
    shown = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True, check=True).stdout.strip()
    assert shown == repr(RUNS)  # floats exactly as trained (0.1 + 0.2 is not 0.3)


def test_the_session_shares_its_folder_with_workers_and_kernels():
    """Set by tests/conftest.py before the workers start: every process of this session sees one folder."""
    assert os.environ.get(families.SHARED_RUNS_ENV), "the test session did not set a shared folder"


def test_no_grading_kernel_gets_the_shared_folder(monkeypatch, tmp_path):
    """A submission must not leave trainings for the next one to be judged by: neither the sandbox's kernels
    nor --no-sandbox's get the variable."""
    from course_utils.grading import batch, sandbox

    monkeypatch.setenv(families.SHARED_RUNS_ENV, str(tmp_path))
    assert families.SHARED_RUNS_ENV not in sandbox.kernel_environment()
    assert families.SHARED_RUNS_ENV not in batch._no_sandbox_env(tmp_path / "course_utils")
    assert batch._no_sandbox_env(tmp_path / "course_utils")["HOME"] == os.environ["HOME"]  # the rest is kept
