"""Generate ``exercises/`` from ``solutions/``: ``python -m course_utils build-exercises``.

In a solutions notebook the learner's part of a code cell sits between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` (nbgrader's markers). The line just above ``### BEGIN SOLUTION`` must be a comment
``# Task: ...`` saying what this part must do, never how (the help lives in ``checks.hint(name)``, staged), or,
in the older form, ``# Hint: ...``. The generated notebook replaces that comment and the region by a stub at the
region's indentation (wrapped over several lines when longer than 100 characters),

    raise NotImplementedError("your code here: <the task>")       # from '# Task: <the task>'
    raise NotImplementedError("your code here. Hint: <the hint>")  # from '# Hint: <the hint>'

so the learner reads the task where the code goes and again in the error if they run the cell unchanged.
It clears every output and execution count and is otherwise identical (written
in canonical form by :func:`course_utils.notebooks.write`). ``exercises/`` is never edited by hand:
tests/test_exercises_sync.py fails when it differs from what this module writes.

nbgrader cell metadata
----------------------
The same build writes nbgrader's cell metadata (schema version 3, as nbgrader 0.9.6 validates it in
``nbgrader/nbgraderformat/v3.py``) into ``solutions/`` itself, so an instructor can point
``nbgrader generate_assignment`` at them with no clicking in its Create Assignment toolbar:

* a code cell holding a solution region is an "autograded answer": ``solution: true, grade: false``,
  ``grade_id`` the exercise's name plus ``_answer`` (the exercise whose check cell comes next);
* a check cell ``checks.exNN_name(...)`` is "autograded tests": ``grade: true, locked: true``, ``grade_id``
  the exercise's name and ``points`` its points in the :mod:`course_utils.checks` registry (the check raises
  under nbgrader when it fails, see ``course_utils.checks._framework.make_checker``);
* every other cell (title, setup, task text, closing remarks) is "read-only": ``locked: true``, ``grade_id``
  ``locked_<cell id>``, so nbgrader restores its text when it autogrades.

The metadata is derived only from the markers, the check calls and the registry: a hand edit is overwritten by
the next ``make exercises``, and tests/test_exercises_sync.py fails when ``solutions/`` differs from what this
module writes. ``exercises/`` carries none of it (:func:`build_notebook` drops it): see that function.
"""

from __future__ import annotations

import copy
import re
import textwrap
from pathlib import Path

import nbformat

from . import notebooks

__all__ = [
    "BEGIN",
    "END",
    "NBGRADER_SCHEMA_VERSION",
    "MarkerError",
    "strip_solutions",
    "nbgrader_metadata",
    "with_nbgrader_metadata",
    "build_notebook",
    "build_all",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
MAX_LINE = 100  # longer stubs are wrapped
_HINT = re.compile(r"^\s*# (?P<kind>Hint|Task):\s*(?P<hint>\S.*?)\s*$")
_CHECK_CALL = re.compile(r"^\s*checks\.(?P<name>ex\d\d_\w+)\s*\(", re.MULTILINE)
NBGRADER_SCHEMA_VERSION = 3  # the cell-metadata schema nbgrader 0.9.6 reads and writes


class MarkerError(ValueError):
    """Unbalanced, nested or hint-less solution markers (the message names the notebook and the cell)."""


def _stub(indent: str, hint: str, kind: str = "Hint") -> str:
    """``raise NotImplementedError("your code here: <task>")`` (or ``... Hint: ...``) at ``indent``, wrapped into
    implicitly concatenated string pieces when one line would be longer than ``MAX_LINE`` (no sideways scrolling)."""
    message = ("your code here: " if kind == "Task" else "your code here. Hint: ") + hint
    one_line = f"{indent}raise NotImplementedError({message!r})"
    if len(one_line) <= MAX_LINE:
        return one_line
    width = MAX_LINE - len(indent) - 4 - 2  # the continuation indent and the quotes
    pieces = textwrap.wrap(message, width=width, drop_whitespace=False, break_long_words=False, break_on_hyphens=False)
    assert "".join(pieces) == message  # noqa: S101 - invariant of textwrap with drop_whitespace=False
    body = "\n".join(f"{indent}    {piece!r}" for piece in pieces)
    return f"{indent}raise NotImplementedError(\n{body}\n{indent})"


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every solution region of one cell's source by a ``NotImplementedError`` stub."""
    out: list[str] = []
    inside = False
    hint = ""
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise MarkerError(f"{where}, line {number}: nested '{BEGIN}' (the previous region is not closed)")
            match = _HINT.match(out[-1]) if out else None
            if match is None:
                raise MarkerError(
                    f"{where}, line {number}: the line above '{BEGIN}' must be a '# Task: ...' (or '# Hint: ...') comment"
                )
            hint = match.group("hint")
            indent = line[: len(line) - len(line.lstrip())]
            out[-1] = _stub(indent, hint, match.group("kind"))  # replaces the comment
            inside = True
        elif stripped == END:
            if not inside:
                raise MarkerError(f"{where}, line {number}: '{END}' without a matching '{BEGIN}'")
            inside = False
        elif (
            BEGIN.lstrip("# ") in stripped
            and stripped.startswith("#")
            or END.lstrip("# ") in stripped
            and stripped.startswith("#")
        ):
            raise MarkerError(
                f"{where}, line {number}: malformed marker {stripped!r} (write exactly '{BEGIN}' / '{END}')"
            )
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: '{BEGIN}' is never closed by '{END}'")
    return "\n".join(out)


def _checked_exercise(cell: nbformat.NotebookNode, where: str) -> str | None:
    """The exercise a check cell ``checks.exNN_name(...)`` checks; ``None`` for any other cell."""
    if cell.cell_type != "code":
        return None
    names = _CHECK_CALL.findall(cell.source)
    if not names:
        return None
    if len(names) > 1:
        raise MarkerError(f"{where}: {len(names)} checks in one cell ({', '.join(names)}); give each its own cell")
    from . import checks  # imports torch: only once a check cell is found

    try:
        checks.get(names[0])
    except KeyError as err:
        raise MarkerError(f"{where}: {err.args[0]}") from None
    return str(names[0])


def _nbgrader(grade_id: str, *, solution: bool = False, grade: bool = False, points: float = 0) -> dict[str, object]:
    """One cell's ``metadata.nbgrader`` in schema version 3 (the keys nbgrader's Create Assignment toolbar writes)."""
    meta: dict[str, object] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": NBGRADER_SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def nbgrader_metadata(solution: nbformat.NotebookNode, name: str = "notebook") -> list[dict[str, object]]:
    """The ``metadata.nbgrader`` of every cell of a solutions notebook, in order (see the module's docstring).

    Raises :class:`MarkerError` naming the notebook and cell for a check cell with two checks or an unknown
    checker, and for a solution cell that no check cell follows (nbgrader could not score it).
    """
    from . import checks

    exercises = [_checked_exercise(cell, f"{name}, cell {i}") for i, cell in enumerate(solution.cells)]
    metadata: list[dict[str, object]] = []
    answers: dict[str, int] = {}
    for index, (cell, exercise) in enumerate(zip(solution.cells, exercises, strict=True)):
        if exercise is not None:
            metadata.append(_nbgrader(exercise, grade=True, points=checks.get(exercise).points))
        elif cell.cell_type == "code" and BEGIN in cell.source:
            checked = next((e for e in exercises[index + 1 :] if e is not None), None)
            if checked is None:
                raise MarkerError(f"{name}, cell {index}: a solution cell with no check cell after it")
            answers[checked] = answers.get(checked, 0) + 1
            suffix = "" if answers[checked] == 1 else f"_{answers[checked]}"
            metadata.append(_nbgrader(f"{checked}_answer{suffix}", solution=True))
        else:
            metadata.append(_nbgrader(f"locked_{cell.id}"))
    return metadata


def with_nbgrader_metadata(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of a solutions notebook whose cells carry exactly :func:`nbgrader_metadata` (the rest unchanged)."""
    nb = copy.deepcopy(solution)
    for cell, meta in zip(nb.cells, nbgrader_metadata(nb, name), strict=True):
        cell.metadata["nbgrader"] = nbformat.from_dict(meta)
    return nb


def build_notebook(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise version of a solutions notebook (a new object; ``solution`` is not modified).

    nbgrader's cell metadata is dropped: the learner's stub must not claim to be a solution cell, since
    ``nbgrader generate_assignment`` replaces a solution cell without solution markers by its own stub, so
    the def line and the task would be lost if an instructor released this copy instead of ``solutions/``.
    """
    nb = copy.deepcopy(solution)
    regions = 0
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type == "code":
            regions += cell.source.count(BEGIN)
            cell.source = strip_solutions(cell.source, where)
            cell.outputs = []
            cell.execution_count = None
        elif BEGIN in cell.source or END in cell.source:
            raise MarkerError(f"{where}: solution markers in a {cell.cell_type} cell (only code cells may hold them)")
    if regions == 0:
        raise MarkerError(f"{name}: no '{BEGIN}' region at all (is this a solutions notebook?)")
    return nb


def _canonical_text(nb: nbformat.NotebookNode) -> str:
    """The exact text :func:`course_utils.notebooks.write` would store for ``nb``."""
    return nbformat.writes(notebooks.normalize(copy.deepcopy(nb))) + "\n"


def build_all(solutions_dir: str | Path = "solutions", exercises_dir: str | Path = "exercises") -> list[Path]:
    """Write nbgrader's metadata into every ``solutions_dir/NAME.ipynb`` (only where it differs) and
    ``exercises_dir/NAME.ipynb`` from it; return the written paths (exercises, then changed solutions).

    Everything is validated before anything is written, so a marker error leaves both folders untouched.
    A solutions notebook whose metadata is already what this writes is not rewritten (its bytes stay).
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    sources = sorted(solutions_dir.glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no notebooks in {solutions_dir}")
    annotated = [(path, with_nbgrader_metadata(notebooks.read(path), str(path))) for path in sources]
    built = [(path.name, build_notebook(nb, str(path))) for path, nb in annotated]
    exercises_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, nb in built:
        target = exercises_dir / name
        notebooks.write(nb, target)
        written.append(target)
    for path, nb in annotated:
        if path.read_text(encoding="utf-8") != _canonical_text(nb):
            notebooks.write(nb, path)
            written.append(path)
    return written
