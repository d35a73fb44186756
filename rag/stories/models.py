"""Typed results of the stories package: a story, its timeline, its changes, its disagreements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from rag.models import Citation


class Story(BaseModel):
    """Articles about one story. `sources` are the outlets; near-copies of one text count once."""

    id: str
    title: str
    articles: list[str]
    sources: list[str]
    first: date | None = None
    last: date | None = None
    copies: dict[str, str] = Field(default_factory=dict)  # article id -> the article it is a near-copy of
    visited_at: datetime | None = None  # the reader's last visit (the UI records visits)
    new_articles: list[str] = Field(default_factory=list)  # added or changed since that visit

    @property
    def size(self) -> int:
        return len(self.articles)

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", include={"id", "title", "articles", "sources", "first", "last"})


class Disagreement(BaseModel):
    """Two independent sources that state different things about the same count or claim."""

    kind: Literal["number", "claim"]
    a: Citation
    b: Citation
    note: str

    def to_json_dict(self) -> dict:
        return {"kind": self.kind, "a": _cite_json(self.a), "b": _cite_json(self.b), "note": self.note}


class TimelineEntry(BaseModel):
    """One dated event: 1-2 verbatim sentences, dated by the text or by the publication date."""

    date: date
    date_source: Literal["text", "published"]
    text: str
    citations: list[Citation]

    def to_json_dict(self) -> dict:
        return {"date": self.date.isoformat(), "date_source": self.date_source, "text": self.text,
                "citations": [_cite_json(c) for c in self.citations]}


class Timeline(BaseModel):
    story: Story
    entries: list[TimelineEntry]
    disagreements: list[Disagreement] = Field(default_factory=list)

    def to_json_dict(self) -> dict:
        return {"story": self.story.to_json_dict(), "entries": [e.to_json_dict() for e in self.entries],
                "disagreements": [d.to_json_dict() for d in self.disagreements]}


class ChangeCitation(BaseModel):
    """A bullet's citation; `before` marks the earlier value of an updated number (cited from
    before the cutoff, the only citation that may be)."""

    citation: Citation
    before: bool = False


class ChangeBullet(BaseModel):
    text: str
    kind: Literal["new", "updated", "revised"]
    citations: list[ChangeCitation]
    removed: list[str] = Field(default_factory=list)  # revised pages: sentences the new version dropped

    def to_json_dict(self) -> dict:
        data = {"text": self.text, "kind": self.kind,
                "citations": [_cite_json(c.citation) | ({"before": True} if c.before else {}) for c in self.citations]}
        if self.removed:
            data["removed"] = self.removed
        return data


class Changes(BaseModel):
    since: date
    story: Story
    bullets: list[ChangeBullet]

    def to_json_dict(self) -> dict:
        return {"since": self.since.isoformat(), "story": self.story.to_json_dict(),
                "bullets": [b.to_json_dict() for b in self.bullets]}


def _cite_json(citation: Citation) -> dict:
    return citation.model_dump(mode="json")
