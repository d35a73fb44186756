"""Turning a follow-up question into a standalone query without an LLM.

A personal pronoun ("he", "her") is replaced by the last full name of the previous turn, which
is what a reader would resolve it to; other references ("it", "the plan", "what else") get the
names of the previous turn appended, so retrieval sees what the question leans on.
"""

from __future__ import annotations

import re

from rag.models import Turn

_PERSONAL = re.compile(r"\b(he|she|him|her|his|hers)\b", re.I)
_POSSESSIVE = {"his", "her", "hers"}
_REFERRING = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|there|the (plan|deal|article|report|country|company|proposal)|"
    r"what else|and|also)\b",
    re.I,
)
_NAME = re.compile(r"\b(?:[A-Z][\w’'-]+(?:\s+(?:of|the|de|von|al)\s+)?)+(?:\s+[A-Z][\w’'-]+)*")
_QUESTION_WORDS = {"Who", "What", "When", "Where", "Why", "How", "Which", "Did", "Does", "Do", "Is", "Are", "Was", "Were", "Can", "The", "A", "An", "And", "Also", "He", "She", "They", "It", "This", "That", "Mr", "Mrs", "Ms", "Dr"}


def names(text: str) -> list[str]:
    """Capitalised name phrases, in order, without leading question words or titles."""
    out: list[str] = []
    for match in _NAME.finditer(text):
        parts = match.group().split()
        while parts and parts[0].rstrip(".") in _QUESTION_WORDS:
            parts.pop(0)
        phrase = " ".join(parts).strip("’'")
        if phrase.endswith(("’s", "'s")):
            phrase = phrase[:-2]
        if phrase and phrase.lower() not in (n.lower() for n in out):
            out.append(phrase)
    return out


def _person(history: list[Turn]) -> str | None:
    """The most recent full name (two or more capitalised words) in the last turn."""
    last = history[-1]
    for text in (last.answer, last.question):
        full = [n for n in names(text) if len(n.split()) >= 2 and not n.isupper()]
        if full:
            return full[0]
    return None


def needs_context(question: str) -> bool:
    return bool(_PERSONAL.search(question) or _REFERRING.search(question)) or len(question.split()) <= 3


def rewrite_followup(question: str, history: list[Turn]) -> str:
    """A standalone query for retrieval: the question with its references resolved or explained."""
    if not history or not needs_context(question):
        return question
    person = _person(history) if _PERSONAL.search(question) else None
    if person:
        resolved = _PERSONAL.sub(lambda m: person + ("’s" if m.group().lower() in _POSSESSIVE else ""), question)
        if not _REFERRING.search(resolved):
            return resolved
        question = resolved
    last = history[-1]
    context = [n for n in names(last.question + " " + last.answer) if n.lower() not in question.lower()]
    if not context:
        context = [last.question.rstrip("?")]
    return f"{question.rstrip()} ({'; '.join(context[:4])})"
