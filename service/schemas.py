"""The service's typed boundary: request and response models for /v1 and MCP.

The citation object is the library's (`rag.models.AnswerCitation`, built by `Library.cite`).

Offsets into an article (`start`, `end`) index its canonical text (`GET /v1/articles/{id}`'s
`text`) in Unicode code points, end-exclusive: `text[start:end] == quote`. `answer_start` and
`answer_end` index the answer text the same way and locate the claim the citation supports.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rag.models import AnswerCitation

MAX_TOP_K = 50  # as `rag ask --top-k`
MAX_QUESTION_CHARS = 4000  # a question, not a document: longer input is a client mistake


class HistoryTurn(BaseModel):
    question: str
    answer: str


class AskRequest(BaseModel):
    """`POST /v1/ask`."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    history: list[HistoryTurn] = Field(default_factory=list)
    mode: Literal["extractive", "llm"] | None = None
    top_k: int | None = Field(default=None, ge=1, le=MAX_TOP_K)
    since: date | None = None
    until: date | None = None
    as_of: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> "AskRequest":
        _check_range(self.since, self.until)
        return self


class RetrievedOut(BaseModel):
    """A retrieved chunk: article.text[start:end] (code points, end-exclusive)."""

    article_id: str
    start: int
    end: int
    score: float


class QueryOut(BaseModel):
    """The question as understood."""

    intent: str
    since: date | None = None
    until: date | None = None
    as_of: date | None = None


class AnswerSpanOut(BaseModel):
    """The short answer phrase: article.text[start:end], inside citation n's quote."""

    n: int
    start: int
    end: int
    text: str


class AskResponse(BaseModel):
    """`POST /v1/ask`: the `rag ask --json` object (`Library.answer_json`); the optional fields
    appear only when set."""

    question: str
    standalone_question: str = Field(description="The question rewritten with the history, as searched.")
    mode: Literal["extractive", "llm"]
    answer: str = Field(description="The answer text with [n] markers.")
    abstained: bool = Field(description="True when nothing in the library supports an answer.")
    citations: list[AnswerCitation]
    retrieved: list[RetrievedOut]
    timings_ms: dict[str, float]
    query: QueryOut | None = None
    answer_span: AnswerSpanOut | None = None
    unsupported: list[str] = Field(default_factory=list, description="LLM mode: claims no citation supports.")
    notice: str | None = None
    model: str | None = Field(default=None, description="The LLM that wrote the answer (LLM mode).")


def _check_range(since: date | None, until: date | None) -> None:
    if since and until and since > until:
        raise ValueError(f"since {since} is after until {until}")


class SearchRequest(BaseModel):
    """`POST /v1/search`."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    top_k: int = Field(default=5, ge=1, le=MAX_TOP_K)
    since: date | None = None
    until: date | None = None
    source: str = Field(default="", description="Only articles from this source (any case).")


class SearchResult(BaseModel):
    """A retrieved chunk: article.text[start:end] == text."""

    article_id: str
    title: str
    source: str = ""
    url: str = Field(description="A link to the chunk highlighted in its article.")
    published: date | None = None
    start: int
    end: int
    text: str
    score: float


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResult]


class ArticleIn(BaseModel):
    """`POST /v1/articles`: either `{url}` (fetched) or `{title, text, ...}` (given)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2048)
    title: str | None = None
    text: str | None = None
    source: str = ""
    published: date | None = None

    @model_validator(mode="after")
    def _one_form(self) -> "ArticleIn":
        if self.text is None and self.title is None:
            if not self.url:
                raise ValueError("give {url} to fetch a page, or {title, text} to add an article")
        elif not (self.title or "").strip() or not (self.text or "").strip():
            raise ValueError("an article given as text needs both a non-empty title and text")
        return self


class FeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    every: str | None = Field(default=None, description="Refresh interval like 30m, 1h, 1d (default 30m).")


# -- OpenAI-compatible chat ---------------------------------------------------------------------

class ChatFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: date | None = None
    until: date | None = None
    sources: list[str] | None = Field(default=None, description="Only articles from these sources (any case).")
    article_ids: list[str] | None = Field(default=None, description="Only these articles.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> "ChatFilters":
        _check_range(self.since, self.until)
        return self


class ChatExtras(BaseModel):
    """The `newsground` object of a chat request (the openai client's `extra_body`)."""

    model_config = ConfigDict(extra="forbid")

    filters: ChatFilters = Field(default_factory=ChatFilters)
    top_k: int | None = Field(default=None, ge=1, le=MAX_TOP_K)
    mode: Literal["extractive", "llm"] | None = None
    as_of: date | None = None
    append_sources: bool = True
    openwebui_events: bool = False


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text (the text parts of a multi-part message, joined)."""
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """`POST /v1/chat/completions`; OpenAI sampling options are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = "newsground"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    newsground: ChatExtras = Field(default_factory=ChatExtras)


# -- stories (the objects `rag stories|timeline|changes --json` print) ----------------------------

class StoryOut(BaseModel):
    """A story: its articles (ids), their outlets, the first and last publication dates."""

    id: str
    title: str = Field(description="The most central headline.")
    articles: list[str]
    sources: list[str]
    first: date | None = None
    last: date | None = None


class StoriesOut(BaseModel):
    stories: list[StoryOut]


class StoryCitation(BaseModel):
    """A verbatim sentence: article.text[start:end] == quote (code points, end-exclusive); `url` is
    the article's own URL."""

    n: int
    article_id: str
    title: str
    source: str = ""
    url: str = ""
    published: date | None = None
    start: int
    end: int
    quote: str
    support: float


class TimelineEntryOut(BaseModel):
    date: date
    date_source: Literal["text", "published"] = Field(
        description="'text': a date the sentences state; 'published': the article's publication date.")
    text: str
    citations: list[StoryCitation]


class DisagreementOut(BaseModel):
    kind: Literal["number", "claim"]
    a: StoryCitation
    b: StoryCitation
    note: str


class TimelineOut(BaseModel):
    story: StoryOut
    entries: list[TimelineEntryOut] = Field(description="Chronological.")
    disagreements: list[DisagreementOut]


class ChangeCitationOut(StoryCitation):
    before: bool = Field(default=False, description="Present (true) only on the earlier value of an updated "
                                                    "number, the one citation from before `since`.")


class ChangeBulletOut(BaseModel):
    text: str
    kind: Literal["new", "updated", "revised"]
    citations: list[ChangeCitationOut]
    removed: list[str] = Field(default_factory=list,
                               description="Revised pages only: sentences the new version dropped.")


class ChangesOut(BaseModel):
    since: date
    story: StoryOut
    bullets: list[ChangeBulletOut]
