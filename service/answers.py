"""A question as the service passes it to the library (shared by /v1/ask, chat and MCP)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from rag.models import Answer, Searching, Turn


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
