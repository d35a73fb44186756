"""Untrusted article text must display as inert text in every panel; sign-in; empty library."""

from __future__ import annotations

import pytest

from tests.support.ui_server import ARTIFACTS, start_server, stop_server

pytestmark = pytest.mark.browser

EVIL_TITLE = '<img src=x onerror="window.__xss=1">Quarry <script>window.__xss=2</script> report'
EVIL_SOURCE = '<b onmouseover="window.__xss=3">Evil Source</b>'
EVIL_TEXT = (
    "The Brindlewood quarry council approved the drainage budget of 4 million crowns "
    "<script>window.__xss=4</script> on Monday.\n"
    'Residents said the vote <img src=x onerror="window.__xss=5"> came after [a long debate](javascript:window.__xss=6) '
    "<!-- secret comment --> about runoff.\n"
    "Critics wrote ${window.__xss=7} and {{constructor.constructor('window.__xss=8')()}} on placards.\n"
)
PAYLOADS = ["<script>window.__xss=4</script>", '<img src=x onerror="window.__xss=5">',
            "[a long debate](javascript:window.__xss=6)", "<!-- secret comment -->", "${window.__xss=7}"]


def injected(page) -> dict:
    """Anything the payloads would have created if they were parsed as markup."""
    return page.evaluate("""() => ({
        xss: window.__xss === undefined ? null : window.__xss,
        imgs: document.querySelectorAll('img[src="x"]').length,
        scripts: [...document.scripts].filter(s => s.textContent.includes('__xss')).length,
        js_links: document.querySelectorAll('a[href^="javascript"]').length,
        handlers: document.querySelectorAll('[onerror], [onmouseover]').length,
        bold: [...document.querySelectorAll('b')].filter(b => b.textContent === 'Evil Source').length,
    })""")


def test_untrusted_article_markup_is_inert_everywhere(ui_server, open_page):
    ui = open_page(ui_server.url)
    ui.tab("Add articles")
    ui.page.fill("#paste-title textarea, #paste-title input", EVIL_TITLE)
    ui.page.fill("#paste-source textarea, #paste-source input", EVIL_SOURCE)
    ui.page.fill("#paste-url textarea, #paste-url input", "javascript:window.__xss=9")
    ui.page.fill("#paste-text textarea", EVIL_TEXT)
    ui.page.click("#add-pasted")
    ui.page.wait_for_selector("#add-results .status.added")
    assert EVIL_TITLE in ui.page.locator("#add-results").inner_text()

    ui.tab("Chat")
    answer = ui.ask("What budget did the Brindlewood quarry council approve?")
    assert "<script>window.__xss=4</script>" in answer.inner_text()
    card = ui.page.locator("#sources .turn.current .source").first
    assert card.locator(".title").inner_text() == EVIL_TITLE
    assert EVIL_SOURCE in card.locator(".meta").inner_text()
    assert card.locator("a").count() == 0, "a javascript: URL must not become a link"
    follow = ui.ask("What did the residents say about the quarry vote?")
    ui.screenshot("10-xss-chat")
    shown = answer.inner_text() + follow.inner_text() + ui.page.locator("#sources").inner_text()

    ui.tab("Library")
    ui.page.fill("#library-filter textarea, #library-filter input", "Quarry")
    ui.page.locator("#library-table span.text").filter(has_text="Quarry").first.click()
    view = ui.page.locator("#article-view .article-view")
    view.wait_for()
    assert ui.page.locator("#library-table").inner_text().count(EVIL_TITLE) >= 1
    for payload in PAYLOADS:
        assert payload in view.inner_text(), f"{payload!r} should be shown literally"
    assert "{{constructor.constructor('window.__xss=8')()}}" in view.inner_text()
    ui.screenshot("11-xss-library")
    assert "<script>" in shown

    ui.page.wait_for_timeout(500)  # give any injected handler a chance to run
    assert injected(ui.page) == {"xss": None, "imgs": 0, "scripts": 0, "js_links": 0, "handlers": 0, "bold": 0}
    ui.remove_article("Quarry")


def test_sign_in_and_empty_library_state(ui_browser, tmp_path):
    server = start_server(tmp_path / "empty-data", tmp_path / "auth-server.log", ["--auth", "editor:s3cret-pass"])
    context = ui_browser.new_context(viewport={"width": 1280, "height": 800})
    requests: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(server.url, wait_until="load")
        page.wait_for_selector("input[type=password]")
        assert page.locator("#question").count() == 0, "the app must not render before sign-in"
        page.locator("input[type=text]").first.fill("editor")
        page.fill("input[type=password]", "wrong")
        page.keyboard.press("Enter")
        page.get_by_text("Incorrect", exact=False).first.wait_for()
        page.locator("input[type=text]").first.fill("editor")
        page.fill("input[type=password]", "s3cret-pass")
        page.keyboard.press("Enter")
        page.wait_for_selector("#question textarea", timeout=60_000)
        page.wait_for_selector("#status .status")
        status = page.locator("#status")
        assert "No articles yet - add some in the Add articles tab." in status.inner_text()
        page.screenshot(path=str(ARTIFACTS / "12-empty-library-1280.png"))
        page.get_by_role("tab", name="Library").click()
        page.wait_for_function("() => document.querySelector('#library-message').innerText.startsWith('No articles yet')")
    finally:
        context.close()
        stop_server(server)
    assert all(u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) for u in requests), requests

