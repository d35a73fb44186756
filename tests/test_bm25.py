"""The append-only BM25 index scores exactly as bm25s does over the same chunks, survives a
reopen, and appending or removing chunks equals building from scratch."""

from __future__ import annotations

import bm25s
import numpy as np

from rag.lexical import terms
from rag.store.bm25 import BM25Index

DOCS = [
    "Kremlin spokesperson Dmitry Peskov said diplomats discussed a framework for a peace deal.",
    "The U.S. envoy met Ukrainian officials in Geneva on Sunday to discuss the peace plan.",
    "Markets rose after the central bank held interest rates steady for a third month.",
    "Peskov told reporters Friday that Moscow remains open to peace negotiations.",
    "",
    "A storm knocked out power to 200,000 homes; crews restored most of it by Monday.",
    "The bank said inflation would fall to 2 percent next year, the bank's governor said.",
]
QUERIES = ["Who is the Kremlin spokesperson?", "peace plan talks in Geneva", "bank interest rates inflation",
           "power outage storm", "Peskov peace Peskov", "nothing matches zebra"]


def bm25s_scores(texts: list[str], query: str) -> np.ndarray:
    retriever = bm25s.BM25()
    retriever.index([terms(t) or ["__empty__"] for t in texts], show_progress=False)
    known = [t for t in terms(query) if t in retriever.vocab_dict]
    return retriever.get_scores(known) if known else np.zeros(len(texts))


def test_scores_equal_bm25s_and_survive_reopen(tmp_path):
    index = BM25Index(tmp_path / "bm25")
    index.add([f"c{i}" for i in range(4)], DOCS[:4])
    index.add([f"c{i}" for i in range(4, 7)], DOCS[4:])  # a second segment
    reopened = BM25Index(tmp_path / "bm25")
    assert reopened.chunk_ids == [f"c{i}" for i in range(7)]
    for query in QUERIES:
        expected = bm25s_scores(DOCS, query)
        assert np.allclose(index.scores(query), expected, atol=1e-5), query
        assert np.allclose(reopened.scores(query), expected, atol=1e-5), query
    assert abs(index.idf(terms("Peskov")[0]) - np.log(1 + (7 - 2 + 0.5) / 2.5)) < 1e-9


def test_removing_equals_building_without_those_chunks(tmp_path):
    index = BM25Index(tmp_path / "bm25")
    for i, doc in enumerate(DOCS):
        index.add([f"c{i}"], [doc])  # one segment each, as single-article adds make
    index.remove({"c0", "c3", "unknown"})
    kept = [d for i, d in enumerate(DOCS) if i not in (0, 3)]
    reopened = BM25Index(tmp_path / "bm25")
    assert index.chunk_ids == reopened.chunk_ids == [f"c{i}" for i in (1, 2, 4, 5, 6)]
    assert len(list((tmp_path / "bm25").glob("seg-*.npz"))) == 1  # rewritten as one segment
    for query in QUERIES:
        expected = bm25s_scores(kept, query)
        assert np.allclose(index.scores(query), expected, atol=1e-5), query
        assert np.allclose(reopened.scores(query), expected, atol=1e-5), query
    index.remove(set(index.chunk_ids))
    assert BM25Index(tmp_path / "bm25").chunk_ids == [] and not index.scores("Peskov").any()
    index.add(["c9"], [DOCS[3]])  # the only article, updated: its old chunks out, new ones in
    reopened = BM25Index(tmp_path / "bm25")
    assert reopened.chunk_ids == ["c9"]
    for query in QUERIES:
        assert np.allclose(reopened.scores(query), bm25s_scores([DOCS[3]], query), atol=1e-5), query


def test_a_half_written_segment_is_ignored(tmp_path):
    """A crash after writing a segment file but before the manifest names it leaves the old index."""
    index = BM25Index(tmp_path / "bm25")
    index.add(["a"], [DOCS[0]])
    (tmp_path / "bm25" / "seg-orphan.npz").write_bytes(b"partial")
    assert BM25Index(tmp_path / "bm25").chunk_ids == ["a"]
