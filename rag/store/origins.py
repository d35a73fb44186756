"""Ingestion state in the registry: each article's origin (file or URL, feed, fetch time, PDF
pages) and each feed's conditional-GET validators, schedule, last result and seen entries.

The tables live in the registry's database (`SCHEMA`, created when the store opens it); this
module reads and writes them through the registry's own connection and lock.
"""

from __future__ import annotations

import bisect
import json
from datetime import datetime, timezone

from pydantic import BaseModel

from rag.models import Origin
from rag.store.registry import Registry

# Where articles came from and the feeds that bring them. New tables only, so opening an older
# data directory adds them and changes nothing else.
SCHEMA = """
CREATE TABLE IF NOT EXISTS origins (
    article_id TEXT PRIMARY KEY, kind TEXT NOT NULL, location TEXT NOT NULL, feed_url TEXT,
    fetched_at TEXT, author TEXT, pages TEXT
);
CREATE INDEX IF NOT EXISTS origins_location ON origins(location);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, title TEXT, every_s INTEGER NOT NULL, etag TEXT, last_modified TEXT,
    added_at TEXT NOT NULL, checked_at TEXT, last_result TEXT, last_ok INTEGER
);
CREATE TABLE IF NOT EXISTS feed_entries (
    feed_url TEXT NOT NULL, key TEXT NOT NULL, link TEXT, version TEXT NOT NULL, article_id TEXT,
    seen_at TEXT NOT NULL, PRIMARY KEY (feed_url, key)
);
"""
ARTICLE_TABLES = ("origins",)  # rows removed with their article


class FeedInfo(BaseModel):
    """A followed feed and how its last refresh went."""

    url: str
    title: str = ""
    every_s: int
    added_at: str
    checked_at: str | None = None
    last_result: str | None = None
    last_ok: bool | None = None
    entries: int = 0
    etag: str | None = None
    last_modified: str | None = None

    def due(self, now: datetime) -> bool:
        if not self.checked_at:
            return True
        return (now - datetime.fromisoformat(self.checked_at)).total_seconds() >= self.every_s


_FEED_COLUMNS = "f.url, f.title, f.every_s, f.added_at, f.checked_at, f.last_result, f.last_ok, " \
                "(SELECT count(*) FROM feed_entries e WHERE e.feed_url=f.url), f.etag, f.last_modified"


def _feed(row: tuple) -> FeedInfo:
    return FeedInfo(url=row[0], title=row[1] or "", every_s=row[2], added_at=row[3], checked_at=row[4],
                    last_result=row[5], last_ok=None if row[6] is None else bool(row[6]), entries=row[7],
                    etag=row[8], last_modified=row[9])


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Origins:
    """Each article's origin and the followed feeds, read and written through the registry."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.registry.read(sql, params)

    # -- origins -------------------------------------------------------------------------------

    def record_origin(self, article_id: str, origin: Origin) -> None:
        pages = json.dumps(origin.pages) if origin.pages else None
        with self.registry.transaction() as db:
            db.execute(
                """INSERT OR REPLACE INTO origins (article_id, kind, location, feed_url, fetched_at, author, pages)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (article_id, origin.kind, origin.location, origin.feed_url, origin.fetched_at, origin.author, pages),
            )

    def touch_fetched(self, article_id: str, fetched_at: str) -> None:
        with self.registry.transaction() as db:
            db.execute("UPDATE origins SET fetched_at=? WHERE article_id=?", (fetched_at, article_id))

    def origin(self, article_id: str) -> Origin | None:
        rows = self._rows("SELECT kind, location, feed_url, fetched_at, author, pages FROM origins WHERE article_id=?",
                          (article_id,))
        if not rows:
            return None
        kind, location, feed_url, fetched_at, author, pages = rows[0]
        return Origin(kind, location, feed_url, fetched_at, author, json.loads(pages) if pages else None)

    def feed_of_articles(self) -> dict[str, str]:
        """Article id -> the feed it came from, for articles that came from one."""
        return dict(self._rows("SELECT article_id, feed_url FROM origins WHERE feed_url IS NOT NULL"))

    def page_of(self, article_id: str, offset: int) -> int | None:
        """The 1-based PDF page holding `offset` of the article's canonical text (None: no pages)."""
        origin = self.origin(article_id)
        if origin is None or not origin.pages:
            return None
        return bisect.bisect_right(origin.pages, offset)

    def ids_from_files(self) -> list[tuple[str, str]]:
        """(article id, file path) of every article loaded from a file."""
        return self._rows("SELECT article_id, location FROM origins WHERE kind='file'")

    # -- feeds ----------------------------------------------------------------------------------

    def add_feed(self, url: str, every_s: int, now: str) -> None:
        with self.registry.transaction() as db:
            db.execute("INSERT INTO feeds (url, every_s, added_at) VALUES (?, ?, ?) "
                       "ON CONFLICT(url) DO UPDATE SET every_s=excluded.every_s", (url, every_s, now))

    def feed(self, url: str) -> FeedInfo | None:
        rows = self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds f WHERE f.url=?", (url,))
        return _feed(rows[0]) if rows else None

    def feeds(self) -> list[FeedInfo]:
        return [_feed(r) for r in self._rows(f"SELECT {_FEED_COLUMNS} FROM feeds f ORDER BY f.added_at, f.url")]

    def remove_feed(self, url: str) -> None:
        with self.registry.transaction() as db:
            db.execute("DELETE FROM feed_entries WHERE feed_url=?", (url,))
            db.execute("DELETE FROM feeds WHERE url=?", (url,))

    def finish_refresh(self, url: str, *, checked_at: str, result: str, ok: bool, title: str | None = None,
                       etag: str | None = None, last_modified: str | None = None, validators: bool = False) -> None:
        """Record a refresh; `validators` replaces the stored ETag/Last-Modified (after a 200)."""
        with self.registry.transaction() as db:
            db.execute("UPDATE feeds SET checked_at=?, last_result=?, last_ok=?, title=coalesce(?, title) WHERE url=?",
                       (checked_at, result, int(ok), title, url))
            if validators:
                db.execute("UPDATE feeds SET etag=?, last_modified=? WHERE url=?", (etag, last_modified, url))

    def entry_versions(self, feed_url: str) -> dict[str, str]:
        return dict(self._rows("SELECT key, version FROM feed_entries WHERE feed_url=?", (feed_url,)))

    def record_entries(self, feed_url: str, rows: list[tuple[str, str, str, str | None]], now: str) -> None:
        """Remember entries (key, link, version, article id) so unchanged ones are not fetched again."""
        with self.registry.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO feed_entries (feed_url, key, link, version, article_id, seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(feed_url, key, link, version, article_id, now) for key, link, version, article_id in rows],
            )
