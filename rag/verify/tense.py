"""Tense: a claim may not state as done what its sources announce for later, nor the reverse.

"The event will take place at NASA's Goddard Space Flight Center" supports "The event will take
place at Goddard" and "NASA scheduled the event at Goddard", not "The event was held at Goddard":
an announcement is no evidence that the thing happened. Both judges accept the past-tense claim
(every content word is there), so the tense is checked here.
The reverse: "As the first step, the United States put forward a proposal for a ceasefire" does
not support "The United States said it would put forward a proposal": a deed reported as
an intention.
"""

from __future__ import annotations

import re

from rag.lexical import terms
from rag.verify.attribution import MIN_SHARED

# What a sentence says will happen: from "will" / "shall" / "'ll" to the end of its clause (not
# the comma in "Greenbelt, Maryland"; "..., and talks will begin" ends the clause before it).
_FUTURE_PREDICATE = re.compile(
    r"(?:\b(?:will|shall)\b|\w['’]ll\b)(.*?)(?=[;—–]|,\s*(?:and|but|while|although|though|as)\b|$)", re.I)
# A claim that keeps it future, planned or hedged: "will", "would", "is scheduled", "is expected
# to", "plans to", "is set to", "is to be", "upcoming", "next", "could", "may", "might".
_NOT_DONE = re.compile(
    r"\b(?:will|would|shall|going to|schedul\w*|expect\w*|set to|plan\w*|to be|upcoming|next|"
    r"could|may|might)\b|\w['’]ll\b",
    re.I,
)
# A claim that reports an intention: "said it would", "announced it will", "pledged to".
_INTENDED = re.compile(
    r"\b(?:say|says|said|announc\w*)\b(?:\s+\S+){0,3}?\s+(?:would|will)\b|\b(?:pledg|promis|vow)\w*\s+to\b", re.I)
_ANY_FUTURE = re.compile(r"\b(?:will|would|shall|plan\w*|intend\w*|to be)\b|\w['’]ll\b", re.I)


def states_future_as_done(claim: str, sentences: list[str]) -> bool:
    """Whether the claim, with no future, plan or hedge of its own, repeats what the cited
    sentences say only will happen: `MIN_SHARED` of its terms (a statement, as attribution counts
    it) are in what they announce and nowhere else in them (a neighbouring sentence cited along
    cannot make it done)."""
    if _NOT_DONE.search(claim):
        return False
    claim_terms = set(terms(claim))
    announced: set[str] = set()
    plain: set[str] = set()
    for sentence in sentences:
        rest, last = [], 0
        for m in _FUTURE_PREDICATE.finditer(sentence):
            announced |= claim_terms & set(terms(m.group(1)))
            rest.append(sentence[last:m.start()])
            last = m.end()
        plain |= claim_terms & set(terms(" ".join([*rest, sentence[last:]])))
    return len(announced - plain) >= MIN_SHARED


def states_done_as_intended(claim: str, sentences: list[str]) -> bool:
    """Whether the claim reports as an intention ("said it would ...") what the cited sentences,
    none of which speaks of the future, report as done."""
    return bool(sentences) and bool(_INTENDED.search(claim)) and not any(_ANY_FUTURE.search(s) for s in sentences)
