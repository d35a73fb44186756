"""The store: registry (truth) + Chroma vectors + BM25, kept in agreement.

Write order for an article: registry row `pending` -> vectors in Chroma -> `ready` -> BM25
rebuilt. Retrieval only returns chunks of `ready` articles, so a crash at any step leaves
nothing half-visible; `repair()` at open finishes whatever a crash interrupted.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import numpy as np

from rag.bm25_index import BM25Index, fingerprint
from rag.errors import StoreError
from rag.locking import WriterLock
from rag.models import Article, Chunk, Sentence
from rag.registry import Registry
from rag.settings import Settings
from rag.text import chunk_sentences, split_sentences
from rag.vectors import VectorIndex

Progress = Callable[[int, int], None]


def chunk_context(title: str, chunk_text: str) -> str:
    """What gets embedded and BM25-indexed for a chunk: its text under the article's headline.

    Chunks deep in an article rarely repeat its subject ("the plan", "he"); the headline restores it.
    """
    return f"{title}\n{chunk_text}"
_GROUP = 64  # articles made ready together: one BM25 rebuild per group
# Below this much free space a write failure is reported as a full disk. SQLite and Chroma write
# in pages and log segments of up to a few MB, so they fail before the disk reaches 0 bytes.
_LOW_DISK_BYTES = 16 * 1024 * 1024


class Store:
    """Owns the three indexes of one data directory."""

    def __init__(self, settings: Settings, embedder, notify: Callable[[str], None] | None = None):
        self.settings = settings
        self.embedder = embedder
        self.lock = WriterLock(settings.data_dir / "write.lock", notify)
        self.repair_error: str | None = None  # why pending work could not be finished at open
        self.registry = Registry(settings.registry_path)
        self.vectors = VectorIndex(settings, embedder.model_name)
        self.bm25 = BM25Index(settings.bm25_path)
        self._write_lock = threading.RLock()
        self._ready: set[str] = set()
        self._bm25_dates = np.zeros(0, dtype=np.int64)
        self._bm25_articles: list[str] = []
        self.opened_repairs = self.repair()  # reported by `rag doctor`

    # -- consistency --------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the write lock of this data directory (threads of this process, and other processes).

        OS and SQLite write failures (a full disk, a read-only directory) become one StoreError;
        what was being written stays `pending` (invisible) and is finished at the next open.
        """
        with self._write_lock, self.lock.hold():
            try:
                yield
            except StoreError as exc:
                hint = self._disk_hint()
                if not hint or hint in str(exc):
                    raise
                raise StoreError(f"{exc}{hint}") from exc
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(f"could not write to {self.settings.data_dir}: {exc}{self._disk_hint()}") from exc

    def _disk_hint(self) -> str:
        """Names a full disk: Chroma reports one only as a failed compaction or write."""
        try:
            free = shutil.disk_usage(self.settings.data_dir).free
        except OSError:
            return ""
        if free >= _LOW_DISK_BYTES:
            return ""
        return (f" (the disk holding {self.settings.data_dir} is full: {free // 1024} KB free; free some space "
                "and run the command again: what was being written is finished then)")

    def repair(self) -> dict[str, int]:
        """Finish interrupted removals, re-index pending articles, and resync BM25.

        Skipped while another process holds the write lock: its pending work is not interrupted.
        """
        with self._write_lock:
            if not self.lock.try_acquire():
                self._sync_bm25(rebuild=False)
                return {"finished_removals": 0, "reindexed": 0}
            try:
                with self.writing():
                    deleting = self.registry.ids_in_state("deleting")
                    for article_id in deleting:
                        self.vectors.delete_article(article_id)
                    if deleting:
                        self.registry.delete(deleting)
                    pending = self.registry.ids_in_state("pending")
                    if pending:
                        articles = self.registry.articles(pending)
                        try:
                            self.index([articles[i] for i in pending])
                            self.repair_error = None
                        except StoreError as exc:
                            # Still pending, so still invisible; reads work, and `rag doctor` names it.
                            self.repair_error = f"{len(pending)} pending article(s) could not be re-indexed: {exc}"
                            self.lock.notify(f"warning: {self.repair_error}")
                    self._sync_bm25()
                    return {"finished_removals": len(deleting), "reindexed": len(pending)}
            finally:
                self.lock.release()

    def _sync_bm25(self, force: bool = False, rebuild: bool = True) -> None:
        rows = self.registry.ready_chunks()
        ids = [r[0] for r in rows]
        if rebuild and (force or fingerprint(ids) != self.bm25.fingerprint):
            texts = self._chunk_texts(rows)
            self.bm25.rebuild(ids, texts)
        # Aligned with the index as built: a reader that may not rebuild (another process is
        # writing) uses the one on disk, whose chunks of removed articles are filtered out here.
        by_id = {r[0]: r for r in rows}
        meta = [by_id.get(c) for c in self.bm25.chunk_ids]
        self._bm25_articles = [m[1] if m else "" for m in meta]
        self._bm25_dates = np.array([date.fromisoformat(m[4]).toordinal() if m and m[4] else -1 for m in meta], dtype=np.int64)
        self._ready = self.registry.ready_ids()

    def _chunk_texts(self, rows: list[tuple]) -> list[str]:
        texts, cache = [], {}
        for _, article_id, start, end, _ in rows:
            if article_id not in cache:
                cache = {article_id: self.registry.find(article_id)}  # rows are grouped by article
            article = cache[article_id]
            texts.append(chunk_context(article.title, article.text[start:end]))
        return texts

    # -- writes -------------------------------------------------------------------------------

    def index(self, articles: list[Article], progress: Progress | None = None) -> None:
        """Segment, chunk, embed and store articles (new ones or new versions), then make them ready."""
        with self.writing():
            group: list[str] = []
            for done, article in enumerate(articles, 1):
                self._index_one(article)
                group.append(article.id)
                if len(group) >= _GROUP:
                    self._make_ready(group)
                    group = []
                if progress:
                    progress(done, len(articles))
            if group:
                self._make_ready(group)

    def _index_one(self, article: Article) -> None:
        sentences = split_sentences(article.text, article.id)
        chunks = chunk_sentences(
            article.text, sentences, article_id=article.id, id_prefix=f"{article.id}@{article.sha256[:8]}",
            max_tokens=self.settings.chunk_tokens, overlap=self.settings.chunk_overlap_sentences,
            count_tokens=self.embedder.count_tokens,
        )
        texts = [article.text[s.start:s.end] for s in sentences] + [chunk_context(article.title, article.text[c.start:c.end]) for c in chunks]
        vectors = self.embedder.embed_array(texts)
        self.registry.write_pending(article, sentences, vectors[:len(sentences)], chunks)
        self.vectors.delete_article(article.id)  # an older version, or leftovers of a crash
        self.vectors.add(article, chunks, vectors[len(sentences):])

    def _make_ready(self, ids: list[str]) -> None:
        self.registry.set_state(ids, "ready")
        self._sync_bm25()

    def remove(self, ids: list[str]) -> None:
        with self.writing():
            self.registry.set_state(ids, "deleting")
            self._ready -= set(ids)
            for article_id in ids:
                self.vectors.delete_article(article_id)
            self.registry.delete(ids)
            self._sync_bm25()

    # -- reads --------------------------------------------------------------------------------

    def is_ready(self, article_id: str) -> bool:
        return article_id in self._ready

    def ready_count(self) -> int:
        return len(self._ready)

    def dense_search(self, query_vector: list[float], k: int, since: date | None, until: date | None) -> list[tuple[str, float]]:
        hits = self.vectors.search(query_vector, k * 2, since, until)
        return [(cid, s) for cid, s in hits if cid.split("@", 1)[0] in self._ready][:k]

    def bm25_search(self, query: str, k: int, since: date | None, until: date | None) -> list[tuple[str, float]]:
        scores = self.bm25.scores(query)
        if len(scores) != len(self._bm25_dates):
            return []
        if since or until:
            low = since.toordinal() if since else 1
            high = until.toordinal() if until else 10**9
            scores = np.where((self._bm25_dates >= low) & (self._bm25_dates <= high), scores, 0.0)
        top = np.argsort(-scores)[: k]
        ids = self.bm25.chunk_ids
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0 and self._bm25_articles[i] in self._ready]

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        return self.registry.chunks(ids)

    def sentences_with_vectors(self, chunk: Chunk) -> tuple[list[Sentence], np.ndarray]:
        return self.registry.sentences_with_vectors(chunk.article_id, chunk.first_sentence, chunk.last_sentence)
