"""Questions through the library, in the shapes the service returns (shared by /v1/ask, chat and MCP)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from rag.errors import ArticleNotFound
from rag.models import Answer, Article, Searching, Turn
from service.cite import SpanLink, citations_of
from service.schemas import Citation


@dataclass
class AskArgs:
    """What a face asks: the question, its conversation and the options of `Library.ask_stream`."""

    question: str
    history: list[Turn] = field(default_factory=list)
    mode: str | None = None
    k: int | None = None
    since: date | None = None
    until: date | None = None
    as_of: date | None = None
    only: frozenset[str] | None = None

    def stream(self, library) -> Iterator[Searching | str | Answer]:
        return library.ask_stream(self.question, history=self.history, k=self.k, since=self.since, until=self.until,
                                  as_of=self.as_of, mode=self.mode, only=self.only)


def cited_articles(library, answer: Answer) -> dict[str, Article]:
    """The stored articles the answer cites (one removed meanwhile is missing: its citations are unverified)."""
    out = {}
    for article_id in {c.article_id for c in answer.citations}:
        try:
            out[article_id] = library.article(article_id)
        except ArticleNotFound:
            continue
    return out


def ask_json(answer: Answer, citations: list[Citation]) -> dict:
    """`rag ask --json`, each citation extended to the service's citation object."""
    data = answer.to_json_dict()
    by_n = {c.n: c.model_dump(mode="json") for c in citations}
    data["citations"] = [{**cited, **by_n.get(cited["n"], {})} for cited in data["citations"]]
    return data


def answer_citations(library, answer: Answer, link: SpanLink, offset: int = 0) -> list[Citation]:
    return citations_of(answer, cited_articles(library, answer), link, offset)
