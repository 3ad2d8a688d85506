"""exercises/ is exactly what `python -m course_utils build-exercises` writes from solutions/, and it runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils import checks, notebooks
from course_utils.checks import testing
from course_utils.exercises import (
    BEGIN,
    END,
    MAX_LINE,
    MarkerError,
    build_all,
    build_notebook,
    nbgrader_metadata,
    strip_solutions,
    with_nbgrader_metadata,
)

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def _solutions_copy(folder: Path) -> Path:
    """A copy of solutions/ in ``folder`` (build_all writes nbgrader's metadata into the solutions it is given)."""
    copy = folder / "solutions"
    shutil.copytree(ROOT / "solutions", copy)
    return copy


def test_exercises_folder_is_exactly_the_generated_one(tmp_path):
    build_all(_solutions_copy(tmp_path), tmp_path / "exercises")
    expected = {p.name: p.read_bytes() for p in (tmp_path / "exercises").glob("*.ipynb")}
    actual = {p.name: p.read_bytes() for p in EXERCISES}
    assert sorted(actual) == sorted(expected), (
        "exercises/ and solutions/ hold different notebooks: run `make exercises`"
    )
    stale = [name for name in expected if actual[name] != expected[name]]
    assert not stale, f"exercises/ is out of date for {stale}: run `python -m course_utils build-exercises`"


@pytest.mark.slow  # a subprocess; test_exercises_folder_is_exactly_the_generated_one checks the same build in-process
def test_cli_builds_into_a_given_folder(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "course_utils",
            "build-exercises",
            "--solutions",
            str(_solutions_copy(tmp_path)),
            "--exercises",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == sorted(p.name for p in EXERCISES)


def test_stub_replaces_hint_and_region_at_their_indentation():
    source = f"def f(x):\n    # Hint: double it\n    {BEGIN}\n    return 2 * x\n    {END}\n\nprint(f)"
    assert strip_solutions(source) == (
        "def f(x):\n    raise NotImplementedError('your code here. Hint: double it')\n\nprint(f)"
    )


def test_a_long_hint_is_wrapped_and_its_message_kept_whole():
    hint = "a conv with C_in inputs, C_out outputs and a K×K kernel has C_in*K*K*C_out + C_out parameters " * 2
    source = f"def f():\n        # Hint: {hint.strip()}\n        {BEGIN}\n        return 1\n        {END}"
    stub = strip_solutions(source)
    assert all(len(line) <= MAX_LINE for line in stub.splitlines())
    namespace: dict = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError) as info:
        namespace["f"]()
    assert str(info.value) == "your code here. Hint: " + hint.strip()


def _stub_lines(source: str) -> list[str]:
    """The lines of every ``raise NotImplementedError(...)`` stub in a cell's source."""
    lines, inside = [], False
    for line in source.splitlines():
        starts = "raise NotImplementedError(" in line
        if starts or inside:
            lines.append(line)
        inside = (inside or starts) and not line.rstrip().endswith(")")
    return lines


def test_generated_stubs_fit_the_screen():
    stubs = [
        line
        for path in EXERCISES
        for cell in notebooks.read(path).cells
        if cell.cell_type == "code"
        for line in _stub_lines(cell.source)
    ]
    assert stubs, "no stubs found in exercises/"
    long = [line for line in stubs if len(line) > MAX_LINE]
    assert not long, f"stub lines longer than {MAX_LINE} characters: {long}"


@pytest.mark.parametrize(
    "source, message",
    [
        (f"# Hint: h\n{BEGIN}\nx = 1\n", "never closed"),
        (f"x = 1\n{END}\n", "without a matching"),
        (f"# Hint: h\n{BEGIN}\n# Hint: h\n{BEGIN}\n{END}\n{END}\n", "nested"),
        (f"x = 1\n{BEGIN}\n{END}\n", "# Hint:"),
        ("# Hint: h\n## BEGIN SOLUTION\n", "malformed marker"),
    ],
)
def test_bad_markers_are_a_clear_error_naming_notebook_and_cell(source, message):
    nb = new_notebook(
        cells=[new_markdown_cell("intro"), new_code_cell(f"# Hint: ok\n{BEGIN}\n{END}"), new_code_cell(source)]
    )
    with pytest.raises(MarkerError, match=message) as info:
        build_notebook(nb, "solutions/99_demo.ipynb")
    assert "solutions/99_demo.ipynb, cell 2" in str(info.value)


def test_markers_outside_code_cells_and_notebooks_without_regions_are_refused():
    with pytest.raises(MarkerError, match="markdown cell"):
        build_notebook(new_notebook(cells=[new_markdown_cell(BEGIN)]), "nb")
    with pytest.raises(MarkerError, match="no '### BEGIN SOLUTION' region"):
        build_notebook(new_notebook(cells=[new_code_cell("x = 1")]), "nb")


def test_generated_notebooks_have_no_outputs_and_no_solution_code():
    for path in EXERCISES:
        nb = notebooks.read(path)
        solution = notebooks.read(ROOT / "solutions" / path.name)
        assert len(nb.cells) == len(solution.cells)
        for cell, original in zip(nb.cells, solution.cells, strict=False):
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
                assert BEGIN not in cell.source and END not in cell.source
            else:
                assert cell.source == original.source


def _not_attempted_everywhere(path: Path, cells) -> None:
    """Every check cell of the exercise notebook at ``path`` showed "not attempted yet", in order."""
    verdicts = [
        "".join(out.get("text", "") for out in cell.outputs)
        for cell in cells
        if cell.cell_type == "code" and "checks.ex" in cell.source
    ]
    expected = [e.name for e in checks.exercises_for_lesson(path.name[:2])]
    assert len(verdicts) == len(expected), f"{path.name}: {len(verdicts)} check cells for {len(expected)} exercises"
    for name, text in zip(expected, verdicts, strict=True):
        assert text.startswith(f"⏳ {name}: not attempted yet"), f"{path.name}: {text[:300]!r}"


def _run_in_this_process(path: Path):
    """The file's cells, each code cell with what it printed as its output, run here by
    ``testing.printed_by_cells``. The exercise notebooks are plain Python (`test_exercises_are_plain_python`)."""
    printed = testing.printed_by_cells(path)
    cells = notebooks.read(path).cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "code":
            cell.outputs = [{"output_type": "stream", "name": "stdout", "text": printed[i]}]
    return cells


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercise_notebook_runs_top_to_bottom_and_every_check_says_not_attempted(path):
    """Run in this process: a kernel each would cost ten seconds of a two-core machine per notebook. The browser
    suite runs every exercise notebook in JupyterLab's kernel, and the test below runs one in a kernel here."""
    _not_attempted_everywhere(path, _run_in_this_process(path))


@pytest.mark.slow  # a kernel
def test_an_exercise_notebook_runs_in_a_kernel_as_in_this_process():
    path = EXERCISES[0]
    nb = notebooks.execute(path, timeout=300, save=False)  # raises on any cell error
    _not_attempted_everywhere(path, nb.cells)


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercises_are_plain_python(path):
    """What makes running them in this process the same as in a kernel: no IPython syntax, nothing displayed."""
    for i, cell in enumerate(notebooks.read(path).cells):
        if cell.cell_type == "code":
            lines = [line.lstrip() for line in cell.source.splitlines()]
            assert not any(line.startswith(("%", "!")) for line in lines), f"{path.name} cell {i}: IPython syntax"
            assert not re.search(r"\b(display|interact)\(|\bplt\.", cell.source), f"{path.name} cell {i}: displays"


def test_a_task_comment_gives_a_stub_with_the_task_only():
    source = f"def f(x):\n    # Task: return twice x\n    {BEGIN}\n    return 2 * x\n    {END}"
    assert strip_solutions(source) == "def f(x):\n    raise NotImplementedError('your code here: return twice x')"


def test_solution_notebooks_state_tasks_not_hints():
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        assert "# Hint:" not in path.read_text(), f"{path.name}: stubs must give the task (# Task: ...), not a hint"


# nbgrader's cell metadata in solutions/ (schema 3): written by build_all, never by hand.
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_carry_exactly_the_nbgrader_metadata_the_builder_writes(path):
    nb = notebooks.read(path)
    stored = [cell.metadata.get("nbgrader") for cell in nb.cells]
    assert stored == nbgrader_metadata(nb, str(path)), (
        f"{path.name}: nbgrader metadata differs from what the builder writes: run `make exercises`"
    )


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_solution_region_is_an_answer_cell_and_every_check_a_test_cell_worth_its_points(path):
    for cell in notebooks.read(path).cells:
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3
        if BEGIN in cell.source:  # nbgrader refuses a region outside a solution cell
            assert (meta["solution"], meta["grade"], meta["locked"]) == (True, False, False)
        elif "checks.ex" in cell.source and cell.cell_type == "code":
            exercise = checks.get(meta["grade_id"])
            assert f"checks.{exercise.name}(" in cell.source
            assert (meta["grade"], meta["locked"], meta["points"]) == (True, True, exercise.points)
        else:
            assert (meta["solution"], meta["grade"], meta["locked"]) == (False, False, True)


def test_a_solutions_folder_without_metadata_gets_the_committed_one_and_a_rebuild_writes_nothing(tmp_path):
    solutions = _solutions_copy(tmp_path)
    for path in solutions.glob("*.ipynb"):  # as after a helper's edit that dropped it, plus a hand edit
        nb = notebooks.read(path)
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)
        nb.cells[0].metadata["nbgrader"] = {"grade": True, "points": 99}
        notebooks.write(nb, path)
    written = build_all(solutions, tmp_path / "exercises")
    assert sorted(p.name for p in written if p.parent == solutions) == sorted(p.name for p in SOLUTIONS)
    for path in SOLUTIONS:
        assert (solutions / path.name).read_bytes() == path.read_bytes(), f"{path.name}: rebuilt metadata differs"
    again = build_all(solutions, tmp_path / "exercises")
    assert all(p.parent != solutions for p in again), "a second build rewrote solutions/ (not idempotent)"


def test_learners_notebooks_carry_no_nbgrader_metadata():
    """nbgrader would replace a solution-marked cell without markers by its own stub (the def line and the task
    lost: tests/test_nbgrader.py shows it with nbgrader's ClearSolutions), so exercises/ carries none."""
    for path in EXERCISES:
        assert all("nbgrader" not in cell.metadata for cell in notebooks.read(path).cells), path.name


def _demo(*cells):
    return new_notebook(cells=[new_markdown_cell("# Exercises 00"), *cells])


def test_metadata_marks_answers_tests_with_registry_points_and_locks_the_rest():
    nb = _demo(
        new_code_cell("import torch"),
        new_code_cell(f"def f(x):\n    # Task: t\n    {BEGIN}\n    return x\n    {END}"),
        new_code_cell("checks.ex00_conv_cost(f)"),
        new_markdown_cell("the end"),
    )
    meta = with_nbgrader_metadata(nb, "nb")
    assert [c.metadata["nbgrader"]["grade_id"] for c in meta.cells] == [
        f"locked_{nb.cells[0].id}",
        f"locked_{nb.cells[1].id}",
        "ex00_conv_cost_answer",
        "ex00_conv_cost",
        f"locked_{nb.cells[4].id}",
    ]
    test_cell = meta.cells[3].metadata["nbgrader"]
    assert test_cell["points"] == checks.get("ex00_conv_cost").points and test_cell["grade"] is True
    assert "nbgrader" not in nb.cells[0].metadata, "the given notebook must not be modified"


@pytest.mark.parametrize(
    "cells, message",
    [
        ([new_code_cell("checks.ex00_conv_cost(f)\nchecks.ex00_conv2d(g)")], "2 checks in one cell"),
        ([new_code_cell("checks.ex00_no_such_check(f)")], "no exercise 'ex00_no_such_check'"),
        ([new_code_cell(f"# Task: t\n{BEGIN}\n{END}")], "a solution cell with no check cell after it"),
    ],
)
def test_metadata_refuses_what_nbgrader_could_not_score(cells, message):
    with pytest.raises(MarkerError, match=message) as info:
        nbgrader_metadata(_demo(*cells), "solutions/99_demo.ipynb")
    assert "solutions/99_demo.ipynb, cell 1" in str(info.value)
