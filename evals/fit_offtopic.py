"""Fit the off-topic gate (`rag.answer.topic`: WEIGHTS, BIAS, THRESHOLD) on outside data.

Usage:
    python -m evals.fit_offtopic --format squad2 --dataset PATH --format clapnq --dataset DIR \
        [--format realtimeqa --dataset QUESTIONS --corpus DOCS] [--limit N] [--recall 0.95]

Each dataset's documents are indexed on their own (`rag eval`'s cached index). Every question is
then retrieved against its own documents (on topic: written about them, answerable or not) and
against each other dataset's documents (off topic: a library without the subject). The gate's
features of the evidence found (`rag.answer.topic.gate_features`) are fitted by class-balanced
logistic regression; the threshold is the score that keeps `--recall` of the on-topic questions
(the gate errs toward asking the model). With three datasets or more, leave-one-dataset-out
figures show how it carries to a kind of text it was not fitted on. RealTimeQA questions in the seed-0 sample of 100 that
`rag eval --limit 100 --seed 0` reports are left out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from evals.datasets import corpus_for, load, sample
from evals.fit_judge import fit
from evals.runner import open_index

REPORTED_LIMIT, REPORTED_SEED = 100, 0


def questions_for(fmt: str, evalset, limit: int | None, seed: int):
    """The fitting questions: a seeded sample, without RealTimeQA's reported sample."""
    questions = evalset.questions
    if fmt == "realtimeqa":
        reported = {q.id for q in sample(questions, REPORTED_LIMIT, REPORTED_SEED)}
        questions = [q for q in questions if q.id not in reported]
    return sample(questions, limit, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", required=True, action="append", choices=["squad2", "clapnq", "realtimeqa", "squad"])
    parser.add_argument("--dataset", required=True, action="append", type=Path)
    parser.add_argument("--corpus", type=Path, default=None, help="RealTimeQA's docs jsonl")
    parser.add_argument("--limit", type=int, default=None, help="questions per dataset (seeded sample)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--recall", type=float, default=0.95, help="share of on-topic questions the gate must pass")
    args = parser.parse_args()
    if len(args.format) != len(args.dataset):
        parser.error("give one --format per --dataset")

    from tqdm import tqdm

    from rag.answer.topic import GATE_FEATURES, gate_features
    from rag.settings import Settings

    settings = Settings()
    libraries, asked = [], []
    for fmt, path in zip(args.format, args.dataset):
        evalset = load(fmt, path, args.corpus if fmt == "realtimeqa" else None)
        questions = questions_for(fmt, evalset, args.limit, args.seed)
        library, _ = open_index(corpus_for(evalset, questions), settings, None)
        libraries.append(library)
        asked.append(questions)
        print(f"{fmt}: {len(questions)} questions, {len(corpus_for(evalset, questions))} documents")
    rows, labels, origin, target = [], [], [], []
    for i, questions in enumerate(asked):
        for q in tqdm(questions, desc=args.format[i], unit="question"):
            for j, library in enumerate(libraries):
                rows.append(gate_features(library.evidence(q.question).evidence))
                labels.append(float(i == j))
                origin.append(i)
                target.append(j)
    x, y, origin, target = np.array(rows), np.array(labels), np.array(origin), np.array(target)
    signs = (1,) * len(GATE_FEATURES)  # more similarity, coverage or ranker score never means less on topic

    def threshold_for(scores: np.ndarray, on: np.ndarray) -> float:
        return float(np.quantile(scores[on], 1 - args.recall))

    def report(name: str, scores: np.ndarray, on: np.ndarray, t: float) -> None:
        print(f"{name}: on-topic passed {(scores[on] >= t).mean():.3f} ({on.sum()}), "
              f"off-topic stopped {(scores[~on] < t).mean():.3f} ({(~on).sum()})")

    for held in sorted(set(origin)) if len(libraries) > 2 else []:  # two are left to fit on
        # Held out: the dataset's questions and its documents (no pair involving either is fitted).
        fitted = (origin != held) & (target != held)
        w, b = fit(x[fitted], y[fitted], signs)
        train_scores = 1 / (1 + np.exp(-(x[fitted] @ w + b)))
        t = threshold_for(train_scores, y[fitted] > 0)
        mine = origin == held
        scores = 1 / (1 + np.exp(-(x[mine] @ w + b)))
        report(f"held out {args.format[held]} questions", scores, y[mine] > 0, t)
    w, b = fit(x, y, signs)
    scores = 1 / (1 + np.exp(-(x @ w + b)))
    t = threshold_for(scores, y > 0)
    for i, fmt in enumerate(args.format):
        report(f"fitted, {fmt} questions", scores[origin == i], (y > 0)[origin == i], t)
    report("fitted, all", scores, y > 0, t)
    print("GATE_FEATURES =", GATE_FEATURES)
    print("WEIGHTS =", np.round(w, 3).tolist(), "BIAS =", round(b, 3), "THRESHOLD =", round(t, 3))


if __name__ == "__main__":
    main()
