"""Runs an eval: an isolated index of the dataset's articles, every question through
`Library.ask` (the same path as `rag ask`), per-question verdicts, and the summary."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from evals import metrics
from evals.datasets import EvalQuestion, JudgePair
from rag.models import Answer, Article, Turn
from rag.settings import Settings

CACHE_ROOT = Path(".eval-cache")
RATE_KEYS = (
    "retrieval.hit_at_1", "retrieval.hit_at_5", "retrieval.hit_at_10", "retrieval.mrr_at_10",
    "answer.contains_gold", "answer.exact_match", "answer.f1", "answer.short_em", "answer.short_f1",
    "answer.choice_accuracy", "answer.correct",
    "citations.valid_rate", "citations.recall", "citations.precision",
    "abstention.on_unanswerable", "abstention.on_answerable",
)


@dataclass
class RunConfig:
    mode: str
    k: int
    with_choices: bool = False


# The modules whose code decides what an index holds: a change to any of them starts a new cache.
INDEXING_MODULES = ("text.py", "store/store.py", "store/vectors.py", "embeddings.py", "lexical.py", "store/bm25.py",
                    "store/registry.py")


def corpus_hash(articles: list[Article], settings: Settings) -> str:
    """Identifies an index: the articles' ids and texts, the settings that shape the chunks and
    the indexing code itself (so a stale cache is never re-used after the code changes)."""
    import rag

    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.id):
        digest.update(f"{article.id}\0{article.sha256}\0".encode())
    # The engine and the sentence-vector scheme change the stored vectors too (without them a
    # `RAG_SENTENCE_VECTORS=late` run silently re-used an index built with a second pass).
    digest.update(f"{settings.embed_model}|{settings.chunk_tokens}|{settings.chunk_overlap_sentences}|"
                  f"{settings.embed_engine}|{settings.sentence_vectors}".encode())
    for name in INDEXING_MODULES:
        digest.update((Path(rag.__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


def open_index(articles: list[Article], settings: Settings, data_dir: Path | None,
               progress: Callable[[int, int], None] | None = None):
    """A Library over exactly these articles; by default in `.eval-cache/<hash>/`, so an
    unchanged corpus is indexed once and re-used (its articles come back `unchanged`)."""
    from rag.library import Library

    key = corpus_hash(articles, settings)
    library = Library(settings.with_overrides(data_dir=data_dir or CACHE_ROOT / key))
    library.add_articles(articles, progress)
    return library, key


def ask(library, question: EvalQuestion, config: RunConfig) -> tuple[Answer, float]:
    """One question through `Library.ask`; follow-ups carry their history as turns."""
    text = question.question
    choices = question.meta.get("choices") or []
    if config.with_choices and choices:
        text = f"{text} Options: {'; '.join(choices)}."
    history = [Turn(t["question"], t["answer"]) for t in question.history]
    t0 = time.perf_counter()
    answer = library.ask(text, history=history, k=config.k, mode=config.mode, as_of=question_date(question))
    return answer, (time.perf_counter() - t0) * 1000


def question_date(question: EvalQuestion) -> date | None:
    """The date a question was asked (RealTimeQA's `question_date`, "2024/01/05"), which is its
    reference date for "this week" and "latest"; None for datasets without one."""
    match = re.fullmatch(r"(\d{4})[/-](\d{2})[/-](\d{2})", str(question.meta.get("date") or ""))
    return date(*map(int, match.groups())) if match else None


def score(library, question: EvalQuestion, answer: Answer, latency_ms: float, judge, k: int) -> dict:
    """Everything recorded for one question: gold, answer, citations, retrieval and verdicts."""
    quotes = [c.quote for c in answer.citations]
    plain = metrics.strip_markers(answer.answer)
    verdicts: dict = {"abstained": answer.abstained}
    valid = [citation_valid(library, c) for c in answer.citations]
    verdicts["citations_valid"] = valid
    if question.answerable:
        rank = metrics.retrieval_rank(answer.retrieved, question.spans) if question.spans else None
        if question.spans:
            verdicts["retrieval_rank"] = rank
            for n in (1, 5, 10):
                if n <= k:
                    verdicts[f"hit_at_{n}"] = float(rank is not None and rank <= n)
            verdicts["mrr_at_10"] = 1.0 / rank if rank and rank <= 10 else 0.0
        if question.answers:
            verdicts["contains_gold"] = metrics.contains_gold([plain, *quotes], question.answers)
            verdicts["exact_match"] = metrics.exact_match(plain, question.answers)
            verdicts["f1"] = metrics.token_f1(plain, question.answers)
            # The short answer phrase (answer_span); none, or an abstention, scores 0.
            short = answer.answer_span.text if answer.answer_span and not answer.abstained else ""
            verdicts["short_em"] = metrics.exact_match(short, question.answers) if short else 0.0
            verdicts["short_f1"] = metrics.token_f1(short, question.answers) if short else 0.0
        choices = question.meta.get("choices")
        if choices and question.answers:
            verdicts["choice"] = _picked_choice([plain, *quotes], choices)
            verdicts["choice_correct"] = float(verdicts["choice"] == question.answers[0])
    if not answer.abstained:
        alce = metrics.alce_citations(answer.answer, answer.citations, judge)
        verdicts["statements_supported"] = alce.recall
        verdicts["citations_precise"] = alce.precision
        verdicts["support_scores"] = alce.support_scores
    return {
        "id": question.id,
        "question": question.question,
        "intent": answer.query.intent if answer.query else None,
        "category": question.meta.get("category"),
        "history": question.history,
        "answerable": question.answerable,
        "gold": {"answers": question.answers,
                 "spans": [{"article_id": s.article_id, "start": s.start, "end": s.end} for s in question.spans]},
        "answer": answer.to_json_dict(),
        "latency_ms": round(latency_ms, 1),
        "verdicts": verdicts,
    }


def citation_valid(library, citation) -> bool:
    """The citation's quote equals its article's text at its offsets (DESIGN's invariant)."""
    from rag.verify.citations import is_verbatim
    from rag.errors import ArticleNotFound

    try:
        return is_verbatim(citation, library.article(citation.article_id))
    except ArticleNotFound:
        return False


def _picked_choice(texts: list[str], choices: list[str]) -> str | None:
    """The option named earliest in the answer (then its quotes); None when none is named."""
    for text in texts:
        hay = f" {metrics.normalize_answer(text)} "
        found = [(hay.find(f" {metrics.normalize_answer(c)} "), c) for c in choices if metrics.normalize_answer(c)]
        found = [(pos, c) for pos, c in found if pos >= 0]
        if found:
            return min(found)[1]
    return None


def per_question_values(results: list[dict]) -> dict[str, list[float]]:
    """The per-question (or per-citation) 0/1 or real values behind each summary rate."""
    v = [r["verdicts"] for r in results]
    answerable = [x for r, x in zip(results, v) if r["answerable"]]
    values = {
        "retrieval.hit_at_1": [x["hit_at_1"] for x in answerable if "hit_at_1" in x],
        "retrieval.hit_at_5": [x["hit_at_5"] for x in answerable if "hit_at_5" in x],
        "retrieval.hit_at_10": [x["hit_at_10"] for x in answerable if "hit_at_10" in x],
        "retrieval.mrr_at_10": [x["mrr_at_10"] for x in answerable if "mrr_at_10" in x],
        "answer.contains_gold": [x["contains_gold"] for x in answerable if "contains_gold" in x],
        "answer.exact_match": [x["exact_match"] for x in answerable if "exact_match" in x],
        "answer.f1": [x["f1"] for x in answerable if "f1" in x],
        "answer.short_em": [x["short_em"] for x in answerable if "short_em" in x],
        "answer.short_f1": [x["short_f1"] for x in answerable if "short_f1" in x],
        "answer.choice_accuracy": [x["choice_correct"] for x in answerable if "choice_correct" in x],
        "citations.valid_rate": [float(ok) for x in v for ok in x["citations_valid"]],
        "citations.recall": [float(np.mean(x["statements_supported"])) for x in v if x.get("statements_supported")],
        "citations.precision": [float(np.mean(x["citations_precise"])) for x in v if x.get("citations_precise")],
        "abstention.on_unanswerable": [float(x["abstained"]) for r, x in zip(results, v) if not r["answerable"]],
        # Right by the gold: an answerable question answered with a gold answer in it, an
        # unanswerable one abstained on (over all questions, unlike the rates above).
        "answer.correct": [float(not x["abstained"] and x["contains_gold"] == 1.0) if r["answerable"] else float(x["abstained"])
                           for r, x in zip(results, v) if not r["answerable"] or "contains_gold" in x],
        "abstention.on_answerable": [float(x["abstained"]) for x in answerable],
    }
    return values


def summarize(results: list[dict], config: dict) -> dict:
    """The summary printed by `--json` and written to report.json (flat dotted keys)."""
    values = per_question_values(results)
    answerable = sum(1 for r in results if r["answerable"])
    # Answer and retrieval rates are over the answerable questions only: say how many there were.
    summary: dict = {"n": len(results), "n.answerable": answerable, "n.unanswerable": len(results) - answerable}
    ci: dict = {}
    for key in RATE_KEYS:
        if values[key]:
            summary[key] = round(float(np.mean(values[key])), 4)
            interval = metrics.bootstrap_ci(values[key])
            if interval is not None:
                ci[key] = interval
    answered = [r for r in results if not r["verdicts"]["abstained"]]
    if answered:
        summary["citations.per_answer"] = round(float(np.mean([len(r["answer"]["citations"]) for r in answered])), 3)
    latencies = [r["latency_ms"] for r in results]
    if latencies:
        summary["latency_ms.p50"] = round(float(np.percentile(latencies, 50)), 1)
        summary["latency_ms.p95"] = round(float(np.percentile(latencies, 95)), 1)
    summary["ci"] = ci
    for field in ("intent", "category"):
        groups = sorted({r.get(field) for r in results if r.get(field)})
        if groups and field == "intent" or len(groups) > 1:
            summary[f"by_{field}"] = {g: _rates([r for r in results if r.get(field) == g]) for g in groups}
    summary["config"] = config
    return summary


def _rates(results: list[dict]) -> dict:
    """Every rate (no intervals) over a subset of the questions, with its size."""
    values = per_question_values(results)
    out: dict = {"n": len(results)}
    for key in RATE_KEYS:
        if values[key]:
            out[key] = round(float(np.mean(values[key])), 4)
    return out


def judge_pairs(pairs: list[JudgePair], judge, batch: int = 64,
                progress: Callable[[int], None] | None = None) -> list[dict]:
    """The judge's verdict on every (doc, summary) pair, with the human label."""
    out = []
    for b in range(0, len(pairs), batch):
        chunk = pairs[b:b + batch]
        verdicts = judge.support_many([(p.summary, p.doc) for p in chunk])
        for p, verdict in zip(chunk, verdicts):
            out.append({"id": p.id, "group": p.group, "label": p.label, "summary": p.summary,
                        "score": verdict.score, "supported": verdict.supported, "reasons": verdict.reasons})
        if progress:
            progress(len(chunk))
    return out


def summarize_judge(results: list[dict], config: dict) -> dict:
    """Balanced accuracy overall and on the document groups the judge was not tuned on."""
    from evals.fit_judge import is_tuning_group

    def bacc(rows):
        return round(metrics.balanced_accuracy([r["label"] for r in rows], [r["supported"] for r in rows]), 4)

    heldout = [r for r in results if not is_tuning_group(r["group"])]
    summary = {"n": len(results), "judge.balanced_accuracy": bacc(results)}
    ci = {}
    if heldout:
        summary["judge.balanced_accuracy_heldout"] = bacc(heldout)
        summary["judge.n_heldout"] = len(heldout)
    # How the scores spread: a judge that gives most pairs one score cannot rank them.
    scores = np.array([r["score"] for r in results], dtype=float)
    if len(scores):
        _, counts = np.unique(scores, return_counts=True)
        summary["judge.score_quantiles_10_25_50_75_90"] = [round(float(q), 3) for q in np.quantile(scores, [.1, .25, .5, .75, .9])]
        summary["judge.distinct_scores"] = int(len(counts))
        summary["judge.most_common_score_share"] = round(float(counts.max() / len(scores)), 4)
    rng = np.random.default_rng(0)
    boots = [bacc([results[i] for i in rng.integers(0, len(results), len(results))]) for _ in range(300)]
    ci["judge.balanced_accuracy"] = [round(float(np.quantile(boots, 0.025)), 4), round(float(np.quantile(boots, 0.975)), 4)]
    summary["ci"] = ci
    summary["config"] = config
    return summary
