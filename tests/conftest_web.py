"""The `news_site` fixture: a fresh local news site (`tests.support.news_site`) per test, on a free
127.0.0.1 port. A pytest plugin, registered in tests/conftest.py."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

import pytest

from rag.net import free_port
from tests.support.news_site import STORIES, NewsSite, handler, news_page


@pytest.fixture
def news_site():
    """A fresh local news site per test: pages for every story, robots.txt, no feeds yet."""
    site = NewsSite()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    for slug in STORIES:
        site.set(f"/news/{slug}", news_page(slug, site.base))
    site.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
