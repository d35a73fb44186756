"""Unit tests of the eval metrics (SQuAD EM/F1, retrieval ranks, ALCE citations, intervals)."""

from __future__ import annotations

from evals import metrics
from evals.datasets import GoldSpan
from rag.models import Citation, RetrievedChunk
from rag.verify.judge import SupportVerdict


class WordJudge:
    """A transparent rule judge for checking ALCE bookkeeping: supported iff every word of the
    claim occurs in the evidence (the real judges are tested in test_eval_grounding.py)."""

    def support_many(self, pairs):
        out = []
        for claim, evidence in pairs:
            ok = set(metrics.normalize_answer(claim).split()) <= set(metrics.normalize_answer(evidence).split())
            out.append(SupportVerdict(1.0 if ok else 0.0, ok))
        return out


def cite(n: int, quote: str) -> Citation:
    return Citation(n=n, article_id="a", title="A", start=0, end=len(quote), quote=quote, support=1.0)


def chunk(article_id: str, start: int, end: int) -> RetrievedChunk:
    return RetrievedChunk(article_id=article_id, chunk_id=f"{article_id}:{start}", start=start, end=end, score=0.5)


def test_squad_exact_match_and_f1():
    assert metrics.exact_match("The Denver Broncos!", ["Denver Broncos"]) == 1.0
    assert metrics.exact_match("Broncos", ["Denver Broncos"]) == 0.0
    assert metrics.token_f1("Broncos", ["Denver Broncos"]) == 2 * (1 * 0.5) / 1.5
    assert metrics.token_f1("Panthers", ["Denver Broncos"]) == 0.0


def test_contains_gold_needs_word_boundaries():
    assert metrics.contains_gold(["Spokesman Dmitry Peskov said"], ["dmitry peskov"]) == 1.0
    assert metrics.contains_gold(["a 2028 plan"], ["28"]) == 0.0
    assert metrics.contains_gold(["no", "quote: the 28-point plan"], ["28 point"]) == 0.0
    assert metrics.contains_gold(["no", "quote: the 28 point plan"], ["28 point"]) == 1.0


def test_retrieval_rank_is_first_overlapping_chunk():
    gold = [GoldSpan("a", 100, 120)]
    retrieved = [chunk("b", 100, 200), chunk("a", 0, 100), chunk("a", 90, 130)]
    assert metrics.retrieval_rank(retrieved, gold) == 3
    assert metrics.retrieval_rank(retrieved[:2], gold) is None


def test_statements_take_markers_after_the_full_stop():
    out = metrics.statements("Peskov spoke Friday. [1] The plan has 28 points. [2][3] Unsourced words.")
    assert [(s.text, s.cites) for s in out] == [
        ("Peskov spoke Friday.", [1]), ("The plan has 28 points.", [2, 3]), ("Unsourced words.", [])]


def test_alce_recall_and_precision():
    answer = "Peskov spoke Friday. [1][2] The plan has 28 points. [3] Unsourced words."
    citations = [cite(1, "Peskov spoke Friday in Moscow."), cite(2, "It rained."), cite(3, "The plan has 20 points.")]
    verdicts = metrics.alce_citations(answer, citations, WordJudge())
    # Statement 1 supported by [1]; statement 2 not supported; statement 3 has no citation.
    assert verdicts.recall == [True, False, False]
    # [1] precise (supports alone), [2] irrelevant, [3] imprecise (its statement is unsupported).
    assert verdicts.precision == [True, False, False]


def test_alce_citation_needed_jointly_is_precise():
    answer = "Peskov spoke Friday. [1][2]"
    verdicts = metrics.alce_citations(answer, [cite(1, "Peskov spoke"), cite(2, "on Friday")], WordJudge())
    assert verdicts.recall == [True]
    assert verdicts.precision == [True, True]


def test_bootstrap_interval_brackets_the_mean():
    values = [1.0] * 30 + [0.0] * 10
    low, high = metrics.bootstrap_ci(values)
    assert low < 0.75 < high
    assert metrics.bootstrap_ci([1.0]) is None
    assert metrics.bootstrap_ci([1.0] * 10) == [1.0, 1.0]


def test_balanced_accuracy_weights_classes_equally():
    labels = [True] * 9 + [False]
    assert metrics.balanced_accuracy(labels, [True] * 10) == 0.5
    assert metrics.balanced_accuracy(labels, labels) == 1.0


def test_the_judge_reads_a_citation_as_its_card_shows_it():
    """ALCE judges a cited document as its title and then its text; a citation also shows its
    article's source and date, which an answer's label states."""
    from datetime import date

    quote = "Spain and Ireland withdrew."
    c = Citation(n=1, article_id="a", title="Eurovision 2026 loses four countries", source="Wikinews",
                 published=date(2025, 12, 10), start=0, end=len(quote), quote=quote, support=1.0)
    assert metrics.cited_document(c) == ("Eurovision 2026 loses four countries. Wikinews, published 2025-12-10: "
                                         "Spain and Ireland withdrew.")
    answer = "Eurovision 2026: Spain and Ireland withdrew. [1] Wikinews, 2025-12-10: Spain withdrew. [1]"
    assert metrics.alce_citations(answer, [c], WordJudge()).recall == [True, True]
    assert metrics.alce_citations("Spain withdrew from the Olympics. [1]", [c], WordJudge()).recall == [False]
