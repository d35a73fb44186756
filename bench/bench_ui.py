"""Web UI latency: question -> first streamed text, and question -> complete answer (median of 10).

Measured in a real Chromium against `rag ui` on 127.0.0.1, timed inside the page (from the Enter
key press to the DOM showing streamed text, then the final answer with its markers). The
baseline is the same questions through `Library.ask_stream` in this process, so the ratio is the
cost of the UI (Gradio queue, websocket/SSE, rendering) over the library itself. Each question is
distinct and asked in a fresh conversation, so no query-embedding cache hit flatters the numbers.

    .venv/bin/python -m bench.bench_ui [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.ui_server import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "Who is the Kremlin spokesperson?",
    "How many points does President Trump's Ukraine peace plan have?",
    "What concessions does the peace plan include for Ukraine?",
    "Who is Zelenskyy's top national security adviser?",
    "Who is the U.S. Special Envoy who drafted the plan?",
    "How many square miles have Russian forces captured over the past month?",
    "What did Umerov write in his Telegram post?",
    "Has the peace plan been made public?",
    "What did Mr. Peskov tell reporters on Friday?",
    "Who has confirmed that he is reviewing the plan?",
    "Which goal would Ukraine abandon under the plan?",
    "Where did Witkoff and Umerov meet?",
]

# Timestamps (performance.now) of Enter, the first streamed text and the final answer.
OBSERVER = """() => {
  window.__t = {};
  document.querySelector('#question textarea').addEventListener('keydown', e => {
    if (e.key === 'Enter') window.__t = {enter: performance.now()};
  }, true);
  new MutationObserver(() => {
    const last = [...document.querySelectorAll('#chat .answer')].pop();
    if (!last || window.__t.enter === undefined) return;
    const now = performance.now();
    if (last.classList.contains('streaming') && window.__t.first === undefined) window.__t.first = now;
    if (last.classList.contains('final') && window.__t.final === undefined) {
      if (window.__t.first === undefined) window.__t.first = now;  // streamed and finished in one frame
      window.__t.final = now;
    }
  }).observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def library_baseline(data_dir: Path, questions: list[str]) -> tuple[list[float], list[float]]:
    from rag.library import Library
    from rag.models import Answer, Searching
    from rag.settings import Settings

    library = Library(Settings(data_dir=data_dir))
    firsts, totals = [], []
    for question in questions:
        t0 = time.perf_counter()
        first = None
        for event in library.ask_stream(question):
            if first is None and not isinstance(event, Searching):
                first = time.perf_counter() - t0
            if isinstance(event, Answer):
                totals.append((time.perf_counter() - t0) * 1000)
        firsts.append(first * 1000)
    return firsts, totals


def ui_timings(url: str, questions: list[str]) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    firsts, totals = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url, wait_until="load")
        page.wait_for_selector("#question textarea", timeout=60_000)
        page.evaluate(OBSERVER)
        for question in questions:
            page.click("#new-conversation")
            page.wait_for_function("() => !document.querySelector('#chat .answer')")
            page.fill("#question textarea", question)
            page.keyboard.press("Enter")
            page.wait_for_function("() => window.__t.final !== undefined", timeout=120_000)
            t = page.evaluate("() => window.__t")
            firsts.append(t["first"] - t["enter"])
            totals.append(t["final"] - t["enter"])
        browser.close()
    return firsts, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    runs = min(args.runs, len(QUESTIONS) - 1)
    # The first question warms up each side (first Chroma query, lazy loads) and is not counted.
    # The two sides run in different processes, so their query caches are separate.
    questions = QUESTIONS[: runs + 1]
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        data_dir = Path(tmp) / "data"
        subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(data_dir), "add", "corpus/"], cwd=ROOT,
                       check=True, capture_output=True)
        lib_first, lib_total = library_baseline(data_dir, questions)
        server = start_server(data_dir, Path(tmp) / "server.log")
        try:
            ui_first, ui_total = ui_timings(server.url, questions)
        finally:
            stop_server(server)
    rows = [
        ("library: first text", statistics.median(lib_first[1:])),
        ("library: complete answer", statistics.median(lib_total[1:])),
        ("UI: first streamed text", statistics.median(ui_first[1:])),
        ("UI: complete answer", statistics.median(ui_total[1:])),
    ]
    print(f"median of {runs} questions (extractive mode, {len(list((ROOT / 'corpus').iterdir()))} corpus files)")
    for name, ms in rows:
        print(f"  {name:26} {ms:8.1f} ms")
    print(f"  UI / library, first text   {rows[2][1] / rows[0][1]:8.2f}x")
    print(f"  UI / library, complete     {rows[3][1] / rows[1][1]:8.2f}x")


if __name__ == "__main__":
    main()
