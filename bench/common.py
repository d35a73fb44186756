"""Shared helpers for the benchmarks: timing, percentiles, load average, datasets, result files."""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
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
