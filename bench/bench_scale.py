"""Query latency against library size, incremental add, BM25 update cost, embedded vs. server Chroma.

Builds one library from RealTimeQA news docs (really embedded), then grows it to each size by
importing those articles under new ids from its own `rag export` (vectors and segmentation re-used,
the model is not run again; the registry, Chroma and BM25 do their full work). At each size: retrieval (dense + BM25
+ fusion) and a whole extractive answer over real RealTimeQA questions, with a query embedding as
the in-run baseline. At the size nearest 25k chunks: adding one new article (really embedded),
what BM25's append costs, and what a full BM25 rebuild would cost. With `--server` the same
sizes are also measured against a `chroma run` server. Writes JSON and a PNG plot.

    python -m bench.bench_scale --sizes 2500 25000 100000 --server       # make bench-full
    python -m bench.bench_scale --sizes 2500 --questions 40               # make bench (quick)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.common import RESULTS, chroma_server, machine, peak_rss_mb, rtqa_articles, rtqa_questions, summary_ms, timed, write_result
from rag.library import Library
from rag.settings import Settings
from rag.store import chunk_context
from rag.store.bm25 import BM25Index


def export_records(library: Library, path: Path) -> tuple[dict, list[dict]]:
    """The library's articles as a `rag export` file holds them (text, sentences, chunks, vectors)."""
    library.export(path)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    return lines[0], lines[1:]


def write_copies(header: dict, records: list[dict], copy: int, path: Path) -> Path:
    """An export file of the records under new ids: importing it re-uses their vectors (the model is
    not run) and their segmentation, while the registry, Chroma and BM25 do their full work."""
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps(header | {"articles": len(records)}) + "\n")
        for record in records:
            out.write(json.dumps(record | {"id": f"{record['id']}-copy{copy}"}, ensure_ascii=False) + "\n")
    return path


def chunk_count(library: Library) -> int:
    return sum(s.chunks for s in library.articles())


def grow(library: Library, base: tuple[dict, list[dict]], target: int, copy: list[int], tmp: Path) -> None:
    """Import copies of the base articles under new ids until the library has `target` chunks."""
    header, records = base
    per_article = max(1, chunk_count(library) // max(1, library.ready_count()))
    while chunk_count(library) < target:
        need = max(1, (target - chunk_count(library)) // per_article)
        library.import_corpus(write_copies(header, records[:need], copy[0], tmp / f"copies-{copy[0]}.ng.gz"))
        copy[0] += 1


def query_latency(library: Library, questions: list[str]) -> dict:
    embed, retrieve, answer = [], [], []
    for q in questions:
        library.clear_query_cache()
        embed.append(timed(lambda: library.embed([q])) * 1000)
        library.clear_query_cache()
        retrieve.append(timed(lambda: library.retrieve(q, 5)) * 1000)
        library.clear_query_cache()
        answer.append(timed(lambda: library.ask(q)) * 1000)
    return {"query_embedding_ms": summary_ms(embed), "retrieval_ms": summary_ms(retrieve),
            "answer_ms": summary_ms(answer), "machine": machine()}


def chunk_texts(library: Library) -> tuple[list[str], list[str]]:
    """(chunk ids, embedded texts) of every ready chunk, as the store indexes them."""
    ids, texts = [], []
    for summary in library.articles():
        article = library.article(summary.id)
        for chunk in library.segments(summary.id)[1]:
            ids.append(chunk.id)
            texts.append(chunk_context(article.title, article.text[chunk.start:chunk.end]))
    return ids, texts


def incremental(library: Library, fresh: list, tmp: Path) -> dict:
    """Adding one new article (really embedded) at the current size; what BM25's append of its
    chunks costs against a full BM25 rebuild, on a BM25 index of the same chunks."""
    add_s = [timed(lambda: library.add_articles([article])) for article in fresh]
    text_of = dict(zip(*chunk_texts(library)))
    added = [[c.id for c in library.segments(article.id)[1]] for article in fresh]
    old = [i for i in text_of if not any(i in ids for ids in added)]
    index = BM25Index(tmp / "bm25-bench")
    rebuild_s = timed(lambda: index.rebuild(old, [text_of[i] for i in old]))
    append_s = [timed(lambda: index.add(ids, [text_of[i] for i in ids])) for ids in added]
    return {"chunks": chunk_count(library), "add_one_article_s": summary_ms([s * 1000 for s in add_s]),
            "bm25_append_ms": summary_ms([s * 1000 for s in append_s]),
            "bm25_full_rebuild_s": round(rebuild_s, 2), "machine": machine()}


def run_sizes(label: str, library: Library, base: tuple[dict, list[dict]], sizes: list[int], questions: list[str],
              fresh: list, add_at: int, tmp: Path) -> list[dict]:
    rows, copy = [], [0]
    for size in sizes:
        build_s = timed(lambda: grow(library, base, size, copy, tmp))
        row = {"store": label, "target": size, "chunks": chunk_count(library), "grow_s": round(build_s, 1),
               **query_latency(library, questions), "peak_rss_mb": round(peak_rss_mb())}
        if size == add_at and fresh:
            row["incremental"] = incremental(library, fresh, tmp)
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
        base_s = timed(lambda: library.add_articles(base))
        result["base"] = {"docs": len(base), "chunks": chunk_count(library), "ingest_s": round(base_s, 1), "machine": machine()}
        print(f"base: {len(base)} docs, {chunk_count(library)} chunks in {base_s:.0f} s", flush=True)
        exported = export_records(library, tmp_path / "base.ng.gz")
        result["rows"] += run_sizes("embedded", library, exported, args.sizes, questions, fresh, add_at, tmp_path)
        if args.server:
            with chroma_server(tmp_path) as port:
                served = Library(Settings(RAG_DATA_DIR=tmp_path / "served", RAG_LLM="none", CHROMA_HOST="127.0.0.1",
                                          CHROMA_PORT=port))
                served.import_corpus(tmp_path / "base.ng.gz")  # the same vectors: no model runs for the copies
                result["rows"] += run_sizes("chroma server", served, exported, args.server_sizes or args.sizes, questions,
                                            [], add_at, tmp_path)
    result["end"] = machine()
    write_result(args.out, result)
    plot(result["rows"], RESULTS / f"{args.out}.png")


if __name__ == "__main__":
    main()
