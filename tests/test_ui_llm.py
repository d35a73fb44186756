"""LLM mode in the browser: a real llama.cpp server (SmolLM2-135M) behind `rag ui`.

Checks the UI offers LLM mode only when configured, streams the model's answer, and renders
every claim either with markers whose highlighted spans are verbatim, or flagged unsupported.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest_ui import ARTIFACTS, FIRST_QUESTION, ROOT, start_server, stop_server

pytest.importorskip("llama_cpp", reason="needs the local-llm extra: pip install -e '.[local-llm]'")

from rag.llm_server import LocalLLMServer  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.server]

SEED = "corpus/01-washtimes-2025-11-21-kremlin-peace-plan.html"


def test_llm_answer_streams_and_every_claim_is_cited_or_flagged(ui_browser, ui_library, tmp_path):
    _, expected = ui_library
    data_dir = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(data_dir), "add", SEED], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    llm = LocalLLMServer(n_ctx=2048, threads=1, log_path=tmp_path / "llm.log").start()
    server = None
    context = ui_browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        server = start_server(data_dir, tmp_path / "ui.log", env=llm.env())
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(server.url, wait_until="load")
        page.wait_for_selector("#question textarea", timeout=60_000)
        page.wait_for_selector("#status .status")
        assert "LLM answers (smollm2-135m)" in page.locator("#status").inner_text()
        page.click("#settings")
        page.locator("#mode input[type=radio]").first.wait_for()  # the accordion renders on open
        assert page.locator("#mode input[type=radio]").count() == 2
        assert page.locator("#mode input[value=llm]").is_checked()

        page.evaluate("""() => { window.__lengths = []; new MutationObserver(() => {
            const last = [...document.querySelectorAll('#chat .answer')].pop();
            if (last && last.classList.contains('streaming')) window.__lengths.push(last.innerText.length);
        }).observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true}); }""")
        page.fill("#question textarea", FIRST_QUESTION)
        page.keyboard.press("Enter")
        answer = page.locator("#chat .answer.final, #chat .answer.error").first
        answer.wait_for(timeout=180_000)
        assert "LLM answer" in answer.locator(".timing").inner_text(), answer.inner_text()
        lengths = page.evaluate("() => window.__lengths")
        assert len(set(lengths)) >= 2, f"the answer should arrive in several pieces, saw lengths {lengths}"

        # Every marker resolves to a card whose highlight is verbatim; flagged claims carry none.
        assert answer.locator(".unsupported a.cite").count() == 0
        assert answer.locator("a.cite").count() + answer.locator(".unsupported").count() >= 1
        for href in answer.locator("a.cite").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
            card = page.locator(f"#sources {href}")
            text = expected["texts"][card.get_attribute("data-article")]
            span = text[int(card.get_attribute("data-start")):int(card.get_attribute("data-end"))]
            assert card.locator("mark").text_content() == span
        page.screenshot(path=str(ARTIFACTS / "13-llm-answer-1280.png"), full_page=True)
        assert all(u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) for u in requests)
    finally:
        context.close()
        if server is not None:
            stop_server(server)
        llm.stop()
