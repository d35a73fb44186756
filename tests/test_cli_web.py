"""`rag add URL`, `rag add --sitemap`, `rag feeds ...` as a user runs them, against the local news site."""

from __future__ import annotations

import json

from tests.support.news_site import STORIES, rss, write_pdf
from test_cli import run

WEB_ENV = {"RAG_FETCH_ALLOW_PRIVATE": "1", "RAG_FETCH_DELAY": "0", "RAG_FETCH_TIMEOUT": "5"}


def test_add_urls_feeds_and_sitemaps_from_the_command_line(tmp_path, news_site):
    site = news_site
    data = tmp_path / "data"
    site.set("/rss.xml", rss([("footbridge", "1", "Sun, 14 Sep 2025 08:00:00 GMT")], site.base),
             content_type="application/rss+xml", etag='"a"')
    site.set("/sitemap.xml", '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f"<url><loc>{site.base}/news/library</loc><lastmod>2025-11-03</lastmod></url>"
             f"<url><loc>{site.base}/news/orchard</loc><lastmod>2025-10-02</lastmod></url></urlset>",
             content_type="application/xml")
    site.set("/water.pdf", write_pdf(tmp_path / "water.pdf").read_bytes(), content_type="application/pdf")

    added = run("add", site.url("/news/ferry"), site.url("/missing"), "--sitemap", site.url("/sitemap.xml"),
                "--since", "2025-11-01", data_dir=data, env=WEB_ENV, check=False)
    assert added.returncode == 1  # one input failed
    lines = added.stdout.splitlines()
    assert lines[0].startswith(f"added     {site.url('/news/ferry')} -> ")
    assert lines[1] == f"failed    {site.url('/missing')} (HTTP 404 Not Found)"
    assert lines[2].startswith(f"added     {site.url('/news/library')} -> ")
    assert lines[-1] == "2 added, 0 updated, 0 unchanged, 1 failed"

    refused = run("add", site.url("/news/orchard"), data_dir=data, env={"RAG_FETCH_DELAY": "0"}, check=False)
    assert refused.returncode == 1 and "refused: 127.0.0.1 resolves to 127.0.0.1" in refused.stdout

    followed = run("feeds", "add", site.url("/rss.xml"), "--every", "2h", data_dir=data, env=WEB_ENV)
    assert followed.stdout.splitlines()[0] == f"{site.url('/rss.xml')}: 1 added, 0 updated, 0 unchanged, 0 failed"
    refreshed = run("feeds", "refresh", "--all", "--json", data_dir=data, env=WEB_ENV)
    assert [(r["url"], r["status"]) for r in json.loads(refreshed.stdout)] == [(site.url("/rss.xml"), "not modified")]
    [feed] = json.loads(run("feeds", "list", "--json", data_dir=data, env=WEB_ENV).stdout)
    assert (feed["url"], feed["every_s"], feed["entries"], feed["last_result"]) == (site.url("/rss.xml"), 7200, 1, "not modified")
    assert run("feeds", "refresh", data_dir=data, env=WEB_ENV).stdout.startswith("No feed is due")
    removed = run("feeds", "remove", site.url("/rss.xml"), data_dir=data, env=WEB_ENV)
    assert removed.stdout.startswith(f"stopped following {site.url('/rss.xml')}")
    assert "No feeds yet" in run("feeds", "list", data_dir=data, env=WEB_ENV).stdout

    run("add", site.url("/water.pdf"), data_dir=data, env=WEB_ENV)
    answer = json.loads(run("ask", "--json", "How much will the board spend replacing old pipes in Edgeley?",
                            data_dir=data, env=WEB_ENV).stdout)
    pdf_citations = [c for c in answer["citations"] if "12 million euros" in c["quote"]]
    assert pdf_citations and pdf_citations[0]["page"] == 2
    listed = {a["title"] for a in json.loads(run("list", "--json", data_dir=data).stdout)}
    assert listed == {STORIES["ferry"][0], STORIES["library"][0], STORIES["footbridge"][0], "Regional water board report"}
