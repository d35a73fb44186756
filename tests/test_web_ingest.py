"""Adding news from the web against a real local HTTP server: pages, feeds, sitemaps, safety."""

from __future__ import annotations

import time
from datetime import date

import pytest

from tests.support.library import library_at
from tests.support.news_site import STORIES, atom, http_date, news_page, rss, web_settings
from rag.errors import InputError
from rag.verify.citations import is_verbatim

DAY1 = "Sun, 14 Sep 2025 08:00:00 GMT"
DAY2 = "Thu, 02 Oct 2025 08:00:00 GMT"
DAY3 = "Mon, 03 Nov 2025 08:00:00 GMT"


@pytest.fixture
def web_library(tmp_path):
    return library_at(tmp_path / "data", **web_settings())


def statuses(results) -> list[str]:
    return [r.status for r in results]


def test_a_url_becomes_an_article_with_metadata_and_verbatim_citations(web_library, news_site):
    url = news_site.url("/news/ferry")
    [result] = web_library.add([url + "?utm_source=newsletter#top"])
    assert result.status == "added", result
    article = web_library.article(result.article_id)
    assert article.title == STORIES["ferry"][0]
    assert article.source == "The Valley Courier"
    assert article.published == date(2025, 11, 20)
    assert article.url == url  # the page's canonical URL, tracking parameters gone
    assert article.text.startswith("The night ferry between Kestrel Point")
    for junk in ("Home", "Subscribe", "window.tracker", "Copyright"):
        assert junk not in article.text
    origin = web_library.origin(article.id)
    assert origin.author == "Ada Quist" and origin.fetched_at and origin.kind == "web"

    answer = web_library.ask("What is the name of the new hybrid ferry vessel?")
    assert not answer.abstained and answer.citations
    for citation in answer.citations:
        assert is_verbatim(citation, web_library.article(citation.article_id))
    assert any("Marsh Wren" in c.quote for c in answer.citations)

    # Same page again: unchanged (by canonical URL and hash); a changed page: updated, same id.
    assert statuses(web_library.add([url])) == ["unchanged"]
    news_site.set("/news/ferry", news_page("ferry", news_site.base, extra="Tickets cost 6 euros for adults."))
    [again] = web_library.add([url])
    assert (again.status, again.article_id) == ("updated", article.id)
    assert "Tickets cost 6 euros" in web_library.article(article.id).text
    assert len(web_library.articles()) == 1


def test_bad_urls_each_get_one_reason_and_the_good_ones_still_go_in(web_library, news_site):
    site = news_site
    site.set("/error", "<html><body>boom</body></html>", status=500)
    site.set("/slow", news_page("orchard", site.base), delay_s=8)  # read timeout is 5 s
    site.set("/drip", news_page("orchard", site.base), drip_s=0.5)  # each piece in time, the whole page never
    site.set("/image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    site.set("/huge", b"<html><body><p>" + b"word " * 2_200_000 + b"</p></body></html>")  # 11 MB, cap 5 MB
    site.set("/huge-unsized", b"<html><body><p>" + b"word " * 2_200_000 + b"</p></body></html>", send_length=False)
    site.set("/loop", "", status=302, headers={"Location": "/loop"})
    site.set("/empty", "<html><head><title>Menu</title></head><body><nav>Home News Sport</nav></body></html>")
    for hop in range(1, 4):
        site.set(f"/moved/{hop}", "", status=301, headers={"Location": f"/moved/{hop + 1}" if hop < 3 else "/news/orchard"})
    site.set("/private/memo", news_page("library", site.base))
    urls = {name: site.url(path) for name, path in {
        "good": "/news/footbridge", "404": "/missing", "500": "/error", "slow": "/slow", "drip": "/drip", "png": "/image.png",
        "huge": "/huge", "huge-unsized": "/huge-unsized", "loop": "/loop", "empty": "/empty",
        "redirected": "/moved/1", "robots": "/private/memo", "ftp": "/x"}.items()}
    urls["ftp"] = "ftp://127.0.0.1/file.html"
    results = dict(zip(urls, web_library.add(list(urls.values()))))
    reasons = {name: r.reason for name, r in results.items() if r.status == "failed"}
    assert results["good"].status == "added" and results["redirected"].status == "added"
    assert web_library.article(results["redirected"].article_id).title == STORIES["orchard"][0]
    assert reasons == {
        "404": "HTTP 404 Not Found",
        "500": "HTTP 500 Internal Server Error",
        "slow": "no response within 5 s (RAG_FETCH_TIMEOUT)",
        "drip": "page took over 5 s to download (RAG_FETCH_TIMEOUT)",
        "png": "content type is image/png, expected text/html or application/xhtml+xml or application/pdf",
        "huge": "page is 11.0 MB, over the 5 MB limit (RAG_MAX_FILE_MB)",
        "huge-unsized": "page is over the 5 MB limit (RAG_MAX_FILE_MB)",
        "loop": "more than 5 redirects",
        "empty": "no article text found in HTML",
        "robots": "robots.txt disallows fetching it (set RAG_FETCH_ROBOTS=0 to ignore robots.txt)",
        "ftp": "only http and https URLs can be fetched, not ftp:",
    }
    assert site.count("/private/memo") == 0  # refused before any request
    assert site.count("/loop") == 6  # the first request and 5 redirects, then it stops
    assert len(web_library.articles()) == 2
    # Nothing stored is touched by failures: the stored articles are exactly the two good ones.
    assert {a.title for a in web_library.articles()} == {STORIES["footbridge"][0], STORIES["orchard"][0]}


def test_private_addresses_are_refused_unless_allowed(tmp_path, news_site):
    strict = library_at(tmp_path / "strict", **web_settings(fetch_allow_private=False))
    before = news_site.count()
    port = news_site.base.rsplit(":", 1)[1]
    results = strict.add([news_site.url("/news/orchard"), f"http://localhost:{port}/news/orchard",
                          "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/x", "http://10.1.2.3/"])
    assert statuses(results) == ["failed"] * 5
    assert results[0].reason == ("refused: 127.0.0.1 resolves to 127.0.0.1, a private, loopback or link-local "
                                 "address (set RAG_FETCH_ALLOW_PRIVATE=1 to fetch from such hosts)")
    assert "localhost resolves to" in results[1].reason
    assert "169.254.169.254" in results[2].reason and "::1" in results[3].reason and "10.1.2.3" in results[4].reason
    assert news_site.count() == before  # not one request reached the server
    assert strict.articles() == []


def test_rss_feed_refreshes_with_conditional_get_and_only_fetches_what_changed(web_library, news_site):
    site = news_site
    last_modified = http_date(time.time() - 3600)
    site.set("/rss.xml", rss([("footbridge", "1", DAY1), ("orchard", "1", DAY2)], site.base),
             content_type="application/rss+xml; charset=utf-8", etag='"v1"', last_modified=last_modified)
    first = web_library.feeds.add(site.url("/rss.xml"), "30m")
    assert first.status == "ok" and statuses(first.results) == ["added", "added"]
    assert len(web_library.articles()) == 2
    feed_of = web_library.feed_of_articles()
    assert set(feed_of.values()) == {site.url("/rss.xml")} and len(feed_of) == 2

    # Nothing changed: one conditional GET answered 304, and no other request at all.
    before = site.count()
    [second] = web_library.feeds.refresh(all_feeds=True)
    assert second.status == "not modified" and second.results == []
    assert site.count() == before + 1
    assert site.requests[-1][1].get("If-None-Match") == '"v1"'
    assert len(web_library.articles()) == 2

    # A new entry, and a changed entry whose page changed: only those two pages are fetched.
    site.set("/news/orchard", news_page("orchard", site.base, extra="The cooperative will publish final figures in January."))
    site.set("/rss.xml", rss([("footbridge", "1", DAY1), ("orchard", "2", DAY2), ("library", "1", DAY3)], site.base),
             content_type="application/rss+xml", etag='"v2"', last_modified=http_date(time.time()))
    counts = {slug: site.count(f"/news/{slug}") for slug in ("footbridge", "orchard", "library")}
    [third] = web_library.feeds.refresh([site.url("/rss.xml")])
    assert sorted(statuses(third.results)) == ["added", "updated"]
    assert {slug: site.count(f"/news/{slug}") - n for slug, n in counts.items()} == {"footbridge": 0, "orchard": 1, "library": 1}
    assert len(web_library.articles()) == 3
    [info] = web_library.feeds.list()
    assert (info.entries, info.last_result, info.last_ok, info.title) == (3, "1 added, 1 updated, 0 unchanged, 0 failed",
                                                                            True, "Valley Courier headlines")
    # Not due again for 30 minutes: a plain refresh does nothing.
    assert web_library.feeds.refresh() == []


def test_atom_feed_uses_last_modified_and_rdf_is_read(web_library, news_site):
    site = news_site
    stamp = http_date(time.time() - 7200)
    site.set("/atom.xml", atom([("observatory", "2025-12-01T09:00:00Z")], site.base),
             content_type="application/atom+xml", last_modified=stamp)
    assert statuses(web_library.feeds.add(site.url("/atom.xml")).results) == ["added"]
    before = site.count()
    [again] = web_library.feeds.refresh(all_feeds=True)
    assert again.status == "not modified" and site.count() == before + 1
    assert site.requests[-1][1].get("If-Modified-Since") == stamp
    site.set("/atom.xml", atom([("observatory", "2025-12-01T09:00:00Z"), ("ferry", "2025-12-02T09:00:00Z")], site.base),
             content_type="application/atom+xml", last_modified=http_date(time.time()))
    [third] = web_library.feeds.refresh(all_feeds=True)
    assert statuses(third.results) == ["added"]

    rdf = ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>RDF news</title><link>x</link>'
           '<description>d</description></channel>'
           f'<item rdf:about="{site.base}/news/library"><title>Library</title><link>{site.base}/news/library</link></item>'
           '</rdf:RDF>')
    site.set("/rdf.xml", rdf, content_type="application/rdf+xml")
    assert statuses(web_library.feeds.add(site.url("/rdf.xml")).results) == ["added"]
    assert len(web_library.articles()) == 3


def test_malformed_or_missing_feeds_are_not_followed_and_change_nothing(web_library, news_site):
    site = news_site
    site.set("/broken.xml", "<rss><channel><title>Broken<item><link>", content_type="application/rss+xml")
    with pytest.raises(InputError, match=r"/broken.xml: malformed feed"):
        web_library.feeds.add(site.url("/broken.xml"))
    with pytest.raises(InputError, match=r"/gone.xml: HTTP 404 Not Found"):
        web_library.feeds.add(site.url("/gone.xml"))
    assert web_library.feeds.list() == [] and web_library.articles() == []
    # A followed feed that breaks later keeps its articles and reports the failure.
    site.set("/rss.xml", rss([("footbridge", "1", DAY1)], site.base), content_type="application/rss+xml")
    web_library.feeds.add(site.url("/rss.xml"))
    site.set("/rss.xml", "not a feed at all", content_type="application/rss+xml")
    [refresh] = web_library.feeds.refresh(all_feeds=True)
    assert refresh.status == "failed" and refresh.reason.startswith("malformed feed")
    [info] = web_library.feeds.list()
    assert info.last_ok is False and info.last_result.startswith("failed: malformed feed")
    assert len(web_library.articles()) == 1
    removed = web_library.feeds.remove(site.url("/rss.xml"))
    assert removed.url == site.url("/rss.xml") and web_library.feeds.list() == []
    assert len(web_library.articles()) == 1  # articles stay


def test_sitemap_index_with_news_dates_and_since(web_library, news_site):
    site = news_site
    site.set("/sitemap_index.xml",
             '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f"<sitemap><loc>{site.base}/sitemap-news.xml</loc><lastmod>2025-11-30</lastmod></sitemap>"
             f"<sitemap><loc>{site.base}/sitemap-2024.xml</loc><lastmod>2024-12-31</lastmod></sitemap>"
             f"<sitemap><loc>{site.base}/sitemap-missing.xml</loc></sitemap>"
             "</sitemapindex>", content_type="application/xml")
    site.set("/sitemap-news.xml",
             '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
             'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
             + "".join(f"<url><loc>{site.base}/news/{slug}</loc><news:news><news:publication>"
                       f"<news:name>The Valley Courier</news:name><news:language>en</news:language></news:publication>"
                       f"<news:publication_date>{STORIES[slug][1]}T08:00:00+00:00</news:publication_date>"
                       f"<news:title>{STORIES[slug][0]}</news:title></news:news></url>"
                       for slug in ("library", "ferry", "observatory"))
             + "</urlset>", content_type="application/xml")
    site.set("/sitemap-2024.xml",
             '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f"<url><loc>{site.base}/news/footbridge</loc><lastmod>2024-06-01</lastmod></url></urlset>",
             content_type="application/xml")
    results = web_library.add_sitemap(site.url("/sitemap_index.xml"), since=date(2025, 11, 15))
    by_status = {r.path: r.status for r in results}
    assert by_status == {site.url("/sitemap-missing.xml"): "failed", site.url("/news/ferry"): "added",
                         site.url("/news/observatory"): "added"}
    assert site.count("/sitemap-2024.xml") == 0 and site.count("/news/library") == 0
    everything = web_library.add_sitemap(site.url("/sitemap_index.xml"))
    assert sorted(r.status for r in everything) == ["added", "added", "failed", "unchanged", "unchanged"]
    assert len(web_library.articles()) == 4


def test_gzip_sitemaps_are_read_and_xml_bombs_refused(web_library, news_site):
    import gzip

    site = news_site
    xml = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           f"<url><loc>{site.base}/news/orchard</loc></url></urlset>")
    site.set("/sitemap.xml.gz", gzip.compress(xml.encode()), content_type="application/x-gzip")
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol2;</loc></url></urlset>')
    site.set("/bomb.xml", bomb, content_type="application/xml")
    assert statuses(web_library.add_sitemap(site.url("/sitemap.xml.gz"))) == ["added"]
    [refused] = web_library.add_sitemap(site.url("/bomb.xml"))
    assert refused.status == "failed" and refused.reason.startswith("malformed sitemap XML")


def test_an_older_data_directory_gains_the_web_tables_and_keeps_its_articles(tmp_path, news_site):
    import sqlite3

    data = tmp_path / "data"
    old = library_at(data, **web_settings())
    [added] = old.add([news_site.url("/news/library")])
    with sqlite3.connect(data / "registry.sqlite3") as db:  # the schema before this feature
        for table in ("origins", "feeds", "feed_entries"):
            db.execute(f"DROP TABLE {table}")
    reopened = library_at(data, **web_settings())
    assert [a.id for a in reopened.articles()] == [added.article_id]
    assert reopened.origin(added.article_id) is None  # nothing invented for old articles
    news_site.set("/rss.xml", rss([("library", "1", DAY3), ("ferry", "1", DAY3)], news_site.base),
                  content_type="application/rss+xml")
    refresh = reopened.feeds.add(news_site.url("/rss.xml"))
    assert sorted(statuses(refresh.results)) == ["added", "unchanged"]
