"""Shared helpers for the benchmarks: timing, percentiles, load average, datasets, result files."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SQUAD = ROOT.parent / "shared" / "datasets" / "squad-v1.1" / "dev-half-a.json"
RTQA_DOCS = ROOT.parent / "shared" / "datasets" / "realtimeqa" / "gcs_2024Q1_docs.jsonl"
RTQA_QUESTIONS = ROOT.parent / "shared" / "datasets" / "realtimeqa" / "questions-2024q1.half-a.jsonl"


def machine() -> dict:
    """What a number was measured on: cores and the load average at that moment (the machine is shared)."""
    return {"nproc": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()],
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary_ms(values: list[float]) -> dict:
    return {"n": len(values), "p50": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2)}


def timed(fn) -> float:
    """Wall time of fn() in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rtqa_articles(limit: int | None = None, path: Path = RTQA_DOCS) -> list:
    """RealTimeQA docs as Articles (the first `limit` with text), made as `rag eval` makes them."""
    from rag.ingest.canonical import make_article

    from evals.datasets import _host, _safe_date

    out = []
    with path.open() as fh:
        for line in fh:
            doc = json.loads(line)
            if not doc.get("text", "").strip():
                continue
            out.append(make_article(id=doc["doc_id"], title=doc.get("title") or doc["doc_id"], text=doc["text"],
                                    source=_host(doc.get("url", "")), url=doc.get("url", ""),
                                    published=_safe_date(doc.get("publish_date"))))
            if limit and len(out) >= limit:
                break
    return out


def rtqa_questions(limit: int) -> list[str]:
    with RTQA_QUESTIONS.open() as fh:
        return [json.loads(line)["question"] for line in fh][:limit]


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    print(f"wrote {path}")
    return path


@contextmanager
def chroma_server(path: Path, timeout_s: float = 120.0) -> Iterator[int]:
    """A real `chroma run` server on a free loopback port, its database and log under `path`;
    yields the port and stops the server (its whole process group) afterwards. The scale bench
    and tests/test_chroma_server.py share it."""
    from rag.net import free_port

    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    log = (path / "server.log").open("w")
    proc = subprocess.Popen([chroma, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=os.environ | {"ANONYMIZED_TELEMETRY": "False"})
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"chroma server did not start: {(path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
    try:
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
