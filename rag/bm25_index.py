"""A persisted bm25s index over the ready chunks, rebuilt when the set of chunks changes.

bm25s has no incremental add, and a rebuild of tens of thousands of chunks takes seconds, so the
index is derived data: rebuilt from the registry whenever its fingerprint disagrees.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import math
from collections import Counter

import bm25s
import numpy as np

from rag.lexical import VERSION, terms


def fingerprint(chunk_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(chunk_ids).encode()).hexdigest()


class BM25Index:
    """Chunk ids and a bm25s retriever over their texts; empty until built."""

    def __init__(self, path: Path):
        self.path = path
        self.chunk_ids: list[str] = []
        self.fingerprint = fingerprint([])
        self._retriever: bm25s.BM25 | None = None
        self._df: dict[str, int] = {}
        self._load()

    def _load(self) -> None:
        ids_file = self.path / "chunk_ids.json"
        if not ids_file.exists():
            return
        try:
            if json.loads((self.path / "meta.json").read_text()).get("terms_version") != VERSION:
                return  # built by another tokenizer: treated as absent, rebuilt from the registry
            ids = json.loads(ids_file.read_text())
            df = json.loads((self.path / "df.json").read_text())
            retriever = bm25s.BM25.load(str(self.path / "index")) if ids else None
        except (OSError, ValueError, KeyError):
            return  # unreadable index: treated as absent, rebuilt from the registry
        self.chunk_ids, self._retriever, self._df, self.fingerprint = ids, retriever, df, fingerprint(ids)

    def rebuild(self, chunk_ids: list[str], texts: list[str]) -> None:
        """Index `texts` (one per chunk id) and persist atomically (write aside, then swap)."""
        retriever = None
        tokenized = [terms(t) or ["__empty__"] for t in texts]
        df = Counter(term for doc in tokenized for term in set(doc))
        if chunk_ids:
            retriever = bm25s.BM25()
            retriever.index(tokenized, show_progress=False)
        tmp = self.path.with_name(self.path.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if retriever is not None:
            retriever.save(str(tmp / "index"))
        (tmp / "chunk_ids.json").write_text(json.dumps(chunk_ids))
        (tmp / "df.json").write_text(json.dumps(df))
        (tmp / "meta.json").write_text(json.dumps({"terms_version": VERSION}))
        old = self.path.with_name(self.path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            self.path.rename(old)
        tmp.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)
        self.chunk_ids, self._retriever, self._df = chunk_ids, retriever, dict(df)
        self.fingerprint = fingerprint(chunk_ids)

    def idf(self, term: str) -> float:
        """BM25's idf of a stemmed term over the chunks (unseen terms get the highest idf)."""
        n = len(self.chunk_ids)
        df = self._df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with `chunk_ids`) for `query`."""
        if self._retriever is None:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        vocab = self._retriever.vocab_dict
        known = [t for t in terms(query) if t in vocab]
        if not known:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return self._retriever.get_scores(known)
