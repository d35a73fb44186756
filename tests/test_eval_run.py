"""`rag eval` end to end: the bundled gate on corpus/, a tiny SQuAD run, and the judge run.

The bundled gate is what `make test` relies on to catch regressions: thresholds are set a little
below the measured values (see docs/evaluation.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals import datasets, runner
from rag.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
# Measured on the bundled set (extractive, k=5, 108 questions): contains_gold 0.816, abstention on
# unanswerable 0.571 (docs/evaluation.md).
MIN_CONTAINS_GOLD = 0.75
MIN_ABSTAIN_UNANSWERABLE = 0.5
# The news-reader questions (issue #9), by category.
BROAD = ("latest", "summary", "said", "compare")
NEWS = BROAD + ("when", "dated", "followup", "unanswerable")
MIN_NEWS_CORRECT = 0.9
MIN_NEWS_ABSTAIN_UNANSWERABLE = 0.8
KEYS = ["n", "retrieval.hit_at_1", "retrieval.hit_at_5", "retrieval.mrr_at_10", "answer.contains_gold",
        "answer.exact_match", "answer.f1", "citations.per_answer", "citations.valid_rate", "citations.recall",
        "citations.precision", "abstention.on_unanswerable", "abstention.on_answerable", "latency_ms.p50",
        "latency_ms.p95", "ci", "config"]


def rag_eval(*args: str, root_args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag", *root_args, "eval", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundled")
    proc = rag_eval("--format", "jsonl", "--dataset", "evals/corpus_questions.jsonl", "--corpus", "corpus/",
                    "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout), out


def test_bundled_gate(bundled):
    summary, _ = bundled
    assert summary["n"] >= 40 and summary["n.unanswerable"] >= 10
    assert summary["citations.valid_rate"] == 1.0
    assert summary["answer.contains_gold"] >= MIN_CONTAINS_GOLD, summary
    assert summary["abstention.on_unanswerable"] >= MIN_ABSTAIN_UNANSWERABLE, summary


@pytest.mark.xfail(strict=True, reason="issue 17: the intent classifier fitted on outside questions (rag/intent.py) "
                   "reads four dev-set news questions as factoids (a 'when', a 'what did X say', a compare), which the "
                   "extractive factoid rule then refuses: 0.87 of the news questions right, not 0.9")
def test_news_questions_are_answered_not_refused(bundled):
    summary, out = bundled
    by = summary["by_category"]
    assert set(NEWS) <= set(by) and all(by[c]["n"] >= 5 for c in NEWS if c != "followup")
    for category in BROAD:
        assert by[category]["abstention.on_answerable"] == 0.0, (category, by[category])
    assert by["unanswerable"]["abstention.on_unanswerable"] >= MIN_NEWS_ABSTAIN_UNANSWERABLE, by["unanswerable"]
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    news = [r for r in rows if r["category"] in NEWS]
    correct = [r["verdicts"]["abstained"] if not r["answerable"] else
               (not r["verdicts"]["abstained"] and r["verdicts"]["contains_gold"] == 1.0) for r in news]
    assert len(news) >= 30 and sum(correct) / len(correct) >= MIN_NEWS_CORRECT, [r["id"] for r, ok in zip(news, correct) if not ok]
    # Every metric is also reported per intent, as the query understanding saw it.
    assert {"factoid", "when", "summary", "latest", "compare"} <= set(summary["by_intent"])
    assert "answer.short_f1" in summary["by_intent"]["factoid"]


def test_bundled_summary_has_every_key_and_intervals(bundled):
    summary, _ = bundled
    assert [k for k in KEYS if k not in summary] == []
    low, high = summary["ci"]["answer.contains_gold"]
    assert low <= summary["answer.contains_gold"] <= high
    assert summary["config"]["mode"] == "extractive" and summary["config"]["k"] == 5


def test_bundled_report_files(bundled):
    summary, out = bundled
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == summary["n"]
    followups = [r for r in rows if r["history"]]
    assert followups and all(r["answer"]["standalone_question"] for r in followups)
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "http://" not in page and "https://" not in page.split("<body>")[0]
    for name in ("report.json", "report.md", "metrics.png", "support.png", "latency.png"):
        assert (out / name).stat().st_size > 0, name


def test_second_open_reuses_the_cached_index(bundled):
    summary, _ = bundled
    evalset = datasets.load("jsonl", ROOT / "evals/corpus_questions.jsonl", ROOT / "corpus")
    settings = Settings()
    cache = ROOT / runner.CACHE_ROOT / runner.corpus_hash(evalset.articles, settings)
    assert summary["config"]["corpus_hash"] == cache.name and cache.is_dir()
    library, _ = runner.open_index(evalset.articles, settings, cache)
    assert library.ready_count() == len(evalset.articles)
    assert {r.status for r in library.add_articles(evalset.articles)} == {"unchanged"}


def test_squad_run_into_a_given_data_dir(tmp_path):
    context = "Peyton Manning led the Denver Broncos to victory in Super Bowl 50. The game was played in Santa Clara."
    data = {"data": [{"title": "Super_Bowl_50", "paragraphs": [{"context": context, "qas": [
        {"id": "1", "question": "Which team won Super Bowl 50?", "answers": [{"text": "Denver Broncos", "answer_start": 23}]},
        {"id": "2", "question": "Where was Super Bowl 50 played?", "answers": [{"text": "Santa Clara", "answer_start": 90}]},
    ]}]}]}
    (tmp_path / "squad.json").write_text(json.dumps(data))
    proc = rag_eval("--format", "squad", "--dataset", str(tmp_path / "squad.json"), "-k", "3",
                    "--out", str(tmp_path / "out"), "--json", root_args=("--data-dir", str(tmp_path / "index")))
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["n"] == 2 and summary["n.answerable"] == 2 and summary["n.unanswerable"] == 0
    assert summary["retrieval.hit_at_1"] == 1.0 and "retrieval.hit_at_5" not in summary
    assert summary["answer.contains_gold"] >= 0.5 and summary["citations.valid_rate"] == 1.0
    assert 0.0 <= summary["answer.short_em"] <= summary["answer.short_f1"] <= 1.0  # the short answer phrase
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert rows[0]["verdicts"]["contains_gold"] == 1.0 and rows[0]["gold"]["spans"][0]["start"] == 23
    assert (tmp_path / "index" / "registry.sqlite3").exists()  # `rag --data-dir DIR eval` indexes into DIR
    assert summary["config"]["data_dir"] == str(tmp_path / "index")


def test_bad_dataset_is_a_one_line_error(tmp_path):
    proc = rag_eval("--format", "jsonl", "--dataset", str(tmp_path / "nope.jsonl"), "--corpus", "corpus/")
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith("error: dataset") and "does not exist" in proc.stderr


@pytest.mark.skipif(not (SHARED / "summedits-news/summedits_news.json").exists(), reason="shared datasets not present")
def test_summedits_judge_run(tmp_path):
    proc = rag_eval("--format", "summedits", "--dataset", str(SHARED / "summedits-news/summedits_news.json"),
                    "--limit", "60", "--out", str(tmp_path), "--json", "--mode", "extractive")
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["n"] == 60 and 0.0 <= summary["judge.balanced_accuracy"] <= 1.0
    assert summary["config"]["judge"] == "OfflineJudge"
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 60
