"""Peak memory (RSS) and speed while ingesting RealTimeQA news docs with `Library.add_articles`.

Records the peak RSS after each indexed batch, so a run cut short (by `--docs`) still shows how
memory grows with the library and can be extrapolated to all 2,453 docs.

    python -m bench.bench_memory --docs 2453      # all of ../shared/datasets/realtimeqa/gcs_2024Q1_docs.jsonl
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine, peak_rss_mb, rtqa_articles, write_result
from rag.library import Library
from rag.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2453)
    parser.add_argument("--out", default="memory")
    args = parser.parse_args()

    articles = rtqa_articles(args.docs)
    chars = sum(len(a.text) for a in articles)
    samples: list[dict] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        library = Library(Settings(RAG_DATA_DIR=Path(tmp), RAG_LLM="none"))

        def progress(done: int, total: int) -> None:
            samples.append({"docs": done, "seconds": round(time.perf_counter() - start, 1),
                            "peak_rss_mb": round(peak_rss_mb()), "loadavg": machine()["loadavg"]})
            if len(samples) % 5 == 0:
                print(f"  {samples[-1]}", flush=True)

        library.add_articles(articles, progress)
        seconds = time.perf_counter() - start
        chunks = sum(s.chunks for s in library.articles())
    result = {"command": " ".join(sys.argv), "docs": len(articles), "chars": chars, "chunks": chunks,
              "seconds": round(seconds, 1), "k_chars_per_s": round(chars / seconds / 1000, 1),
              "chunks_per_s": round(chunks / seconds, 1), "peak_rss_mb": round(peak_rss_mb()),
              "engine": library.embedding_engine(), "samples": samples, "end": machine()}
    print(f"{len(articles)} docs, {chars / 1e6:.1f} M chars, {chunks} chunks in {seconds:.0f} s; peak RSS {result['peak_rss_mb']} MB")
    write_result(args.out, result)


if __name__ == "__main__":
    main()
