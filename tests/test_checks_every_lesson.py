"""What every checker of every lesson must do: the solution passes (on the notebook's draw and on other
hidden draws, as at grading time), the stub reports 'not attempted', the pass verdict is deterministic, and
the solutions notebook calls the checker and states the points. The wrong implementations and hints of each
lesson's checkers are tested in tests/test_checks.py (00–04) and tests/test_checks_05_08.py (05–08)."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils import checks
from course_utils.checks import testing

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = [e for lesson in LESSONS for e in checks.exercises_for_lesson(lesson)]


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_a_solutions_notebook_with_two_to_five_exercises(lesson, solution_notebooks):
    assert lesson in solution_notebooks, f"lesson {lesson} has no solutions/{lesson}_*.ipynb"
    assert 2 <= len(checks.exercises_for_lesson(lesson)) <= 5


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_solution_passes_and_stub_is_not_attempted(exercise, exercise_namespaces):
    solution_ns, stub_ns = exercise_namespaces[exercise.lesson]
    for seed in (None, 12345, 2026):  # the notebook's own draw, then other hidden draws
        testing.assert_passes(exercise.name, solution_ns[exercise.target], seed=seed)
    testing.assert_not_attempted(exercise.name, stub_ns[exercise.target])


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_pass_verdict_is_deterministic(exercise, exercise_namespaces):
    solution_ns, _ = exercise_namespaces[exercise.lesson]
    texts = {testing.check(exercise.name, solution_ns[exercise.target]).text for _ in range(2)}
    n_visible = len(exercise.visible())
    n_hidden = len(exercise.cases()) - n_visible
    assert texts == {f"✅ {exercise.name}: all {n_visible} visible and {n_hidden} hidden cases pass"}


@pytest.mark.parametrize("lesson", LESSONS)
def test_notebook_calls_every_checker_and_states_the_points(lesson, solution_notebooks):
    text = solution_notebooks[lesson].read_text()
    exercises = checks.exercises_for_lesson(lesson)
    for exercise in exercises:
        assert f"checks.{exercise.name}({exercise.target})" in text
        stars = "★" * exercise.difficulty
        assert f"({exercise.points:g} points{', ' + stars if stars else ''})" in text
    assert f"Total: **{sum(e.points for e in exercises):g} points**" in text
