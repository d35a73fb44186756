"""The app as a real `rag ui` process on a free port, and a browser tab that records its requests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from rag.net import free_port


ROOT = Path(__file__).resolve().parents[2]  # the repository


ARTIFACTS = ROOT / "tests" / "artifacts"


CHROMIUM = "/usr/bin/chromium"


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


LOCAL_HOSTS = {"127.0.0.1", "localhost"}


UPLOAD_LIMIT_MB = 1.0  # small, so the size-limit test needs only a small file


# Questions whose answers the tests compare with the library's own output.
CITED_QUESTION = "How many square miles have Russian forces captured?"


FIRST_QUESTION = "Who is the Kremlin spokesperson?"


FOLLOW_UP = "What did he say about peace negotiations?"


EXPECTATIONS = r"""
import json, sys
from rag.library import Library
from rag.models import Turn
from rag.settings import Settings
data_dir, cited, first, follow = sys.argv[1:5]
lib = Library(Settings(data_dir=data_dir))
results = lib.add(["corpus/"])
failed = [r.model_dump() for r in results if r.status == "failed"]
a1 = lib.ask(first)
a2 = lib.ask(follow, history=[Turn(question=first, answer=a1.answer)])
out = {
    "failed": failed,
    "cited": lib.ask(cited).to_json_dict(),
    "first": a1.to_json_dict(),
    "follow_up": a2.to_json_dict(),
    "texts": {s.id: lib.article(s.id).text for s in lib.articles()},
}
print(json.dumps(out))
"""


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def start_server(data_dir: Path, log: Path, extra_args: list[str] = (), env: dict | None = None,
                 command: str = "ui", ready_path: str = "") -> Server:
    """`rag COMMAND` (`ui`, or `serve`) on a free port, once it answers at /`ready_path`."""
    port = free_port()
    # Extractive by default (the bundled model, when installed, would answer every browser test):
    # tests of the local model pass RAG_UI_MODE=auto.
    env = {**os.environ, "RAG_MAX_FILE_MB": str(UPLOAD_LIMIT_MB), "RAG_UI_MODE": "extractive", **(env or {})}
    out = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "rag", "--data-dir", str(data_dir), command, "--port", str(port), *extra_args],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rag {command} exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + ready_path, timeout=2) as response:
                if response.status == 200:
                    return Server(url, process, log)
        except OSError:
            time.sleep(0.3)
    stop_server(Server(url, process, log))
    raise RuntimeError(f"rag {command} did not answer on {url} within 120 s:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=15)


@dataclass
class UIPage:
    """A browser tab on the app, recording every request it makes."""

    page: object
    requests: list[str] = field(default_factory=list)

    def open(self, url: str) -> "UIPage":
        self.page.goto(url, wait_until="load")
        self.page.wait_for_selector("#question textarea", timeout=60_000)
        self.page.wait_for_selector("#status .status")
        return self

    def answers(self):
        return self.page.locator("#chat .answer.final, #chat .answer.error")

    def ask(self, question: str, timeout: float = 60_000):
        """Ask in the chat box and wait for the final answer; returns its locator."""
        before = self.answers().count()
        self.page.fill("#question textarea", question)
        self.page.keyboard.press("Enter")
        self.page.wait_for_function(
            "n => document.querySelectorAll('#chat .answer.final, #chat .answer.error').length > n",
            arg=before, timeout=timeout)
        return self.answers().nth(before)

    def open_settings(self) -> None:
        """Open the Settings accordion and wait for its fields: Gradio renders them on first open.

        `open()` has already waited for the page's load events (the status line), so the click
        cannot land while the page is still booting; the header's `open` class shows the click
        took, apart from how long the fields then take to draw."""
        header = self.page.locator("#settings > button.label-wrap")
        header.click()
        self.page.wait_for_selector("#settings > button.label-wrap.open", timeout=10_000)
        self.page.locator("#mode input[type=radio]").first.wait_for(timeout=60_000)

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=name).click()

    def remove_article(self, title: str) -> None:
        """In the Library tab: filter by title, select the row, remove it and confirm."""
        self.tab("Library")
        self.page.fill("#library-filter textarea, #library-filter input", title)
        self.page.locator("#library-table span.text").filter(has_text=title).first.click()
        self.page.wait_for_selector("#article-view .article-view")
        self.page.click("#remove")
        self.page.click("#confirm-remove")
        # The filter still holds the title, so the removal is done once nothing matches it; an
        # emptied table alone can be a re-render in progress.
        self.page.wait_for_function(
            "() => document.querySelector('#library-message').innerText.startsWith('No titles match')",
            timeout=30_000)

    def screenshot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def foreign_requests(self) -> list[str]:
        """Requests that left localhost (http(s) and ws(s); data: and blob: URLs stay in the page)."""
        out = []
        for url in self.requests:
            parsed = urlparse(url)
            if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out
