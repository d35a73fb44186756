"""Re-fit the judge's logistic models on the SummEdits tuning half.

Usage:
    python -m evals.fit_judge PATH/summedits_news.json                 # the offline judge
    python -m evals.fit_judge PATH/summedits_news.json --llm [--limit N --seed S]

Computes the judge's features (`rag.verify.judge.FEATURES`; with --llm also the LLM's p(yes), which
needs the LLM settings, e.g. `rag llm-server`'s environment) for the pairs of the tuning half
(the documents with an even index, `rag.verify.judge.TUNED_ON`), or a seeded sample of N of them
(`evals.datasets.sample`), reports the balanced accuracy of leave-one-document-out
cross-validation inside it, then fits on all of it and prints the weights, bias and calibrated
threshold to paste into `rag/verify/judge.py` by hand. The LLM's p(yes) per pair is cached in
`--cache` (JSON lines keyed by pair id), so an interrupted run resumes. The held-out half is
never looked at here: `rag eval --format summedits [--judge llm]` reports it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from evals.datasets import load_summedits, sample
from evals.metrics import balanced_accuracy
from rag.embeddings import LocalMiniLMEmbedding
from rag.verify import judge as judges


def is_tuning_group(group: int) -> bool:
    """SummEdits documents the judges were tuned on (see `rag.verify.judge.TUNED_ON`)."""
    return group % 2 == 0


def feature_rows(pairs, embedder) -> np.ndarray:
    """The offline judge's feature vector (`rag.verify.judge.FEATURES`) per pair."""
    parts = judges.OfflineJudge(embedder).analyse([(p.summary, p.doc) for p in pairs])
    return np.asarray([judges.feature_vector(p) for p in parts], dtype=float)


def llm_logits(pairs, cache: Path) -> np.ndarray:
    """logit(p(yes)) of the configured LLM per pair, cached by pair id in `cache`."""
    from tqdm import tqdm

    from rag.llm.client import ChatLLM
    from rag.settings import Settings

    settings = Settings()
    done = {}
    if cache.is_file():
        done = {row["id"]: row["p_yes"] for row in map(json.loads, cache.read_text().splitlines()) if row}
    llm_judge = judges.LLMJudge(ChatLLM(settings, max_tokens=1), None, settings.llm_context_window)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("a") as out:
        for p in tqdm([p for p in pairs if p.id not in done], desc="LLM p(yes)", unit="pair"):
            done[p.id] = llm_judge.p_yes(p.summary, p.doc)
            out.write(json.dumps({"id": p.id, "p_yes": done[p.id]}) + "\n")
            out.flush()
    return np.array([judges.llm_logit(done[p.id]) for p in pairs])


def fit(x: np.ndarray, y: np.ndarray, signs, l2: float = 1e-2, steps: int = 4000, lr: float = 0.3) -> tuple[np.ndarray, float]:
    """Class-balanced logistic regression by gradient descent (so 0.5 is the balanced threshold),
    each weight kept to its sign in `signs` (-1 non-positive, 1 non-negative, 0 free)."""
    signs = np.asarray(signs)
    w, b = np.zeros(x.shape[1]), 0.0
    weight = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        grad = (1 / (1 + np.exp(-(x @ w + b))) - y) * weight
        w -= lr * (x.T @ grad / len(y) + l2 * w)
        b -= lr * float(np.mean(grad))
        w = np.where(signs < 0, np.minimum(w, 0.0), np.where(signs > 0, np.maximum(w, 0.0), w))
    return w, b


def best_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The score threshold with the highest balanced accuracy (midpoint between scores)."""
    candidates = np.unique(np.round(scores, 3))
    accuracy = [balanced_accuracy(list(y > 0), list(scores >= t)) for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--llm", action="store_true", help="fit the LLM-assisted judge (needs the LLM settings)")
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of N tuning-half pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path("evals/runs/judge-llm-p-yes.jsonl"))
    args = parser.parse_args()

    pairs = sample([p for p in load_summedits(args.path) if is_tuning_group(p.group)], args.limit, args.seed)
    x = feature_rows(pairs, LocalMiniLMEmbedding())
    signs, names = judges.SIGNS, judges.FEATURES
    if args.llm:
        x = np.column_stack([x, llm_logits(pairs, args.cache)])
        signs, names = (*signs, 1), judges.LLM_FEATURES
        p_yes = 1 / (1 + np.exp(-x[:, -1]))
    y = np.array([float(p.label) for p in pairs])
    groups = np.array([p.group for p in pairs])
    print(f"{len(pairs)} tuning-half pairs from {len(set(groups))} documents (limit {args.limit}, seed {args.seed})")
    if args.llm:
        print("LLM p(yes) alone at 0.5:", round(balanced_accuracy(list(y > 0), list(p_yes >= 0.5)), 4),
              "at its best threshold:", round(balanced_accuracy(list(y > 0), list(p_yes >= best_threshold(p_yes, y))), 4))
    predicted = np.zeros(len(y), dtype=bool)
    for group in sorted(set(groups)):
        w, b = fit(x[groups != group], y[groups != group], signs)
        predicted[groups == group] = x[groups == group] @ w + b > 0
    print("leave-one-document-out, tuning half", round(balanced_accuracy(list(y > 0), list(predicted)), 4))
    w, b = fit(x, y, signs)
    scores = 1 / (1 + np.exp(-(x @ w + b)))
    threshold = best_threshold(scores, y)
    print("FEATURES =", names)
    print("WEIGHTS =", tuple(np.round(w, 3).tolist()), "BIAS =", round(b, 3), "THRESHOLD =", round(threshold, 3))
    print("tuning half, fitted, at 0.5", round(balanced_accuracy(list(y > 0), list(scores >= 0.5)), 4),
          "at the threshold", round(balanced_accuracy(list(y > 0), list(scores >= threshold)), 4))
    _, counts = np.unique(np.round(scores, 3), return_counts=True)
    print("score quantiles 10/25/50/75/90", np.round(np.quantile(scores, [.1, .25, .5, .75, .9]), 3).tolist(),
          "distinct", len(counts), "most common share", round(counts.max() / len(scores), 3))


if __name__ == "__main__":
    main()
