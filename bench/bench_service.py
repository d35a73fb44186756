"""`rag serve` under load: 8 concurrent clients on POST /v1/ask (extractive) for 60 s while one
writer POSTs articles, against the same work done by calling `Library.ask` / `Library.add_text`
in this process (the baseline, measured in the same run: the machine is shared).

    python -m bench.bench_service [--seconds 60] [--clients 8]

Reports errors (a non-200 reply, or a citation whose `verified` is false or whose quote is not in
the article), p50 and p95 latency of both runs and their ratios (served / in-process), and the
load average; writes bench/results/service.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import machine, summary_ms, write_result
from rag.library import Library
from rag.net import free_port
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "Who is the Kremlin spokesperson?",
    "How many square miles have Russian forces captured?",
    "What did the joint statement say?",
    "What happened in the peace talks?",
    "What did Rubio say in Geneva?",
    "Who is Umerov?",
    "How many points does the peace plan have?",
    "What did the Kremlin say about the peace plan?",
]
OFFLINE = {"RAG_LLM": "none", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "RAG_API_KEYS": ""}


def article(n: int) -> dict:
    return {"title": f"Bench wire {n}: council approves harbour budget",
            "text": f"The council approved harbour budget number {n} on Tuesday.\nWork starts in spring, officials said.",
            "source": "Bench Wire", "published": "2025-12-01"}


def run_load(seconds: float, clients: int, ask, write) -> dict:
    """`clients` threads calling ask(question) -> error or None, one thread calling write(n), for `seconds`."""
    latencies, errors, writes = [], [], [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def asker(i: int):
        k = i
        while time.monotonic() < stop:
            question = QUESTIONS[k % len(QUESTIONS)]
            k += 1
            t0 = time.perf_counter()
            try:
                problem = ask(question)
            except Exception as exc:  # counted, not raised: the bench reports every failure
                problem = f"{type(exc).__name__}: {exc}"
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                if problem:
                    errors.append(problem)

    def writer():
        n = 0
        while time.monotonic() < stop:
            try:
                problem = write(n)
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            with lock:
                writes[0] += 1
                if problem:
                    errors.append(f"write: {problem}")
            n += 1

    threads = [threading.Thread(target=asker, args=(i,)) for i in range(clients)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"answers": len(latencies), "writes": writes[0], "errors": len(errors), "error_samples": errors[:5],
            "latency_ms": summary_ms(latencies), "answers_per_s": round(len(latencies) / seconds, 2)}


def in_process(library: Library, seconds: float, clients: int, tag: str) -> dict:
    def ask(question):
        answer = library.ask(question, mode="extractive")
        for c in answer.citations:
            if library.article(c.article_id).text[c.start:c.end] != c.quote:
                return f"citation [{c.n}] does not verify"
        return None

    def write(n):
        result = library.add_text(**article(n), article_id=f"bench-{tag}-{n}")
        return result.reason if result.status == "failed" else None

    return run_load(seconds, clients, ask, write)


def served(data_dir: Path, seconds: float, clients: int, log: Path) -> dict:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "rag", "--data-dir", str(data_dir), "serve", "--no-ui",
                                "--port", str(port)], cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               env={**os.environ, **OFFLINE})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rag serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        local = threading.local()

        def session() -> httpx.Client:
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=base, timeout=120)
            return local.client

        texts: dict[str, str] = {}

        def ask(question):
            response = session().post("/v1/ask", json={"question": question, "mode": "extractive"})
            if response.status_code != 200:
                return f"HTTP {response.status_code}: {response.text[:200]}"
            for c in response.json()["citations"]:
                if c["article_id"] not in texts:
                    texts[c["article_id"]] = session().get(f"/v1/articles/{c['article_id']}").json()["text"]
                if not c["verified"] or texts[c["article_id"]][c["start"]:c["end"]] != c["quote"]:
                    return f"citation [{c['n']}] does not verify"
            return None

        def write(n):
            response = session().post("/v1/articles", json=article(100_000 + n))
            return None if response.status_code in (200, 201) else f"HTTP {response.status_code}: {response.text[:200]}"

        ask(QUESTIONS[0])  # warm the server's models, as the baseline's were
        return run_load(seconds, clients, ask, write)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        data_dir = Path(tmp) / "data"
        library = Library(Settings(RAG_DATA_DIR=data_dir, RAG_LLM="none"))
        library.add([ROOT / "corpus"])
        library.ask(QUESTIONS[0])  # warm the models
        start_load = machine()
        baseline = in_process(library, args.seconds, args.clients, "local")
        server = served(data_dir, args.seconds, args.clients, Path(tmp) / "serve.log")
        ratios = {k: round(server["latency_ms"][k] / baseline["latency_ms"][k], 2) for k in ("p50", "p95")}
        ratios["answers_per_s"] = round(server["answers_per_s"] / baseline["answers_per_s"], 2)
        result = {"seconds": args.seconds, "clients": args.clients, "in_process": baseline, "served": server,
                  "ratio_served_over_in_process": ratios, "machine_before": start_load, "machine_after": machine()}
    for name, run in (("in-process Library.ask", baseline), ("rag serve /v1/ask", server)):
        print(f"{name:24} answers {run['answers']:5}  writes {run['writes']:4}  errors {run['errors']}  "
              f"p50 {run['latency_ms']['p50']} ms  p95 {run['latency_ms']['p95']} ms  {run['answers_per_s']}/s")
    print(f"served / in-process: p50 x{ratios['p50']}, p95 x{ratios['p95']}, throughput x{ratios['answers_per_s']}; "
          f"load average {result['machine_after']['loadavg']}")
    write_result("service", result)


if __name__ == "__main__":
    main()
