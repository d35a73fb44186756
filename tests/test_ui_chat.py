"""Browser tests of the chat: cited answers, highlighted spans, follow-ups, sessions, layout."""

from __future__ import annotations

import pytest

from tests.support.ui_server import CITED_QUESTION, FIRST_QUESTION, FOLLOW_UP

pytestmark = pytest.mark.browser


def paragraph_of(text: str, start: int, end: int) -> str:
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    return text[first: len(text) if last == -1 else last]


def test_cited_answer_highlights_the_cited_span(ui_server, ui_library, open_page):
    _, expected = ui_library
    library_answer = expected["cited"]
    assert library_answer["citations"], "the library itself should answer this question"
    ui = open_page(ui_server.url)
    ui.screenshot("01-empty-chat-1280")
    answer = ui.ask(CITED_QUESTION)

    markers = answer.locator("a.cite")
    assert markers.count() == len(library_answer["citations"])
    span = library_answer.get("answer_span")
    if span:  # a factoid: the short answer phrase first, in bold, then the cited sentence
        assert answer.inner_text().startswith(span["text"].strip())
        assert answer.locator(".short-answer").text_content() == span["text"].strip()
        strong = ui.page.locator(f"#sources #src-1-{span['n']} mark .answer-span")
        assert strong.text_content() == span["text"]
    assert library_answer["citations"][0]["quote"][:40] in answer.inner_text()
    for i, citation in enumerate(library_answer["citations"], 1):
        card = ui.page.locator(f"#sources #src-1-{i}")
        assert card.get_attribute("data-article") == citation["article_id"]
        assert (int(card.get_attribute("data-start")), int(card.get_attribute("data-end"))) == \
            (citation["start"], citation["end"])
        text = expected["texts"][citation["article_id"]]
        # The highlight is exactly text[start:end], shown inside its whole paragraph.
        assert card.locator("mark").text_content() == text[citation["start"]:citation["end"]] == citation["quote"]
        assert card.locator("blockquote.context").text_content() == paragraph_of(text, citation["start"], citation["end"])
        assert citation["title"] in card.locator(".title").text_content()

    markers.first.click()
    selected = ui.page.locator("#sources .source.selected")
    assert selected.count() == 1 and selected.get_attribute("id") == "src-1-1"
    ui.page.wait_for_function("() => { const r = document.querySelector('#src-1-1').getBoundingClientRect();"
                              " return r.top >= 0 && r.bottom <= window.innerHeight; }")
    ui.screenshot("02-cited-answer-1280")


def test_follow_up_uses_the_conversation_and_markers_select_their_turn(ui_server, ui_library, open_page):
    _, expected = ui_library
    ui = open_page(ui_server.url)
    first = ui.ask(FIRST_QUESTION)
    second = ui.ask(FOLLOW_UP)
    library_follow_up = expected["follow_up"]
    assert library_follow_up["standalone_question"] != FOLLOW_UP, "the library should rewrite this follow-up"
    assert second.locator(".searched q").text_content() == library_follow_up["standalone_question"]
    assert first.locator(".searched").count() == 0
    assert ui.page.locator("#chat .question").all_text_contents() == [FIRST_QUESTION, FOLLOW_UP]

    # The panel shows the newest answer's sources; a marker of the first answer brings its own back.
    assert ui.page.locator("#sources .turn#turn-2").is_visible()
    if expected["first"]["citations"]:
        assert not ui.page.locator("#sources .turn#turn-1").is_visible()
        first.locator("a.cite").first.click()
        assert ui.page.locator("#sources .turn#turn-1").is_visible()
        assert not ui.page.locator("#sources .turn#turn-2").is_visible()
        assert ui.page.locator("#sources .source.selected").get_attribute("id") == "src-1-1"
    ui.screenshot("03-follow-up-1280")

    ui.page.click("#new-conversation")
    ui.page.wait_for_function("() => !document.querySelector('#chat .answer')")
    assert ui.page.locator("#sources .sources-empty").is_visible()
    fresh = ui.ask(FOLLOW_UP)
    assert fresh.locator(".searched q").count() == 0, "a new conversation has no history to rewrite with"


def test_abstention_is_shown_without_citations(ui_server, open_page):
    ui = open_page(ui_server.url)
    answer = ui.ask("What is the boiling point of liquid nitrogen on Neptune's moons?")
    assert answer.locator(".abstain").is_visible()
    assert answer.locator("a.cite").count() == 0
    assert ui.page.locator("#sources .no-sources").is_visible()
    # The chat's own clear (trash) button starts a new conversation too: chat, sources and history.
    ui.page.click("#chat button[aria-label=Clear]")
    ui.page.wait_for_selector("#sources .sources-empty")
    assert ui.page.locator("#chat .answer").count() == 0


def test_bad_date_filter_gives_a_clear_error(ui_server, open_page):
    ui = open_page(ui_server.url)
    ui.open_settings()
    ui.page.fill("#since input, #since textarea", "2025-13-45")
    answer = ui.ask(CITED_QUESTION)
    assert "Since date '2025-13-45' is not a date like 2025-11-21" in answer.inner_text()
    ui.page.fill("#since input, #since textarea", "2099-01-01")
    later = ui.ask(CITED_QUESTION)
    assert later.locator(".abstain").is_visible(), "nothing is published after 2099"


def test_two_sessions_keep_their_own_histories_while_articles_are_added(ui_server, open_page, tmp_path):
    one, two = open_page(ui_server.url), open_page(ui_server.url)
    # Both sessions ask at the same moment; session two then adds an article while one answers.
    one.page.fill("#question textarea", FIRST_QUESTION)
    two.page.fill("#question textarea", CITED_QUESTION)
    one.page.keyboard.press("Enter")
    two.page.keyboard.press("Enter")
    for ui in (one, two):
        ui.page.wait_for_selector("#chat .answer.final", timeout=60_000)
    one.page.fill("#question textarea", FOLLOW_UP)
    one.page.keyboard.press("Enter")
    two.tab("Add articles")
    two.page.fill("#paste-title textarea, #paste-title input", "Concurrency gazette")
    two.page.fill("#paste-text textarea", "The Marlowe Bridge reopened on Tuesday after eleven months of repairs.")
    two.page.click("#add-pasted")
    two.page.wait_for_selector("#add-results .status.added", timeout=60_000)
    one.page.wait_for_function("() => document.querySelectorAll('#chat .answer.final').length == 2", timeout=60_000)
    two.tab("Chat")
    answer = two.ask("When did the Marlowe Bridge reopen?")
    assert "Marlowe Bridge reopened on Tuesday" in answer.inner_text()

    assert one.page.locator("#chat .question").all_text_contents() == [FIRST_QUESTION, FOLLOW_UP]
    assert two.page.locator("#chat .question").all_text_contents() == [CITED_QUESTION, "When did the Marlowe Bridge reopen?"]
    # Tidy up so later tests see the shipped corpus only.
    two.remove_article("Concurrency gazette")


def test_mobile_layout_stacks_chat_and_sources(ui_server, open_page):
    ui = open_page(ui_server.url, width=390, height=844)
    ui.screenshot("07-mobile-empty")
    ui.ask(CITED_QUESTION)
    chat_box = ui.page.locator("#chat").bounding_box()
    sources_box = ui.page.locator("#sources").bounding_box()
    assert sources_box["y"] >= chat_box["y"] + chat_box["height"] - 1, "sources go below the chat on a phone"
    assert chat_box["width"] <= 390 and sources_box["width"] <= 390
    width = ui.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
    ui.screenshot("08-mobile-answer")
    ui.page.locator("#chat a.cite").first.click()
    ui.page.wait_for_timeout(600)  # smooth scroll
    ui.screenshot("09-mobile-source-selected")


def test_no_request_leaves_localhost(ui_server, open_page):
    ui = open_page(ui_server.url)
    ui.ask(CITED_QUESTION)
    for name in ("Add articles", "Library", "Chat"):
        ui.tab(name)
        ui.page.wait_for_timeout(300)
    assert ui.requests, "the recorder saw no requests at all"
    assert not ui.foreign_requests()


def test_answers_stream_in_before_they_are_final(ui_server, open_page):
    ui = open_page(ui_server.url)
    # Record every state the assistant message passes through, in the page itself: from the
    # mutation records, not the DOM when the observer runs, because two renders in one task (a
    # fast answer on a busy machine) leave only the second in the DOM (the CI flake).
    ui.page.evaluate("""() => {
        window.__states = [];
        new MutationObserver((records) => {
            for (const r of records) {
                if (r.type === 'attributes' && r.target.matches('.answer')) window.__states.push(r.target.className);
                for (const n of r.addedNodes) {
                    if (n.nodeType !== 1) continue;
                    for (const el of (n.matches('.answer') ? [n] : n.querySelectorAll('.answer'))) window.__states.push(el.className);
                }
            }
        }).observe(document.querySelector('#chat'),
                   {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['class']});
    }""")
    ui.ask(CITED_QUESTION)
    states = ui.page.evaluate("() => window.__states")
    # The handler's exact order (pending, streaming, final) is checked without a browser in
    # test_ui_render.py; here, that the page shows the answer before it is final. A browser
    # starved of CPU may draw several of the server's updates at once, so not every state.
    final = next(i for i, s in enumerate(states) if "final" in s)
    assert any("pending" in s or "streaming" in s for s in states[:final]), states
