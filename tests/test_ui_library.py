"""Browser tests of adding articles (upload, paste), the library table and removal."""

from __future__ import annotations

import pytest

from tests.support.ui_server import UPLOAD_LIMIT_MB

pytestmark = pytest.mark.browser

FESTIVAL_TITLE = "Lakeview lantern festival draws record crowd"
FESTIVAL_TEXT = (
    f"{FESTIVAL_TITLE}\n"
    "The Lakeview Lantern Festival drew 48,000 visitors on Saturday, organisers said.\n"
    "The festival's chair, Odalys Brennan, said the lanterns were made by 300 volunteers over six weeks.\n"
)
FERRY_MD = (
    "---\ntitle: Harbor ferry adds night service\nsource: Bayside Courier\npublished: 2025-10-02\n---\n"
    "The Bayside ferry will run hourly night crossings between Pier 4 and Gull Island starting in October.\n"
)
FESTIVAL_QUESTION = "How many visitors did the Lakeview Lantern Festival draw?"


def result_rows(ui) -> dict[str, tuple[str, str]]:
    """Input name -> (status, details) from the per-file results table."""
    rows = {}
    for row in ui.page.locator("#add-results tbody tr").all():
        cells = row.locator("td").all_text_contents()
        rows[cells[0]] = (cells[1], cells[3])
    return rows


def upload(ui, paths) -> dict[str, tuple[str, str]]:
    ui.tab("Add articles")
    ui.page.set_input_files("#upload input[type=file]", [str(p) for p in paths])
    ui.page.wait_for_function("names => { const t = document.querySelector('#upload').innerText;"
                              " return names.every(n => t.includes(n)); }", arg=[p.stem for p in paths])
    previous = ui.page.locator("#add-results").inner_html()
    ui.page.click("#add-files")
    ui.page.wait_for_function("prev => { const el = document.querySelector('#add-results');"
                              " return el.querySelector('table') && el.innerHTML !== prev; }",
                              arg=previous, timeout=120_000)
    return result_rows(ui)


def test_upload_ask_then_remove_changes_the_answer(ui_server, open_page, tmp_path):
    festival = tmp_path / "lakeview-festival.txt"
    festival.write_text(FESTIVAL_TEXT, encoding="utf-8")
    ferry = tmp_path / "harbor-ferry.md"
    ferry.write_text(FERRY_MD, encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")

    ui = open_page(ui_server.url)
    rows = upload(ui, [festival, ferry, broken])
    assert rows["lakeview-festival.txt"][0] == "added"
    assert rows["harbor-ferry.md"][0] == "added"
    assert rows["broken.json"][0] == "failed"
    assert rows["broken.json"][1].startswith("invalid JSON at line 1 column 2")
    ui.screenshot("04-add-results")

    ui.tab("Chat")
    answer = ui.ask(FESTIVAL_QUESTION)
    assert "48,000 visitors" in answer.inner_text()
    card = ui.page.locator("#sources .turn.current .source").first
    assert card.locator(".title").text_content() == FESTIVAL_TITLE
    assert "48,000 visitors" in card.locator("mark").text_content()

    # Library: filter, read the article, remove it with confirmation.
    ui.tab("Library")
    ui.page.fill("#library-filter textarea, #library-filter input", "lakeview")
    ui.page.wait_for_function("() => document.querySelector('#library-message').innerText.startsWith('1 of')")
    ui.page.locator("#library-table span.text").filter(has_text=FESTIVAL_TITLE).first.click()
    view = ui.page.locator("#article-view .article-view")
    view.wait_for()
    assert "made by 300 volunteers over six weeks" in view.inner_text()
    ui.page.click("#remove")
    ui.page.locator("#confirm-row").wait_for()
    assert FESTIVAL_TITLE in ui.page.locator("#confirm-row").inner_text()
    ui.screenshot("05-library-remove-confirm")
    ui.page.click("#confirm-remove")
    ui.page.wait_for_function("() => document.querySelector('#library-message').innerText.startsWith('No titles match')")
    assert not ui.page.locator("#article-view .article-view").count()

    ui.tab("Chat")
    after = ui.ask(FESTIVAL_QUESTION)
    assert "48,000 visitors" not in after.inner_text()
    cited_titles = ui.page.locator("#sources .turn.current .source .title").all_text_contents()
    assert FESTIVAL_TITLE not in cited_titles

    # Same file again: unchanged. Then tidy up.
    rows = upload(ui, [ferry])
    assert rows["harbor-ferry.md"][0] == "unchanged"
    ui.remove_article("Harbor ferry adds night service")


def test_paste_form_reports_bad_input_and_keeps_the_text(ui_server, open_page):
    ui = open_page(ui_server.url)
    ui.tab("Add articles")
    ui.page.fill("#paste-title textarea, #paste-title input", "Tidewater mill closes")
    ui.page.fill("#paste-date textarea, #paste-date input", "last tuesday-ish")
    ui.page.fill("#paste-text textarea", "The Tidewater paper mill closed after 112 years of operation.")
    ui.page.click("#add-pasted")
    ui.page.wait_for_selector("#add-results .status.failed")
    assert "not a date" in ui.page.locator("#add-results tbody td").nth(3).inner_text()
    assert ui.page.locator("#paste-text textarea").input_value().startswith("The Tidewater paper mill")

    ui.page.fill("#paste-date textarea, #paste-date input", "2025-09-30")
    ui.page.click("#add-pasted")
    ui.page.wait_for_selector("#add-results .status.added")
    assert ui.page.locator("#paste-text textarea").input_value() == ""
    assert "articles" in ui.page.locator("#status").inner_text()
    ui.remove_article("Tidewater mill closes")


def test_upload_over_the_size_limit_is_refused_with_a_clear_message(ui_server, open_page, tmp_path):
    big = tmp_path / "huge-article.txt"
    sentence = "All work and no play makes for a very long article indeed. "
    big.write_text("Huge article\n" + sentence * int(UPLOAD_LIMIT_MB * 1.3 * 2**20 / len(sentence)), encoding="utf-8")
    ui = open_page(ui_server.url)
    ui.tab("Add articles")
    ui.page.set_input_files("#upload input[type=file]", [str(big)])
    toast = ui.page.get_by_text("exceed the maximum allowed size")
    toast.wait_for()
    assert "huge-article.txt" in toast.inner_text()
    ui.page.click("#add-files")
    ui.page.wait_for_selector("#add-results .add-empty")
    assert "Huge article" not in ui.page.locator("#status").inner_text()


def test_library_lists_the_corpus_and_filters_by_title(ui_server, ui_library, open_page):
    _, expected = ui_library
    ui = open_page(ui_server.url)
    ui.tab("Library")
    total = len(expected["texts"])
    # Wait for the listing's own text: anything else in the element (a progress line) is not it.
    ui.page.wait_for_function("want => document.querySelector('#library-message').innerText.startsWith(want)",
                              arg=f"{total} of {total} articles")
    ui.page.locator("#library-table span.text").first.wait_for()
    ui.screenshot("06-library-1280")
    ui.page.fill("#library-filter textarea, #library-filter input", "zzzz-no-such-title")
    ui.page.wait_for_function("() => document.querySelector('#library-message').innerText.startsWith('No titles match')")
    assert not ui.page.locator("#library-table").is_visible()
