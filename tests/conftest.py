"""Fixtures shared by the test files."""

from __future__ import annotations

import collections
import os
import shutil
import tempfile
from pathlib import Path

# One PyTorch thread in every test process and in every kernel they start (nbval's, the exercise runs'):
# `make test` runs two workers on two cores, and PyTorch's default of one thread per core in each of them
# oversubscribes the machine; OpenMP's waiting threads then spin, and small convolutions queue behind them.
# Measured with `OMP_NUM_THREADS=1` against the default, `pytest -n 2 tests/test_checks_points.py
# tests/test_checks_alternatives.py` took 26 instead of 46 CPU-seconds. Set before torch is imported
# (kernels inherit the variable); a value the caller exports is kept.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
import torch

from course_utils import families

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

ROOT = Path(__file__).resolve().parents[1]
_SHARED_RUNS = pytest.StashKey[str]()  # the folder this process made, to remove when the session ends


def pytest_configure(config: pytest.Config) -> None:
    """One folder per session for lesson 09's digits trainings (``families.SHARED_RUNS_ENV``): made by the
    controlling process before pytest-xdist starts its workers, which inherit it (as do the kernels they start)."""
    if hasattr(config, "workerinput") or os.environ.get(families.SHARED_RUNS_ENV):
        return
    folder = tempfile.mkdtemp(prefix="course-shared-runs-")
    os.environ[families.SHARED_RUNS_ENV] = folder
    config.stash[_SHARED_RUNS] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_SHARED_RUNS, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(families.SHARED_RUNS_ENV, None)


SOLUTION_NOTEBOOKS = {nb.name[:2]: nb for nb in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))}


@pytest.fixture(scope="session")
def solution_notebooks() -> dict[str, Path]:
    """``{lesson: solutions notebook path}``, e.g. ``{"03": .../solutions/03_inception.ipynb}``."""
    return dict(SOLUTION_NOTEBOOKS)


@pytest.fixture(scope="session")
def exercise_namespaces():
    """``{lesson: (solution namespace, stub namespace)}``: each solutions notebook's code run in-process,
    once as written and once with its solution regions replaced by the generated stubs."""
    from course_utils.checks import testing

    return {
        lesson: (testing.solution_namespace(path), testing.stub_namespace(path))
        for lesson, path in SOLUTION_NOTEBOOKS.items()
    }


# -- ex08_predict_speedup: a deterministic stopwatch -------------------------------------------------------------------
# The exercise is judged against a measurement on the machine that runs the check. Tests judge it against this fake
# machine instead (so they never flake on a loaded machine); tests/test_checks_05_08.py runs the real stopwatch once,
# through the `real_stopwatch` fixture.
FAKE_CALL_S = 5e-6  # fixed cost of one dense conv call
FAKE_DEPTHWISE_CALL_S = 35e-6  # a depthwise conv's fixed cost is larger (as measured on this machine: ~0.15 ms)
FAKE_MACS_PER_S = 25e9  # dense convs (3×3 and 1×1) compute at 50 GFLOP/s ...
FAKE_WEIGHT_BYTES_PER_S = 5e9  # ... and read their weights at 5 GB/s (what slows a wide 3×3 conv on a 7×7 map)
FAKE_DEPTHWISE_BYTES_PER_S = 2e9  # the depthwise conv streams its input and output (8 bytes per input number)


def fake_timing(in_channels, out_channels, size, batch_size):
    """The fake machine's (standard, separable) seconds per call, as a lesson08.Timing."""
    from course_utils.checks.lesson08 import Timing

    pixels, weights = batch_size * size * size, in_channels * out_channels
    standard = FAKE_CALL_S + pixels * weights * 9 / FAKE_MACS_PER_S + 4 * 9 * weights / FAKE_WEIGHT_BYTES_PER_S
    depthwise = FAKE_DEPTHWISE_CALL_S + 8 * pixels * in_channels / FAKE_DEPTHWISE_BYTES_PER_S
    pointwise = FAKE_CALL_S + pixels * weights / FAKE_MACS_PER_S + 4 * weights / FAKE_WEIGHT_BYTES_PER_S
    return Timing(standard, depthwise + pointwise, standard / (depthwise + pointwise))


@pytest.fixture(autouse=True)
def _fake_stopwatch(monkeypatch):
    from course_utils.checks import lesson08

    monkeypatch.setattr(lesson08, "stopwatch", fake_timing)


@pytest.fixture
def real_stopwatch(monkeypatch):
    """Undo the fake: the check times both designs on this machine."""
    from course_utils.checks import lesson08

    monkeypatch.setattr(lesson08, "stopwatch", lesson08._time_pair)


# -- the order of `make test` ------------------------------------------------------------------------------------------
# Under `--dist loadscope --no-loadscope-reorder` each file (each notebook) goes whole to the next free worker, in
# this order. The long ones, and those that mostly wait on subprocesses (the grading batches), start first; the short
# ones then fill in around them, most tests first (what xdist's own reorder does), so that no long file ends the run
# alone while the other worker idles. Measured with `--durations=0` (seconds of one worker, two workers busy),
# summed per file.
LONG_FIRST = (
    "notebooks/09_cost_vs_accuracy.ipynb",  # 55 s: lesson 09 trains 72 networks (its two run_all workers compete)
    "tests/test_grading.py",  # 68 s: the hostile batch, two kernels at a time, then the next batch
    "tests/test_grading_batch.py",  # 35 s: a killed worker, SIGTERM, --resume (mostly waiting)
    "tests/test_lesson09_claims.py",  # 48 s: lesson 09's claims on three more seeds (72 trainings, one process)
    "notebooks/02_pointwise_vs_pca.ipynb",  # 17 s: PCA and 1×1 autoencoders on real pixels
)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    tests_in = collections.Counter(file_of(item) for item in items)

    def rank(item: pytest.Item) -> tuple[int, int]:
        path = file_of(item)
        return (LONG_FIRST.index(path), 0) if path in LONG_FIRST else (len(LONG_FIRST), -tests_in[path])

    items.sort(key=rank)  # stable: a notebook's cells, and a file's tests, keep their order
