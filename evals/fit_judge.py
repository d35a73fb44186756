"""Re-fit the offline grounding judge's logistic model on the SummEdits tuning half.

Usage: python -m evals.fit_judge PATH/summedits_news.json
Computes the judge's features (`rag.grounding.FEATURES`) for every pair, reports the balanced
accuracy of leave-one-document-out cross-validation inside the tuning half (the documents with
an even index, `rag.grounding.TUNED_ON`), then fits on the whole tuning half and prints WEIGHTS
and BIAS to paste into `rag/grounding.py` by hand. The held-out half is never looked at here:
`rag eval --format summedits` reports it.
"""

from __future__ import annotations

import sys

import numpy as np

from evals.datasets import load_summedits
from evals.metrics import balanced_accuracy
from rag import grounding
from rag.embeddings import LocalMiniLMEmbedding


def is_tuning_group(group: int) -> bool:
    """SummEdits documents the offline judge was tuned on (see `rag.grounding.TUNED_ON`)."""
    return group % 2 == 0


def feature_rows(pairs, embedder) -> np.ndarray:
    """The judge's feature vector (`rag.grounding.FEATURES`) per pair."""
    judge = grounding.GroundingJudge(embedder)
    parts = judge.analyse([(p.summary, p.doc) for p in pairs])
    return np.asarray([grounding.feature_vector(p) for p in parts], dtype=float)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 3000, lr: float = 0.5) -> tuple[np.ndarray, float]:
    """Class-balanced logistic regression by gradient descent (so 0.5 is the balanced threshold),
    with weights kept non-positive: a missing name, number or added negation never adds support."""
    w, b = np.zeros(x.shape[1]), 0.0
    weight = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        grad = (1 / (1 + np.exp(-(x @ w + b))) - y) * weight
        w -= lr * (x.T @ grad / len(y) + l2 * w)
        b -= lr * float(np.mean(grad))
        w = np.minimum(w, 0.0)
    return w, b


def main(path: str) -> None:
    pairs = [p for p in load_summedits(path) if is_tuning_group(p.group)]
    x = feature_rows(pairs, LocalMiniLMEmbedding())
    y = np.array([float(p.label) for p in pairs])
    groups = np.array([p.group for p in pairs])
    predicted = np.zeros(len(y), dtype=bool)
    for group in sorted(set(groups)):
        w, b = fit(x[groups != group], y[groups != group])
        predicted[groups == group] = x[groups == group] @ w + b > 0
    print("leave-one-document-out, tuning half", round(balanced_accuracy(list(y > 0), list(predicted)), 4))
    w, b = fit(x, y)
    print("FEATURES =", grounding.FEATURES)
    print("WEIGHTS =", tuple(np.round(w, 3).tolist()), "BIAS =", round(b, 3))
    print("tuning half, fitted", round(balanced_accuracy(list(y > 0), list(x @ w + b > 0)), 4))


if __name__ == "__main__":
    main(sys.argv[1])
