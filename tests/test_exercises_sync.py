"""exercises/ is exactly what `python -m course_utils build-exercises` writes from solutions/, and it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils import checks, notebooks
from course_utils.exercises import BEGIN, END, MAX_LINE, MarkerError, build_all, build_notebook, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def test_exercises_folder_is_exactly_the_generated_one(tmp_path):
    build_all(ROOT / "solutions", tmp_path)
    expected = {p.name: p.read_bytes() for p in tmp_path.glob("*.ipynb")}
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
            str(ROOT / "solutions"),
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


@pytest.mark.slow  # a kernel per notebook
@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercise_notebook_runs_top_to_bottom_and_every_check_says_not_attempted(path):
    nb = notebooks.execute(path, timeout=300, save=False)  # raises on any cell error
    verdicts = [
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code" and "checks.ex" in cell.source
        for out in cell.outputs
    ]
    expected = [e.name for e in checks.exercises_for_lesson(path.name[:2])]
    assert len(verdicts) == len(expected)
    for name, text in zip(expected, verdicts, strict=False):
        assert text.startswith(f"⏳ {name}: not attempted yet"), text


def test_a_task_comment_gives_a_stub_with_the_task_only():
    source = f"def f(x):\n    # Task: return twice x\n    {BEGIN}\n    return 2 * x\n    {END}"
    assert strip_solutions(source) == "def f(x):\n    raise NotImplementedError('your code here: return twice x')"


def test_solution_notebooks_state_tasks_not_hints():
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        assert "# Hint:" not in path.read_text(), f"{path.name}: stubs must give the task (# Task: ...), not a hint"
