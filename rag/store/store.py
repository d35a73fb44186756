"""The store: registry (truth) + Chroma vectors + BM25, kept in agreement.

Write order for a batch of articles: registry rows `pending` -> vectors in Chroma -> `ready` ->
chunks appended to BM25. Retrieval only returns chunks of `ready` articles, so a crash at any step leaves
nothing half-visible; `repair()` at open finishes whatever a crash interrupted.
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

from rag.store.bm25 import BM25Index
from rag.errors import StoreError
from rag.store.locking import WriterLock
from rag.models import Article, Chunk, Sentence
from rag.store.origins import ARTICLE_TABLES, SCHEMA as ORIGINS_SCHEMA, Origins
from rag.store.registry import Registry
from rag.settings import Settings
from rag.text import chunk_sentences, split_sentences
from rag.store.vectors import VectorIndex

Progress = Callable[[int, int], None]


def chunk_context(title: str, chunk_text: str) -> str:
    """What gets embedded and BM25-indexed for a chunk: its text under the article's headline.

    Chunks deep in an article rarely repeat its subject ("the plan", "he"); the headline restores it.
    """
    return f"{title}\n{chunk_text}"


# Chunks embedded (and added to Chroma) together: enough for length bucketing to fill batches of
# similar lengths, small enough that progress moves and a crash loses little. bench/ measured it.
_EMBED_CHUNKS = 256
# Below this much free space a write failure is reported as a full disk. SQLite and Chroma write
# in pages and log segments of up to a few MB, so they fail before the disk reaches 0 bytes.
_LOW_DISK_BYTES = 16 * 1024 * 1024


@dataclass
class _Prepared:
    article: Article
    sentences: list[Sentence]
    chunks: list[Chunk]


def _ordinal(published: str | None) -> int:
    return date.fromisoformat(published).toordinal() if published else -1


def _ahead(pool: ThreadPoolExecutor, fn: Callable, items: list, depth: int = 64) -> Iterator:
    """fn(item) for each item in order, the pool computing up to `depth` items ahead of the caller
    (a batch of ~256 chunks is ~20 news articles, so one ahead would barely overlap)."""
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
    Chroma's first migration ("table collections already exists", in CI); opening one at a
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

    def __init__(self, settings: Settings, embedder, notify: Callable[[str], None] | None = None):
        self.settings = settings
        self.embedder = embedder
        self.lock = WriterLock(settings.data_dir / "write.lock", notify)
        self.repair_error: str | None = None  # why pending work could not be finished at open
        with _opening(settings.data_dir):
            self.registry = Registry(settings.registry_path, (ORIGINS_SCHEMA,), ARTICLE_TABLES)
            self.vectors = VectorIndex(settings, embedder.model_name)
        self.origins = Origins(self.registry)
        self.bm25 = BM25Index(settings.bm25_path)
        self._seen = self._stamp()  # see _catch_up
        self._writers = 0  # nesting depth of `writing()` in this process
        self._write_lock = threading.RLock()
        # BM25's index and its per-chunk article ids and dates change together (a reload after
        # another process wrote, an add, a remove) while other threads search them: searches and
        # changes take this lock, so a search never pairs one version's scores with another's ids.
        self._lexical_lock = threading.RLock()
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
            self._writers += 1
            try:
                if self._writers == 1:
                    self._catch_up()
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
                    return {"finished_removals": len(deleting), "reindexed": len(pending)}
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
            by_id = {r[0]: r for r in rows}
            meta = [by_id.get(c) for c in self.bm25.chunk_ids]
            self._bm25_articles = [m[1] if m else "" for m in meta]
            self._bm25_dates = np.array([_ordinal(m[4]) if m else -1 for m in meta], dtype=np.int64)
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
        """Segment, chunk, embed and store articles (new ones or new versions), then make them ready.

        Articles are segmented one ahead in a thread while the model embeds the previous batch
        (the model runs outside the GIL), and embedded in batches of about `_EMBED_CHUNKS` chunks
        across articles, so length bucketing has enough texts to group and Chroma gets one add.
        """
        with self.writing():
            known = set(self.registry.articles([a.id for a in articles]))  # updates or crash leftovers
            batch: list[_Prepared] = []
            done = 0
            pool = ThreadPoolExecutor(max_workers=1)
            try:
                for prepared in _ahead(pool, self._prepare, articles):
                    batch.append(prepared)
                    if sum(len(p.chunks) for p in batch) >= _EMBED_CHUNKS:
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
        """(sentence vectors, chunk vectors) per article.

        `late` sentence vectors pool each sentence's tokens inside its chunk's forward pass (a
        sentence shared by two overlapping chunks gets the mean of both); `separate` ones come from
        a second pass over the sentences alone, as do late ones cut off by the token limit."""
        texts, spans, owners = [], [], []
        late = self.settings.sentence_vectors == "late" and hasattr(self.embedder, "embed_with_spans")
        for n, p in enumerate(batch):
            for c in p.chunks:
                head = len(p.article.title) + 1  # chunk_context puts the title and a newline first
                texts.append(chunk_context(p.article.title, p.article.text[c.start:c.end]))
                members = range(c.first_sentence, c.last_sentence + 1) if late else ()
                spans.append([(p.sentences[i].start - c.start + head, p.sentences[i].end - c.start + head) for i in members])
                owners.append((n, c.first_sentence))
        if late:
            chunk_vecs, span_vecs = self.embedder.embed_with_spans(texts, spans)
        else:
            chunk_vecs, span_vecs = self.embedder.embed_array(texts), [np.zeros((0, 384))] * len(texts)
        sums = [np.zeros((len(p.sentences), chunk_vecs.shape[1]), dtype=np.float64) for p in batch]
        counts = [np.zeros(len(p.sentences)) for p in batch]
        for (n, first), vecs in zip(owners, span_vecs):
            ok = ~np.isnan(vecs[:, 0]) if len(vecs) else np.zeros(0, dtype=bool)
            rows = first + np.flatnonzero(ok)
            sums[n][rows] += vecs[ok]
            counts[n][rows] += 1
        missing = [(n, i) for n, c in enumerate(counts) for i in np.flatnonzero(c == 0)]
        if missing:
            alone = self.embedder.embed_array([batch[n].article.text[batch[n].sentences[i].start:batch[n].sentences[i].end]
                                               for n, i in missing])
            for (n, i), vec in zip(missing, alone):
                sums[n][i], counts[n][i] = vec, 1
        out, offset = [], 0
        for n, p in enumerate(batch):
            sent = sums[n] / counts[n][:, None]
            sent /= np.clip(np.linalg.norm(sent, axis=1, keepdims=True), 1e-12, None)
            out.append((sent.astype(np.float32), chunk_vecs[offset:offset + len(p.chunks)]))
            offset += len(p.chunks)
        return out

    def _store_batch(self, batch: list["_Prepared"], known: set[str]) -> None:
        """Registry rows `pending` -> vectors in Chroma (one add) -> `ready` -> BM25 appended."""
        vectors = self._embed(batch)
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
            stale = {c for c, a in zip(self.bm25.chunk_ids, self._bm25_articles) if a in replaced} if replaced else set()
            if stale:
                self._drop_from_bm25(stale)
            self.bm25.add(new_ids, texts)
            self._bm25_articles += [p.article.id for p in batch for _ in p.chunks]
            self._bm25_dates = np.concatenate([self._bm25_dates, np.array(dates, dtype=np.int64)])
        self._ready |= set(ids)

    def _drop_from_bm25(self, chunk_ids: set[str]) -> None:
        with self._lexical_lock:
            keep = np.array([c not in chunk_ids for c in self.bm25.chunk_ids], dtype=bool)
            self.bm25.remove(chunk_ids)
            self._bm25_articles = [a for a, k in zip(self._bm25_articles, keep) if k]
            self._bm25_dates = self._bm25_dates[keep]

    def remove(self, ids: list[str]) -> None:
        with self.writing():
            self.registry.set_state(ids, "deleting")
            self._ready -= set(ids)
            for article_id in ids:
                self.vectors.delete_article(article_id)
            self.registry.delete(ids)
            gone = set(ids)
            self._drop_from_bm25({c for c, a in zip(self.bm25.chunk_ids, self._bm25_articles) if a in gone})

    # -- reads --------------------------------------------------------------------------------

    def is_ready(self, article_id: str) -> bool:
        return article_id in self._ready

    def ready_count(self) -> int:
        return len(self._ready)

    def dense_search(self, query_vector: list[float], k: int, since: date | None, until: date | None) -> list[tuple[str, float]]:
        hits = self.vectors.search(query_vector, k * 2, since, until)
        return [(cid, s) for cid, s in hits if cid.split("@", 1)[0] in self._ready][:k]

    def bm25_search(self, query: str, k: int, since: date | None, until: date | None) -> list[tuple[str, float]]:
        with self._lexical_lock:
            scores = self.bm25.scores(query)
            if len(scores) != len(self._bm25_dates):
                return []
            if since or until:
                low = since.toordinal() if since else 1
                high = until.toordinal() if until else 10**9
                scores = np.where((self._bm25_dates >= low) & (self._bm25_dates <= high), scores, 0.0)
            top = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
            top = top[np.argsort(-scores[top])]  # a full sort of 100k scores costs more than the scoring
            ids, articles = self.bm25.chunk_ids, self._bm25_articles
            return [(ids[i], float(scores[i])) for i in top if scores[i] > 0 and articles[i] in self._ready]

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        return self.registry.chunks(ids)

    def sentences_with_vectors(self, chunk: Chunk) -> tuple[list[Sentence], np.ndarray]:
        return self.registry.sentences_with_vectors(chunk.article_id, chunk.first_sentence, chunk.last_sentence)
