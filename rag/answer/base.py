"""What every answerer produces: text deltas while streaming, then one Draft."""

from __future__ import annotations

from dataclasses import dataclass, field

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
