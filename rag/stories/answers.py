"""Timelines and changes as `rag ask` answers: one line per entry or bullet, each with its [n]
markers, and the citations numbered in order (every one already verified at build)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.models import Citation, Claim
from rag.stories.models import Changes, Timeline


@dataclass
class Shaped:
    """An answer's text, citations and per-line claims."""

    answer: str
    citations: list[Citation] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)

    def line(self, text: str, cited: list[Citation]) -> None:
        numbers = []
        for citation in cited:
            citation = citation.model_copy(update={"n": len(self.citations) + 1})
            self.citations.append(citation)
            numbers.append(citation.n)
        marks = "".join(f" [{n}]" for n in numbers)
        self.claims.append(Claim(text=text, citations=numbers, support=1.0))
        self.answer += f"\n- {text}{marks}"


def timeline_answer(timeline: Timeline) -> Shaped:
    shaped = Shaped(f"How the story \"{timeline.story.title}\" developed ({timeline.story.size} articles, "
                    f"{len(timeline.story.sources)} sources):")
    for entry in timeline.entries:
        shaped.line(f"{entry.date.isoformat()}: {entry.text}", entry.citations)
    for flag in timeline.disagreements:
        shaped.line(f"Sources disagree: {flag.note}.", [flag.a, flag.b])
    return shaped


def changes_answer(changes: Changes) -> Shaped:
    shaped = Shaped(f"What changed in \"{changes.story.title}\" since {changes.since.isoformat()}:")
    if not changes.bullets:
        shaped.answer += "\n- Nothing new in this story's articles since then."
    for bullet in changes.bullets:
        label = {"new": "New", "updated": "Updated", "revised": "Revised"}[bullet.kind]
        shaped.line(f"{label}: {bullet.text}", [c.citation for c in bullet.citations])
    return shaped
