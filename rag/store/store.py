"""The store: registry (truth) + Chroma vectors + BM25, kept in agreement.

Write order for a batch of articles: registry rows `pending` -> vectors in Chroma -> `ready` ->
chunks appended to BM25. Retrieval only returns chunks of `ready` articles, so a crash at any step leaves
nothing half-visible; `repair()` finishes whatever a crash interrupted. Opening only reads: the repair
runs at a process's first write (or in `rag doctor`).
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import numpy as np

from rag.embeddings import Chunked, Embedder, embed_chunked
from rag.errors import StoreError
from rag.models import AddResult, Article, ArticleSummary, Chunk, Loaded, Sentence
from rag.settings import Settings
from rag.store.bm25 import BM25Index
from rag.store.locking import WriterLock
from rag.store.origins import ARTICLE_TABLES, SCHEMA as ORIGINS_SCHEMA, Origins
from rag.store.registry import Registry
from rag.store.vectors import VectorIndex
from rag.text import chunk_sentences, split_sentences

Progress = Callable[[int, int], None]


def chunk_context(title: str, chunk_text: str) -> str:
    """What gets embedded and BM25-indexed for a chunk: its text under the article's headline.

    Chunks deep in an article rarely repeat its subject ("the plan", "he"); the headline restores it.
    """
    return f"{title}\n{chunk_text}"


# Below this much free space a write failure is reported as a full disk. SQLite and Chroma write
# in pages and log segments of up to a few MB, so they fail before the disk reaches 0 bytes.
_LOW_DISK_BYTES = 16 * 1024 * 1024


@dataclass
class _Prepared:
    article: Article
    sentences: list[Sentence]
    chunks: list[Chunk]
    given: "Embedded | None" = None  # vectors that came with the article (an import)


@dataclass
class Embedded:
    """An article's sentences and chunks with their vectors, computed elsewhere (a `rag export`)."""

    sentences: list[Sentence]
    chunks: list[Chunk]
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray


def _ordinal(published: str | None) -> int:
    return date.fromisoformat(published).toordinal() if published else -1


def _ahead(pool: ThreadPoolExecutor, fn: Callable, items: list, depth: int) -> Iterator:
    """fn(item) for each item in order, the pool computing up to `depth` items ahead of the caller."""
    if depth < 1:
        yield from (fn(item) for item in items)
        return
    pending: deque = deque(pool.submit(fn, item) for item in items[:depth])
    for nxt in items[depth:]:
        result = pending.popleft().result()
        pending.append(pool.submit(fn, nxt))
        yield result
    while pending:
        yield pending.popleft().result()


@contextmanager
def _opening(data_dir):
    """Held while a process creates or opens the data dir's databases. Two processes creating a
    fresh data dir at once raced in SQLite's switch to WAL (see `rag.store.registry`) and then in
    Chroma's first migration ("table collections already exists"); opening one at a
    time removes both. Held for the opening only, so readers still open while a writer works."""
    import fcntl

    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "open.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class Store:
    """Owns the three indexes of one data directory."""

    def __init__(self, settings: Settings, embedder: Embedder, notify: Callable[[str], None] | None = None,
                 schemas: tuple[str, ...] = ()):
        """Open the data directory's indexes.

        Args:
            notify: gets one-line notices (waiting for another process's write lock, a repair left undone).
            schemas: tables of the layers above that live in the registry's database (stories).
        """
        self.settings = settings
        self.embedder = embedder
        self.lock = WriterLock(settings.data_dir / "write.lock", notify)
        self.repair_error: str | None = None  # why pending work could not be finished by the repair
        with _opening(settings.data_dir):
            self.registry = Registry(settings.registry_path, (ORIGINS_SCHEMA, *schemas), ARTICLE_TABLES)
            self.vectors = VectorIndex(settings, embedder.model_name)
        self.origins = Origins(self.registry)
        self.bm25 = BM25Index(settings.bm25_path)
        self._seen = self._stamp()  # see _catch_up
        self._writers = 0  # nesting depth of `writing()` in this process
        self._write_lock = threading.RLock()
        # BM25 changes (a reload after another process wrote, an add, a remove) while other threads
        # search it: searches and changes take this lock, so a search sees one version whole.
        self._lexical_lock = threading.RLock()
        self._ready: set[str] = set()
        # Opening only reads (a read-only data dir opens; `rag list` changes no file). What a crash
        # left is finished before this process's first write (see `repair`); until then readers
        # see the ready articles only, so nothing half-written is answerable.
        self._repaired = False
        self.repairs = {"finished_removals": 0, "reindexed": 0}  # done by this process, for `rag doctor`
        self._sync_bm25(rebuild=False)

    # -- consistency --------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the write lock of this data directory (threads of this process, and other processes).

        OS and SQLite write failures (a full disk, a read-only directory) become one StoreError;
        what was being written stays `pending` (invisible) and is finished by the next write.
        The first write of this process first repairs what a crash left.
        """
        with self._write_lock, self.lock.hold():
            self._writers += 1
            try:
                if self._writers == 1:
                    self._catch_up()
                    if not self._repaired:
                        self.repair()
                yield
            except StoreError as exc:
                hint = self._disk_hint()
                if not hint or hint in str(exc):
                    raise
                raise StoreError(f"{exc}{hint}") from exc
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(f"could not write to {self.settings.data_dir}: {exc}{self._disk_hint()}") from exc
            finally:
                self._writers -= 1
                if self._writers == 0:
                    self._seen = self._stamp()  # this process's own writes need no reload

    def refresh(self) -> None:
        """Before reading: see what other processes wrote since this one last looked (a UI serving
        questions while `rag add` runs). Costs one PRAGMA and one stat when nothing changed. Skipped
        while a thread of this process writes (it catches up itself before writing)."""
        if not self._write_lock.acquire(blocking=False):
            return
        try:
            if not self._writers:
                self._catch_up(rebuild=False)  # a reader never rewrites BM25: the writer may be mid-batch
        finally:
            self._write_lock.release()

    def _stamp(self) -> tuple[int, int]:
        """Changes when another process writes: SQLite's data_version (registry commits by other
        connections) and the BM25 manifest's mtime (replaced after a batch is marked ready)."""
        try:
            manifest = (self.settings.bm25_path / "manifest.json").stat().st_mtime_ns
        except OSError:
            manifest = 0
        return self.registry.data_version(), manifest

    def _catch_up(self, rebuild: bool = True) -> None:
        """Another process may have written since this one last looked: its Chroma client and BM25
        in memory are then stale (searches miss the new chunks, and appending to BM25 would drop
        the other's chunks from the index on disk). Reopen both from their files and resync with
        the registry."""
        stamp = self._stamp()
        if stamp != self._seen:
            self.vectors = VectorIndex(self.settings, self.embedder.model_name, reopen=True)
            with self._lexical_lock:
                self.bm25 = BM25Index(self.settings.bm25_path)
                self._sync_bm25(rebuild)
            self._seen = stamp

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
        """Finish interrupted removals, re-index pending articles, and resync BM25; returns how
        many of each. The first write of a process runs it; `rag doctor` too.

        Skipped while another process holds the write lock: its pending work is not interrupted.
        """
        with self._write_lock:
            if not self.lock.try_acquire():
                self._sync_bm25(rebuild=False)
                return {"finished_removals": 0, "reindexed": 0}
            self._repaired = True  # before `writing()`, which would otherwise repair first
            try:
                with self.writing():
                    deleting = self.registry.ids_in_state("deleting")
                    for article_id in deleting:
                        self.vectors.delete_article(article_id)
                    if deleting:
                        self.registry.delete(deleting)
                    # BM25 first: re-indexing pending articles appends to it incrementally.
                    self._sync_bm25()
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
                    self.repairs["finished_removals"] += len(deleting)
                    self.repairs["reindexed"] += len(pending)
                    return {"finished_removals": len(deleting), "reindexed": len(pending)}
            except BaseException:
                self._repaired = False  # the next write tries again
                raise
            finally:
                self.lock.release()

    def _sync_bm25(self, rebuild: bool = True) -> None:
        """Make BM25 hold exactly the ready chunks (rebuilt from the registry if it does not).

        With `rebuild=False` (another process is writing) the index on disk is used as it is:
        its chunks of articles that are no longer ready are filtered out at search time."""
        with self._lexical_lock:
            rows = self.registry.ready_chunks()
            if rebuild and sorted(self.bm25.chunk_ids) != [r[0] for r in rows]:  # rows come ordered by chunk id
                self.bm25.rebuild([r[0] for r in rows], self._chunk_texts(rows))
            self.bm25.label({r[0]: (r[1], _ordinal(r[4])) for r in rows})
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

    def add(self, loaded: list[Loaded], progress: Progress | None = None) -> list[AddResult]:
        """Add loaded articles: each is `added`, `updated` (same id or URL, new text), `unchanged`
        (same text, or a duplicate within the batch) or `failed` (it could not be loaded).

        Under the write lock from the first lookup: another process adding the same files
        finishes first, and its articles are then `unchanged` here.
        """
        with self.writing():
            results, to_index = self._decide(loaded)
            if to_index:
                self.index(to_index, progress)
            for item, result in zip(loaded, results):
                if item.origin is None or result.article_id is None:
                    continue
                if result.status in ("added", "updated"):
                    self.origins.record_origin(result.article_id, item.origin)
                elif result.reason is None and item.origin.fetched_at:  # fetched again, same text
                    self.origins.touch_fetched(result.article_id, item.origin.fetched_at)
            return results

    def _decide(self, loaded: list[Loaded]) -> tuple[list[AddResult], list[Article]]:
        """Each input's result, and the articles (new ones, new versions) to index."""
        results: list[AddResult] = []
        to_index: list[Article] = []
        claimed: dict[str, str] = {}  # sha or id -> label, within this batch
        for item in loaded:
            if item.article is None:
                results.append(AddResult(path=item.label, status="failed", reason=item.error))
                continue
            article = item.article
            existing = self.registry.find(article.id) or self.registry.find_by_url(article.url)
            if existing is not None:
                article = article.model_copy(update={"id": existing.id})
            same_text = self.registry.find_by_sha(article.sha256)
            if (existing is not None and existing.sha256 == article.sha256) or (existing is None and same_text):
                reason = None if existing is not None else f"same text as article {same_text}"
                results.append(AddResult(path=item.label, status="unchanged", article_id=existing.id if existing else same_text,
                                         title=article.title, reason=reason))
                continue
            if article.sha256 in claimed or article.id in claimed:
                results.append(AddResult(path=item.label, status="unchanged", article_id=article.id, title=article.title,
                                         reason=f"duplicate of {claimed.get(article.sha256) or claimed[article.id]} in this batch"))
                continue
            claimed[article.sha256] = claimed[article.id] = item.label
            status = "updated" if existing is not None else "added"
            results.append(AddResult(path=item.label, status=status, article_id=article.id, title=article.title))
            to_index.append(article)
        return results, to_index

    def index(self, articles: list[Article], progress: Progress | None = None,
              vectors: dict[str, Embedded] | None = None) -> None:
        """Segment, chunk, embed and store articles (new ones or new versions), then make them ready.
        This is the one place the crash-safe write order lives (see `_store_batch`).

        `vectors`: article id -> its sentences, chunks and vectors when they are already known
        (an import); those articles are stored as given, not segmented or embedded again.

        Articles are segmented one ahead in a thread while the model embeds the previous batch
        (the model runs outside the GIL), and embedded in batches of about RAG_EMBED_BATCH_CHUNKS chunks
        across articles, so length bucketing has enough texts to group and Chroma gets one add.
        """
        with self.writing():
            known = set(self.registry.articles([a.id for a in articles]))  # updates or crash leftovers
            batch: list[_Prepared] = []
            done = 0
            pool = ThreadPoolExecutor(max_workers=1)
            try:
                given = vectors or {}

                def prepare(article: Article) -> _Prepared:
                    if article.id in given:
                        e = given[article.id]
                        return _Prepared(article, e.sentences, e.chunks, e)
                    return self._prepare(article)

                for prepared in _ahead(pool, prepare, articles, self.settings.segment_ahead):
                    batch.append(prepared)
                    if sum(len(p.chunks) for p in batch) >= self.settings.embed_batch_chunks:
                        self._store_batch(batch, known)
                        done += len(batch)
                        batch = []
                        if progress:
                            progress(done, len(articles))
                if batch:
                    self._store_batch(batch, known)
                    if progress:
                        progress(len(articles), len(articles))
            finally:
                pool.shutdown(cancel_futures=True)  # after an error, do not segment what will not be stored

    def _prepare(self, article: Article) -> "_Prepared":
        sentences = split_sentences(article.text, article.id)
        chunks = chunk_sentences(
            article.text, sentences, article_id=article.id, id_prefix=f"{article.id}@{article.sha256[:8]}",
            max_tokens=self.settings.chunk_tokens, overlap=self.settings.chunk_overlap_sentences,
            count_tokens=self.embedder.count_tokens,
        )
        return _Prepared(article, sentences, chunks)

    def _embed(self, batch: list["_Prepared"]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(sentence vectors, chunk vectors) per article (see `rag.embeddings.embed_chunked`)."""
        items = []
        for p in batch:
            head = len(p.article.title) + 1  # chunk_context puts the title and a newline first
            items.append(Chunked(
                chunks=[chunk_context(p.article.title, p.article.text[c.start:c.end]) for c in p.chunks],
                members=[[(p.sentences[i].start - c.start + head, p.sentences[i].end - c.start + head)
                          for i in range(c.first_sentence, c.last_sentence + 1)] for c in p.chunks],
                first=[c.first_sentence for c in p.chunks],
                sentences=[p.article.text[s.start:s.end] for s in p.sentences],
            ))
        return embed_chunked(self.embedder, items, late=self.settings.sentence_vectors == "late")

    def _store_batch(self, batch: list["_Prepared"], known: set[str]) -> None:
        """Registry rows `pending` -> vectors in Chroma (one add) -> `ready` -> BM25 appended."""
        computed = iter(self._embed([p for p in batch if p.given is None]))
        vectors = [(p.given.sentence_vectors, p.given.chunk_vectors) if p.given else next(computed) for p in batch]
        for p, (sent_vecs, _) in zip(batch, vectors):
            self.registry.write_pending(p.article, p.sentences, sent_vecs, p.chunks)
        for p in batch:
            if p.article.id in known:
                self.vectors.delete_article(p.article.id)  # an older version, or leftovers of a crash
        self.vectors.add_many([(p.article, p.chunks, chunk_vecs) for p, (_, chunk_vecs) in zip(batch, vectors)])
        self._make_ready(batch, known)

    def _make_ready(self, batch: list["_Prepared"], known: set[str]) -> None:
        ids = [p.article.id for p in batch]
        self.registry.set_state(ids, "ready")
        replaced = known & set(ids)
        new_ids = [c.id for p in batch for c in p.chunks]
        texts = [chunk_context(p.article.title, p.article.text[c.start:c.end]) for p in batch for c in p.chunks]
        dates = [_ordinal(p.article.published.isoformat() if p.article.published else None) for p in batch for _ in p.chunks]
        with self._lexical_lock:
            stale = self.bm25.chunks_of(replaced) if replaced else set()
            if stale:
                self.bm25.remove(stale)
            self.bm25.add(new_ids, texts, [p.article.id for p in batch for _ in p.chunks], dates)
        self._ready |= set(ids)

    def remove(self, ids: list[str]) -> None:
        with self.writing():
            self.registry.set_state(ids, "deleting")
            self._ready -= set(ids)
            for article_id in ids:
                self.vectors.delete_article(article_id)
            self.registry.delete(ids)
            gone = set(ids)
            with self._lexical_lock:
                self.bm25.remove(self.bm25.chunks_of(gone))

    # -- reads --------------------------------------------------------------------------------

    def is_ready(self, article_id: str) -> bool:
        return article_id in self._ready

    def ready_count(self) -> int:
        return len(self._ready)

    def dense_search(self, query_vector: list[float], k: int, since: date | None, until: date | None,
                     only: frozenset[str] | None = None) -> list[tuple[str, float]]:
        hits = self.vectors.search(query_vector, k * 2, since, until, only)
        return [(cid, s) for cid, s in hits if cid.split("@", 1)[0] in self._ready][:k]

    def bm25_search(self, query: str, k: int, since: date | None, until: date | None,
                    only: frozenset[str] | None = None) -> list[tuple[str, float]]:
        with self._lexical_lock:
            return self.bm25.search(query, k, since, until, self._ready, only)

    def find(self, article_id: str) -> Article | None:
        """The article with this id (None when there is none, or it is being removed)."""
        return self.registry.find(article_id)

    def articles(self, ids: list[str]) -> dict[str, Article]:
        """The articles with these ids that exist, by id."""
        return self.registry.articles(ids)

    def summaries(self) -> list[ArticleSummary]:
        """Every article's metadata, chunk count and state (newest first)."""
        return self.registry.summaries()

    def published_dates(self) -> dict[str, date | None]:
        return self.registry.published_dates()

    def newest_published(self) -> date | None:
        return self.registry.newest_published()

    def sentences_of(self, article_id: str) -> list[Sentence]:
        return self.registry.sentences_of(article_id)

    def chunks_of(self, article_id: str) -> list[Chunk]:
        return self.registry.chunks_of(article_id)

    def idf(self, term: str) -> float:
        """BM25's idf of a stemmed term over the chunks."""
        with self._lexical_lock:
            return self.bm25.idf(term)

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        return self.registry.chunks(ids)

    def sentences_with_vectors(self, chunk: Chunk) -> tuple[list[Sentence], np.ndarray]:
        return self.registry.sentences_with_vectors(chunk.article_id, chunk.first_sentence, chunk.last_sentence)

    def article_sentences_with_vectors(self, article_id: str) -> tuple[list[Sentence], np.ndarray]:
        return self.registry.sentences_with_vectors(article_id, 0, 10**9)
