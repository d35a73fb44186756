"""A local news website for the web-ingestion tests and benches: a real ThreadingHTTPServer on 127.0.0.1.

It serves news pages written for these tests (no copyrighted text), feeds whose content the
test changes between refreshes (with ETag / Last-Modified and 304 answers), redirects, a slow
page, an oversized page, errors, a malformed feed and a sitemap index, and counts every request.
Also the settings web tests use, a PDF writer and `wait_until`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest


# Original short news stories: (slug, headline, published, author, paragraphs).
STORIES = {
    "footbridge": ("Riverside council approves new footbridge over the Alder", "2025-09-14", "Mara Ellison", [
        "The Riverside town council voted 7 to 2 on Tuesday to build a pedestrian footbridge over the Alder River.",
        "The bridge will cost 4.2 million euros and link the old market square with the new rail station.",
        "Council member Tobias Renn said construction would begin in March and take about fourteen months.",
        "Residents at the meeting asked for the bridge to be lit at night and to allow bicycles.",
    ]),
    "orchard": ("Apple harvest in the Vellan valley is the largest in a decade", "2025-10-02", "Ines Farrow", [
        "Growers in the Vellan valley picked 38,000 tonnes of apples this autumn, the largest harvest in ten years.",
        "The valley's growers' cooperative credited a mild spring without late frosts for the record crop.",
        "Cooperative chair Lotte Brandt said prices had fallen by about a fifth because of the surplus.",
        "Several farms have opened their orchards to the public so that fewer apples go to waste.",
    ]),
    "library": ("Harbour town library reopens after two-year renovation", "2025-11-03", "Samir Okafor", [
        "The public library in Port Wendel reopened on Saturday after a renovation that lasted two years.",
        "The building now has a rooftop reading garden and a workshop with three 3D printers.",
        "Head librarian Greta Holm said 1,200 people visited on the opening day.",
        "The renovation was paid for by the regional government and a local shipping foundation.",
    ]),
    "ferry": ("Night ferry between Kestrel Point and Lund Island to run all winter", "2025-11-20", "Ada Quist", [
        "The night ferry between Kestrel Point and Lund Island will keep running through the winter for the first time.",
        "The operator said a new hybrid vessel, the Marsh Wren, makes the crossing cheaper to run in rough weather.",
        "Crossings will leave Kestrel Point every two hours between 10 p.m. and 4 a.m.",
        "Island shop owners said the service would help night-shift workers reach the mainland hospital.",
    ]),
    "observatory": ("Hill observatory names newly found comet after local school", "2025-12-01", "Jonas Pereira", [
        "Astronomers at the Brannock Hill observatory have named a newly found comet after a nearby primary school.",
        "The comet, first seen on November 18, will pass closest to the Sun in the spring of 2027.",
        "Pupils of the Hazelmere school had helped check telescope images during a science week.",
        "Observatory director Ruth Calder said the comet would be visible with binoculars in early 2027.",
    ]),
}


def news_page(slug: str, base: str, *, extra: str = "", canonical: bool = True) -> str:
    title, published, author, paragraphs = STORIES[slug]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    if extra:
        body += f"\n<p>{extra}</p>"
    link = f'<link rel="canonical" href="{base}/news/{slug}">' if canonical else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | The Valley Courier</title>
{link}
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="The Valley Courier">
<meta name="author" content="{author}">
<meta property="article:published_time" content="{published}T08:00:00Z">
<script>window.tracker = "this script must never run";</script>
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<main><article>
<h1>{title}</h1>
<p class="byline">By {author}, {published}</p>
{body}
</article></main>
<footer>Copyright The Valley Courier. Privacy. Subscribe.</footer>
</body></html>"""


def rss(items: list[tuple[str, str, str]], base: str, title: str = "Valley Courier headlines") -> str:
    """RSS 2.0 with (slug, revision, pubDate) items; a new revision changes the entry's description."""
    entries = "".join(
        f"<item><title>{STORIES[slug][0]}</title><link>{base}/news/{slug}</link>"
        f"<guid isPermaLink=\"false\">{slug}</guid><pubDate>{day}</pubDate>"
        f"<description>{STORIES[slug][3][0]} (revision {version})</description></item>"
        for slug, version, day in items
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>{base}/</link><description>Local news</description>{entries}</channel></rss>")


def atom(items: list[tuple[str, str]], base: str) -> str:
    """Atom 1.0 with (slug, updated) entries."""
    entries = "".join(
        f"<entry><title>{STORIES[slug][0]}</title><link href=\"{base}/news/{slug}\"/>"
        f"<id>urn:valley:{slug}</id><updated>{updated}</updated><summary>{STORIES[slug][3][0]}</summary></entry>"
        for slug, updated in items
    )
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Valley Courier (Atom)</title><id>urn:valley</id><updated>2025-12-01T00:00:00Z</updated>{entries}</feed>")


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay_s: float = 0.0
    send_length: bool = True
    drip_s: float = 0.0  # pause between 64-byte pieces of the body (a page that never finishes)


class NewsSite:
    """The site's routes (changeable while it runs) and the log of requests it received."""

    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.base = ""

    def set(self, path: str, body: str | bytes = b"", **kwargs) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self.lock:
            self.routes[path] = Route(data, **kwargs)

    def count(self, path: str | None = None) -> int:
        with self.lock:
            return sum(1 for p, _ in self.requests if path is None or p == path)

    def url(self, path: str) -> str:
        return self.base + path


def handler(site: NewsSite):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            path = urlsplit(self.path).path  # query strings do not select a different page here
            with site.lock:
                site.requests.append((path, dict(self.headers)))
                route = site.routes.get(path)
            if route is None:
                return self._send(404, b"<html><body>Not found</body></html>", "text/html")
            if route.delay_s:
                time.sleep(route.delay_s)
            if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    not route.etag and route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified):
                return self._send(304, b"", None, route)
            self._send(route.status, route.body, route.content_type, route)

        def _send(self, status, body, content_type, route: Route | None = None):
            try:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if route is not None:
                    for key, value in route.headers.items():
                        self.send_header(key, value)
                    if route.etag:
                        self.send_header("ETag", route.etag)
                    if route.last_modified:
                        self.send_header("Last-Modified", route.last_modified)
                if route is None or route.send_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status == 304:
                    return
                if route is not None and route.drip_s:
                    for i in range(0, len(body), 64):
                        self.wfile.write(body[i:i + 64])
                        self.wfile.flush()
                        time.sleep(route.drip_s)
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeouts, size caps): that is what some tests check

    return Handler


def http_date(seconds: float) -> str:
    return formatdate(seconds, usegmt=True)


def web_settings(**overrides) -> dict:
    """Settings overrides for tests: private (loopback) hosts allowed explicitly, no politeness
    delay, short timeouts, a small byte cap."""
    return {"fetch_allow_private": True, "fetch_delay_s": 0.0, "fetch_timeout_s": 5.0, "max_file_mb": 5.0} | overrides


PDF_PAGES = [
    ["Regional water board report",
     "The regional water board said on Thursday that reservoir levels in the northern district had recovered to "
     "82 percent of capacity after three weeks of steady autumn rain, the highest October level since the board "
     "began publishing figures.",
     "Board spokesperson Nadia Voss said the hosepipe ban would be lifted on Monday."],
    ["The board will spend 12 million euros replacing old pipes in the town of Edgeley, where about a quarter "
     "of the water supply is lost to leaks every year.",
     "Work on the Edgeley pipes is expected to start in February and finish before the summer."],
]


def write_pdf(path: Path, pages=PDF_PAGES) -> Path:
    """A real PDF with text on each page, drawn by fpdf2 (the `test` extra)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(pages[0][0])
    pdf.set_creation_date(datetime(2025, 10, 9, tzinfo=timezone.utc))
    pdf.set_font("Helvetica", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def wait_until(condition, what: str, timeout: float = 60.0):
    """Wait for a condition the code under test makes true; fail with `what` if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")
