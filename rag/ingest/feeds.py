"""Followed feeds (RSS 0.9x/2.0, Atom, RDF via feedparser), refreshed with conditional GETs.

A refresh sends the stored ETag / Last-Modified; a 304 ends it with no other request. After a
200, each entry is compared with the version recorded at the last refresh (a hash of its link,
title, dates and summary): only new or changed entries have their page fetched, and the store
decides whether a fetched page is added, updated or unchanged. Failed entries are not recorded,
so the next refresh tries them again.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from datetime import date

from pydantic import BaseModel, Field

from rag.errors import InputError
from rag.ingest.canonical import canonical_url
from rag.ingest.web import XML_TYPES, Fetcher, FetchError, fetch_article, now_iso
from rag.models import AddResult, Loaded
from rag.store.origins import FeedInfo, Origins, utc_now

AddLoaded = Callable[[list[Loaded], Callable[[int, int], None] | None], list[AddResult]]

DEFAULT_EVERY_S = 30 * 60
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.I)
_UNIT_S = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}
# Feeds are XML; some servers label them HTML, and feedparser tells a feed from a page itself.
FEED_TYPES = XML_TYPES + ("text/html", "application/json", "application/feed+json")


class FeedRefresh(BaseModel):
    """The outcome of refreshing one feed."""

    url: str
    status: str  # "ok" | "not modified" | "failed"
    reason: str | None = None
    results: list[AddResult] = Field(default_factory=list)

    def summary(self) -> str:
        if self.status != "ok":
            return self.status + (f": {self.reason}" if self.reason else "")
        if not self.results:
            return "no new or changed entries"
        counts = {s: sum(r.status == s for r in self.results) for s in ("added", "updated", "unchanged", "failed")}
        return ", ".join(f"{n} {s}" for s, n in counts.items())


def parse_interval(value: str | int | None) -> int:
    """'30m', '2h', '1d', '90s' or plain minutes, to seconds."""
    if value is None or value == "":
        return DEFAULT_EVERY_S
    match = _INTERVAL.match(str(value))
    if not match or int(match.group(1)) == 0:
        raise InputError(f"--every {value!r} is not an interval like 30m, 2h or 1d")
    return int(match.group(1)) * _UNIT_S[match.group(2).lower()]


# Plain dict lookups: FeedParserDict maps a missing `updated` to `published` with a warning.
def _entry_version(entry) -> str:
    parts = [str(dict.get(entry, k) or "") for k in ("link", "title", "updated", "published", "summary")]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def _entry_date(entry) -> date | None:
    parsed = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    return date(*parsed[:3]) if parsed else None


class Feeds:
    """The feeds a library follows; state lives in its registry."""

    def __init__(self, state: Origins, fetcher: Fetcher, add: AddLoaded):
        """
        Args:
            state: the feeds, their seen entries and the articles' origins (`rag.store.origins`).
            fetcher: fetches the feeds and their pages.
            add: adds loaded articles to the library (`Library.add_loaded`).
        """
        self.state = state
        self.fetcher = fetcher
        self.add_loaded = add
        # One refresh at a time (the UI's scheduler and its "Refresh all now" may overlap), so an
        # entry is never fetched and indexed twice at once.
        self._refreshing = threading.RLock()

    def add(self, url: str, every: str | int | None = None) -> FeedRefresh:
        """Follow a feed and refresh it at once (a feed that cannot be read is not added)."""
        url = canonical_url(url)
        every_s = parse_interval(every)
        with self._refreshing:  # the scheduler must not see the new feed before its first refresh
            known = self.state.feed(url) is not None
            self.state.add_feed(url, every_s, now_iso())
            refresh = self._refresh(url, None)
            if refresh.status == "failed" and not known:
                self.state.remove_feed(url)
                raise InputError(f"{url}: {refresh.reason}")
        return refresh

    def list(self) -> list[FeedInfo]:
        return self.state.feeds()

    def get(self, url: str) -> FeedInfo:
        feed = self.state.feed(canonical_url(url)) or self.state.feed(url)
        if feed is None:
            raise InputError(f"not following {url} (see `rag feeds list`)")
        return feed

    def remove(self, url: str) -> FeedInfo:
        """Stop following a feed; the articles it brought stay in the library."""
        feed = self.get(url)
        self.state.remove_feed(feed.url)
        return feed

    def refresh(self, urls: list[str] | None = None, *, all_feeds: bool = False,
                progress: Callable[[int, int], None] | None = None) -> list[FeedRefresh]:
        """Refresh the named feeds, else every feed (`all_feeds`), else the feeds that are due."""
        if urls or all_feeds:
            targets = [self.get(u).url for u in urls] if urls else [f.url for f in self.list()]
            return [self.refresh_one(url, progress) for url in targets]
        refreshes = []
        for feed in self.list():
            with self._refreshing:
                # Checked again under the lock: a refresh that just finished may have made it not due.
                current = self.state.feed(feed.url)
                if current is not None and current.due(utc_now()):
                    refreshes.append(self._refresh(feed.url, progress))
        return refreshes

    def refresh_one(self, url: str, progress: Callable[[int, int], None] | None = None) -> FeedRefresh:
        with self._refreshing:
            return self._refresh(url, progress)

    def _refresh(self, url: str, progress: Callable[[int, int], None] | None) -> FeedRefresh:
        feed = self.state.feed(url)
        if feed is None:
            raise InputError(f"not following {url} (see `rag feeds list`)")
        fetcher = self.fetcher
        checked = now_iso()
        try:
            fetched = fetcher.get(url, accept=FEED_TYPES, etag=feed.etag, last_modified=feed.last_modified)
        except FetchError as exc:
            return self._finish(FeedRefresh(url=url, status="failed", reason=str(exc)), checked)
        if fetched.status == 304:
            return self._finish(FeedRefresh(url=url, status="not modified"), checked)
        import feedparser

        # Parsed from bytes already fetched under the safety rules: feedparser itself fetches nothing.
        parsed = feedparser.parse(fetched.content, response_headers={"content-type": fetched.content_type})
        if not parsed.entries and (parsed.bozo or not parsed.version):
            reason = f"malformed feed ({parsed.get('bozo_exception') or 'no RSS, Atom or RDF entries'})"
            return self._finish(FeedRefresh(url=url, status="failed", reason=reason), checked)
        known = self.state.entry_versions(url)
        wanted: list[tuple[str, str, str, object]] = []
        for entry in parsed.entries:
            link = entry.get("link") or ""
            key = entry.get("id") or link or entry.get("title") or ""
            version = _entry_version(entry)
            if key and known.get(key) != version:
                wanted.append((key, link, version, entry))
        loaded: list[Loaded] = []
        for key, link, version, entry in wanted:
            if not link:
                loaded.append(Loaded(f"{url} entry {key!r}", error="feed entry has no link"))
                continue
            item = fetch_article(fetcher, link, kind="feed", feed_url=url)
            if item.article is not None and item.article.published is None and _entry_date(entry):
                item.article = item.article.model_copy(update={"published": _entry_date(entry)})
            loaded.append(item)
        results = self.add_loaded(loaded, progress)
        seen = [(key, link, version, r.article_id) for (key, link, version, _), r in zip(wanted, results)
                if r.status != "failed"]
        self.state.record_entries(url, seen, checked)
        title = (parsed.feed.get("title") or "").strip() or None
        refresh = FeedRefresh(url=url, status="ok", results=results)
        return self._finish(refresh, checked, title=title, etag=fetched.etag, last_modified=fetched.last_modified,
                            validators=True)

    def _finish(self, refresh: FeedRefresh, checked: str, **fields) -> FeedRefresh:
        ok = refresh.status != "failed" and not any(r.status == "failed" for r in refresh.results)
        self.state.finish_refresh(refresh.url, checked_at=checked, result=refresh.summary(), ok=ok, **fields)
        return refresh
