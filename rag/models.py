"""Typed objects that cross module boundaries: articles, spans, citations, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from rag.query import Query


class Article(BaseModel):
    """An article with its canonical text; every offset in the product points into `text`."""

    id: str
    title: str
    text: str
    source: str = ""
    url: str = ""
    published: date | None = None
    sha256: str = ""


@dataclass(frozen=True)
class Sentence:
    """A sentence as character offsets into its article's canonical text."""

    article_id: str
    index: int
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A sentence-aligned window of an article (sentences first..last inclusive)."""

    id: str
    article_id: str
    index: int
    start: int
    end: int
    first_sentence: int
    last_sentence: int


@dataclass
class Origin:
    """Where an article came from, kept beside it in the registry (not part of its text)."""

    kind: str  # "file" | "web" | "feed" | "sitemap"
    location: str  # the file path or the URL fetched
    feed_url: str | None = None
    fetched_at: str | None = None  # ISO time the page was fetched (web articles)
    author: str | None = None
    pages: list[int] | None = None  # PDF: offset in the canonical text where each page starts


@dataclass
class Loaded:
    """One article found in an input, or the reason it could not be read."""

    label: str
    article: Article | None = None
    error: str | None = None
    origin: Origin | None = field(default=None, compare=False)


class ArticleSummary(BaseModel):
    id: str
    title: str
    source: str = ""
    url: str = ""
    published: date | None = None
    sha256: str = ""
    chunks: int = 0
    chars: int = 0
    added_at: str = ""
    state: str = "ready"


class AddResult(BaseModel):
    """The outcome for one input (a file, or one record of a .jsonl file)."""

    path: str
    status: Literal["added", "updated", "unchanged", "failed"]
    article_id: str | None = None
    title: str | None = None
    reason: str | None = None


class RetrievedChunk(BaseModel):
    article_id: str
    chunk_id: str
    start: int
    end: int
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None


class Citation(BaseModel):
    n: int
    article_id: str
    title: str
    source: str = ""
    url: str = ""
    published: date | None = None
    start: int
    end: int
    quote: str
    support: float = Field(ge=0.0, le=1.0)


class AnswerCitation(BaseModel):
    """The one citation object every face shows (`rag ask --json`, /v1, chat, MCP): a `Citation`
    located in its answer and checked again against the stored article.

    `article.text[start:end] == quote` (Unicode code points, end-exclusive) and
    `answer[answer_start:answer_end]` is the claim it supports. Built only by
    `rag.verify.citations.answer_citations`."""

    id: str = Field(description="Stable id of the span: '{article_id}:{start}-{end}'.")
    n: int = Field(description="The marker number: [n] in the answer.")
    article_id: str
    start: int = Field(description="Start of the quote in the article's canonical text (Unicode code points).")
    end: int = Field(description="End of the quote, exclusive (Unicode code points).")
    quote: str = Field(description="Exactly article.text[start:end].")
    verified: bool = Field(description="The quote was checked against the stored article text.")
    title: str
    source: str = ""
    url: str = Field(description="A link to the span: the span page when served (/v1/articles/{id}/span?start=&end=), "
                                 "the newsground:// span URI in MCP, the article's own URL in the CLI.")
    published: date | None = None
    answer_start: int | None = Field(default=None, description="Start of the supported claim in the answer text.")
    answer_end: int | None = Field(default=None,
                                   description="End of the supported claim in the answer text (exclusive).")
    support: float = Field(ge=0.0, le=1.0, description="How well the quote supports its claim (the judge's score).")
    article_url: str = Field(default="", description="Where the article was published, when known.")
    page: int | None = Field(default=None, description="The PDF page the quote starts on (PDF articles only).")


class AnswerSpan(BaseModel):
    """The short answer phrase: article.text[start:end], inside citation n's quote."""

    n: int
    start: int
    end: int
    text: str


class Claim(BaseModel):
    """One answer sentence and the citation numbers that support it (empty: unsupported)."""

    text: str
    citations: list[int] = Field(default_factory=list)
    support: float = 0.0
    supported: bool = True


class Answer(BaseModel):
    question: str
    standalone_question: str
    mode: Literal["extractive", "llm"]
    answer: str
    abstained: bool = False
    citations: list[Citation] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    unsupported: list[str] = Field(default_factory=list)
    retrieved: list[RetrievedChunk] = Field(default_factory=list)
    notice: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    model: str | None = None  # the LLM that wrote the answer (RAG_LLM_MODEL); None for extractive answers
    query: Query | None = None
    answer_span: AnswerSpan | None = None

    def to_json_dict(self) -> dict:
        """The `rag ask --json` shape from DESIGN.md (plus `unsupported`/`notice` when set)."""
        data = {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "mode": self.mode,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.model_dump(mode="json", exclude={"url"}) for c in self.citations],
            "retrieved": [
                r.model_dump(mode="json", include={"article_id", "start", "end", "score"})
                for r in self.retrieved
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
        if self.query is not None:
            data["query"] = self.query.to_json_dict()
        if self.answer_span is not None:
            data["answer_span"] = self.answer_span.model_dump()
        if self.unsupported:
            data["unsupported"] = self.unsupported
        if self.notice:
            data["notice"] = self.notice
        if self.model:
            data["model"] = self.model
        return data


@dataclass(frozen=True)
class Searching:
    """`Library.ask_stream`'s first event: the query about to be searched, as understood."""

    query: Query


@dataclass(frozen=True)
class Quotes:
    """In LLM mode, before the model's answer streams: the extractive answer's verified quotes
    (yielded by `Library.ask_stream(..., quotes_first=True)`)."""

    answer: str
    citations: list[Citation]
    answer_span: AnswerSpan | None = None


@dataclass
class Turn:
    """One exchange of a conversation, kept by the caller (CLI loop, UI session)."""

    question: str
    answer: str


class SearchHit(BaseModel):
    """A retrieved chunk with its text: article.text[start:end] (`Library.search`)."""

    article_id: str
    title: str
    source: str = ""
    url: str = ""
    published: date | None = None
    start: int
    end: int
    text: str
    score: float


class ArticlePage(BaseModel):
    """One page of a filtered article listing (`Library.list_page`); `next_cursor` fetches the next."""

    articles: list[ArticleSummary]
    next_cursor: str | None = None
