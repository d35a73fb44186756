"""The LLM answerer: numbered evidence sentences in, an answer whose every claim is verified out.

Prompt building (`rag.answer.prompt`), stream parsing (`rag.answer.stream`) and claim
resolution (`rag.answer.claims`) are composed here. The model reads; rules do not veto it:
every question whose evidence is on topic (`rag.answer.topic`, the only gate before the model)
goes to the model, which answers or says the sources do not. Each sentence it writes is then
verified as it completes; unsupported ones stay visibly flagged.

The extractive answerer runs first (milliseconds): its intent-shaped quotes (the newest articles
for "latest", an article's lead for "summary", two articles for "compare") are yielded as
`Quotes` before the model starts, and lead the model's evidence, so they are always in the
prompt. When nothing the model wrote holds, or it replied "Not in the sources.", the model is
asked one yes/no question about quotes alone (the sentences it drew on when only a rule refused
its wording, else the sentences it cited, else the extractive quotes): the first it says answer
are shown, with a notice; else the answer is an abstention.

For a factoid or "when" question the model is asked to lead with the short answer, copied from a
source; when those words occur in a cited sentence they are the answer's `answer_span`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rag.answer.base import Draft, abstention
from rag.answer.claims import ClaimResolver
from rag.answer.prompt import (ANSWER_CHECK_SYSTEM, SHORT_ANSWER_INTENTS, SYSTEM_PROMPT, answer_check_prompt, build_prompt,
                               evidence_budget, label_order, pack_evidence)
from rag.answer.short import locate_phrase
from rag.answer.stream import StreamedAnswer
from rag.answer.topic import on_topic
from rag.verify.citations import make_answer_span
from rag.errors import LLMError
from rag.evidence import Evidence, Found
from rag.llm.client import ChatLLM
from rag.models import AnswerSpan, Article, Citation, Quotes
from rag.query import Query
from rag.verify.judge import LLM_THRESHOLD, Judge, LLMJudge, OfflineJudge

NO_SUPPORT_NOTICE = ("none of the {model} answer's sentences is supported by the sources, so the "
                     "quoted sentences are shown instead")
WITHDRAWN_NOTICE = ("none of the {model} answer's sentences is supported by the sources, and no source "
                    "sentence answers the question closely, so no answer is given")
DRAWN_NOTICE = ("the {model} answer changed who said or did something, or when, so the source sentences "
                "it drew on are quoted instead")
CITED_NOTICE = ("the {model} answer's wording could not be verified against the sources, so the source "
                "sentences it cited are quoted instead")
NOT_IN_SOURCES_NOTICE = ("the {model} model replied that the sources do not answer, but a source sentence "
                         "answers the question closely, so the quoted sentences are shown instead")


# Asked when the model replied "not in the sources" (or nothing it wrote held): a 1.5B model
# answering from 8 sentences refuses answerable questions ("How many points ...?" with the number
# in its first source), while asked about a few quoted sentences alone it tells answering from not
# answering far better.
# p(yes) needed: the best balanced accuracy over SQuAD 2.0 and CLAP NQ pooled (`python -m
# evals.fit_answer_check --format squad2 --dataset squad-v2-sample/half-a.json --format clapnq
# --dataset clapnq --limit 120 --seed 0`, Qwen2.5-Coder-1.5B Q4_K_M): 0.726, keeping 0.732 of the
# 97 right extractive answers and 0.281 of the 89 wrong or unanswerable ones.
ANSWER_CHECK_THRESHOLD = 0.639


class LLMAnswerer:
    """Answers with the chat model, trusting none of it until the judge agrees."""

    mode = "llm"

    def __init__(self, llm: ChatLLM, judge: Judge, context_window: int, fallback=None, confirm: Judge | None = None):
        self.llm = llm
        self.judge = judge
        self.context_window = context_window
        self.fallback = fallback  # the extractive answerer: the quotes shown first and the fallback
        # Borderline offline verdicts are confirmed by the LLM-assisted judge (same server), at its
        # threshold calibrated on SummEdits (`python -m evals.fit_judge`, see rag/judge.py).
        if confirm is None and isinstance(judge, OfflineJudge):
            confirm = LLMJudge(llm, judge, context_window, threshold=LLM_THRESHOLD)
        self.confirm = confirm

    def prompt(self, question: str, evidence: list[Evidence], articles: dict[str, Article],
               intent: str | None = None) -> tuple[str, list[Evidence]]:
        """The user message and the evidence it numbers ([1] = first)."""
        budget = evidence_budget(self.context_window, self.llm.max_tokens)
        packed = pack_evidence(evidence, budget)
        return build_prompt(question, packed, articles, intent), label_order(packed)

    def stream(self, question: str, found: Found) -> Iterator[str | Quotes | Draft]:
        """Yields the extractive `Quotes`, then the answer text as it streams (markers after each
        verified sentence), then the Draft."""
        query, evidence, articles = found.query, found.evidence, found.articles
        if not on_topic(evidence):  # the library holds nothing on the question: no call can help
            yield from _abstain()
            return
        quotes = self.fallback.shaped(query, evidence, articles) if self.fallback is not None else None
        if quotes is not None:
            yield Quotes(answer=quotes.answer, citations=quotes.citations, answer_span=quotes.answer_span)
            evidence = lead_with(evidence, quotes.citations)
        prompt, packed = self.prompt(question, evidence, articles, query.intent)
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
        if draft.abstained or not resolver.supported:
            draft = self._instead(query, resolver, quotes, articles, wrote=bool(resolver.claims))
        elif query.intent in SHORT_ANSWER_INTENTS and answer.sentences:
            draft.answer_span = short_answer_span(answer.sentences[0], draft.citations, articles)
        if draft.abstained and not answer.shown:
            yield draft.answer
        yield draft

    def _instead(self, query: Query, resolver: ClaimResolver, quotes: Draft | None, articles: dict[str, Article],
                 wrote: bool) -> Draft:
        """When the model said the sources do not answer, or nothing it wrote holds: the sentences it
        drew on (when only a rule, not the judge, refused its wording), else the sentences it cited,
        else the extractive quotes, the first that the model says answer the question; else an
        abstention."""
        offers = []
        if resolver.drawn and self.fallback is not None:
            offers.append((self.fallback.quote(query, resolver.drawn, articles), DRAWN_NOTICE))
        if resolver.cited_unsupported and self.fallback is not None:
            offers.append((self.fallback.quote(query, resolver.cited_unsupported[:3], articles), CITED_NOTICE))
        if quotes is not None and quotes.citations:
            offers.append((quotes, NO_SUPPORT_NOTICE if wrote else NOT_IN_SOURCES_NOTICE))
        for draft, notice in offers:
            if self._quotes_answer(query, draft.citations, articles):
                return _replaced(draft, notice.format(model=self.llm.model))
        return _replaced(abstention(), WITHDRAWN_NOTICE.format(model=self.llm.model)) if wrote else abstention()

    def _quotes_answer(self, query: Query, citations: list[Citation], articles: dict[str, Article]) -> bool:
        """The model's p(yes) that the quoted sentences alone answer the question is at least
        `ANSWER_CHECK_THRESHOLD` (any LLM failure counts as no)."""
        try:
            p = self.llm.yes_probability(ANSWER_CHECK_SYSTEM, answer_check_prompt(query.text, citations, articles))
        except LLMError:
            return False
        return p >= ANSWER_CHECK_THRESHOLD


def short_answer_span(first: str, citations: list[Citation], articles: dict[str, Article]) -> AnswerSpan | None:
    """The model's short answer (its first sentence, when it is a short phrase) located
    in a cited sentence (`locate_phrase`: ignoring case, punctuation and a plural "s"), as the
    source's own words; None when it is not there."""
    for citation in citations:
        found = locate_phrase(first, citation.quote)
        if found is not None:
            return make_answer_span(citation, articles[citation.article_id], citation.start + found[0],
                                    citation.start + found[1])
    return None


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
