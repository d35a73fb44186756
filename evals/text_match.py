"""SQuAD answer normalisation (Rajpurkar et al. 2016, official evaluate-v1.1.py)."""

from __future__ import annotations

import re
import string

_PUNCT = set(string.punctuation) | {"“", "”", "‘", "’", "—", "–"}


def normalize_answer(s: str) -> str:
    """Lower case, drop punctuation and articles, collapse whitespace."""
    s = "".join(ch for ch in s.lower() if ch not in _PUNCT)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def contains_answer(text: str, answers: list[str]) -> bool:
    """Whether any gold answer appears in `text` after normalisation, starting on a word boundary
    and ending on one or before a possessive/plural "s" ("Eliot" in "Eliot's")."""
    haystack = normalize_answer(text)
    for answer in map(normalize_answer, answers):
        if answer and re.search(rf"(?<!\w){re.escape(answer)}s?(?!\w)", haystack):
            return True
    return False
