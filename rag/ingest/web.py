"""Fetching web pages safely, and turning a fetched page into an article.

Safety rules, all here: only http and https; a host that resolves to a private, loopback,
link-local or otherwise non-global address is refused unless RAG_FETCH_ALLOW_PRIVATE=1 (checked
for every redirect hop, and again against the address actually connected to); robots.txt is
obeyed (RAG_FETCH_ROBOTS); the product's user agent; a delay between requests to one host
(RAG_FETCH_DELAY); connect/read timeouts and a whole-request time cap (RAG_FETCH_TIMEOUT); a
byte cap (RAG_MAX_FILE_MB); at most 5 redirects; a content-type check. Fetched bytes are only
ever parsed (HTML by trafilatura, feeds by feedparser, sitemaps by defusedxml, PDFs by pypdf),
never executed.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import urllib.robotparser
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import httpx

from rag.ingest.canonical import article_from_record, canonical_url, url_id
from rag.ingest.files import extract_html, load_pdf
from rag.models import Loaded, Origin
from rag.settings import Settings

MAX_REDIRECTS = 5
_CONNECT_TIMEOUT_S = 10.0
_ROBOTS_MAX_BYTES = 500_000
HTML_TYPES = ("text/html", "application/xhtml+xml")
PDF_TYPES = ("application/pdf",)
# Feeds and sitemaps are served under many XML types, and sometimes as text/plain.
XML_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
             "text/xml", "application/x-rss+xml", "text/plain", "application/octet-stream",
             "application/x-gzip", "application/gzip")


class FetchError(ValueError):
    """A URL could not be fetched; the message is the reason (the caller names the URL)."""


@dataclass
class Fetched:
    url: str  # as requested
    final_url: str  # after redirects
    status: int  # 200, or 304 for a conditional GET that found nothing new
    content: bytes
    content_type: str
    charset: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: str


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def is_url(value: str) -> bool:
    """Inputs with a scheme are URLs (and then only http/https are accepted); others are paths."""
    head, sep, _ = str(value).partition("://")
    return bool(sep) and head.isalpha() and len(head) > 1


class Fetcher:
    """One HTTP client with the safety rules above; safe to share between threads."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.max_bytes = int(settings.max_file_mb * 1_000_000)
        self.allow_private = settings.fetch_allow_private
        self.user_agent = settings.fetch_user_agent
        timeout = httpx.Timeout(settings.fetch_timeout_s, connect=_CONNECT_TIMEOUT_S)
        # Redirects are followed by hand so every hop passes the scheme and address checks;
        # proxies from the environment are ignored so the address check sees the real target.
        self._client = httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False,
                                    headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"})
        self._lock = threading.Lock()
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    def close(self) -> None:
        self._client.close()

    # -- the safety checks ---------------------------------------------------------------------

    def check_url(self, url: str) -> None:
        """Refuse anything but http(s) to a public address (unless private ones are allowed)."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise FetchError(f"only http and https URLs can be fetched, not {parts.scheme or 'no scheme'}:")
        host = parts.hostname
        if not host:
            raise FetchError("the URL has no host")
        if self.allow_private:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"cannot resolve host {host} ({getattr(exc, 'strerror', None) or exc})") from None
        for info in infos:
            self._check_address(host, info[4][0])

    def _check_address(self, host: str, address: str) -> None:
        if self.allow_private:
            return
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise FetchError(f"refused: {host} resolves to {ip}, a private, loopback or link-local address "
                             "(set RAG_FETCH_ALLOW_PRIVATE=1 to fetch from such hosts)")

    def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            known = origin in self._robots
            parser = self._robots.get(origin)
        if not known:
            parser = None
            try:
                got = self._get(origin + "/robots.txt", accept=None, max_bytes=_ROBOTS_MAX_BYTES, robots=False)
                parser = urllib.robotparser.RobotFileParser()
                parser.parse(got.content.decode("utf-8", "replace").splitlines())
            except FetchError:
                parser = None  # no robots.txt (404) or unreachable: nothing is disallowed
            with self._lock:
                self._robots[origin] = parser
        return parser is None or parser.can_fetch(self.user_agent, url)

    def _wait_for_host(self, host: str) -> None:
        """Space requests to one host by RAG_FETCH_DELAY seconds (politeness)."""
        while True:
            with self._lock:
                now = time.monotonic()
                ready_at = self._last_request.get(host, 0.0) + self.settings.fetch_delay_s
                if now >= ready_at:
                    self._last_request[host] = now
                    return
            time.sleep(ready_at - now)

    # -- fetching -------------------------------------------------------------------------------

    def get(self, url: str, *, accept: tuple[str, ...] | None, etag: str | None = None,
            last_modified: str | None = None) -> Fetched:
        """GET `url` under every rule above; a 304 (with etag/last_modified) comes back as status 304."""
        return self._get(url, accept=accept, etag=etag, last_modified=last_modified, max_bytes=self.max_bytes,
                         robots=self.settings.fetch_robots)

    def _get(self, url: str, *, accept, max_bytes: int, robots: bool, etag: str | None = None,
             last_modified: str | None = None) -> Fetched:
        requested = url
        deadline = time.monotonic() + self.settings.fetch_timeout_s
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _hop in range(MAX_REDIRECTS + 1):
            self.check_url(url)
            if robots and not self._robots_allow(url):
                raise FetchError("robots.txt disallows fetching it (set RAG_FETCH_ROBOTS=0 to ignore robots.txt)")
            self._wait_for_host(urlsplit(url).netloc)
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    self._check_peer(url, response)
                    if response.status_code in (301, 302, 303, 307, 308):
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"HTTP {response.status_code} redirect without a Location")
                        url = urljoin(url, location)
                        continue
                    return self._read(requested, url, response, accept, max_bytes, deadline)
            except httpx.TimeoutException:
                raise FetchError(f"no response within {self.settings.fetch_timeout_s:g} s (RAG_FETCH_TIMEOUT)") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot connect ({type(exc).__name__}: {exc})") from None
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    def _check_peer(self, url: str, response: httpx.Response) -> None:
        # The address actually connected to, so a DNS answer that changed since the check
        # (rebinding) cannot reach a private host.
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer:
            self._check_address(urlsplit(url).hostname or "", peer[0])

    def _read(self, requested: str, url: str, response: httpx.Response, accept, max_bytes: int,
              deadline: float) -> Fetched:
        if response.status_code == 304:
            return Fetched(requested, url, 304, b"", "", None, response.headers.get("etag"),
                           response.headers.get("last-modified"), now_iso())
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
        if response.status_code != 200:
            raise FetchError(f"unexpected HTTP {response.status_code} {response.reason_phrase}".rstrip())
        content_type, _, params = response.headers.get("content-type", "").partition(";")
        content_type = content_type.strip().lower()
        if accept is not None and content_type not in accept:
            raise FetchError(f"content type is {content_type or 'missing'}, expected {' or '.join(accept[:3])}")
        limit_text = f"over the {max_bytes / 1e6:g} MB limit (RAG_MAX_FILE_MB)"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"page is {int(declared) / 1e6:.1f} MB, {limit_text}")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(f"page is {limit_text}")
            if time.monotonic() > deadline:
                raise FetchError(f"page took over {self.settings.fetch_timeout_s:g} s to download (RAG_FETCH_TIMEOUT)")
        charset = None
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip('"') or None
        return Fetched(requested, url, 200, bytes(body), content_type, charset, response.headers.get("etag"),
                       response.headers.get("last-modified"), now_iso())


def decode_html(fetched: Fetched) -> str:
    try:
        return fetched.content.decode(fetched.charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return fetched.content.decode("utf-8", errors="replace")


def fetch_article(fetcher: Fetcher, url: str, *, kind: str = "web", feed_url: str | None = None) -> Loaded:
    """Fetch one page (HTML or PDF) into an article; any problem is a Loaded with the reason."""
    try:
        fetched = fetcher.get(url, accept=HTML_TYPES + PDF_TYPES)
        if fetched.content_type in PDF_TYPES:
            final = canonical_url(fetched.final_url)
            origin = Origin(kind, url, feed_url=feed_url, fetched_at=fetched.fetched_at)
            return load_pdf(fetched.content, label=url, default_id=url_id(final), origin=origin, url=final)
        record, author = extract_html(decode_html(fetched), fallback_title=fetched.final_url, url=fetched.final_url)
        canonical = record.get("url") or ""
        # A page may name its canonical URL; only an http(s) one is trusted as its identity.
        record["url"] = canonical_url(canonical if canonical.startswith(("http://", "https://")) else fetched.final_url)
        article = article_from_record(record, default_id=url_id(record["url"]))
        origin = Origin(kind, url, feed_url=feed_url, fetched_at=fetched.fetched_at, author=author)
        return Loaded(url, article, origin=origin)
    except ValueError as exc:  # FetchError, or no article text / a bad date in the page
        return Loaded(url, error=str(exc))
