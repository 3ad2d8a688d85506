"""Every stored notebook is in canonical form, executed top to bottom, and free of flaky output."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from course_utils import notebooks

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
EXECUTED = LESSONS + SOLUTIONS
ALL = EXECUTED + EXERCISES
MAX_BYTES = 1_500_000


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_canonical_form(path):
    """Stored file == what notebooks.write produces: python3 kernelspec, no timestamps or widget state."""
    nb = notebooks.read(path)
    assert nb.metadata.kernelspec.name == "python3"
    canonical = nbformat.writes(notebooks.normalize(nbformat.reads(path.read_text(), as_version=4))) + "\n"
    assert path.read_text() == canonical, (
        f"{path.name} is not normalised: run `python -m course_utils execute {path.relative_to(ROOT)}`"
    )


@pytest.mark.parametrize("path", EXECUTED, ids=_ids(EXECUTED))
def test_executed_top_to_bottom(path):
    counts = [c.execution_count for c in notebooks.read(path).cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: cells not executed in order: {counts}"


@pytest.mark.parametrize("path", EXECUTED, ids=_ids(EXECUTED))
def test_no_flaky_or_noisy_output(path):
    for i, cell in enumerate(notebooks.read(path).cells):
        if cell.cell_type != "code":
            continue
        text = json.dumps(cell.get("outputs", []))
        assert not re.search(r" at 0x[0-9a-f]{6,}", text), f"{path.name} cell {i}: memory address in output"
        streams = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not streams, f"{path.name} cell {i}: stderr output (a warning?): {streams[0].text[:200]!r}"
        assert "\r" not in text.replace("\\r\\n", ""), f"{path.name} cell {i}: carriage-return progress output"


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_nbval_markers_are_ones_nbval_reads(path):
    """nbval honours a marker only when the whole comment is the marker: `# NBVAL_IGNORE_OUTPUT: why` is ignored,
    and the cell's output is compared after all. The reason goes on a comment line of its own."""
    from nbval.plugin import comment_markers

    for i, cell in enumerate(notebooks.read(path).cells):
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            comment = line.strip().lstrip("#").strip() if line.strip().startswith("#") else ""
            if re.match(r"(NBVAL|PYTEST_VALIDATE)_", comment):
                assert comment in comment_markers, (
                    f"{path.name} cell {i}: {line.strip()!r} is not a marker nbval reads "
                    f"(one of {sorted(comment_markers)}, alone on its line)"
                )


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_size_stays_small(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes: lower figure dpi"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_opens_with_goals_and_points_to_its_exercises(path):
    nb = notebooks.read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {path.name[:2]} — "), (
        f"lesson must open with its title '# {path.name[:2]} — …'"
    )
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"exercises/{path.name}" in markdown, f"{path.name} must point to exercises/{path.name}"
    assert (ROOT / "solutions" / path.name).exists() or not SOLUTIONS, f"no solutions/{path.name} for this lesson"


@pytest.mark.parametrize("path", EXERCISES, ids=_ids(EXERCISES))
def test_exercises_carry_no_outputs(path):
    for cell in notebooks.read(path).cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None


def test_readme_lists_every_lesson():
    readme = (ROOT / "README.md").read_text()
    missing = [p.name for p in LESSONS if p.name not in readme]
    assert not missing, f"README.md does not list: {missing}"
