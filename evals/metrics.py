"""Per-question metrics and their aggregation, each defined as in the paper that introduced it.

- Answer: exact match and token F1 with SQuAD's answer normalisation (Rajpurkar et al. 2016,
  the official `evaluate-v1.1.py`); `contains_gold` = a normalised gold answer occurs in the
  answer or its cited quotes; multiple choice (RealTimeQA, Kasai et al. 2023): the option the
  answer names (`picked_choice`) equals the gold option.
- Retrieval: rank of the first retrieved chunk that overlaps a gold evidence span; hit@n, MRR@10.
- Citations: ALCE (Gao et al. 2023, "Enabling LLMs to generate text with citations"): recall =
  statements whose citations, joined, support them; precision = citations that are not
  irrelevant (a citation is irrelevant when it supports nothing alone and removing it keeps the
  statement supported); valid = quote == article.text[start:end]. The judge reads a citation as
  ALCE formats a document, its title and then its text (`cited_document`).
- Intervals: percentile bootstrap over questions (Efron & Tibshirani 1993), fixed seed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from evals.datasets import GoldSpan
from evals.text_match import contains_answer, normalize_answer
from rag.models import Citation, RetrievedChunk

_MARKER = re.compile(r"\s*\[(\d+)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+\])+")
def strip_markers(answer: str) -> str:
    """The answer without its [n] citation markers."""
    return _MARKER.sub("", answer).strip()


def exact_match(prediction: str, golds: list[str]) -> float:
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in golds))


def token_f1(prediction: str, golds: list[str]) -> float:
    """Best SQuAD token F1 of the prediction against any gold answer."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for gold in golds:
        ref = normalize_answer(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            precision, recall = common / len(pred), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_gold(texts: list[str], golds: list[str]) -> float:
    """1.0 when some normalised gold answer occurs (on word boundaries) in one of `texts`."""
    return float(any(contains_answer(t, golds) for t in texts))


def picked_choice(texts: list[str], choices: list[str]) -> str | None:
    """The multiple-choice option an answer names: the one whose normalised text occurs earliest
    (on word boundaries) in the first of `texts` naming any (the answer, then its quotes)."""
    for text in texts:
        hay = f" {normalize_answer(text)} "
        found = [(hay.find(f" {normalize_answer(c)} "), c) for c in choices if normalize_answer(c)]
        found = [(pos, c) for pos, c in found if pos >= 0]
        if found:
            return min(found)[1]
    return None


def retrieval_rank(retrieved: list[RetrievedChunk], gold: list[GoldSpan]) -> int | None:
    """1-based rank of the first chunk overlapping a gold span; None when none does."""
    for rank, chunk in enumerate(retrieved, 1):
        if any(g.article_id == chunk.article_id and g.start < chunk.end and chunk.start < g.end for g in gold):
            return rank
    return None


@dataclass
class Statement:
    """One answer sentence (markers removed) and the citation numbers it carries."""

    text: str
    cites: list[int]


def statements(answer: str) -> list[Statement]:
    """Split an answer into statements. Markers right after a sentence's full stop (which the
    sentence splitter puts at the start of the next sentence) belong to the sentence before."""
    from rag.text import split_sentences

    out: list[Statement] = []
    for sentence in split_sentences(answer):
        raw = answer[sentence.start:sentence.end]
        leading = _LEADING_MARKERS.match(raw)
        if leading and out:
            out[-1].cites.extend(int(n) for n in _MARKER.findall(leading.group()))
            raw = raw[leading.end():]
        cites = [int(n) for n in _MARKER.findall(raw)]
        text = strip_markers(raw)
        if text and re.search(r"\w", text):
            out.append(Statement(text, cites))
        elif cites and out:
            out[-1].cites.extend(cites)
    return out


@dataclass
class CitationVerdicts:
    """ALCE verdicts for one answer: per statement (recall) and per citation use (precision)."""

    recall: list[bool]
    precision: list[bool]
    support_scores: list[float]


def cited_document(c: Citation) -> str:
    """A citation as the judge reads it: ALCE formats each cited document as its title, then its
    text; here the text is the quote, after the source and date its citation card shows (which
    an answer's "The Washington Times, 2025-11-21:" label and "(Article published ...)" note state)."""
    header = ", ".join(([c.source] if c.source else []) + ([f"published {c.published.isoformat()}"] if c.published else []))
    return " ".join([c.title.rstrip(". ") + "."] + ([header + ":"] if header else []) + [c.quote])


def alce_citations(answer: str, citations: list[Citation], judge) -> CitationVerdicts:
    """Citation recall and precision of one answer, with `judge.support_many` deciding support."""
    by_n = {c.n: cited_document(c) for c in citations}
    stmts = statements(answer)
    pairs: list[tuple[str, str]] = []
    plan = []  # per statement: (joint index, [(single index, leave-one-out index or None)])
    for st in stmts:
        cited = [n for n in dict.fromkeys(st.cites) if n in by_n]
        if not cited:
            plan.append(None)
            continue
        joint = len(pairs)
        pairs.append((st.text, " ".join(by_n[n] for n in cited)))
        uses = []
        for n in cited:
            single = len(pairs)
            pairs.append((st.text, by_n[n]))
            rest = [m for m in cited if m != n]
            loo = None
            if rest:
                loo = len(pairs)
                pairs.append((st.text, " ".join(by_n[m] for m in rest)))
            uses.append((single, loo))
        plan.append((joint, uses))
    verdicts = judge.support_many(pairs) if pairs else []
    recall, precision, scores = [], [], []
    for item in plan:
        if item is None:
            recall.append(False)
            continue
        joint, uses = item
        supported = verdicts[joint].supported
        recall.append(supported)
        scores.append(verdicts[joint].score)
        for single, loo in uses:
            # ALCE: with no joint support every citation counts as imprecise.
            alone = verdicts[single].supported
            needed = loo is None or not verdicts[loo].supported
            precision.append(supported and (alone or needed))
    return CitationVerdicts(recall, precision, scores)


def bootstrap_ci(values: list[float], n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> list[float] | None:
    """Percentile bootstrap interval of the mean of per-question values."""
    if len(values) < 2:
        return None
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(n_boot, len(data)))].mean(axis=1)
    alpha = (1 - level) / 2
    return [round(float(np.quantile(means, alpha)), 4), round(float(np.quantile(means, 1 - alpha)), 4)]


def balanced_accuracy(labels: list[bool], predictions: list[bool]) -> float:
    """Mean of the recall on positives and the recall on negatives (SummEdits' measure)."""
    y, p = np.asarray(labels, bool), np.asarray(predictions, bool)
    pos = float((p[y]).mean()) if y.any() else 0.0
    neg = float((~p[~y]).mean()) if (~y).any() else 0.0
    return (pos + neg) / 2
