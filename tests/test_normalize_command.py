"""`python -m course_utils normalize` (the pre-commit hook): metadata made canonical, nothing a user wrote changed."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils import notebooks
from course_utils.__main__ import main


def _messy_notebook(path: Path) -> Path:
    """A notebook as JupyterLab saves it: another kernelspec, timestamps, widget state, collapsed cells."""
    code = new_code_cell("print(1 + 1)", execution_count=1, outputs=[new_output("stream", name="stdout", text="2\n")])
    code.metadata = {"execution": {"iopub.status.idle": "2026-12-01T10:00:00Z"}, "collapsed": True, "tags": ["t"]}
    nb = new_notebook(cells=[new_markdown_cell("# 99 — scratch"), code])
    nb.metadata = {"kernelspec": {"name": "conda-env", "display_name": "x", "language": "python"}, "widgets": {}}
    path.write_text(json.dumps(nb, indent=2), encoding="utf-8")
    return path


def _contents(path: Path) -> list[tuple[str, str, object]]:
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.get("outputs")) for c in nb.cells]


def test_normalize_makes_the_canonical_form_and_keeps_sources_and_outputs(tmp_path: Path) -> None:
    path = _messy_notebook(tmp_path / "99_scratch.ipynb")
    before = _contents(path)
    assert main(["normalize", "--check", str(path)]) == 1
    assert main(["normalize", str(path)]) == 0
    canonical = nbformat.writes(notebooks.normalize(nbformat.reads(path.read_text(), as_version=4))) + "\n"
    assert path.read_text() == canonical  # exactly what tests/test_notebook_hygiene.py demands
    assert _contents(path) == before
    nb = notebooks.read(path)
    assert nb.metadata.kernelspec.name == "python3" and nb.cells[1].metadata == {"tags": ["t"]}
    assert main(["normalize", "--check", str(path)]) == 0  # idempotent


def test_check_changes_nothing_and_a_broken_notebook_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _messy_notebook(tmp_path / "99_scratch.ipynb")
    text = path.read_text()
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    assert main(["normalize", "--check", str(path), str(broken)]) == 1
    assert path.read_text() == text and broken.read_text() == "{not json"
    err = capsys.readouterr().err
    assert f"{broken}: not a valid Jupyter notebook" in err


def test_a_normalisation_that_would_touch_a_source_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _messy_notebook(tmp_path / "99_scratch.ipynb")
    text = path.read_text()
    real = notebooks.normalize

    def rewriting_normalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        nb = real(nb)
        nb.cells[1].source = "print(2)"
        return nb

    monkeypatch.setattr(notebooks, "normalize", rewriting_normalize)
    assert main(["normalize", str(path)]) == 1
    assert path.read_text() == text


@pytest.mark.slow  # starts a kernel
def test_execute_stores_one_stream_output_however_the_kernel_flushed(tmp_path: Path) -> None:
    """Two prints separated by a flush and a pause arrive as two stream messages; the stored notebook has one."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import sys, time\nprint('a'); sys.stdout.flush(); time.sleep(0.3)\nprint('b')\nprint('e', file=sys.stderr)"
        )
    ]
    path = tmp_path / "flushed.ipynb"
    nbformat.write(nb, str(path))
    notebooks.execute(path, timeout=60)
    outputs = [(o.output_type, o.name, o.text) for o in nbformat.read(str(path), as_version=4).cells[0].outputs]
    assert outputs == [("stream", "stdout", "a\nb\n"), ("stream", "stderr", "e\n")]
