"""What every answerer is and produces: text deltas while streaming, then one Draft."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from rag.evidence import Found
from rag.models import AnswerSpan, Citation, Claim

ABSTAIN_TEXT = "The corpus does not say: no indexed article supports an answer to this question."


@dataclass
class Draft:
    answer: str
    citations: list[Citation] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    abstained: bool = False
    notice: str | None = None  # why this answer replaced the answerer's own (shown to the user)
    answer_span: AnswerSpan | None = None


def abstention() -> Draft:
    return Draft(answer=ABSTAIN_TEXT, abstained=True)


class Answerer(Protocol):
    """Answers a question from what retrieval found (the extractive and the LLM answerers)."""

    def stream(self, question: str, found: Found) -> Iterator[str | Draft]:
        """Yield the answer text as it is ready, then one `Draft` (citations not yet verified)."""
        ...
