"""Turning a follow-up question into a standalone query without an LLM.

When a question leans on the conversation (pronouns, "what else", very short), the names and
key terms of the previous question and answer are appended, so retrieval sees what "he" means.
"""

from __future__ import annotations

import re

from rag.models import Turn

_REFERRING = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|it|its|this|that|these|those|there|the (plan|deal|article|report|country|company|proposal)|"
    r"what else|and|also)\b",
    re.I,
)
_NAME = re.compile(r"\b(?:[A-Z][\w’'-]+(?:\s+(?:of|the|de|von|al)\s+)?)+(?:\s+[A-Z][\w’'-]+)*")
_QUESTION_WORDS = {"Who", "What", "When", "Where", "Why", "How", "Which", "Did", "Does", "Do", "Is", "Are", "Was", "Were", "Can", "The", "A", "An", "And", "Also", "He", "She", "They", "It", "This", "That"}


def names(text: str) -> list[str]:
    """Capitalised name phrases, in order, without leading question words."""
    out = []
    for match in _NAME.finditer(text):
        parts = match.group().split()
        while parts and parts[0] in _QUESTION_WORDS:
            parts.pop(0)
        phrase = " ".join(parts).strip("’'")
        if phrase and phrase not in out:
            out.append(phrase)
    return out


def needs_context(question: str) -> bool:
    return bool(_REFERRING.search(question)) or len(question.split()) <= 3


def rewrite_followup(question: str, history: list[Turn]) -> str:
    """A standalone query for retrieval: the question, plus context from the last turn if needed."""
    if not history or not needs_context(question):
        return question
    last = history[-1]
    context = [n for n in names(last.question) + names(last.answer) if n.lower() not in question.lower()]
    if not context:
        context = [last.question.rstrip("?")]
    return f"{question.rstrip()} ({'; '.join(context[:4])})"
