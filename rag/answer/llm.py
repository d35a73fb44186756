"""The LLM answerer: numbered evidence sentences in, an answer whose every claim is verified out.

Prompt building (`rag.answer.prompt`), stream parsing (`rag.answer.stream`) and claim
resolution (`rag.answer.claims`) are composed here. Answer, then verify: each sentence is
checked as it completes; unsupported ones stay visibly flagged. When no sentence of the answer
is supported, the model's answer is replaced by the extractive one with a notice, and the
model's "Not in the sources." reply becomes an abstention.
"""

from __future__ import annotations

from collections.abc import Iterator

from rag.answer.base import Draft, abstention
from rag.answer.claims import ClaimResolver
from rag.answer.prompt import SYSTEM_PROMPT, build_prompt, evidence_budget, label_order, pack_evidence
from rag.answer.stream import StreamedAnswer
from rag.errors import LLMError
from rag.evidence import Evidence
from rag.judge import Judge
from rag.llm.client import ChatLLM
from rag.models import Article

NO_SUPPORT_NOTICE = ("none of the {model} answer's sentences is supported by the sources, so the "
                     "extractive answer is shown instead")


class LLMAnswerer:
    """Answers with the chat model, trusting none of it until the judge agrees."""

    mode = "llm"

    def __init__(self, llm: ChatLLM, judge: Judge, context_window: int, fallback=None,
                 abstain_threshold: float | None = None):
        self.llm = llm
        self.judge = judge
        self.context_window = context_window
        self.fallback = fallback  # the extractive answerer, for answers with no supported sentence
        self.abstain_threshold = llm.settings.abstain_threshold if abstain_threshold is None else abstain_threshold

    def prompt(self, question: str, evidence: list[Evidence], articles: dict[str, Article]) -> tuple[str, list[Evidence]]:
        """The user message and the evidence it numbers ([1] = first)."""
        budget = evidence_budget(self.context_window, self.llm.max_tokens)
        packed = pack_evidence(evidence, budget)
        return build_prompt(question, packed, articles), label_order(packed)

    def stream(self, question: str, evidence: list[Evidence], articles: dict[str, Article]) -> Iterator[str | Draft]:
        """Yields answer text as it streams (markers after each verified sentence), then the Draft."""
        # Same abstention rule as the extractive answerer: no call when nothing relevant was found.
        if not evidence or evidence[0].score < self.abstain_threshold:
            yield from _abstain()
            return
        prompt, packed = self.prompt(question, evidence, articles)
        if not packed:
            raise LLMError(f"RAG_LLM_CONTEXT_WINDOW={self.context_window} leaves no room for evidence after the "
                           f"prompt and a {self.llm.max_tokens}-token answer: raise RAG_LLM_CONTEXT_WINDOW (1024 or more)",
                           cause="context", setting="RAG_LLM_CONTEXT_WINDOW")
        resolver = ClaimResolver(packed, articles, self.judge)
        answer = StreamedAnswer(resolver)
        for delta in self.llm.stream(SYSTEM_PROMPT, prompt):
            yield from answer.feed(delta)
        yield from answer.finish()
        draft = resolver.draft(answer.text)
        if resolver.claims and not resolver.supported and self.fallback is not None:
            draft = self._fallback(question, evidence, articles)
        elif draft.abstained and not answer.shown:
            yield draft.answer
        yield draft

    def _fallback(self, question: str, evidence: list[Evidence], articles: dict[str, Article]) -> Draft:
        """The extractive answer, noting why it replaced the model's."""
        draft = next(e for e in self.fallback.stream(question, evidence, articles) if isinstance(e, Draft))
        draft.notice = NO_SUPPORT_NOTICE.format(model=self.llm.model)
        return draft


def _abstain() -> Iterator[str | Draft]:
    draft = abstention()
    yield draft.answer
    yield draft
