"""`make test` runs ruff and mypy as tests: scheduled beside the others, mypy's half-minute on a fresh clone (no
cache) fills the gaps the grading tests leave while their sandboxes sleep, instead of running before them.
`make check` runs the same commands itself (`make lint types`), so these are marked slow and it skips them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]],
    ids=["ruff check", "ruff format --check", "mypy --strict"],
)
def test_clean(command):
    done = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"`{' '.join(command)}` is not clean:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
