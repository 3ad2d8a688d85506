"""The course as a learner meets it: notebooks opened in JupyterLab, run through the UI in a real Chromium.

For one lesson and one exercise notebook: the notebook opens with a ready ``python3`` kernel (no "Select
Kernel" dialog), its stored figures render, Run ▸ Run All Cells runs every cell, no cell shows an error
(except cells marked to raise), figures render again, and every exercise check cell shows its verdict.
A screenshot of each notebook lands in ``screenshots/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LabServer = Any  # the `lab_server` fixture's object (tests/browser/conftest.py)

LESSON = "notebooks/01_pointwise_is_per_pixel_fc.ipynb"
EXERCISE = "exercises/01_pointwise_is_per_pixel_fc.ipynb"  # what a learner opens: stubs, no outputs
SOLUTION = "solutions/01_pointwise_is_per_pixel_fc.ipynb"  # the instructor's copy: checks pass
RUN_TIMEOUT_MS = 60_000
# A cell may show an error only if it says it is meant to (nbval's comment or JupyterLab's tag).
RAISES_MARKER = "NBVAL_RAISES_EXCEPTION"
RAISES_TAG = "raises-exception"
# An exercise check cell calls the course's checkers (course_utils.checks).
CHECK_CALL = re.compile(r"\bchecks\.(\w+)\(")
STDERR_MIME = "application/vnd.jupyter.stderr"

# One snapshot of what the notebook shows, cell by cell (every cell is attached: windowingMode "none").
_READ_CELLS_JS = f"""() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')].map(cell => ({{
    kind: cell.classList.contains('jp-CodeCell') ? 'code' : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
    prompt: (cell.querySelector('.jp-InputArea .jp-InputPrompt') || {{innerText: ''}}).innerText.trim(),
    stderr: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="{STDERR_MIME}"]')].map(o => o.innerText),
    output: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText).join('\\n'),
    images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(img => ({{
      complete: img.complete, width: img.naturalWidth, height: img.naturalHeight}})),
  }}))"""


@dataclass
class Snapshot:
    cells: list[dict[str, Any]]

    @property
    def code(self) -> list[tuple[int, dict[str, Any]]]:
        return [(i, c) for i, c in enumerate(self.cells) if c["kind"] == "code"]

    @property
    def images(self) -> list[dict[str, Any]]:
        return [img for c in self.cells for img in c["images"]]


def _snapshot(page: Any) -> Snapshot:
    return Snapshot(page.evaluate(_READ_CELLS_JS))


def _require(relpath: str) -> nbformat.NotebookNode:
    path = ROOT / relpath
    if not path.exists():
        pytest.skip(f"{relpath} does not exist yet")
    return nbformat.read(path, as_version=4)


def _may_raise(cell: nbformat.NotebookNode) -> bool:
    return RAISES_MARKER in cell.source or RAISES_TAG in cell.metadata.get("tags", [])


def _stored_text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data") and "text/plain" in out.data:
            if not ({"image/png", "text/html", "image/jpeg", "image/svg+xml"} & set(out.data)):
                parts.append(out.data["text/plain"])
    return "".join(parts)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _wait_for_kernel(page: Any, server: LabServer, relpath: str, timeout: float = 60.0) -> bool:
    """Wait until the notebook's session has an idle python3 kernel; return whether the Select Kernel dialog showed.

    If the dialog shows (a notebook without kernelspec metadata), accept its default so the test can go on.
    """
    dialog_seen = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and "kernel" in dialog.first.inner_text().lower():
            dialog_seen = True
            dialog.locator(".jp-mod-accept").first.click()
        sessions = [s for s in server.api("/api/sessions") if s.get("path") == relpath]
        kernel = sessions[0].get("kernel") if sessions else None
        indicator = page.locator(".jp-Notebook-ExecutionIndicator")
        status = indicator.first.get_attribute("data-status") if indicator.count() else None
        if kernel and kernel.get("execution_state") == "idle" and status == "idle":
            assert kernel["name"] == "python3", f"{relpath} opened with kernel {kernel['name']!r}, not python3"
            return dialog_seen
        page.wait_for_timeout(250)
    raise AssertionError(f"{relpath}: no idle python3 kernel after {timeout:.0f} s")


def _wait_for_images(page: Any, timeout_ms: int = 15_000) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-OutputArea-output img')].every(img => img.complete)",
        timeout=timeout_ms,
    )


def _menu(page: Any, menu: str, command: str) -> None:
    """Click a main-menu entry the way a learner does: ``menu`` ▸ the item bound to ``command``."""
    page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=re.compile(rf"^{menu}$")).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').first.click()


def _run_all_cells(page: Any) -> None:
    """Edit ▸ Clear Outputs of All Cells, then Run ▸ Run All Cells; wait until the kernel is done."""
    _menu(page, "Edit", "editmenu:clear-all")  # Clear Outputs of All Cells
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(p => /\\d/.test(p.innerText))",
        timeout=10_000,
    )
    _menu(page, "Run", "runmenu:run-all")  # Run All Cells
    # Done when no cell is queued or running ([*]) and the first code cell got an execution count.
    page.wait_for_function(
        """() => {
          const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea .jp-InputPrompt')].map(p => p.innerText);
          const status = document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status');
          return prompts.length > 0 && /\\d/.test(prompts[0]) && !prompts.some(p => p.includes('*')) && status === 'idle';
        }""",
        timeout=RUN_TIMEOUT_MS,
    )
    _wait_for_images(page)


def _open(page: Any, server: LabServer, relpath: str, nb: nbformat.NotebookNode) -> bool:
    page.goto(server.page_url(relpath, workspace=re.sub(r"\W", "-", relpath)))
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell').length >= n",
        arg=len(nb.cells),
        timeout=60_000,
    )
    dialog_seen = _wait_for_kernel(page, server, relpath)
    _wait_for_images(page)
    return dialog_seen


def _shutdown_kernels(server: LabServer) -> None:
    """Free the CPU and memory of this notebook's kernel before the next test."""
    for session in server.api("/api/sessions"):
        server.api(f"/api/sessions/{session['id']}", method="DELETE")


def _screenshot(page: Any, folder: Path, relpath: str, suffix: str, cell_index: int | None = None) -> Path:
    if cell_index is not None:
        page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(cell_index).scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    target = folder / f"{relpath.replace('/', '__').removesuffix('.ipynb')}{suffix}.png"
    page.screenshot(path=str(target))
    return target


def _errors(nb: nbformat.NotebookNode, shown: Snapshot) -> list[str]:
    """Cells that show an error (stderr / traceback) without being marked to raise, and cells that never ran."""
    problems = []
    assert len(shown.cells) == len(nb.cells), f"JupyterLab shows {len(shown.cells)} cells, the file has {len(nb.cells)}"
    for i, cell in shown.code:
        if cell["stderr"] and not _may_raise(nb.cells[i]):
            problems.append(f"cell {i} shows an error:\n{cell['stderr'][0][:600]}")
        if not re.search(r"\d", cell["prompt"]):
            problems.append(f"cell {i} did not run (prompt {cell['prompt']!r}): Run All stopped earlier")
    return problems


def _run_in_lab(
    page: Any, server: LabServer, relpath: str, screenshots: Path
) -> tuple[nbformat.NotebookNode, Snapshot, Snapshot]:
    """Open ``relpath``, check its stored view, run all cells through the menu; return (file, before, after)."""
    nb = _require(relpath)
    dialog_seen = _open(page, server, relpath, nb)
    before = _snapshot(page)
    _run_all_cells(page)
    after = _snapshot(page)
    _screenshot(page, screenshots, relpath, "", 0)  # the top of the notebook, after Run All
    assert not dialog_seen, (
        f"{relpath} opened with JupyterLab's Select Kernel dialog: its metadata lacks the python3 kernelspec "
        "(store it with `python -m course_utils execute`)"
    )
    return nb, before, after


def _check_images(images: list[dict[str, Any]], where: str) -> None:
    broken = [img for img in images if not (img["complete"] and img["width"] > 0 and img["height"] > 0)]
    assert not broken, f"{where}: {len(broken)} of {len(images)} figures did not render: {broken}"


def _has_stored_image(nb: nbformat.NotebookNode) -> bool:
    return any(
        out.output_type in ("display_data", "execute_result") and "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def test_lesson_runs_in_jupyterlab(chromium: Any, lab_server: LabServer, screenshots: Path) -> None:
    page = chromium.new_page()
    try:
        nb, before, after = _run_in_lab(page, lab_server, LESSON, screenshots)
        stored_figures = _has_stored_image(nb)
        if stored_figures:
            assert before.images, f"{LESSON}: stored figures are not shown when the notebook opens"
            _check_images(before.images, f"{LESSON} as opened")
            first_figure = next(i for i, c in enumerate(after.cells) if c["images"])
            _screenshot(page, screenshots, LESSON, "-figure", first_figure)
        problems = _errors(nb, after)
        assert not problems, f"{LESSON} in JupyterLab:\n" + "\n".join(problems)
        if stored_figures:
            assert len(after.images) >= len(before.images), f"{LESSON}: fewer figures after Run All"
            _check_images(after.images, f"{LESSON} after Run All")
    finally:
        _shutdown_kernels(lab_server)
        page.close()
    assert stored_figures, f"{LESSON} stores no figure: the figure check did not run"


@pytest.mark.parametrize(
    ("relpath", "state"),
    [(EXERCISE, "as handed out: stubs"), (SOLUTION, "solved")],
    ids=["exercise", "solution"],
)
def test_exercise_runs_in_jupyterlab(
    chromium: Any, lab_server: LabServer, screenshots: Path, relpath: str, state: str
) -> None:
    """Every check cell shows its checker's one-line verdict; stubs read "not attempted", solutions pass."""
    page = chromium.new_page()
    try:
        nb, _, after = _run_in_lab(page, lab_server, relpath, screenshots)
        problems = _errors(nb, after)
        assert not problems, f"{relpath} in JupyterLab:\n" + "\n".join(problems)
        checks = {
            i: m.group(1)
            for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code"
            for m in [CHECK_CALL.search(cell.source)]
            if m
        }
        assert checks, f"{relpath} has no check cell (a call to course_utils.checks)"
        _screenshot(page, screenshots, relpath, "-check", min(checks))
        for i, checker in checks.items():
            shown = _squash(after.cells[i]["output"])
            assert f"{checker}:" in shown, f"{relpath} cell {i}: no verdict of {checker} shown, only {shown[:300]!r}"
            if relpath == EXERCISE:
                assert "not attempted yet" in shown, (
                    f"{relpath} cell {i}: a stub should read 'not attempted yet': {shown[:300]!r}"
                )
            else:
                stored = _squash(_stored_text(nb.cells[i]))
                assert stored and stored in shown, (
                    f"{relpath} cell {i}: shows {shown[:300]!r}, stored verdict {stored[:300]!r}"
                )
    finally:
        _shutdown_kernels(lab_server)
        page.close()
