"""LLM mode in the browser: the bundled local model (Qwen2.5 1.5B) started by `rag ui` on first
use, and an OpenAI-compatible endpoint offered when one is configured.

Checks the local model is the default answer mode when installed, the model's loading shows as
progress in the chat, the verified quotes are shown before the model's answer streams in, which
says which model wrote it, every claim is cited verbatim or flagged, and the model
server stops when the app does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.ui_server import ARTIFACTS, FIRST_QUESTION, ROOT, start_server, stop_server

pytest.importorskip("xllamacpp", reason="needs the local-llm extra: pip install -e '.[local-llm]'")

from tests.support.llm_servers import MODEL_CACHE  # noqa: E402
from rag.llm.bundled import QWEN_15B, model_path  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.server]

SEED = "corpus/01-washtimes-2025-11-21-kremlin-peace-plan.html"


def _servers_of(data_dir: Path) -> list[int]:
    """PIDs of model servers serving a file from `data_dir` (read from /proc; nothing is signalled)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "rag.llm.server" in cmdline and str(data_dir) in cmdline:
                pids.append(int(entry.name))
    return pids


def _data_dir_with_seed(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(data_dir), "add", SEED], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    # The joined model, verified once per machine, hard-linked as this data dir's model cache.
    cached, _ = model_path(QWEN_15B.key, MODEL_CACHE)
    (data_dir / "models").mkdir()
    os.link(cached, data_dir / "models" / cached.name)
    return data_dir


def _ui_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_LLM"))}


def test_local_model_starts_on_first_use_and_answers(open_page, ui_library, tmp_path):
    _, expected = ui_library
    data_dir = _data_dir_with_seed(tmp_path)
    server = start_server(data_dir, tmp_path / "ui.log", env={**_ui_env(), "RAG_UI_MODE": "auto"})
    try:
        ui = open_page(server.url)
        page = ui.page
        assert "local model" in page.locator("#status").inner_text()
        ui.open_settings()
        assert page.locator("#mode input[type=radio]").count() == 2  # extractive, local (no endpoint set)
        assert page.locator("#mode input[value=local]").is_checked()  # the default where it is installed
        assert _servers_of(data_dir) == []  # nothing runs before it is used

        page.evaluate("""() => { window.__lengths = []; window.__quotesFirst = null; new MutationObserver(() => {
            const last = [...document.querySelectorAll('#chat .answer')].pop();
            if (last && last.classList.contains('streaming')) {
                window.__lengths.push(last.innerText.length);
                if (window.__quotesFirst === null) window.__quotesFirst = last.querySelector('.quotes') !== null;
            }
        }).observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true}); }""")
        page.fill("#question textarea", FIRST_QUESTION)
        page.keyboard.press("Enter")
        page.locator("#chat .answer.pending", has_text="Starting the local model").wait_for(timeout=60_000)
        answer = page.locator("#chat .answer.final, #chat .answer.error").first
        answer.wait_for(timeout=600_000)
        assert len(_servers_of(data_dir)) == 1
        # Written by the model, or (when nothing it wrote held) the quotes with a notice naming it.
        timing, small_print = answer.locator(".timing").inner_text(), answer.locator(".small-print").inner_text()
        assert f"LLM answer ({QWEN_15B.alias})" in timing or \
            ("Extractive answer" in timing and f"the {QWEN_15B.alias} " in small_print), answer.inner_text()
        lengths = page.evaluate("() => window.__lengths")
        assert len(set(lengths)) >= 2, f"the answer should arrive in several pieces, saw lengths {lengths}"
        assert page.evaluate("() => window.__quotesFirst"), "the verified quotes should be the first thing streamed"

        # Every marker resolves to a card whose highlight is verbatim; flagged claims carry none.
        assert answer.locator(".unsupported a.cite").count() == 0
        assert answer.locator("a.cite").count() >= 1
        for href in answer.locator("a.cite").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
            card = page.locator(f"#sources {href}")
            text = expected["texts"][card.get_attribute("data-article")]
            span = text[int(card.get_attribute("data-start")):int(card.get_attribute("data-end"))]
            assert card.locator("mark").text_content() == span
        page.screenshot(path=str(ARTIFACTS / "13-llm-answer-1280.png"), full_page=True)
    finally:
        stop_server(server)
    deadline = time.monotonic() + 30
    while _servers_of(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _servers_of(data_dir) == [], "the local model server should stop with the app"


def test_configured_endpoint_is_offered_with_its_model(open_page, tmp_path):
    data_dir = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(data_dir), "add", SEED], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    env = {**_ui_env(), "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "x", "RAG_LLM_MODEL": "my-model",
           "RAG_UI_MODE": "auto"}
    server = start_server(data_dir, tmp_path / "ui.log", env=env)
    try:
        ui = open_page(server.url)
        page = ui.page
        assert "LLM answers (my-model)" in page.locator("#status").inner_text()
        ui.open_settings()
        labels = page.locator("#mode label").all_inner_texts()
        assert any(label.startswith("OpenAI / compatible: my-model") for label in labels), labels
        assert any("Local model (Qwen2.5 1.5B, offline)" in label for label in labels), labels
        assert page.locator("#mode input[value=llm]").is_checked()
    finally:
        stop_server(server)
