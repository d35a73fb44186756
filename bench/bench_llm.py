"""LLM mode against the local llama.cpp server: first verified quotes, first token and total, median of 10.

Starts `rag.llm.server.LocalLLMServer` (default Qwen2.5-Coder-1.5B-Instruct Q4_K_M, joined into
the data directory's model cache on first use) on a free port, indexes the shipped corpus into a
temporary data directory, asks 10 distinct questions from the bundled eval set in LLM mode and
in extractive mode (the baseline, same run), and prints medians, their ratio, the load average
(other work on the machine slows the model down), and how much of what the model wrote
survived verification.

    .venv/bin/python -m bench.bench_llm [--runs 10] [--threads 2] [--model qwen1.5b] [--model-cache .rag/models]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS_FILE = ROOT / "evals" / "corpus_questions.jsonl"


def questions(n: int) -> list[str]:
    """The first n answerable, standalone questions of the bundled eval set."""
    rows = [json.loads(line) for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = [r["question"] for r in rows if r.get("answerable", True) and not r.get("history")]
    return picked[:n]


def timed(library, question: str, mode: str):
    """(seconds to first text delta, seconds to the final Answer, Answer, seconds to the verified
    quotes: the `Quotes` event in LLM mode, the first text in extractive mode, where it is the answer)."""
    from rag.models import Answer, Quotes, Searching

    start = time.perf_counter()
    first = quotes = None
    for event in library.ask_stream(question, mode=mode, quotes_first=True):
        now = time.perf_counter() - start
        if isinstance(event, Answer):
            first = first if first is not None else now
            return first, now, event, quotes if quotes is not None else first
        if isinstance(event, Quotes):
            quotes = now
        elif first is None and not isinstance(event, Searching):
            first = now
    raise RuntimeError("ask_stream ended without an Answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--model", default="qwen1.5b")
    parser.add_argument("--model-cache", type=Path, default=Path(".rag/models"))
    args = parser.parse_args()

    from rag.llm.server import LocalLLMServer, default_threads

    args.threads = args.threads or default_threads()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as data_dir, \
            LocalLLMServer.for_model(args.model, args.model_cache, threads=args.threads) as server:
        os.environ.update(server.env())
        from rag.library import Library
        from rag.settings import Settings

        library = Library(Settings(RAG_DATA_DIR=data_dir))
        library.add([ROOT / "corpus"])
        asked = questions(args.runs)
        timed(library, asked[0], "llm")  # warm-up: model check, caches; not counted
        rows = {mode: [timed(library, q, mode) for q in asked] for mode in ("extractive", "llm")}

    print(f"{len(asked)} questions, llama.cpp (xllamacpp) {server.alias}, {args.threads} thread(s), "
          f"load average {load_before[0]:.1f} before / {os.getloadavg()[0]:.1f} after on {os.cpu_count()} cores")
    medians = {}
    for mode, runs in rows.items():
        ttft = statistics.median(r[0] for r in runs)
        total = statistics.median(r[1] for r in runs)
        quotes = statistics.median(r[3] for r in runs)
        medians[mode] = (ttft, total)
        print(f"{mode:10} verified quotes median {quotes * 1000:8.0f} ms   time to first token median {ttft * 1000:8.0f} ms"
              f"   total median {total * 1000:8.0f} ms")
    (l_ttft, l_total), (e_ttft, e_total) = medians["llm"], medians["extractive"]
    print(f"llm / extractive: first token x{l_ttft / e_ttft:.1f}, total x{l_total / e_total:.1f}")

    answers = [r[2] for r in rows["llm"]]
    attempted = [a for a in answers if not a.abstained and a.mode == "llm"]
    replaced = [a for a in answers if a.notice and a.mode == "extractive"]  # quoted sentences instead
    claims = [c for a in attempted for c in a.claims]
    all_supported = [a for a in attempted if a.claims and not a.unsupported]
    print(f"llm answers: {len(attempted)}/{len(answers)} attempted, {len(replaced)} replaced by the extractive "
          "answer (no supported sentence), the rest abstained; "
          f"every statement supported in {len(all_supported)}/{len(attempted)}; "
          f"statements supported {sum(c.supported for c in claims)}/{len(claims)}")
    for question, answer in zip(asked, answers):
        print(f"  - {question}\n    {answer.answer[:160]}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
