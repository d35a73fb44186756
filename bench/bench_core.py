"""Ingestion and query latency of the core library on SQuAD v1.1 articles.

Speed on a shared machine is noisy, so every number is also printed as a ratio to a baseline
measured in the same run: ingestion against embedding the same chunk texts alone (the floor any
indexer pays), queries against embedding the query alone.

    python bench/bench_core.py --dataset ../shared/datasets/squad-v1.1/dev-half-a.json [--questions 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from evals.datasets import load_squad
from rag.library import Library
from rag.settings import Settings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="SQuAD v1.1 JSON")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    evalset = load_squad(args.dataset)
    with tempfile.TemporaryDirectory() as tmp:
        library = Library(Settings(RAG_DATA_DIR=Path(tmp), RAG_LLM="none"))
        library.embedder.embed_array(["warm up"])
        chars = sum(len(a.text) for a in evalset.articles)
        ingest_ms = timed(lambda: library.add_articles(evalset.articles))
        chunks = [c for a in evalset.articles for c in library.store.registry.chunks_of(a.id)]
        sentences = sum(len(library.store.registry.sentences_of(a.id)) for a in evalset.articles)
        texts = {a.id: a.text for a in evalset.articles}
        chunk_texts = [texts[c.article_id][c.start:c.end] for c in chunks]
        embed_ms = timed(lambda: library.embedder.embed_array(chunk_texts))
        print(f"ingestion: {len(evalset.articles)} articles, {chars / 1e6:.2f} M chars, {sentences} sentences, {len(chunks)} chunks")
        print(f"  total {ingest_ms / 1000:.1f} s ({len(chunks) / ingest_ms * 1000:.1f} chunks/s); "
              f"embedding the chunk texts alone {embed_ms / 1000:.1f} s; ratio {ingest_ms / embed_ms:.2f}x "
              "(the rest: sentence embeddings for evidence, Chroma, BM25, registry)")

        questions = random.Random(args.seed).sample(evalset.questions, args.questions)
        library.embedder._cache.clear()
        embed_q, retrieve, answer = [], [], []
        for q in questions:
            embed_q.append(timed(lambda: library.embedder.embed_array([q.question])))
            library.embedder._cache.clear()
            retrieve.append(timed(lambda: library.retriever.retrieve(q.question, 5)))
            library.embedder._cache.clear()
            answer.append(timed(lambda: library.ask(q.question)))
        base = statistics.median(embed_q)
        print(f"queries: {len(questions)} questions, k=5, query embedding median {base:.1f} ms")
        for name, values in (("retrieval (dense+BM25+RRF)", retrieve), ("whole extractive answer", answer)):
            med, p95 = statistics.median(values), percentile(values, 0.95)
            print(f"  {name}: median {med:.1f} ms, p95 {p95:.1f} ms; median = {med / base:.1f}x a query embedding")


if __name__ == "__main__":
    main()
