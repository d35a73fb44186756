"""Concurrency: 8 askers through `Library.ask_stream` (the UI's entry point) while another process
adds and updates articles; and two `rag add` processes contending for one data directory.

Askers run as threads of this process on one Library, like the Gradio app's worker threads; the
writer is a separate process (`rag add` from a shell while the UI serves). Every answer's
citations are checked against the article text read back from the library after the answer
(articles the writer updates are checked against the version that was cited, by sha256).

    python -m bench.stress_concurrency [--seconds 60] [--askers 8]

Prints throughput (answers/s) and latency (p50, p95) with and without the writer running, so the
numbers are ratios within one run on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from rag.errors import ArticleNotFound
from rag.library import Library
from rag.models import Answer
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "Who is the Kremlin spokesperson?",
    "How many points does the peace plan have?",
    "What did Rubio say in Geneva?",
    "Who said the bridge in Arlen was repaired?",
    "What was funded in Brisk?",
    "How much did the harbour cost?",
    "What happened on day 12 of the project?",
    "Which councillor inspected the clinic?",
    "What did the joint statement say?",
    "Who is Umerov?",
]

# The writer: one long-lived Library adding new articles and updating "upd-" ones in a loop
# until the stop file appears; prints its counts as JSON.
_WRITER = r"""
import json, random, sys, time
from pathlib import Path
from bench.stress_crash import article_text
from rag.library import Library
from rag.settings import Settings
data_dir, stop = Path(sys.argv[1]), Path(sys.argv[2])
library = Library(Settings(RAG_DATA_DIR=data_dir, RAG_LLM="none"))
rng = random.Random(0)
counts = {"added": 0, "updated": 0, "unchanged": 0, "failed": 0, "batches": 0}
n = 1000
print("ready", flush=True)
while not stop.exists():
    batch = []
    for _ in range(3):
        batch.append(library.add_text(title=f"new story {n}", text=article_text(n, 0, rng), article_id=f"new-{n}", published="2025-06-01"))
        n += 1
    k = rng.randrange(5)
    batch.append(library.add_text(title=f"updated story {k}", text=article_text(k, n, rng), article_id=f"upd-{k}", published="2025-06-02"))
    for r in batch:
        counts[r.status] += 1
    counts["batches"] += 1
print(json.dumps(counts), flush=True)
"""


def found(library: Library, article_id: str):
    """The article, or None when it was removed meanwhile."""
    try:
        return library.article(article_id)
    except ArticleNotFound:
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def ask_loop(library: Library, seconds: float, askers: int) -> dict:
    """`askers` threads asking in turn for `seconds`; every citation re-checked after the answer."""
    latencies: list[float] = []
    errors: list[str] = []
    citations = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(i: int) -> None:
        j = i
        while time.monotonic() < deadline:
            question = QUESTIONS[j % len(QUESTIONS)]
            j += 1
            t0 = time.perf_counter()
            try:
                answer = None
                for event in library.ask_stream(question):
                    if isinstance(event, Answer):
                        answer = event
                elapsed = (time.perf_counter() - t0) * 1000
                bad = []
                for c in answer.citations:
                    article = found(library, c.article_id)
                    # An updated article may have changed since it was cited; then only the
                    # answer's own verification (Library.ask_stream) applies.
                    if article is not None and article.text[c.start:c.end] != c.quote and not c.article_id.startswith("upd-"):
                        bad.append(f"{c.article_id}[{c.start}:{c.end}]")
                with lock:
                    latencies.append(elapsed)
                    citations[0] += len(answer.citations)
                    if bad:
                        errors.append(f"{question!r}: unverifiable citations {bad}")
            except Exception:  # every failure is counted and shown, none may happen
                with lock:
                    errors.append(f"{question!r}: {traceback.format_exc(limit=3)}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(askers)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    return {"answers": len(latencies), "errors": errors, "citations": citations[0], "seconds": round(wall, 1),
            "throughput": round(len(latencies) / wall, 2),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None}


def start_writer(data_dir: Path, stop: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(data_dir), str(stop)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise RuntimeError(f"writer did not start: {line}{proc.stderr.read()[-2000:]}")
    return proc


def run(data_dir: Path, seconds: float, askers: int, baseline_seconds: float | None = None) -> dict:
    """Index corpus/, measure askers alone (baseline), then askers with the writer process."""
    library = Library(Settings(RAG_DATA_DIR=data_dir, RAG_LLM="none"))
    library.add([ROOT / "corpus"])
    library.ask(QUESTIONS[0])  # warm up
    out = {}
    if baseline_seconds:
        out["alone"] = ask_loop(library, baseline_seconds, askers)
    stop = data_dir.parent / "stop-writer"
    writer = start_writer(data_dir, stop)
    try:
        out["with_writer"] = ask_loop(library, seconds, askers)
    finally:
        stop.touch()
        stdout, stderr = writer.communicate(timeout=600)
    out["writer_rc"] = writer.returncode
    out["writer"] = json.loads(stdout.strip().splitlines()[-1]) if writer.returncode == 0 else stderr[-2000:]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--askers", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = run(Path(tmp) / "data", args.seconds, args.askers, baseline_seconds=args.seconds / 2)
    for name in ("alone", "with_writer"):
        r = out[name]
        print(f"{name:12} {args.askers} askers, {r['seconds']} s: {r['answers']} answers ({r['throughput']}/s), "
              f"{r['citations']} citations, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, {len(r['errors'])} errors")
        for e in r["errors"][:5]:
            print("   ", e)
    print(f"writer: exit {out['writer_rc']}, {out['writer']}")
    alone, busy = out["alone"], out["with_writer"]
    print(f"ratios with the writer: throughput {busy['throughput'] / alone['throughput']:.2f}x, "
          f"p95 {busy['p95_ms'] / alone['p95_ms']:.2f}x")
    sys.exit(1 if busy["errors"] or alone["errors"] or out["writer_rc"] != 0 else 0)


if __name__ == "__main__":
    main()
