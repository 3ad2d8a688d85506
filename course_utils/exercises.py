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
"""

from __future__ import annotations

import copy
import re
import textwrap
from pathlib import Path

import nbformat

from . import notebooks

__all__ = ["BEGIN", "END", "MarkerError", "strip_solutions", "build_notebook", "build_all"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
MAX_LINE = 100  # longer stubs are wrapped
_HINT = re.compile(r"^\s*# (?P<kind>Hint|Task):\s*(?P<hint>\S.*?)\s*$")


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


def build_notebook(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise version of a solutions notebook (a new object; ``solution`` is not modified)."""
    nb = copy.deepcopy(solution)
    regions = 0
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
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


def build_all(solutions_dir: str | Path = "solutions", exercises_dir: str | Path = "exercises") -> list[Path]:
    """Write ``exercises_dir/NAME.ipynb`` for every ``solutions_dir/NAME.ipynb``; return the written paths.

    Everything is validated before anything is written, so a marker error leaves ``exercises_dir`` untouched.
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    sources = sorted(solutions_dir.glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no notebooks in {solutions_dir}")
    built = [(path.name, build_notebook(notebooks.read(path), str(path))) for path in sources]
    exercises_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, nb in built:
        target = exercises_dir / name
        notebooks.write(nb, target)
        written.append(target)
    return written
