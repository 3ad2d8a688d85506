"""Fixtures for the end-to-end tests: the course's JupyterLab (`make lab`), driven by Debian's headless Chromium.

Run them with ``make test-browser`` (or ``pytest -m browser tests/browser``). They skip, with the reason,
where Chromium or Playwright is missing; ``make test-browser`` installs both when it can.

- ``lab_server``: `make lab` for a learner whose own Jupyter setup holds decoys (``labserver.course_lab``,
  ``labserver.learner_with_decoys``), shared by the notebook tests.
- ``chromium``: a Playwright browser context on ``/usr/bin/chromium`` with a fresh profile. The
  background-networking flags matter: without them Chromium's connections are refused on a closed network.
- ``process_guard``: set up first and torn down last; fails the run if any process this session started
  (a kernel, JupyterLab, Chromium or Playwright's driver) is still alive afterwards, and kills it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from labserver import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    TEST_SETTINGS,
    LabServer,
    ProcessGuard,
    course_lab,
    describe,
    learner_with_decoys,
    stop_all,
)


@pytest.fixture(scope="session")
def browser_requirements() -> None:
    """Skip (not fail) where no browser can be driven, saying how to get one."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` "
            "(`make test-browser` does so when run as root)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip(
            "Playwright for Python is not installed: `pip install -e '.[browser]'` (`make test-browser` does so)"
        )


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab-e2e")


@pytest.fixture(scope="session")
def process_guard(browser_requirements: None, scratch: Path) -> Iterator[ProcessGuard]:
    guard = ProcessGuard(marker=f"{scratch}{os.sep}")
    yield guard
    leftovers = guard.leftovers()
    stop_all(leftovers)
    problems = guard.killed_at_teardown + [describe(p) for p in leftovers]
    assert not problems, "processes left behind by the browser tests (now killed):\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def lab_server(process_guard: ProcessGuard, scratch: Path) -> Iterator[LabServer]:
    """`make lab` for a learner whose own Jupyter setup holds decoys (``learner_with_decoys``), with
    JupyterLab's windowing off so that every cell is in the DOM for the test to read."""
    folder = scratch / "learner-with-decoys"
    decoys = learner_with_decoys(folder / "home")
    with course_lab(process_guard, folder, settings=TEST_SETTINGS, env=decoys) as server:
        yield server


@pytest.fixture(scope="session")
def chromium(process_guard: ProcessGuard, scratch: Path) -> Iterator[Any]:
    """A Playwright ``BrowserContext`` on Debian's Chromium with a fresh profile (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(scratch / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        for proc in psutil.Process().children(recursive=True):
            process_guard.watch(proc.pid)  # Playwright's driver and the browser it launched
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """``screenshots/`` (git-ignored), emptied of an earlier run's pictures so that none is taken for new."""
    folder = ROOT / "screenshots"
    folder.mkdir(exist_ok=True)
    for old in [*folder.glob("*.png"), *folder.glob("*.txt")]:
        old.unlink()
    return folder
