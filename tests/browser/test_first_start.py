"""A new learner's first `make lab`: lesson 00 opens, ready, with nothing in front of it.

On a fresh HOME (no Jupyter configuration, no settings) the page `make lab` opens (the server's default URL)
shows lesson 00 with an idle ``python3`` kernel, and no toast, dialog or notification count. JupyterLab
would otherwise ask "Would you like to get notified about official Jupyter news?" over the lesson, and,
once answered, look up newer JupyterLab releases at every start (a request to a website, and a toast when
there is one); the course's overrides (``jupyter/overrides.json5``, installed into the venv by
``make setup``) turn both off. The test also watches the browser's requests: neither the news feed
(``/lab/api/news``) nor the update check (``/lab/api/update``) is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from jupyterlab_ui import screenshot, toasts, wait_for_kernel
from labserver import LabServer, ProcessGuard, course_lab

pytestmark = pytest.mark.browser

LESSON_00 = "notebooks/00_multichannel_conv.ipynb"
ANNOUNCEMENTS = re.compile(r"/lab/api/(news|update)\b")
SETTLE_MS = 4_000  # after the kernel is idle: the news question is asked as soon as JupyterLab is restored


@pytest.fixture(scope="module")
def fresh_lab(process_guard: ProcessGuard, scratch: Path) -> Iterator[LabServer]:
    """`make lab` for a learner who never ran Jupyter: an empty HOME and an empty course configuration."""
    with course_lab(process_guard, scratch / "fresh-learner") as server:
        yield server


def test_first_start_shows_lesson_00_and_no_prompt(chromium: Any, fresh_lab: LabServer, screenshots: Path) -> None:
    page = chromium.new_page()
    asked: list[str] = []
    page.on(
        "request",
        lambda request: asked.append(request.url) if ANNOUNCEMENTS.search(urlparse(request.url).path) else None,
    )
    try:
        page.goto(f"{fresh_lab.url}/?token={fresh_lab.token}")  # what `make lab` opens in the learner's browser
        page.wait_for_selector(".jp-NotebookPanel", timeout=90_000)
        dialog_seen = wait_for_kernel(page, fresh_lab, LESSON_00)
        page.wait_for_timeout(SETTLE_MS)
        shown = toasts(page)
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        count = page.locator(".jp-Notification-Status-Text").inner_text().strip()
        tab = page.locator(".jp-mod-current.lm-TabBar-tab .lm-TabBar-tabLabel").first.inner_text()
        screenshot(page, screenshots, "first-start")
    finally:
        page.close()
    assert tab == Path(LESSON_00).name, f"make lab opened {tab!r}, not lesson 00"
    assert not dialog_seen and not dialogs, f"a dialog over lesson 00 at the first start: {dialogs}"
    assert not shown, f"notifications over lesson 00 at the first start: {shown}"
    assert count == "0", f"the status bar counts {count} notification(s) at the first start"
    assert not asked, f"JupyterLab asked for news or updates on the internet: {asked}"
