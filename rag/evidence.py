"""Evidence selection: score the sentences inside retrieved chunks against the question.

A sentence's score mixes embedding similarity (sentence vectors precomputed at ingestion),
idf-weighted coverage of the question's terms, the rank of its chunk, and a small bonus when
it holds the kind of answer the question asks for (a number for "how many", a name for "who").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.lexical import terms
from rag.models import RetrievedChunk
from rag.store import Store

W_EMBED, W_LEXICAL, W_CHUNK, W_TYPE = 0.45, 0.40, 0.15, 0.08

_NUMERIC_Q = re.compile(
    r"^\s*(how (many|much|long|old|far|large|big|tall|often)|what (year|percentage|percent|number|amount|date|time)|when|in what year|which year)\b",
    re.I,
)
_PERSON_Q = re.compile(r"^\s*(who|whom|whose)\b", re.I)
_HAS_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|dozen|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|century)\b",
    re.I,
)
_PROPER = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


@dataclass
class Evidence:
    """A candidate sentence with the parts of its score."""

    article_id: str
    sentence_index: int
    start: int
    end: int
    score: float
    embed: float
    lexical: float
    chunk_score: float


def answer_type_bonus(question: str, sentence: str) -> float:
    if _NUMERIC_Q.search(question):
        return 1.0 if _HAS_NUMBER.search(sentence) else 0.0
    if _PERSON_Q.search(question):
        q_lower = question.lower()
        return 1.0 if any(p.lower() not in q_lower for p in _PROPER.findall(sentence)[1:]) else 0.0
    return 0.0


def select_evidence(
    question: str, retrieved: list[RetrievedChunk], store: Store, question_vector: list[float]
) -> list[Evidence]:
    """Every distinct sentence of the retrieved chunks, best first."""
    q_terms = set(terms(question))
    idf = {t: store.bm25.idf(t) for t in q_terms}
    idf_total = sum(idf.values()) or 1.0
    qv = np.asarray(question_vector, dtype=np.float32)
    chunks = store.chunks([r.chunk_id for r in retrieved])
    articles = store.registry.articles(sorted({r.article_id for r in retrieved}))
    seen: set[tuple[str, int]] = set()
    out: list[Evidence] = []
    for r in retrieved:
        chunk = chunks.get(r.chunk_id)
        if chunk is None:
            continue
        sentences, vectors = store.sentences_with_vectors(chunk)
        text = articles[chunk.article_id].text
        cosines = vectors @ qv if len(sentences) else []
        for sentence, cosine in zip(sentences, cosines):
            key = (sentence.article_id, sentence.index)
            if key in seen:
                continue
            seen.add(key)
            sentence_text = text[sentence.start:sentence.end]
            lexical = sum(idf[t] for t in q_terms & set(terms(sentence_text))) / idf_total
            score = (
                W_EMBED * float(cosine)
                + W_LEXICAL * lexical
                + W_CHUNK * r.score
                + W_TYPE * answer_type_bonus(question, sentence_text)
            )
            out.append(Evidence(sentence.article_id, sentence.index, sentence.start, sentence.end,
                                score, float(cosine), lexical, r.score))
    out.sort(key=lambda e: e.score, reverse=True)
    return out
