"""Query latency against library size, incremental add, BM25 update cost, embedded vs. server Chroma.

Builds one library from RealTimeQA news docs (really embedded), then grows it to each size by
re-adding those articles under new ids with their vectors re-used (the model is not run again;
segmentation, registry, Chroma and BM25 do their full work). At each size: retrieval (dense + BM25
+ fusion) and a whole extractive answer over real RealTimeQA questions, with a query embedding as
the in-run baseline. At the size nearest 25k chunks: adding one new article (really embedded),
what BM25's append costs, and what a full BM25 rebuild would cost. With `--server` the same
sizes are also measured against a `chroma run` server. Writes JSON and a PNG plot.

    python bench/bench_scale.py --sizes 2500 25000 100000 --server       # make bench-full
    python bench/bench_scale.py --sizes 2500 --questions 40               # make bench (quick)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import RESULTS, chroma_server, machine, peak_rss_mb, rtqa_articles, rtqa_questions, summary_ms, timed, write_result  # noqa: E402
from rag.store import store as store_module  # noqa: E402
from rag.library import Library  # noqa: E402
from rag.settings import Settings  # noqa: E402


class ReusedVectors:
    """The library's embedder, except that texts it has embedded before are not embedded again."""

    def __init__(self, embedder):
        self.inner, self.cache = embedder, {}
        self.model_name = embedder.model_name

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_array(self, texts):
        return self.embed_with_spans(texts, [[] for _ in texts])[0]

    def embed_with_spans(self, texts, spans):
        todo = [i for i, t in enumerate(texts) if (t, tuple(spans[i])) not in self.cache]
        if todo:
            vecs, span_vecs = self.inner.embed_with_spans([texts[i] for i in todo], [spans[i] for i in todo])
            for n, i in enumerate(todo):
                self.cache[(texts[i], tuple(spans[i]))] = (vecs[n], span_vecs[n])
        hits = [self.cache[(t, tuple(s))] for t, s in zip(texts, spans)]
        return np.stack([h[0] for h in hits]) if hits else np.zeros((0, 384), np.float32), [h[1] for h in hits]


def reuse_segmentation(store) -> None:
    """Copies have their original's text, so their sentences and chunks are the original's with
    the id changed: segment each text once (Punkt is not what this bench measures)."""
    original, seen = store._prepare, {}

    def prepare(article):
        key = article.sha256
        if key not in seen:
            seen[key] = original(article)
        done = seen[key]
        prefix = f"{article.id}@{article.sha256[:8]}"
        sentences = [type(s)(article.id, s.index, s.start, s.end) for s in done.sentences]
        chunks = [type(c)(f"{prefix}#{c.index}", article.id, c.index, c.start, c.end, c.first_sentence, c.last_sentence)
                  for c in done.chunks]
        return store_module._Prepared(article, sentences, chunks)

    store._prepare = prepare


def chunk_count(library: Library) -> int:
    return len(library.store.bm25.chunk_ids)


def grow(library: Library, base: list, target: int, copy: list[int]) -> None:
    """Re-add the base articles under new ids (vectors re-used) until the library has `target` chunks."""
    per_article = max(1, chunk_count(library) // max(1, library.store.ready_count()))
    while chunk_count(library) < target:
        need = max(1, (target - chunk_count(library)) // per_article)
        batch = []
        for article in base[:need]:
            batch.append(article.model_copy(update={"id": f"{article.id}-copy{copy[0]}"}))
        copy[0] += 1
        library.store.index(batch)


def query_latency(library: Library, questions: list[str]) -> dict:
    embedder = library.embedder
    embed, retrieve, answer = [], [], []
    for q in questions:
        embedder._cache.clear()
        embed.append(timed(lambda: embedder.embed_array([q])) * 1000)
        embedder._cache.clear()
        retrieve.append(timed(lambda: library.retriever.retrieve(q, 5)) * 1000)
        embedder._cache.clear()
        answer.append(timed(lambda: library.ask(q)) * 1000)
    return {"query_embedding_ms": summary_ms(embed), "retrieval_ms": summary_ms(retrieve),
            "answer_ms": summary_ms(answer), "machine": machine()}


def incremental(library: Library, fresh: list) -> dict:
    """Adding one new article (really embedded) at the current size; BM25 append vs. rebuild."""
    store = library.store
    add_s, bm25_s = [], []
    original_add = store.bm25.add

    def timed_add(ids, texts):
        start = time.perf_counter()
        original_add(ids, texts)
        bm25_s.append(time.perf_counter() - start)

    store.bm25.add = timed_add
    try:
        for article in fresh:
            add_s.append(timed(lambda: library.add_articles([article])))
    finally:
        del store.bm25.add
    rows = store.registry.ready_chunks()
    texts = store._chunk_texts(rows)
    tokenize_and_rebuild_s = timed(lambda: store.bm25.rebuild([r[0] for r in rows], texts))
    return {"chunks": chunk_count(library), "add_one_article_s": summary_ms([s * 1000 for s in add_s]),
            "bm25_append_ms": summary_ms([s * 1000 for s in bm25_s]),
            "bm25_full_rebuild_s": round(tokenize_and_rebuild_s, 2), "machine": machine()}


def run_sizes(label: str, library: Library, base: list, sizes: list[int], questions: list[str], fresh: list,
              add_at: int) -> list[dict]:
    rows, copy = [], [0]
    for size in sizes:
        build_s = timed(lambda: grow(library, base, size, copy))
        row = {"store": label, "target": size, "chunks": chunk_count(library), "grow_s": round(build_s, 1),
               **query_latency(library, questions), "peak_rss_mb": round(peak_rss_mb())}
        if size == add_at and fresh:
            row["incremental"] = incremental(library, fresh)
        rows.append(row)
        print(f"  [{label}] {row['chunks']} chunks: retrieval p50/p95 {row['retrieval_ms']['p50']}/{row['retrieval_ms']['p95']} ms, "
              f"answer {row['answer_ms']['p50']}/{row['answer_ms']['p95']} ms, query embedding {row['query_embedding_ms']['p50']} ms; "
              f"load {row['machine']['loadavg']}" + (f"; add 1 article p50 {row['incremental']['add_one_article_s']['p50']} ms"
                                                     if "incremental" in row else ""), flush=True)
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for store in sorted({r["store"] for r in rows}):
        mine = [r for r in rows if r["store"] == store]
        x = [r["chunks"] for r in mine]
        for key, style in (("retrieval_ms", "-o"), ("answer_ms", "--s")):
            ax.plot(x, [r[key]["p95"] for r in mine], style, label=f"{store}: {key.split('_')[0]} p95")
    ax.axhline(50, color="grey", lw=0.8, ls=":")
    ax.axhline(150, color="grey", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the library")
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"Query latency vs. library size ({os.cpu_count()} cores, shared machine)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 25000, 100000])
    parser.add_argument("--base-docs", type=int, default=400, help="RealTimeQA docs really embedded")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--adds", type=int, default=5, help="single-article adds timed at the size nearest 25k")
    parser.add_argument("--server", action="store_true", help="also against a `chroma run` server")
    parser.add_argument("--server-sizes", type=int, nargs="+", help="sizes for the server (default: --sizes)")
    parser.add_argument("--out", default="scale")
    args = parser.parse_args()

    docs = rtqa_articles(args.base_docs + args.adds)
    base, fresh = docs[:args.base_docs], docs[args.base_docs:]
    questions = rtqa_questions(args.questions)
    add_at = min(args.sizes, key=lambda s: abs(s - 25000))
    result: dict = {"command": " ".join(sys.argv), "start": machine(), "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        library = Library(Settings(RAG_DATA_DIR=tmp_path / "embedded", RAG_LLM="none"))
        library.store.embedder = ReusedVectors(library.embedder)
        reuse_segmentation(library.store)
        base_s = timed(lambda: library.add_articles(base))
        result["base"] = {"docs": len(base), "chunks": chunk_count(library), "ingest_s": round(base_s, 1), "machine": machine()}
        print(f"base: {len(base)} docs, {chunk_count(library)} chunks in {base_s:.0f} s", flush=True)
        # The copies' chunk texts equal the base's, so the wrapper serves their vectors from its cache.
        result["rows"] += run_sizes("embedded", library, base, args.sizes, questions, fresh, add_at)
        if args.server:
            with chroma_server(tmp_path) as port:
                served = Library(Settings(RAG_DATA_DIR=tmp_path / "served", RAG_LLM="none", CHROMA_HOST="127.0.0.1",
                                          CHROMA_PORT=port))
                served.store.embedder = library.store.embedder  # the same cache: no model runs for the copies
                reuse_segmentation(served.store)
                served.add_articles(base)
                result["rows"] += run_sizes("chroma server", served, base, args.server_sizes or args.sizes, questions, [], add_at)
    result["end"] = machine()
    write_result(args.out, result)
    plot(result["rows"], RESULTS / f"{args.out}.png")


if __name__ == "__main__":
    main()
