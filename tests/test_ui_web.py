"""Browser test of adding news from the web in the UI: Add by URL, following a feed, the
background refresh of due feeds while `rag ui` runs, a watched folder (`rag ui --watch`), and
each article's feed in the Library."""

from __future__ import annotations

import sqlite3

import pytest

from tests.support.ui_server import start_server, stop_server
from tests.support.news_site import STORIES, atom, rss, wait_until
from test_cli import run

pytestmark = pytest.mark.browser

WEB_ENV = {"RAG_FETCH_ALLOW_PRIVATE": "1", "RAG_FETCH_DELAY": "0", "RAG_FETCH_TIMEOUT": "5", "RAG_FEED_CHECK_S": "1"}
DAY = "Sun, 14 Sep 2025 08:00:00 GMT"


def test_add_by_url_follow_feeds_and_background_refresh(tmp_path, news_site, open_page):
    site = news_site
    data = tmp_path / "data"
    site.set("/rss.xml", rss([("footbridge", "1", DAY)], site.base), content_type="application/rss+xml", etag='"1"')
    site.set("/atom.xml", atom([("observatory", "2025-12-01T09:00:00Z")], site.base), content_type="application/atom+xml")
    # A feed due every 2 seconds, followed before the app starts.
    run("feeds", "add", site.url("/rss.xml"), "--every", "2s", data_dir=data, env=WEB_ENV)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "harbour.txt").write_text("Harbour reopens\n\nThe harbour reopened on Sunday after storm repairs.\n")
    server = start_server(data, tmp_path / "server.log", ["--watch", str(inbox)], env=WEB_ENV)
    try:
        ui = open_page(server.url)
        ui.tab("Add articles")
        feeds = ui.page.locator("#feeds-list")
        feeds.get_by_text("Valley Courier headlines").wait_for()

        ui.page.fill("#add-url textarea", f"{site.url('/news/ferry')}\n{site.url('/missing')}")
        ui.page.click("#add-url-button")
        ui.page.wait_for_selector("#add-results .status.failed")
        rows = {r.locator("td").nth(0).inner_text(): (r.locator("td").nth(1).inner_text(), r.locator("td").nth(3).inner_text())
                for r in ui.page.locator("#add-results tbody tr").all()}
        assert rows == {site.url("/news/ferry"): ("added", ""), site.url("/missing"): ("failed", "HTTP 404 Not Found")}

        ui.page.fill("#feed-url textarea, #feed-url input", site.url("/atom.xml"))
        ui.page.click("#follow-feed")
        feeds.get_by_text("Valley Courier (Atom)").wait_for(timeout=60_000)
        assert ui.page.locator("#add-results tbody tr").first.locator("td").nth(0).inner_text() == site.url("/news/observatory")

        # The scheduler in the server refreshes the due feed by itself: two new entries appear.
        site.set("/rss.xml", rss([("footbridge", "1", DAY), ("orchard", "1", DAY), ("library", "1", DAY)], site.base),
                 content_type="application/rss+xml", etag='"2"')
        wait_until(lambda: site.count("/news/library") == 1, "the background refresh to fetch the new entries")
        # The list re-reads the feeds every few seconds: the due feed now has 3 entries.
        ui.page.wait_for_function(
            "url => [...document.querySelectorAll('#feeds-list tbody tr')].some("
            "r => r.innerText.includes(url) && r.cells[2].innerText.trim() === '3')", arg=site.url("/rss.xml"),
            timeout=60_000)
        ui.screenshot("09-feeds")
        assert site.count("/news/orchard") == 1 and site.count("/news/footbridge") == 1

        # Following a feed refreshed it once; the scheduler does not refresh it again before it is due.
        with sqlite3.connect(data / "registry.sqlite3") as db:
            [(last_result,)] = db.execute("SELECT last_result FROM feeds WHERE url=?", (site.url("/atom.xml"),)).fetchall()
        assert last_result == "1 added, 0 updated, 0 unchanged, 0 failed"
        assert site.count("/atom.xml") == 1

        # The folder given to `rag ui --watch` is followed: a new file there shows up as added.
        watched = ui.page.locator("#watched-folder")
        watched.get_by_text("harbour.txt").wait_for(timeout=60_000)
        (inbox / "market.md").write_text("# Market moves indoors\n\nThe Saturday market moves into the old depot.\n")
        watched.get_by_text("market.md").wait_for(timeout=60_000)
        assert "added" in watched.locator("tr").filter(has_text="market.md").inner_text()

        ui.tab("Library")
        ui.page.fill("#library-filter textarea, #library-filter input", "apple harvest")
        ui.page.wait_for_function("() => document.querySelector('#library-message').innerText.startsWith('1 of 7')")
        # The message can be drawn before the table's cells are: wait for the row, not the count.
        ui.page.locator("#library-table span.text").filter(has_text=STORIES["orchard"][0]).first.wait_for()
        cells = ui.page.locator("#library-table span.text").all_text_contents()
        assert STORIES["orchard"][0] in cells and "Valley Courier headlines" in cells
    finally:
        stop_server(server)
