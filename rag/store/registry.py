"""The article registry (SQLite): the source of truth for articles, sentences and chunks.

States: `pending` (being indexed, or left by a crash: re-indexed by the next write), `ready`
(in Chroma and BM25, answerable), `deleting` (being removed: finished by the next write).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np

from rag.errors import StoreError
from rag.models import Article, ArticleSummary, Chunk, Sentence

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT, url TEXT, published TEXT,
    text TEXT NOT NULL, sha256 TEXT NOT NULL, state TEXT NOT NULL,
    added_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_sha ON articles(sha256);
CREATE INDEX IF NOT EXISTS articles_url ON articles(url);
CREATE TABLE IF NOT EXISTS sentences (
    article_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    embedding BLOB, PRIMARY KEY (article_id, idx)
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, first_sentence INTEGER NOT NULL,
    last_sentence INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
"""


_BUSY_TIMEOUT_S = 10.0  # how long a statement waits for another process's write to finish


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _open(path: Path, schemas: tuple[str, ...]) -> sqlite3.Connection:
    """The registry's connection, in WAL mode, with its schema.

    `PRAGMA journal_mode=WAL` answers "database is locked" at once, without waiting out the busy
    timeout, while another process opens the same new database (two `rag add`s on a fresh data
    dir; `test_processes_opening_a_new_registry_at_once_all_succeed`). So the whole opening is
    retried until the busy timeout has passed.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            for schema in schemas:
                db.executescript(schema)
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Registry:
    """SQLite access; one connection guarded by a lock so UI threads can share it."""

    def __init__(self, path: Path, schemas: tuple[str, ...] = (), article_tables: tuple[str, ...] = ()):
        """Open (or create) the registry at `path`.

        Args:
            schemas: the tables of the other store parts that live in this database (origins).
            article_tables: those of their tables keyed by `article_id`, emptied with the article.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = _open(path, (_SCHEMA, *schemas))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the article registry {path}: {exc}") from exc
        self._lock = threading.RLock()
        self._article_tables = article_tables

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def read(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one locked read (no write transaction, so readers never wait on writers)."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- articles -----------------------------------------------------------------------------

    def find(self, article_id: str) -> Article | None:
        rows = self.read(
            "SELECT id, title, text, source, url, published, sha256 FROM articles WHERE id=? AND state!='deleting'",
            (article_id,),
        )
        return _article(rows[0]) if rows else None

    def find_by_url(self, url: str) -> Article | None:
        if not url:
            return None
        rows = self.read(
            "SELECT id, title, text, source, url, published, sha256 FROM articles WHERE url=? AND state!='deleting'",
            (url,),
        )
        return _article(rows[0]) if rows else None

    def find_by_sha(self, sha256: str) -> str | None:
        rows = self.read("SELECT id FROM articles WHERE sha256=? AND state!='deleting'", (sha256,))
        return rows[0][0] if rows else None

    def _select_in(self, sql: str, ids: list[str]) -> list[tuple]:
        """Run `sql` (with one `{marks}` placeholder) over ids in batches under SQLite's variable limit."""
        rows: list[tuple] = []
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            rows.extend(self.read(sql.format(marks=",".join("?" * len(part))), tuple(part)))
        return rows

    def articles(self, ids: list[str]) -> dict[str, Article]:
        rows = self._select_in("SELECT id, title, text, source, url, published, sha256 FROM articles WHERE id IN ({marks})", ids)
        return {row[0]: _article(row) for row in rows}

    def summaries(self) -> list[ArticleSummary]:
        rows = self.read(
            """SELECT a.id, a.title, a.source, a.url, a.published, a.sha256, length(a.text), a.added_at,
                      a.state, (SELECT count(*) FROM chunks c WHERE c.article_id=a.id)
               FROM articles a WHERE a.state!='deleting' ORDER BY a.published DESC, a.added_at DESC, a.id"""
        )
        return [
            ArticleSummary(
                id=r[0], title=r[1], source=r[2] or "", url=r[3] or "",
                published=date.fromisoformat(r[4]) if r[4] else None, sha256=r[5], chars=r[6],
                added_at=r[7], state=r[8], chunks=r[9],
            )
            for r in rows
        ]

    def published_dates(self) -> dict[str, date | None]:
        """Article id -> published date (articles not being deleted), without the summaries' per-article chunk counts."""
        rows = self.read("SELECT id, published FROM articles WHERE state!='deleting'")
        return {i: date.fromisoformat(p) if p else None for i, p in rows}

    def newest_published(self) -> date | None:
        """The newest published date of the articles not being deleted (ISO dates sort as text)."""
        value = self.read("SELECT max(published) FROM articles WHERE state!='deleting' AND published != ''")[0][0]
        return date.fromisoformat(value) if value else None

    def ids_in_state(self, state: str) -> list[str]:
        return [r[0] for r in self.read("SELECT id FROM articles WHERE state=?", (state,))]

    def data_version(self) -> int:
        """Changes whenever another connection (another process) has committed since the last call."""
        return self.read("PRAGMA data_version")[0][0]

    def ready_ids(self) -> set[str]:
        return set(self.ids_in_state("ready"))

    def write_pending(self, article: Article, sentences: list[Sentence], sent_vecs: np.ndarray, chunks: list[Chunk]) -> None:
        """Store (or replace) an article with its sentences and chunks, not yet answerable."""
        now = _now()
        published = article.published.isoformat() if article.published else None
        with self.transaction() as db:
            row = db.execute("SELECT added_at FROM articles WHERE id=?", (article.id,)).fetchone()
            db.execute("DELETE FROM sentences WHERE article_id=?", (article.id,))
            db.execute("DELETE FROM chunks WHERE article_id=?", (article.id,))
            db.execute(
                """INSERT OR REPLACE INTO articles (id, title, source, url, published, text, sha256, state, added_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)""",
                (article.id, article.title, article.source, article.url, published, article.text,
                 article.sha256, row[0] if row else now, now),
            )
            db.executemany(
                "INSERT INTO sentences (article_id, idx, start, end, embedding) VALUES (?, ?, ?, ?, ?)",
                [(article.id, s.index, s.start, s.end, sent_vecs[i].astype(np.float16).tobytes())
                 for i, s in enumerate(sentences)],
            )
            db.executemany(
                "INSERT INTO chunks (id, article_id, idx, start, end, first_sentence, last_sentence) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(c.id, c.article_id, c.index, c.start, c.end, c.first_sentence, c.last_sentence) for c in chunks],
            )

    def set_state(self, ids: list[str], state: str) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE articles SET state=? WHERE id=?", [(state, i) for i in ids])

    def delete(self, ids: list[str]) -> None:
        with self.transaction() as db:
            tables = [("sentences", "article_id"), ("chunks", "article_id")]
            tables += [(t, "article_id") for t in self._article_tables] + [("articles", "id")]
            for table, column in tables:
                db.executemany(f"DELETE FROM {table} WHERE {column}=?", [(i,) for i in ids])

    # -- chunks and sentences -----------------------------------------------------------------

    def chunks_of(self, article_id: str) -> list[Chunk]:
        rows = self.read(
            "SELECT id, article_id, idx, start, end, first_sentence, last_sentence FROM chunks WHERE article_id=? ORDER BY idx",
            (article_id,),
        )
        return [Chunk(*r) for r in rows]

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        rows = self._select_in(
            "SELECT id, article_id, idx, start, end, first_sentence, last_sentence FROM chunks WHERE id IN ({marks})", ids
        )
        return {r[0]: Chunk(*r) for r in rows}

    def ready_chunks(self) -> list[tuple[str, str, int, int, str | None]]:
        """(chunk id, article id, start, end, published) of every answerable chunk, in a stable order."""
        return self.read(
            """SELECT c.id, c.article_id, c.start, c.end, a.published FROM chunks c
               JOIN articles a ON a.id=c.article_id WHERE a.state='ready' ORDER BY c.id"""
        )

    def sentences_with_vectors(self, article_id: str, first: int, last: int) -> tuple[list[Sentence], np.ndarray]:
        rows = self.read(
            "SELECT idx, start, end, embedding FROM sentences WHERE article_id=? AND idx BETWEEN ? AND ? ORDER BY idx",
            (article_id, first, last),
        )
        sentences = [Sentence(article_id, r[0], r[1], r[2]) for r in rows]
        vectors = np.stack([np.frombuffer(r[3], dtype=np.float16).astype(np.float32) for r in rows]) if rows else np.zeros((0, 384), np.float32)
        return sentences, vectors

    def sentences_of(self, article_id: str) -> list[Sentence]:
        rows = self.read("SELECT idx, start, end FROM sentences WHERE article_id=? ORDER BY idx", (article_id,))
        return [Sentence(article_id, *r) for r in rows]


def _article(row: tuple) -> Article:
    return Article(
        id=row[0], title=row[1], text=row[2], source=row[3] or "", url=row[4] or "",
        published=date.fromisoformat(row[5]) if row[5] else None, sha256=row[6],
    )
