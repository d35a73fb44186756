"""Browser test of the Stories tab: the list, a story's timeline, a citation opening its article's
paragraph with the cited span marked."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_stories_tab_lists_stories_and_opens_a_timeline_with_cited_spans(ui_server, ui_library, open_page):
    _, expected = ui_library
    ui = open_page(ui_server.url)
    ui.tab("Stories")
    ui.page.wait_for_function("() => / stories$/.test(document.querySelector('#stories-message').innerText.trim())",
                              timeout=60_000)
    ui.page.locator("#stories-table span.text").filter(has_text="Ukraine").first.click()
    ui.page.wait_for_selector("#story-view .timeline li.entry", timeout=60_000)
    ui.screenshot("10-stories-timeline")
    citation = ui.page.locator("#story-view details.story-citation").first
    citation.locator("summary").click()
    mark = citation.locator("mark")
    mark.wait_for()
    article_id = citation.get_attribute("data-article")
    start, end = int(citation.get_attribute("data-start")), int(citation.get_attribute("data-end"))
    quote = expected["texts"][article_id][start:end]
    assert " ".join(mark.inner_text().split()) == " ".join(quote.split())
    entry_text = ui.page.locator("#story-view li.entry .entry-text").first.inner_text()
    assert " ".join(quote.split()) in " ".join(entry_text.split())
