"""Turning a follow-up question into a standalone query: offline, or with the chat model.

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


CONDENSE_SYSTEM = (
    "Rewrite the user's last question as one standalone question that can be understood "
    "without the conversation. Replace pronouns with the names they refer to. Reply with the "
    "question only."
)


def condense_prompt(question: str, history: list[Turn]) -> str:
    turns = "\n".join(f"User: {t.question}\nAssistant: {t.answer[:400]}" for t in history[-3:])
    return f"Conversation:\n{turns}\n\nLast question: {question}\n\nStandalone question:"


def condense(llm, question: str, history: list[Turn]) -> str | None:
    """The follow-up rewritten by the chat model (`rag.llm.client.ChatLLM`) as a standalone
    question, or None when the reply is unusable. Raises LLMError when the model fails."""
    return usable_rewrite(llm.complete(CONDENSE_SYSTEM, condense_prompt(question, history)), history)


def usable_rewrite(reply: str, history: list[Turn]) -> str | None:
    """The model's rewritten question, or None when it is not one: small models often echo an
    earlier answer (with its [n] markers) instead of writing a question."""
    lines = [line.strip().strip('"“”').strip() for line in reply.strip().splitlines() if line.strip()]
    line = re.sub(r"^(standalone question|question)\s*:\s*", "", lines[0], flags=re.I) if lines else ""
    if not 3 <= len(line) <= 300 or not line.endswith("?") or re.search(r"\[\s*S?\d+\s*\]", line):
        return None
    if any(line.rstrip("?").strip() in turn.answer for turn in history):
        return None
    return line
