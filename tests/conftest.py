"""Fixtures shared by the test files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
