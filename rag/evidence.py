"""Evidence selection: score the sentences inside retrieved chunks against the question.

Each candidate sentence gets a few cheap features (embedding similarity from sentence vectors
precomputed at ingestion, idf-weighted coverage of the question's terms by the sentence and by
the sentence before it, question bigrams matched, term density, the chunk's fused rank score, and
whether it holds the kind of answer asked for). A logistic model over them estimates the
probability that the sentence answers the question; `evals/fit_ranker.py` fits its weights on
SQuAD v1.1 questions that are not the ones we report on.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from rag.lexical import terms
from rag.models import Article, RetrievedChunk
from rag.query import Query
from rag.store import Store

FEATURES = ("embed", "lexical", "context_lexical", "bigrams", "density", "chunk", "answer_type", "length")
# Fitted by evals/fit_ranker.py (logistic regression; see its docstring for data and seed).
WEIGHTS = np.array([1.305, 2.235, 1.614, 0.956, 0.724, 1.183, 0.147, -0.239], dtype=np.float64)
BIAS = -5.331

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
    """A candidate sentence, its features and its score (probability it answers the question)."""

    article_id: str
    sentence_index: int
    start: int
    end: int
    score: float
    features: np.ndarray


def answer_type_bonus(question: str, sentence: str) -> float:
    if _NUMERIC_Q.search(question):
        return 1.0 if _HAS_NUMBER.search(sentence) else 0.0
    if _PERSON_Q.search(question):
        q_lower = question.lower()
        return 1.0 if any(p.lower() not in q_lower for p in _PROPER.findall(sentence)[1:]) else 0.0
    return 0.0


def score_features(features: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(features @ WEIGHTS + BIAS)))


class _Question:
    """Per-question data the features need, computed once."""

    def __init__(self, question: str, store: Store):
        self.text = question
        ordered = terms(question)
        self.terms = set(ordered)
        self.bigrams = {(a, b) for a, b in zip(ordered, ordered[1:])}
        self.idf = {t: store.idf(t) for t in self.terms}
        self.idf_total = sum(self.idf.values()) or 1.0

    def coverage(self, sentence_terms: set[str]) -> float:
        return sum(self.idf[t] for t in self.terms & sentence_terms) / self.idf_total


def sentence_features(
    q: _Question, sentence: str, previous: str, title_terms: set[str], cosine: float, chunk_score: float
) -> np.ndarray:
    """Features of one candidate. `context_lexical` also counts question terms found in the
    previous sentence or the headline: news questions name the event ("in Geneva", "at the UN")
    that the answering sentence itself leaves to its context."""
    ordered = terms(sentence)
    sentence_terms = set(ordered)
    bigrams = {(a, b) for a, b in zip(ordered, ordered[1:])}
    return np.array([
        cosine,
        q.coverage(sentence_terms),
        q.coverage(sentence_terms | set(terms(previous)) | title_terms),
        len(q.bigrams & bigrams) / len(q.bigrams) if q.bigrams else 0.0,
        len(q.terms & sentence_terms) / len(sentence_terms) if sentence_terms else 0.0,
        chunk_score,
        answer_type_bonus(q.text, sentence),
        math.log1p(len(ordered)) / 4.0,
    ])


def select_evidence(
    question: str,
    retrieved: list[RetrievedChunk],
    store: Store,
    question_vector: list[float],
    articles: dict[str, Article],
) -> list[Evidence]:
    """Every distinct sentence of the retrieved chunks, best first; `articles` holds (at least)
    the retrieved chunks' articles, loaded once by the caller, who needs them again to cite."""
    q = _Question(question, store)
    qv = np.asarray(question_vector, dtype=np.float32)
    chunks = store.chunks([r.chunk_id for r in retrieved])
    titles = {a.id: set(terms(a.title)) for a in articles.values()}
    seen: set[tuple[str, int]] = set()
    out: list[Evidence] = []
    for r in retrieved:
        chunk = chunks.get(r.chunk_id)
        if chunk is None:
            continue
        sentences, vectors = store.sentences_with_vectors(chunk)
        text = articles[chunk.article_id].text
        cosines = vectors @ qv if sentences else []
        for i, (sentence, cosine) in enumerate(zip(sentences, cosines)):
            if (sentence.article_id, sentence.index) in seen:
                continue
            seen.add((sentence.article_id, sentence.index))
            previous = text[sentences[i - 1].start:sentences[i - 1].end] if i else ""
            features = sentence_features(q, text[sentence.start:sentence.end], previous, titles[chunk.article_id],
                                         float(cosine), r.score)
            out.append(Evidence(sentence.article_id, sentence.index, sentence.start, sentence.end, 0.0, features))
    if out:
        for e, p in zip(out, score_features(np.stack([e.features for e in out]))):
            e.score = float(p)
    out.sort(key=lambda e: e.score, reverse=True)
    return out


@dataclass
class Found:
    """What `Library.evidence` hands an answerer: the query as understood, the chunks it
    retrieved, their articles (loaded once), and the scored evidence sentences, best first."""

    query: Query
    retrieved: list[RetrievedChunk]
    articles: dict[str, Article]
    evidence: list[Evidence]


def key_sentences(store: Store, article: Article, question: str, count: int = 3) -> list[tuple[int, int, int]]:
    """The article's lead and its most central sentences, as (index, start, end) in text order.

    Centrality is cosine similarity to the article's mean sentence vector (the centroid method
    of extractive summarisation, Radev et al. 2004), plus a little of the question's terms so the
    summary leans towards what was asked; very short lines (datelines, bylines) are skipped.
    """
    sentences, vectors = store.article_sentences_with_vectors(article.id)
    keep = [i for i, s in enumerate(sentences) if len(article.text[s.start:s.end].split()) >= 8]
    if not keep:
        return []
    vecs = vectors[keep]
    centroid = vecs.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    asked = set(terms(question))
    overlap = np.array([len(asked & set(terms(article.text[sentences[i].start:sentences[i].end]))) / (len(asked) or 1)
                        for i in keep])
    central = vecs @ centroid + 0.3 * overlap
    # The lead: the first sentence that is at least as central as the median one (skips greetings
    # and photo captions that open some transcripts and advisories).
    median = float(np.median(central))
    lead = next(keep[j] for j in range(len(keep)) if central[j] >= median)
    ranked = [keep[j] for j in np.argsort(-central) if keep[j] != lead]
    chosen = sorted([lead, *ranked[: count - 1]])
    return [(sentences[i].index, sentences[i].start, sentences[i].end) for i in chosen]


# Words that say what kind of answer is wanted, not what it is about: an article need not
# contain them to answer a broad question ("What is the latest news about X?").
_FRAMING = frozenset(terms(
    "latest news recent recently most newest new update updates current currently summarize summary overview "
    "tell happen happened happening say announce announced report reported describe compare comparison differ "
    "difference each both week month year today yesterday give key main points thing things anything any "
    "state statement remarks meeting about regarding concerning what happened"
))


def article_coverage(query: Query, article: Article, store: Store) -> float:
    """Share of the question's topic terms (idf-weighted; framing words and the dates it names
    left out) that occur anywhere in the article or its headline: how well one article matches
    a broad question."""
    text = query.text
    for phrase in query.dates:
        text = text.replace(phrase, " ")
    # Hyphenated names ("Rubio-Cooper", "U.S.-Ukraine") count by their parts.
    asked = set(terms(text.replace("-", " "))) - _FRAMING
    if not asked:
        return 1.0
    present = set(terms(article.title.replace("-", " "))) | set(terms(article.text.replace("-", " ")))
    idf = {t: store.idf(t) for t in asked}
    total = sum(idf.values()) or 1.0
    return sum(idf[t] for t in asked & present) / total
