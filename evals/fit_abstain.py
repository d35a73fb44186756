"""Fit the extractive answerer's abstention threshold (`RAG_ABSTAIN_THRESHOLD`, rag/settings.py).

Usage:
    python -m evals.fit_abstain --format squad2 --dataset PATH [--format clapnq --dataset DIR]
        [--format realtimeqa --dataset QUESTIONS --corpus DOCS] [--limit N --seed S]

A factoid question is answered extractively when its best evidence sentence's ranker score
(`rag.evidence`) reaches the threshold. On datasets with unanswerable questions written about
the same documents (SQuAD 2.0, CLAP NQ; RealTimeQA, whose questions are unanswerable when no
candidate document holds the answer, without the seed-0 sample of 100 that `rag eval` reports),
every question's best score is collected (`rag eval`'s
cached index; no LLM). Printed: the threshold with the best balanced accuracy between answerable
and unanswerable questions, and the highest one that still answers `--recall` of the answerable
questions (the product's bound on false abstention, 0.1), each with every dataset's figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from evals.datasets import corpus_for, load
from evals.fit_offtopic import questions_for
from evals.metrics import balanced_accuracy
from evals.runner import open_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", required=True, action="append", choices=["squad2", "clapnq", "realtimeqa"])
    parser.add_argument("--dataset", required=True, action="append", type=Path)
    parser.add_argument("--corpus", type=Path, default=None, help="RealTimeQA's docs jsonl")
    parser.add_argument("--limit", type=int, default=None, help="questions per dataset (seeded sample)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--recall", type=float, default=0.9, help="share of answerable questions to answer")
    args = parser.parse_args()
    if len(args.format) != len(args.dataset):
        parser.error("give one --format per --dataset")
    if args.seed == 0 and args.limit is not None:
        parser.error("seed 0 is the reported sample: fit on another seed")

    from tqdm import tqdm

    from rag.settings import Settings

    settings = Settings()
    scores, answerable, origin = [], [], []
    for i, (fmt, path) in enumerate(zip(args.format, args.dataset)):
        evalset = load(fmt, path, args.corpus if fmt == "realtimeqa" else None)
        questions = questions_for(fmt, evalset, args.limit, args.seed)
        library, _ = open_index(corpus_for(evalset, questions), settings, None)
        for q in tqdm(questions, desc=fmt, unit="question"):
            evidence = library.evidence(q.question).evidence
            scores.append(evidence[0].score if evidence else 0.0)
            answerable.append(q.answerable)
            origin.append(i)
    s, y, origin = np.array(scores), np.array(answerable), np.array(origin)
    candidates = np.unique(np.round(s, 3))
    accuracy = [balanced_accuracy(list(y), list(s >= t)) for t in candidates]
    best = float(candidates[int(np.argmax(accuracy))])
    bounded = float(np.quantile(s[y], 1 - args.recall))
    for name, t in (("best balanced accuracy", best), (f"answering {args.recall} of answerable", bounded)):
        print(f"{name}: RAG_ABSTAIN_THRESHOLD = {t:.3f}, balanced accuracy {balanced_accuracy(list(y), list(s >= t)):.3f}")
        for i, fmt in enumerate(args.format):
            mine = origin == i
            print(f"  {fmt}: {mine.sum()} questions ({y[mine].sum()} answerable): answers {(s[mine & y] >= t).mean():.3f} "
                  f"of answerable, abstains on {(s[mine & ~y] < t).mean():.3f} of unanswerable")


if __name__ == "__main__":
    main()
