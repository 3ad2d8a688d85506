"""Driving JupyterLab as a learner does, through its menus, and reading what it shows.

Used by the browser tests (``test_first_start.py``, ``test_jupyterlab.py``). Every read is of the DOM the
learner sees; the REST API is used only to find a notebook's kernel and to stop it afterwards.

``NotebookRun`` runs one notebook in its own tab: open it, wait for a ready kernel, Edit ▸ Clear Outputs of
All Cells, Run ▸ Run All Cells, then (polled, so that several tabs can run at once) wait until the kernel is
idle, and take a snapshot of every cell. ``run_notebooks`` keeps a few such tabs busy against one server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

Page = Any  # playwright.sync_api.Page (Playwright is optional: imported only by the fixtures)
LabServer = Any  # conftest.LabServer

STDERR_MIME = "application/vnd.jupyter.stderr"
OPEN_TIMEOUT_MS = 90_000
KERNEL_TIMEOUT_S = 90.0
RUN_TIMEOUT_S = 600.0  # one notebook, Run All to idle: a hang, not a speed limit (lesson 09 trains ~1 minute)
POLL_S = 0.5

# One snapshot of what a notebook shows, cell by cell (every cell is attached: windowingMode "none").
_READ_CELLS_JS = f"""() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')].map(cell => ({{
    kind: cell.classList.contains('jp-CodeCell') ? 'code' : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
    prompt: (cell.querySelector('.jp-InputArea .jp-InputPrompt') || {{innerText: ''}}).innerText.trim(),
    stderr: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="{STDERR_MIME}"]')].map(o => o.innerText),
    output: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText).join('\\n'),
    images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(img => ({{
      complete: img.complete, width: img.naturalWidth, height: img.naturalHeight}})),
    widgets: cell.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length,
  }}))"""

# Run All is over when no cell is queued or running ([*]), the first code cell has an execution count and
# the kernel is idle. (Outputs were cleared first, so an old count cannot pass for a new one.)
_RUN_ALL_DONE_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea .jp-InputPrompt')].map(p => p.innerText);
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status');
  return prompts.length > 0 && /\\d/.test(prompts[0]) && !prompts.some(p => p.includes('*')) && status === 'idle';
}"""

_IMAGES_LOADED_JS = "() => [...document.querySelectorAll('.jp-OutputArea-output img')].every(img => img.complete)"
TOASTS = ".Toastify__toast"  # JupyterLab's notifications (the news question, update notices)


@dataclass
class Snapshot:
    cells: list[dict[str, Any]]

    @property
    def code(self) -> list[tuple[int, dict[str, Any]]]:
        return [(i, c) for i, c in enumerate(self.cells) if c["kind"] == "code"]

    @property
    def images(self) -> list[dict[str, Any]]:
        return [img for c in self.cells for img in c["images"]]


def snapshot(page: Page) -> Snapshot:
    return Snapshot(page.evaluate(_READ_CELLS_JS))


def toasts(page: Page) -> list[str]:
    """The text of every notification toast on the page (there should be none)."""
    return [" ".join(text.split()) for text in page.locator(TOASTS).all_inner_texts()]


def session_kernel(server: LabServer, relpath: str) -> dict[str, Any] | None:
    sessions = [s for s in server.api("/api/sessions") if s.get("path") == relpath]
    return sessions[0].get("kernel") if sessions else None


def wait_for_kernel(page: Page, server: LabServer, relpath: str, timeout: float = KERNEL_TIMEOUT_S) -> bool:
    """Wait until ``relpath``'s session has an idle ``python3`` kernel; return whether a Select Kernel dialog showed.

    If the dialog shows (a notebook without kernelspec metadata), accept its default so the run can go on.
    """
    dialog_seen = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and "kernel" in dialog.first.inner_text().lower():
            dialog_seen = True
            dialog.locator(".jp-mod-accept").first.click()
        kernel = session_kernel(server, relpath)
        indicator = page.locator(".jp-Notebook-ExecutionIndicator")
        status = indicator.first.get_attribute("data-status") if indicator.count() else None
        if kernel and kernel.get("execution_state") == "idle" and status == "idle":
            assert kernel["name"] == "python3", f"{relpath} opened with kernel {kernel['name']!r}, not python3"
            return dialog_seen
        page.wait_for_timeout(250)
    raise AssertionError(f"{relpath}: no idle python3 kernel after {timeout:.0f} s")


def wait_for_images(page: Page, timeout_ms: int = 15_000) -> None:
    page.wait_for_function(_IMAGES_LOADED_JS, timeout=timeout_ms)


def menu(page: Page, name: str, command: str) -> None:
    """Click a main-menu entry the way a learner does: ``name`` ▸ the item bound to ``command``.

    In a tab that is not in front, each click here took 1 to 4 s of idle waiting while another tab ran its
    notebook (opening one notebook took 14 s instead of 2): the steps that click first bring their tab to the front.
    """
    page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=re.compile(rf"^{name}$")).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').first.click()


def cell(page: Page, index: int) -> Any:
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)


def screenshot(page: Page, folder: Path, name: str, cell_index: int | None = None) -> Path:
    """A screenshot of the viewport, scrolled to ``cell_index`` first if given."""
    if cell_index is not None:
        cell(page, cell_index).scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    target = folder / f"{name}.png"
    page.screenshot(path=str(target))
    return target


def stop_kernel(server: LabServer, relpath: str) -> None:
    """Delete ``relpath``'s session (its kernel stops): frees CPU and memory for the other tabs."""
    for session in server.api("/api/sessions"):
        if session.get("path") == relpath:
            server.api(f"/api/sessions/{session['id']}", method="DELETE")


def screenshot_name(relpath: str, suffix: str = "") -> str:
    return relpath.replace("/", "__").removesuffix(".ipynb") + suffix


@dataclass
class NotebookRun:
    """One notebook run through the UI in its own tab; the tests read ``before``, ``after`` and ``failure``."""

    relpath: str
    nb: nbformat.NotebookNode
    page: Page = None
    dialog_seen: bool = False  # JupyterLab asked for a kernel (the notebook lacks kernelspec metadata)
    before: Snapshot | None = None  # as opened, with the stored outputs
    after: Snapshot | None = None  # after Run All
    toasts: list[str] = field(default_factory=list)  # notifications shown over the notebook after Run All
    failure: str | None = None  # the run itself did not complete (timeout, no kernel, a JupyterLab error)
    seconds: float = 0.0  # open to idle after Run All
    started: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds from the start: shown, kernel idle, run
    screenshots: list[Path] = field(default_factory=list)

    def start(self, page: Page, server: LabServer) -> None:
        """In ``page`` (JupyterLab, loaded): open the notebook, wait for its kernel, clear outputs, Run All."""
        self.started = time.monotonic()
        self.page = page
        page.bring_to_front()  # see `menu`
        open_notebook(page, self.relpath)
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell').length >= n",
            arg=len(self.nb.cells),
            timeout=OPEN_TIMEOUT_MS,
        )
        self.phases["shown"] = time.monotonic() - self.started
        self.dialog_seen = wait_for_kernel(page, server, self.relpath)
        self.phases["kernel idle"] = time.monotonic() - self.started
        wait_for_images(page)
        self.before = snapshot(page)
        menu(page, "Edit", "editmenu:clear-all")  # Clear Outputs of All Cells
        page.wait_for_function(
            "() => ![...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(p => /\\d/.test(p.innerText))",
            timeout=10_000,
        )
        menu(page, "Run", "runmenu:run-all")  # Run All Cells

    def done(self) -> bool:
        if time.monotonic() - self.started > RUN_TIMEOUT_S:
            raise TimeoutError(f"Run All did not finish within {RUN_TIMEOUT_S:.0f} s")
        return bool(self.page.evaluate(_RUN_ALL_DONE_JS))

    def finish(self, screenshots: Path) -> None:
        """Snapshot what Run All left, and keep screenshots: the top, the first figure, the first check."""
        self.phases["run"] = time.monotonic() - self.started
        self.page.bring_to_front()  # see `menu`
        wait_for_images(self.page)
        self.seconds = time.monotonic() - self.started
        self.after = snapshot(self.page)
        self.toasts = toasts(self.page)
        self.screenshots.append(screenshot(self.page, screenshots, screenshot_name(self.relpath, "-top"), 0))
        firsts = {
            "-figure": next((i for i, c in enumerate(self.after.cells) if c["images"]), None),
            "-check": next((i for i in check_cells(self.nb)), None),
        }
        for suffix, index in firsts.items():
            if index is not None:
                self.screenshots.append(
                    screenshot(self.page, screenshots, screenshot_name(self.relpath, suffix), index)
                )

    def close(self, server: LabServer) -> None:
        """Stop the kernel and close the browser tab (for a run kept open, or one that failed)."""
        if self.page is not None:
            stop_kernel(server, self.relpath)
            self.page.close()
            self.page = None


def open_lab(context: Any, server: LabServer, workspace: str) -> Page:
    """A new browser tab with JupyterLab loaded, in a workspace of its own (tabs do not share a layout)."""
    page = context.new_page()
    page.goto(f"{server.url}/lab/workspaces/{workspace}?token={server.token}")
    page.locator("#jp-MainMenu .lm-MenuBar-item").first.wait_for(timeout=OPEN_TIMEOUT_MS)
    return page


def open_notebook(page: Page, relpath: str) -> None:
    """File ▸ Open from Path…, type the path, Open."""
    menu(page, "File", "filebrowser:open-path")
    page.locator(".jp-Dialog input").fill(relpath)
    page.locator(".jp-Dialog .jp-mod-accept").click()


def close_notebook(page: Page, server: LabServer, relpath: str) -> None:
    """File ▸ Close and Shut Down Notebook…, Ok; then the notebook's session must be gone."""
    page.bring_to_front()  # see `menu`
    menu(page, "File", "filemenu:close-and-cleanup")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.wait_for_function("() => !document.querySelector('.jp-NotebookPanel')", timeout=30_000)
    deadline = time.monotonic() + 15
    while session_kernel(server, relpath) is not None:
        if time.monotonic() > deadline:
            raise AssertionError(f"{relpath}: its kernel still runs after Close and Shut Down")
        time.sleep(0.25)


CHECK_CALL = re.compile(r"^checks\.(ex\d\d\w*)\(", re.MULTILINE)  # a check cell: `checks.exNN_name(answer)`


def check_cells(nb: nbformat.NotebookNode) -> dict[int, str]:
    """``{cell index: checker name}`` for every cell that calls ``checks.<name>(...)``."""
    return {
        i: m.group(1)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for m in [CHECK_CALL.search(c.source)]
        if m
    }


def run_notebooks(
    context: Any,
    server: LabServer,
    notebooks: Iterable[tuple[str, nbformat.NotebookNode]],
    screenshots: Path,
    *,
    tabs: int,
    keep_open: Callable[[str], bool] = lambda relpath: False,
    alone: Callable[[str], bool] = lambda relpath: False,
) -> dict[str, NotebookRun]:
    """Run every notebook through the UI, ``tabs`` at a time against one server, in the order given.

    Each browser tab loads JupyterLab once and then opens one notebook after another in it (File ▸ Open
    from Path…, and File ▸ Close and Shut Down Notebook… when done), as a learner goes through the course.
    Kernels run in parallel on the server while this thread polls each tab (Playwright's sync API is
    single-threaded). A notebook for which ``alone(relpath)`` holds (one that times the CPU) runs with no
    other tab busy. A run that fails (timeout, no kernel) is recorded in its ``failure``, its tab is
    closed, and the others go on. A notebook for which ``keep_open(relpath)`` holds stays open in its tab
    for a later test, which closes it (``NotebookRun.close``).
    """
    pending = list(notebooks)
    active: list[NotebookRun] = []
    runs: dict[str, NotebookRun] = {}
    idle_tabs: list[Page] = []
    opened = 0

    def tab() -> Page:
        nonlocal opened
        if idle_tabs:
            return idle_tabs.pop()
        opened += 1
        return open_lab(context, server, f"tab-{opened}")

    def end(run: NotebookRun, error: Exception | None) -> None:
        if error is None and not keep_open(run.relpath):
            try:
                close_notebook(run.page, server, run.relpath)
                idle_tabs.append(run.page)
                run.page = None
                return
            except Exception as closing:  # recorded in the run, reported by its test
                error = closing
        if error is not None:
            run.failure = f"{type(error).__name__}: {error}"
            if run.page is not None:
                run.screenshots.append(screenshot(run.page, screenshots, screenshot_name(run.relpath, "-failure")))
            run.close(server)

    while pending or active:
        while pending and len(active) < tabs:
            if active and (alone(pending[0][0]) or any(alone(run.relpath) for run in active)):
                break  # wait until the tabs are free for it, or until it is done
            relpath, nb = pending.pop(0)
            run = runs[relpath] = NotebookRun(relpath, nb)
            try:
                run.start(tab(), server)
                active.append(run)
            except Exception as error:  # recorded in the run, reported by its test
                end(run, error)
        for run in list(active):
            try:
                finished = run.done()
                if finished:
                    run.finish(screenshots)
            except Exception as error:  # recorded in the run, reported by its test
                active.remove(run)
                end(run, error)
                continue
            if finished:
                active.remove(run)
                end(run, None)
        if active:
            time.sleep(POLL_S)
    for page in idle_tabs:
        page.close()
    return runs


def append_cell_and_run(page: Page, source: str, timeout_ms: int = 60_000) -> str:
    """As a learner adds a cell: select the last cell, Esc, B (insert below), Enter, type, Shift+Enter.

    Returns the new cell's output text. The text is inserted as typed input without key events, so that the
    editor's auto-closing brackets and auto-indent leave it as it is.
    """
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    count = cells.count()
    last = cells.nth(count - 1)
    last.scroll_into_view_if_needed()
    last.locator(".jp-InputPrompt").first.click()  # selects the cell (its left bar would collapse it)
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.wait_for_function(
        "n => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell').length > n", arg=count
    )
    page.keyboard.press("Enter")
    page.keyboard.insert_text(source)
    page.keyboard.press("Shift+Enter")
    added = cells.nth(count)
    added.locator(".jp-InputPrompt", has_text=re.compile(r"\d")).wait_for(timeout=timeout_ms)
    return str(added.locator(".jp-OutputArea").inner_text())
