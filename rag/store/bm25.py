"""A persisted BM25 index over the ready chunks that grows by appending, not by rebuilding.

Scores are bm25s's default ("lucene": idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf part
tf / (tf + k1 (1 - b + b |d| / avgdl)), k1 = 1.5, b = 0.75; tests/test_bm25.py checks they equal
bm25s's), but bm25s can only index a whole corpus at once, which made every `rag add` re-tokenize
the whole library. Here the postings live in append-only segments (term id, chunk, tf), so adding
chunks costs what tokenizing them costs; N, df and avgdl are global and kept up to date, so scores
are exactly those of a full rebuild. Removing chunks filters the postings in memory and rewrites
the index once (no re-tokenizing). On disk: one `.npz` per segment plus `manifest.json`, replaced
atomically; the manifest lists the segments in order (new terms get ids in that order).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np

from rag.lexical import VERSION, terms

K1, B = 1.5, 0.75  # bm25s's defaults, which the previous index used
_MAX_SEGMENTS = 32  # beyond this many, segments are merged into one (query cost grows with them)


class _Segment:
    """Postings of some chunks, sorted by term id: `terms[i]` occurs `tfs[i]` times in chunk `docs[i]`."""

    def __init__(self, name: str, terms_: np.ndarray, docs: np.ndarray, tfs: np.ndarray):
        order = np.lexsort((docs, terms_))
        self.name, self.terms, self.docs, self.tfs = name, terms_[order], docs[order], tfs[order]


class BM25Index:
    """Chunk ids (in the order they were added), their BM25 postings, and per chunk its article id
    and published date (as an ordinal, -1 when unknown), which searches filter on; empty until built.

    The article ids and dates are not persisted: the store labels a loaded index from the registry
    (`label`)."""

    def __init__(self, path: Path):
        self.path = path
        self.chunk_ids: list[str] = []
        self.articles: list[str] = []
        self.dates = np.zeros(0, dtype=np.int64)
        self._vocab: dict[str, int] = {}
        self._df = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.float64)
        self._segments: list[_Segment] = []
        self._norm: np.ndarray | None = None
        self._load()

    # -- persistence ---------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            manifest = json.loads((self.path / "manifest.json").read_text())
            if manifest.get("terms_version") != VERSION:
                return  # built by another tokenizer: treated as absent, rebuilt from the registry
            for name in manifest["segments"]:
                with np.load(self.path / name, allow_pickle=False) as data:
                    self._append(name, list(data["chunk_ids"]), list(data["new_terms"]),
                                 data["terms"], data["docs"], data["tfs"], data["lengths"])
        except (OSError, ValueError, KeyError):
            self._clear()  # unreadable index: treated as absent, rebuilt from the registry

    def _clear(self) -> None:
        self.chunk_ids, self._vocab, self._segments, self._norm = [], {}, [], None
        self.articles, self.dates = [], np.zeros(0, dtype=np.int64)
        self._df = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.float64)

    def _write_manifest(self) -> None:
        tmp = self.path / f"manifest.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps({"terms_version": VERSION, "segments": [s.name for s in self._segments]}))
        os.replace(tmp, self.path / "manifest.json")

    def _write_segment(self, chunk_ids: list[str], new_terms: list[str], seg: _Segment, lengths: np.ndarray) -> None:
        """Write the segment file under a fresh name; it counts only once the manifest lists it."""
        base = len(self.chunk_ids) - len(chunk_ids)
        tmp = self.path / f"{seg.name}.tmp.npz"
        np.savez(tmp, chunk_ids=np.array(chunk_ids, dtype=str), new_terms=np.array(new_terms, dtype=str),
                 terms=seg.terms.astype(np.int32), docs=(seg.docs - base).astype(np.int32),
                 tfs=seg.tfs.astype(np.int32), lengths=lengths.astype(np.int32))
        os.replace(tmp, self.path / seg.name)

    def _rewrite(self) -> None:
        """Persist the whole in-memory index as one segment (after removals, or too many segments)."""
        vocab_terms = list(self._vocab)
        all_terms = np.concatenate([s.terms for s in self._segments]) if self._segments else np.zeros(0, np.int64)
        all_docs = np.concatenate([s.docs for s in self._segments]) if self._segments else np.zeros(0, np.int64)
        all_tfs = np.concatenate([s.tfs for s in self._segments]) if self._segments else np.zeros(0, np.int64)
        old = [s.name for s in self._segments]
        if not self.chunk_ids:  # the disk keeps no vocabulary then, so neither may memory (term ids restart at 0)
            self._vocab, self._df = {}, np.zeros(0, dtype=np.int64)
        self._segments = [_Segment(f"seg-{uuid.uuid4().hex}.npz", all_terms, all_docs, all_tfs)] if self.chunk_ids else []
        self.path.mkdir(parents=True, exist_ok=True)
        if self._segments:
            self._write_segment(self.chunk_ids, vocab_terms, self._segments[0], self._lengths)
        self._write_manifest()
        for name in old:
            (self.path / name).unlink(missing_ok=True)

    # -- writes ---------------------------------------------------------------------------------

    def _append(self, name: str, chunk_ids: list[str], new_terms: list[str], term_ids: np.ndarray,
                docs: np.ndarray, tfs: np.ndarray, lengths: np.ndarray) -> _Segment:
        base = len(self.chunk_ids)
        for term in new_terms:
            self._vocab[term] = len(self._vocab)
        seg = _Segment(name, term_ids.astype(np.int64), docs.astype(np.int64) + base, tfs.astype(np.float64))
        df = np.zeros(len(self._vocab), dtype=np.int64)
        df[: len(self._df)] = self._df
        np.add.at(df, seg.terms, 1)  # each (term, chunk) pair occurs once in a segment
        self._df = df
        self._lengths = np.concatenate([self._lengths, lengths.astype(np.float64)])
        self.chunk_ids = self.chunk_ids + list(chunk_ids)
        self.articles = self.articles + [""] * len(chunk_ids)
        self.dates = np.concatenate([self.dates, np.full(len(chunk_ids), -1, dtype=np.int64)])
        self._segments.append(seg)
        self._norm = None
        return seg

    def add(self, chunk_ids: list[str], texts: list[str], articles: list[str] | None = None,
            dates: list[int] | None = None) -> None:
        """Index `texts` (one per new chunk id, of `articles`, published on `dates` as ordinals) and
        persist them as a new segment."""
        if not chunk_ids:
            return
        self._add(chunk_ids, texts)
        n = len(chunk_ids)
        if articles is not None:
            self.articles[-n:] = list(articles)
        if dates is not None:
            self.dates[-n:] = np.asarray(dates, dtype=np.int64)

    def _add(self, chunk_ids: list[str], texts: list[str]) -> None:
        new_terms: dict[str, int] = {}  # terms first seen here, with the ids _append will give them
        term_ids, docs, tfs, lengths = [], [], [], []
        for doc, text in enumerate(texts):
            counts = Counter(terms(text) or ["__empty__"])  # as before: an empty chunk is one dummy term
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                tid = self._vocab.get(term)
                if tid is None:
                    tid = new_terms.setdefault(term, len(self._vocab) + len(new_terms))
                term_ids.append(tid)
                docs.append(doc)
                tfs.append(tf)
        seg = self._append(f"seg-{uuid.uuid4().hex}.npz", chunk_ids, list(new_terms), np.array(term_ids, dtype=np.int64),
                           np.array(docs, dtype=np.int64), np.array(tfs, dtype=np.int64), np.array(lengths))
        if len(self._segments) > _MAX_SEGMENTS:
            self._rewrite()
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self._write_segment(list(chunk_ids), list(new_terms), seg, np.array(lengths))
        self._write_manifest()

    def remove(self, chunk_ids: set[str]) -> None:
        """Drop these chunks (unknown ids are ignored) and persist the index once."""
        keep = np.array([c not in chunk_ids for c in self.chunk_ids], dtype=bool)
        if keep.all():
            return
        new_index = np.cumsum(keep) - 1
        for seg in self._segments:
            live = keep[seg.docs]
            np.subtract.at(self._df, seg.terms[~live], 1)
            seg.terms, seg.docs, seg.tfs = seg.terms[live], new_index[seg.docs[live]], seg.tfs[live]
        self.chunk_ids = [c for c, k in zip(self.chunk_ids, keep) if k]
        self.articles = [a for a, k in zip(self.articles, keep) if k]
        self.dates = self.dates[keep]
        self._lengths = self._lengths[keep]
        self._norm = None
        self._rewrite()

    def rebuild(self, chunk_ids: list[str], texts: list[str]) -> None:
        """Index exactly these chunks from scratch (the registry disagreed with the index); label
        them afterwards."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._clear()
        self.add(chunk_ids, texts)
        if not chunk_ids:
            self.path.mkdir(parents=True, exist_ok=True)
            self._write_manifest()

    def label(self, meta: dict[str, tuple[str, int]]) -> None:
        """Set every chunk's article id and date ordinal from `meta` (chunk id -> both); chunks it
        does not name get no article and no date."""
        rows = [meta.get(c, ("", -1)) for c in self.chunk_ids]
        self.articles = [a for a, _ in rows]
        self.dates = np.array([d for _, d in rows], dtype=np.int64)

    # -- reads ----------------------------------------------------------------------------------

    def chunks_of(self, article_ids: set[str]) -> set[str]:
        """The ids of these articles' chunks."""
        return {c for c, a in zip(self.chunk_ids, self.articles) if a in article_ids}

    def search(self, query: str, k: int, since: date | None, until: date | None,
               allowed: set[str], only: frozenset[str] | None = None) -> list[tuple[str, float]]:
        """The k best-scoring chunks with a positive score, of the `allowed` articles, published in
        [since, until] when given (a chunk with no date is outside any date range), and only of the
        articles `only` names when given (the caller's filter, applied before the k are chosen)."""
        scores = self.scores(query)
        if only is not None:
            scores = np.where([a in only for a in self.articles], scores, 0.0)
        if since or until:
            low = since.toordinal() if since else 1
            high = until.toordinal() if until else 10**9
            scores = np.where((self.dates >= low) & (self.dates <= high), scores, 0.0)
        top = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
        top = top[np.argsort(-scores[top])]  # a full sort of 100k scores costs more than the scoring
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0 and self.articles[i] in allowed]

    def idf(self, term: str) -> float:
        """BM25's idf of a stemmed term over the chunks (unseen terms get the highest idf)."""
        n = len(self.chunk_ids)
        tid = self._vocab.get(term)
        df = int(self._df[tid]) if tid is not None else 0
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with `chunk_ids`) for `query`.

        A term repeated in the query counts once per occurrence, as in bm25s."""
        scores = np.zeros(len(self.chunk_ids), dtype=np.float64)
        known = [self._vocab[t] for t in terms(query) if t in self._vocab]
        if not known or not self.chunk_ids:
            return scores.astype(np.float32)
        n = len(self.chunk_ids)
        if self._norm is None or len(self._norm) != n:  # length normalisation, per chunk set
            self._norm = K1 * (1 - B + B * self._lengths / self._lengths.mean())
        norm = self._norm
        for tid, repeat in Counter(known).items():
            df = int(self._df[tid])
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for seg in self._segments:
                lo, hi = np.searchsorted(seg.terms, [tid, tid + 1])
                if lo == hi:
                    continue
                docs, tfs = seg.docs[lo:hi], seg.tfs[lo:hi]
                scores[docs] += repeat * idf * tfs / (tfs + norm[docs])
        return scores.astype(np.float32)
