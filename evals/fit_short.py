"""Fit the short-answer phrase scorer's logistic weights (rag/answer/short.py WEIGHTS, BIAS).

Data: SQuAD v1.1 dev half-a, questions NOT in the reported sample (`--limit 500 --seed 0`),
sampled with --seed (default 1, never 0). For each question the candidates are the phrases of the
sentence holding its gold answer (no index needed); a candidate is positive when it equals a
gold answer after SQuAD normalisation. The model is a linear score trained listwise (softmax over
each question's candidates, cross-entropy on the gold ones; L2-regularised gradient descent), since
only the top candidate is used. Fitted on the first half, scored (EM/F1 of the top phrase) on the
second, then refitted on all of it.

    python -m evals.fit_short --dataset ../shared/datasets/squad-v1.1/dev-half-a.json
"""

from __future__ import annotations

import argparse
import random

import numpy as np

from evals.datasets import load_squad, sample
from evals.metrics import exact_match, token_f1
from rag.answer.short import FEATURES, features
from rag.text import split_sentences


def collect(questions, articles):
    rows, labels, groups = [], [], []
    sentences = {}
    for q in questions:
        if not q.spans:
            continue
        span = q.spans[0]
        text = articles[span.article_id].text
        if span.article_id not in sentences:
            sentences[span.article_id] = split_sentences(text)
        holder = next((s for s in sentences[span.article_id] if s.start <= span.start < s.end), None)
        if holder is None:
            continue
        sentence = text[holder.start:holder.end]
        spans, x = features(q.question, sentence)
        if not spans:
            continue
        start = len(rows)
        rows.extend(x)
        labels.extend(exact_match(sentence[a:b], q.answers) for a, b in spans)
        groups.append((slice(start, len(rows)), [sentence[a:b] for a, b in spans], q.answers))
    return np.array(rows), np.array(labels, dtype=float), groups


def fit(x: np.ndarray, y: np.ndarray, groups, l2: float = 1e-3, steps: int = 600, lr: float = 0.5):
    """Listwise softmax regression: maximise the probability mass on each question's gold candidates."""
    w = np.zeros(x.shape[1])
    usable = [(g, texts, answers) for g, texts, answers in groups if y[g].any()]
    for _ in range(steps):
        grad = np.zeros_like(w)
        for g, _, _ in usable:
            s = x[g] @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            target = y[g] / y[g].sum()
            grad += x[g].T @ (p - target)
        w -= lr * (grad / len(usable) + l2 * w)
    return w, 0.0


def score(x, groups, w, b) -> tuple[float, float]:
    em, f1 = [], []
    for g, texts, answers in groups:
        best = texts[int(np.argmax(x[g] @ w + b))]
        em.append(exact_match(best, answers))
        f1.append(token_f1(best, answers))
    return float(np.mean(em)), float(np.mean(f1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-n", type=int, default=3000)
    args = parser.parse_args()
    if args.seed == 0:
        parser.error("seed 0 is the reported sample: fit on another seed")
    evalset = load_squad(args.dataset)
    reported = {q.id for q in sample(evalset.questions, 500, 0)}
    pool = [q for q in evalset.questions if q.id not in reported]
    questions = random.Random(args.seed).sample(pool, min(args.n, len(pool)))
    articles = {a.id: a for a in evalset.articles}
    x, y, groups = collect(questions, articles)
    half = len(groups) // 2
    w, b = fit(x, y, groups[:half])
    em, f1 = score(x, groups[half:], w, b)
    print(f"held-out top phrase in the gold sentence (fit on first half): EM {em:.3f} F1 {f1:.3f}")
    w, b = fit(x, y, groups)
    print("WEIGHTS =", np.round(w, 3).tolist(), "BIAS =", round(b, 3))
    print("features:", FEATURES)


if __name__ == "__main__":
    main()
