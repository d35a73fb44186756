"""The offline answerer: the best-supported source sentences, quoted verbatim and cited."""

from __future__ import annotations

from collections.abc import Iterator

from rag.answer.base import Draft, abstention
from rag.citations import make_citation
from rag.evidence import Evidence
from rag.models import Article, Claim


class ExtractiveAnswerer:
    """Answers with 1-3 evidence sentences: the best one, plus others scoring nearly as well."""

    mode = "extractive"

    def __init__(self, abstain_threshold: float, max_sentences: int = 3, keep_ratio: float = 0.55):
        self.abstain_threshold = abstain_threshold
        self.max_sentences = max_sentences
        self.keep_ratio = keep_ratio

    def pick(self, evidence: list[Evidence]) -> list[Evidence]:
        if not evidence or evidence[0].score < self.abstain_threshold:
            return []
        best = evidence[0].score
        return [e for e in evidence[: self.max_sentences] if e.score >= best * self.keep_ratio]

    def stream(self, question: str, evidence: list[Evidence], articles: dict[str, Article]) -> Iterator[str | Draft]:
        """Yields each cited sentence as it is ready, then the Draft."""
        picked = self.pick(evidence)
        if not picked:
            draft = abstention()
            yield draft.answer
            yield draft
            return
        citations, claims, parts = [], [], []
        for n, e in enumerate(picked, 1):
            citation = make_citation(n, articles[e.article_id], e.start, e.end, support=1.0)
            citations.append(citation)
            claims.append(Claim(text=citation.quote, citations=[n], support=1.0, supported=True))
            part = f"{citation.quote} [{n}]"
            yield part if n == 1 else " " + part
            parts.append(part)
        yield Draft(answer=" ".join(parts), citations=citations, claims=claims)
