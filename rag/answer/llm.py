"""The LLM answerer: numbered evidence sentences in, an answer whose every claim is verified out.

Prompt building (`rag.answer.prompt`), stream parsing (`rag.answer.stream`) and claim
resolution (`rag.answer.claims`) are composed here. Answer, then verify: each sentence is
checked as it completes; unsupported ones stay visibly flagged. When no sentence of the answer
is supported, and when the model replies "Not in the sources.", the extractive answer is shown
with a notice if the evidence answers the question strongly (`answers_strongly`) or the model,
asked only whether the extractive answer's sentences answer the question, says yes; else the
answer is an abstention.

The extractive answerer runs first (milliseconds): its intent-shaped choice of sentences (the
newest articles for "latest", an article's lead for "summary", two articles for "compare")
leads the model's evidence, and its answerability rule decides whether the model is asked at
all, so both modes refuse the same questions before any generation.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rag.answer.base import Draft, abstention
from rag.answer.claims import ClaimResolver
from rag.answer.extractive import BROAD_INTENTS
from rag.answer.prompt import (ANSWER_CHECK_SYSTEM, SYSTEM_PROMPT, answer_check_prompt, build_prompt, evidence_budget,
                               label_order, pack_evidence)
from rag.answer.stream import StreamedAnswer
from rag.errors import LLMError
from rag.evidence import Evidence, Found
from rag.llm.client import ChatLLM
from rag.models import Article, Citation
from rag.query import Query
from rag.verify.judge import Judge, LLMJudge, OfflineJudge

NO_SUPPORT_NOTICE = ("none of the {model} answer's sentences is supported by the sources, so the "
                     "extractive answer is shown instead")
WITHDRAWN_NOTICE = ("none of the {model} answer's sentences is supported by the sources, and no source "
                    "sentence answers the question closely, so no answer is given")
DRAWN_NOTICE = ("the {model} answer changed who said or did something, or when, so the source sentences "
                "it drew on are quoted instead")
NOT_IN_SOURCES_NOTICE = ("the {model} model replied that the sources do not answer, but a source sentence "
                         "answers the question closely, so the extractive answer is shown instead")
# "The sources answer strongly": the best evidence sentence's score (the ranker's probability that
# it answers the question) at least this. Chosen on the bundled set (evals/corpus_questions.jsonl,
# extractive evidence of all 108 questions): 1 of its 21 unanswerable questions has a sentence
# scoring above 0.3 (0.45), 35 of its 87 answerable ones do. In-sample: see README (LLM mode).
STRONG_EVIDENCE = 0.3
# The LLM-assisted judge's score a paraphrased claim needs to be cited. Its calibrated threshold
# (0.498, balanced accuracy on SummEdits) rejected the model's correct "Dmitry Peskov is the
# Kremlin spokesperson." (0.438, p(yes) 0.71, evidence "Kremlin spokesperson Dmitry Peskov said
# ..."); 0.4 still rejects the unsupported "Jack Rudoni was sent off in the ... game." (0.304).
# Set by hand on these two claims (Qwen2.5-Coder-1.5B Q4_K_M), not fitted: see README, LLM mode.
CONFIRM_THRESHOLD = 0.4


# Asked when the model replied "not in the sources" (or nothing it wrote held) but the extractive
# answer exists and the evidence is not strong: a 1.5B model answering from 8 sentences refuses
# answerable questions ("How many points ...?" with the number in its first source), while asked
# about the extractive answer's sentences alone it tells answering from not answering far better.
# p(yes) needed: the best balanced accuracy over SQuAD 2.0 and CLAP NQ pooled (`python -m
# evals.fit_answer_check --format squad2 --dataset squad-v2-sample/half-a.json --format clapnq
# --dataset clapnq --limit 120 --seed 0`, Qwen2.5-Coder-1.5B Q4_K_M): 0.726, keeping 0.732 of the
# 97 right extractive answers and 0.281 of the 89 wrong or unanswerable ones. Alone, SQuAD 2.0's
# best is 0.696 (0.766) and CLAP NQ's 0.655 (0.699).
ANSWER_CHECK_THRESHOLD = 0.639


class LLMAnswerer:
    """Answers with the chat model, trusting none of it until the judge agrees."""

    mode = "llm"

    def __init__(self, llm: ChatLLM, judge: Judge, context_window: int, fallback=None,
                 abstain_threshold: float | None = None, confirm: Judge | None = None):
        self.llm = llm
        self.judge = judge
        self.context_window = context_window
        self.fallback = fallback  # the extractive answerer, for answers with no supported sentence
        self.abstain_threshold = llm.settings.abstain_threshold if abstain_threshold is None else abstain_threshold
        # Borderline offline verdicts are confirmed by the LLM-assisted judge (same server).
        if confirm is None and isinstance(judge, OfflineJudge):
            confirm = LLMJudge(llm, judge, context_window, threshold=CONFIRM_THRESHOLD)
        self.confirm = confirm

    def prompt(self, question: str, evidence: list[Evidence], articles: dict[str, Article]) -> tuple[str, list[Evidence]]:
        """The user message and the evidence it numbers ([1] = first)."""
        budget = evidence_budget(self.context_window, self.llm.max_tokens)
        packed = pack_evidence(evidence, budget)
        return build_prompt(question, packed, articles), label_order(packed)

    def stream(self, question: str, found: Found) -> Iterator[str | Draft]:
        """Yields answer text as it streams (markers after each verified sentence), then the Draft."""
        evidence, articles = found.evidence, found.articles
        extractive = self._extractive(question, found)
        # Same abstention rule as the extractive answerer: no call when nothing relevant was found.
        if not evidence or (extractive.abstained if extractive is not None else evidence[0].score < self.abstain_threshold):
            yield from _abstain()
            return
        if extractive is not None:
            evidence = lead_with(evidence, extractive.citations)
        prompt, packed = self.prompt(question, evidence, articles)
        if not packed:
            raise LLMError(f"RAG_LLM_CONTEXT_WINDOW={self.context_window} leaves no room for evidence after the "
                           f"prompt and a {self.llm.max_tokens}-token answer: raise RAG_LLM_CONTEXT_WINDOW (1024 or more)",
                           cause="context", setting="RAG_LLM_CONTEXT_WINDOW")
        resolver = ClaimResolver(packed, articles, self.judge, confirm=self.confirm)
        answer = StreamedAnswer(resolver)
        for delta in self.llm.stream(SYSTEM_PROMPT, prompt):
            yield from answer.feed(delta)
        yield from answer.finish()
        draft = resolver.draft(answer.text)
        query = found.query
        drawn = self._drawn_answer(query, resolver, articles) if extractive is not None else None
        if drawn is not None:
            draft = _replaced(drawn, DRAWN_NOTICE.format(model=self.llm.model))
        elif extractive is not None and resolver.claims and not resolver.supported:
            # Nothing the model wrote holds: the extractive answer when it answers the question,
            # else an abstention (an unanswerable question's likeliest outcome).
            strong = self._extractive_answers(query, evidence, extractive, articles)
            draft = _replaced(extractive if strong else abstention(), (NO_SUPPORT_NOTICE if strong else WITHDRAWN_NOTICE)
                              .format(model=self.llm.model))
        elif draft.abstained and extractive is not None and self._extractive_answers(query, evidence, extractive, articles):
            draft = _replaced(extractive, NOT_IN_SOURCES_NOTICE.format(model=self.llm.model))
        if draft.abstained and not answer.shown:
            yield draft.answer
        yield draft

    def _drawn_answer(self, query: Query, resolver: ClaimResolver, articles: dict[str, Article]) -> Draft | None:
        """When nothing the model wrote holds, but the judge found sentences supporting what it
        said and only a rule (speaker, subject, tense) refused them, those sentences quoted as
        they stand, if the model says they answer a narrow question. "The event was held at
        Goddard" is refused, and "The event will take place at ... Goddard" answers "Where was the
        event held?", which the extractive answer can get wrong."""
        if not resolver.drawn or resolver.supported or query.intent in BROAD_INTENTS:
            return None
        quoted = self.fallback.quote(query, resolver.drawn, articles)
        return quoted if self._quotes_answer(query, quoted.citations, articles) else None

    def _extractive_answers(self, query: Query, evidence: list[Evidence], extractive: Draft,
                            articles: dict[str, Article]) -> bool:
        """Whether the extractive answer answers the question, when the model did not: the evidence
        answers strongly, or the model, asked only that about the extractive answer's sentences,
        says yes."""
        if answers_strongly(query, evidence):
            return True
        # (an abstaining extractive answer, with no citations, never gets here: see `stream`)
        return bool(extractive.citations) and self._quotes_answer(query, extractive.citations, articles)

    def _quotes_answer(self, query: Query, citations: list[Citation], articles: dict[str, Article]) -> bool:
        """The model's p(yes) that the quoted sentences alone answer the question is at least
        `ANSWER_CHECK_THRESHOLD` (any LLM failure counts as no)."""
        try:
            p = self.llm.yes_probability(ANSWER_CHECK_SYSTEM, answer_check_prompt(query.text, citations, articles))
        except LLMError:
            return False
        return p >= ANSWER_CHECK_THRESHOLD

    def _extractive(self, question: str, found: Found) -> Draft | None:
        if self.fallback is None:
            return None
        return next(e for e in self.fallback.stream(question, found) if isinstance(e, Draft))


def answers_strongly(query: Query, evidence: list[Evidence]) -> bool:
    """Whether the evidence answers the (already answerable) question strongly: a broad question
    (summary, latest, compare) that an article covers, or a sentence scoring `STRONG_EVIDENCE`."""
    return query.intent in BROAD_INTENTS or (bool(evidence) and max(e.score for e in evidence) >= STRONG_EVIDENCE)


def lead_with(evidence: list[Evidence], citations: list[Citation]) -> list[Evidence]:
    """The evidence with the sentences the extractive answer cites first (in its order), so they
    are always packed into the prompt; a cited span that is not a scored evidence sentence (a
    summary's lead) gets an entry of its own."""
    by_span = {(e.article_id, e.start, e.end): e for e in evidence}
    first = []
    for c in citations:
        e = by_span.get((c.article_id, c.start, c.end))
        first.append(e if e is not None else Evidence(c.article_id, -1, c.start, c.end, 0.0, np.zeros(0)))
    ids = {id(e) for e in first}
    return first + [e for e in evidence if id(e) not in ids]


def _replaced(draft: Draft, notice: str) -> Draft:
    """The extractive answer (or an abstention), noting why it replaced the model's."""
    draft.notice = notice
    return draft


def _abstain() -> Iterator[str | Draft]:
    draft = abstention()
    yield draft.answer
    yield draft
