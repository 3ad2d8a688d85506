"""Test helpers for checkers (used by tests/test_checks.py; reuse them for new lessons' checks).

from course_utils.checks import testing
ns = testing.solution_namespace("solutions/05_fc_as_conv.ipynb")      # objects the solution defines
stubs = testing.stub_namespace("solutions/05_fc_as_conv.ipynb")       # the same, as generated stubs
testing.assert_passes("ex05_fc_to_conv", ns["fc_to_conv"])
testing.assert_not_attempted("ex05_fc_to_conv", stubs["fc_to_conv"])
testing.assert_fails_with("ex05_fc_to_conv", wrong_fc_to_conv, "bias")  # the hint must mention "bias"
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

from .. import notebooks
from . import evaluate, get
from ._framework import Verdict

__all__ = [
    "solution_namespace",
    "stub_namespace",
    "printed_by_cells",
    "check",
    "assert_passes",
    "assert_not_attempted",
    "assert_fails_with",
    "score",
]


def _exec_cells(nb: Any, skip_checks: bool = True, printed: dict[int, str] | None = None) -> dict[str, Any]:
    """Run ``nb``'s code cells in order in one fresh namespace and return it; what cell ``i`` printed goes into
    ``printed[i]`` when a dict is given. ``skip_checks`` leaves out the check cells (``checks.exNN_...(...)``)."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or (skip_checks and "checks.ex" in cell.source):
            continue
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            exec(compile(cell.source, f"<notebook cell {i}>", "exec"), namespace)  # noqa: S102 - the course's own notebooks, in tests
        if printed is not None:
            printed[i] = shown.getvalue()
    return namespace


def printed_by_cells(path: str | Path) -> dict[int, str]:
    """Run every code cell of the notebook at ``path`` (check cells too) in this process; ``{cell index: what
    it printed}``. For plain-Python notebooks, such as the generated exercises, this is what a kernel shows."""
    printed: dict[int, str] = {}
    _exec_cells(notebooks.read(path), skip_checks=False, printed=printed)
    return printed


def solution_namespace(path: str | Path) -> dict[str, Any]:
    """Run a solutions notebook's code cells (not its check cells) and return the names they define."""
    return _exec_cells(notebooks.read(path))


def stub_namespace(path: str | Path) -> dict[str, Any]:
    """Like :func:`solution_namespace` for the exercise notebook generated from ``path`` (stubs, not solutions)."""
    from ..exercises import build_notebook

    return _exec_cells(build_notebook(notebooks.read(path), str(path)))


def check(name: str, obj: Any, seed: int | None = None) -> Verdict:
    """The verdict exercise ``name`` gives ``obj`` (same cases as the notebook's check, or another seed)."""
    return evaluate(get(name), obj, seed=seed)


def assert_passes(name: str, obj: Any, seed: int | None = None) -> Verdict:
    verdict = check(name, obj, seed)
    assert verdict.status == "pass", f"{name} should pass:\n{verdict.text}"
    return verdict


def assert_not_attempted(name: str, obj: Any) -> Verdict:
    verdict = check(name, obj)
    assert verdict.status == "not_attempted", f"{name} should report 'not attempted':\n{verdict.text}"
    assert "not attempted" in verdict.text
    return verdict


def assert_fails_with(name: str, obj: Any, hint_fragment: str) -> Verdict:
    """``obj`` must fail, and the printed verdict's hint must contain ``hint_fragment`` (case-insensitive)."""
    verdict = check(name, obj)
    assert verdict.status == "fail", f"{name} should fail for this implementation:\n{verdict.text}"
    hint_lines = [line for line in verdict.text.splitlines() if line.strip().startswith("hint:")]
    assert hint_lines, f"{name}: the failure gives no hint:\n{verdict.text}"
    assert hint_fragment.lower() in hint_lines[0].lower(), (
        f"{name}: expected a hint mentioning {hint_fragment!r}, got:\n{verdict.text}"
    )
    return verdict


def score(name: str, obj: Any, seed: int | None = None) -> float:
    """The points the grader would give ``obj`` on the hidden cases drawn from ``seed``: points × share of the
    hidden cases that pass (:attr:`Verdict.hidden_fraction`, the grader's own formula), computed in-process."""
    exercise = get(name)
    return exercise.points * evaluate(exercise, obj, seed=seed).hidden_fraction
