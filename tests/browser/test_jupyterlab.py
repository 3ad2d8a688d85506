"""Every notebook as a learner meets it: opened in JupyterLab and run through the UI in a real Chromium.

One `make lab` server, started for a learner whose own Jupyter setup holds decoys (a ``python3`` kernel of
their own, on their data path and on ``JUPYTER_PATH``, a global configuration pointing at it, global
settings asking for news: ``labserver.learner_with_decoys``), runs every lesson (``notebooks/``), every
exercise notebook as handed out (``exercises/``: stubs), and one solved notebook, a few tabs at a time
(each tab loads JupyterLab once and opens one notebook after another: ``jupyterlab_ui.run_notebooks``).
For each: the notebook opens with a ready ``python3`` kernel (no "Select Kernel" dialog); its stored
figures render; Edit ▸ Clear Outputs, Run ▸ Run All Cells runs every cell; no cell shows an error; every
figure the file stores renders again in the same cell (loaded, with a size); every widget the file stores
renders as a live widget; no notification covers it; every exercise check cell shows its checker's verdict.

Then: the kernel of a course notebook is the course's venv (``sys.executable``, ``sys.prefix``), and
dragging lesson 03's explorer slider changes the printed cost as the formula says it must.

Screenshots of each notebook (top, first figure, first check, any failure) land in ``screenshots/``
(git-ignored, emptied at the start of a run) for a human to look at, with ``timings.txt`` and, for a
notebook with a problem, ``…-outputs.txt`` (what every cell showed). ``BROWSER_TABS`` (default 2) sets how many notebooks run at once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyterlab_ui import NotebookRun, append_cell_and_run, check_cells, run_notebooks, screenshot, screenshot_name
from labserver import ROOT, LabServer

pytestmark = pytest.mark.browser

LESSONS = [f"notebooks/{p.name}" for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
EXERCISES = [f"exercises/{p.name}" for p in sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))]
SOLVED = ["solutions/01_pointwise_is_per_pixel_fc.ipynb"]  # the instructor's copy: its checks pass
# Started first, so that the longest run overlaps the others instead of ending the session alone.
LONGEST = "notebooks/09_cost_vs_accuracy.ipynb"
EXPLORER = "notebooks/03_inception.ipynb"  # its explorer's sliders are dragged after Run All
# Timed on the CPU (its assertions compare stopwatch ratios): run with no other notebook competing.
STOPWATCH = "notebooks/08_theory_vs_stopwatch.ipynb"
TABS = int(os.environ.get("BROWSER_TABS", "2"))

# A cell may show an error only if it says it is meant to (nbval's comment or JupyterLab's tag).
RAISES_MARKER = "NBVAL_RAISES_EXCEPTION"
RAISES_TAG = "raises-exception"
EXERCISE_HEADING = re.compile(r"^## Exercise \d", re.MULTILINE)
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_ERROR = re.compile(r"Error (displaying|rendering) widget")

# Added as a cell at the end of a course notebook (lesson 03, after Run All): where does its kernel run?
PROBE = "import json, sys, course_utils; print(json.dumps([sys.executable, sys.prefix, course_utils.__file__]))"


def _read(relpath: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / relpath, as_version=4)


def _selected(session: pytest.Session) -> set[str]:
    """The notebooks the selected tests read (all by default; fewer with ``-k``, while working on one)."""
    wanted = set()
    for item in session.items:
        if "runs" in getattr(item, "fixturenames", ()):
            params = getattr(getattr(item, "callspec", None), "params", {})
            wanted.add(params.get("relpath", EXPLORER))
    return wanted


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, chromium: Any, lab_server: LabServer, screenshots: Path
) -> Iterator[dict[str, NotebookRun]]:
    """Every notebook run through the UI against one server, ``TABS`` at a time (the tests below read them)."""
    assert LESSONS and EXERCISES, "no lessons or exercises found"
    wanted = _selected(request.session)
    order = [STOPWATCH, LONGEST, *[p for p in LESSONS + EXERCISES + SOLVED if p not in (STOPWATCH, LONGEST)]]
    order = [p for p in order if p in wanted]
    done = run_notebooks(
        chromium,
        lab_server,
        [(p, _read(p)) for p in order],
        screenshots,
        tabs=TABS,
        keep_open=lambda relpath: relpath == EXPLORER,
        alone=lambda relpath: relpath == STOPWATCH,
    )
    yield done
    for run in done.values():
        run.close(lab_server)
        if run.after is not None and _problems(run):  # what every cell showed, to read beside the failure
            shown = "\n\n".join(f"--- cell {i} {c['prompt']}\n{c['output']}" for i, c in run.after.code)
            (screenshots / f"{screenshot_name(run.relpath, '-outputs')}.txt").write_text(shown)
    timings = "\n".join(
        f"{r.seconds:6.1f} s  {r.relpath}  ({', '.join(f'{k} {v:.1f}' for k, v in r.phases.items())})"
        for r in done.values()
    )
    (screenshots / "timings.txt").write_text(f"open to idle after Run All, {TABS} tabs at a time:\n{timings}\n")


def _may_raise(cell: nbformat.NotebookNode) -> bool:
    return RAISES_MARKER in cell.source or RAISES_TAG in cell.metadata.get("tags", [])


def _count_outputs(cell: nbformat.NotebookNode, mime: str) -> int:
    return sum(1 for out in cell.get("outputs", []) if mime in out.get("data", {}))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _stored_text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data") and "text/plain" in out.data:
            if not ({"image/png", "text/html", "image/jpeg", "image/svg+xml"} & set(out.data)):
                parts.append(out.data["text/plain"])
    return "".join(parts)


def _loaded(images: list[dict[str, Any]]) -> bool:
    return all(img["complete"] and img["width"] > 0 and img["height"] > 0 for img in images)


def _problems(run: NotebookRun) -> list[str]:
    """Everything a learner would see go wrong in this notebook, after Run All."""
    if run.failure is not None:
        return [f"the run did not complete: {run.failure} (see the -failure screenshot)"]
    assert run.before is not None and run.after is not None
    nb, problems = run.nb, []
    if run.dialog_seen:
        problems.append("opened with the Select Kernel dialog: its metadata lacks the python3 kernelspec")
    if len(run.after.cells) != len(nb.cells):
        return [*problems, f"JupyterLab shows {len(run.after.cells)} cells, the file has {len(nb.cells)}"]
    for i, cell in run.after.code:
        source = nb.cells[i]
        if cell["stderr"] and not _may_raise(source):
            problems.append(f"cell {i} shows an error:\n{cell['stderr'][0][:800]}")
        if not re.search(r"\d", cell["prompt"]):
            problems.append(f"cell {i} did not run (prompt {cell['prompt']!r}): Run All stopped earlier")
        stored = _count_outputs(source, "image/png")
        for when, shown in (("as opened", run.before.cells[i]), ("after Run All", cell)):
            if len(shown["images"]) != stored or not _loaded(shown["images"]):
                problems.append(f"cell {i} {when}: {stored} stored figure(s), shown {shown['images']}")
        if _count_outputs(source, WIDGET_MIME) and not cell["widgets"]:
            problems.append(f"cell {i}: its widget does not render after Run All: {cell['output'][:300]!r}")
        if WIDGET_ERROR.search(cell["output"]):
            problems.append(f"cell {i}: {WIDGET_ERROR.search(cell['output']).group(0)}: {cell['output'][:300]!r}")
    if run.toasts:
        problems.append(f"notifications over the notebook: {run.toasts}")
    return problems


@pytest.mark.parametrize("relpath", LESSONS)
def test_lesson_runs_in_jupyterlab(runs: dict[str, NotebookRun], relpath: str) -> None:
    run = runs[relpath]
    problems = _problems(run)
    assert not problems, f"{relpath} in JupyterLab:\n" + "\n".join(problems)


@pytest.mark.parametrize("relpath", EXERCISES + SOLVED)
def test_exercise_runs_in_jupyterlab(runs: dict[str, NotebookRun], relpath: str) -> None:
    """Every check cell shows its checker's one-line verdict; stubs read "not attempted", solutions pass."""
    run = runs[relpath]
    problems = _problems(run)
    assert not problems, f"{relpath} in JupyterLab:\n" + "\n".join(problems)
    assert run.after is not None
    checks = check_cells(run.nb)
    exercises = [c for c in run.nb.cells if c.cell_type == "markdown" and EXERCISE_HEADING.search(c.source)]
    assert checks and len(checks) == len(exercises), (
        f"{relpath}: {len(exercises)} exercises but {len(checks)} check cells (`checks.exNN_name(answer)`)"
    )
    for i, checker in checks.items():
        shown = _squash(run.after.cells[i]["output"])
        assert f"{checker}:" in shown, f"{relpath} cell {i}: no verdict of {checker} shown, only {shown[:300]!r}"
        if relpath in SOLVED:
            stored = _squash(_stored_text(run.nb.cells[i]))
            assert stored and stored in shown, f"{relpath} cell {i}: shows {shown[:300]!r}, stored {stored[:300]!r}"
        else:
            assert "not attempted yet" in shown, (
                f"{relpath} cell {i}: a stub should read 'not attempted yet': {shown[:300]!r}"
            )


def test_course_notebooks_run_in_the_course_venv(
    runs: dict[str, NotebookRun], lab_server: LabServer, screenshots: Path
) -> None:
    """A course notebook's kernel is the venv's Python, not the learner's own ``python3`` (their decoys)."""
    run = runs[EXPLORER]
    assert run.failure is None and run.page is not None, f"{EXPLORER} did not run: {run.failure}"
    shown = append_cell_and_run(run.page, PROBE)
    screenshot(run.page, screenshots, "notebooks__03_inception-kernel-probe")
    executable, prefix, package = json.loads(shown.strip().splitlines()[-1])
    venv = ROOT / ".venv"
    spec = lab_server.api("/api/kernelspecs")["kernelspecs"].get("python3", {})
    detail = f"the kernel runs {executable} (prefix {prefix}); the server's python3 kernelspec: {spec}"
    assert Path(prefix) == venv, f"not the course's venv {venv}: {detail}"
    assert Path(executable).parent == venv / "bin", f"not the venv's interpreter: {detail}"
    assert Path(package).is_relative_to(ROOT / "course_utils"), f"another course_utils ({package}): {detail}"


_NUMBER = r"([\d.]+) ([KMGT]?) MACs"
_EXPLORER_LINE = re.compile(
    rf"direct {_NUMBER} \| with reduction {_NUMBER} \(1×1 ([\d.]+) ([KMGT]?) \+ k×k ([\d.]+) ([KMGT]?)\)"
)
_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def _costs(text: str) -> dict[str, float]:
    """The explorer's printed line, as numbers: direct, with reduction, 1×1 and k×k MACs."""
    match = _EXPLORER_LINE.search(_squash(text))
    assert match, f"the explorer printed no cost line: {text[:300]!r}"
    values = [float(match.group(i)) * _SCALE[match.group(i + 1)] for i in (1, 3, 5, 7)]
    return dict(zip(("direct", "with_reduction", "reduce_1x1", "conv_kxk"), values, strict=True))


def test_inception_explorer_slider_changes_the_printed_cost(runs: dict[str, NotebookRun], screenshots: Path) -> None:
    """Drag C_in with the mouse: the readout moves and the printed costs follow.

    Only the costs that depend on C_in may change, each in proportion to it (direct and the 1×1 reduction
    are linear in C_in, the k×k conv after the reduction does not see it): a slider that renders but calls
    nothing, or calls with the wrong argument, fails.
    """
    run = runs[EXPLORER]
    assert run.failure is None and run.page is not None, f"{EXPLORER} did not run: {run.failure}"
    page = run.page
    index = next(i for i, c in enumerate(run.nb.cells) if c.cell_type == "code" and "IntSlider" in c.source)
    explorer = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
    slider = explorer.locator(".widget-slider").filter(has_text="C_in").first
    readout, handle = slider.locator(".widget-readout"), slider.locator(".noUi-handle")
    printed = explorer.locator(".widget-output")
    old_value, old_text = int(readout.inner_text()), printed.inner_text()
    screenshot(page, screenshots, "notebooks__03_inception-explorer-before", index)
    box = handle.bounding_box()
    assert box, "the C_in slider's handle is not on screen"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y, steps=12)
    page.mouse.up()
    page.wait_for_function(
        "([el, old]) => el.innerText !== old", arg=[printed.element_handle(), old_text], timeout=20_000
    )
    page.wait_for_timeout(500)  # `interact` prints on every value it passes; let the last one land
    new_value, new_text = int(readout.inner_text()), printed.inner_text()
    screenshot(page, screenshots, "notebooks__03_inception-explorer-after", index)
    assert new_value > old_value, f"dragging right moved C_in from {old_value} to {new_value}"
    old, new = _costs(old_text), _costs(new_text)
    ratio = new_value / old_value
    for name in ("direct", "reduce_1x1"):
        assert new[name] == pytest.approx(old[name] * ratio, rel=0.01), (
            f"{name} after C_in {old_value}->{new_value}: {old_text!r} -> {new_text!r}"
        )
    assert new["conv_kxk"] == old["conv_kxk"], f"the k×k cost changed with C_in: {old_text!r} -> {new_text!r}"
