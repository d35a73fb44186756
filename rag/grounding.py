"""The grounding judge: how well a piece of evidence supports a claim, offline.

Evidence kinds: lexical coverage of the claim's content terms, numbers, negation, named
entities, and embedding similarity. Combined into a score in [0, 1]; `supported` above a
threshold. Used to score LLM claims against their cited spans and to re-attribute them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rag.lexical import terms, words

SUPPORT_THRESHOLD = 0.62
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION = {"not", "no", "never", "n't", "none", "nobody", "nothing", "neither", "nor", "without", "cannot"}
_ENTITY = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z\u00C0-\u017F'’-]+")


@dataclass
class SupportVerdict:
    score: float
    supported: bool
    reasons: list[str] = field(default_factory=list)


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _negations(text: str) -> int:
    toks = words(text.replace("n't", " n't"))
    return sum(t in _NEGATION for t in toks)


def _entities(text: str) -> set[str]:
    return {e.lower().rstrip("'’s") for e in _ENTITY.findall(text)}


class GroundingJudge:
    """Scores claim/evidence pairs; `embedder` supplies `embed_array` for the semantic part."""

    def __init__(self, embedder, threshold: float = SUPPORT_THRESHOLD):
        self.embedder = embedder
        self.threshold = threshold

    def support(self, claim: str, evidence: str) -> SupportVerdict:
        return self.support_many([(claim, evidence)])[0]

    def support_many(self, pairs: list[tuple[str, str]]) -> list[SupportVerdict]:
        if not pairs:
            return []
        vectors = self.embedder.embed_array([c for c, _ in pairs] + [e for _, e in pairs])
        n = len(pairs)
        cosines = (vectors[:n] * vectors[n:]).sum(axis=1)
        return [self._verdict(c, e, float(cos)) for (c, e), cos in zip(pairs, cosines)]

    def _verdict(self, claim: str, evidence: str, cosine: float) -> SupportVerdict:
        if claim.strip() and claim.strip() in evidence:
            return SupportVerdict(1.0, True, ["claim is quoted verbatim"])
        claim_terms = terms(claim)
        evidence_terms = set(terms(evidence))
        lexical = sum(t in evidence_terms for t in claim_terms) / len(claim_terms) if claim_terms else 0.0
        score = 0.55 * lexical + 0.45 * max(cosine, 0.0)
        reasons = [f"term coverage {lexical:.2f}", f"embedding cosine {cosine:.2f}"]
        missing_numbers = _numbers(claim) - _numbers(evidence)
        if missing_numbers:
            score *= 0.6
            reasons.append("numbers not in evidence: " + ", ".join(sorted(missing_numbers)))
        if _negations(claim) % 2 != _negations(evidence) % 2:
            score *= 0.75
            reasons.append("negation differs")
        evidence_lower = evidence.lower()
        missing_entities = {e for e in _entities(claim) if e not in evidence_lower}
        if missing_entities:
            score *= 0.8 ** min(len(missing_entities), 3)
            reasons.append("names not in evidence: " + ", ".join(sorted(missing_entities)))
        score = float(np.clip(score, 0.0, 1.0))
        return SupportVerdict(round(score, 3), score >= self.threshold, reasons)
