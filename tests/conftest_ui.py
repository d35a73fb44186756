"""Fixtures for the browser tests: a real `rag ui` server on a free port, and Debian Chromium.

A pytest plugin (registered in tests/conftest.py); the plain helpers live in `tests.support.ui_server`.
The server is a subprocess started on
127.0.0.1 with a temporary data directory holding the shipped corpus, and stopped by its PID.
Expected answers come from the same library, run in a separate process before the server starts,
so the browser tests check that the UI shows exactly what the library says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ui_server import (
    ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, CITED_QUESTION, EXPECTATIONS, FIRST_QUESTION, FOLLOW_UP, ROOT, UIPage,
    start_server, stop_server,
)


@pytest.fixture(scope="session")
def ui_library(tmp_path_factory):
    """A data directory with corpus/ indexed, and the library's own answers to the test questions."""
    data_dir = tmp_path_factory.mktemp("ui-data")
    run = subprocess.run([sys.executable, "-c", EXPECTATIONS, str(data_dir), CITED_QUESTION, FIRST_QUESTION, FOLLOW_UP],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    expected = json.loads(run.stdout.strip().splitlines()[-1])
    assert not expected["failed"], expected["failed"]
    return data_dir, expected


@pytest.fixture(scope="session")
def ui_server(ui_library, tmp_path_factory):
    data_dir, _ = ui_library
    server = start_server(data_dir, tmp_path_factory.mktemp("ui-log") / "server.log")
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def ui_browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(ui_browser):
    """Factory: open_page(url, width=1280, height=800) -> UIPage. Every page must stay on localhost."""
    contexts, pages = [], []

    def make(url: str, width: int = 1280, height: int = 800) -> UIPage:
        context = ui_browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        ui_page = UIPage(page)
        page.on("request", lambda request: ui_page.requests.append(request.url))
        page.on("websocket", lambda ws: ui_page.requests.append(ws.url))
        pages.append(ui_page)
        return ui_page.open(url)

    yield make
    for context in contexts:
        context.close()
    foreign = [url for p in pages for url in p.foreign_requests()]
    assert not foreign, f"requests left localhost: {foreign}"
