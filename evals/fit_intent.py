"""Fits the intent classifier (rag/intent.py) on evals/intent_questions.jsonl and writes
rag/data/intent.npz.

Inputs are the questions' MiniLM query vectors, embedded exactly as `Library.understand` embeds a
question. The model is scikit-learn's multinomial logistic regression. Its regularisation C
and class weighting (balanced, or as in the data, where factoids outnumber the rest) are chosen
by grouped cross-validation (a template's fillings are one group, so every fold scores phrasings it never
saw); the held-out accuracy printed and stored is that of the chosen C. The final model is then
fitted on every row.

    python -m evals.fit_intent [--data evals/intent_questions.jsonl] [--out rag/data/intent.npz]
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

FOLDS = 5
C_GRID = (3.0, 10.0, 30.0, 100.0, 300.0)
WEIGHTINGS = ("balanced", None)  # balanced: every intent counts equally; None: as often as in the data


def load_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def embed(questions: list[str], cache: Path) -> tuple[np.ndarray, str]:
    """Query vectors, re-using those a previous run stored in `cache` (keyed by model and text)."""
    from rag.embeddings import LocalMiniLMEmbedding

    embedder = LocalMiniLMEmbedding()
    known: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            if str(data["model_name"]) == embedder.model_name:
                known = dict(zip(data["texts"].tolist(), data["vectors"]))
    vectors = np.array([known[q] if q in known else embedder.get_query_embedding(q) for q in questions], dtype=np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, texts=np.array(questions, dtype=str), vectors=vectors, model_name=np.array(embedder.model_name))
    return vectors, embedder.model_name


def grouped_cv(x: np.ndarray, y: np.ndarray, groups: np.ndarray, c: float, weight: str | None) -> tuple[float, np.ndarray]:
    """Held-out accuracy over grouped folds, and every row's held-out prediction."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    predicted = np.empty_like(y)
    for train, test in StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=0).split(x, y, groups):
        model = LogisticRegression(C=c, class_weight=weight, max_iter=5000).fit(x[train], y[train])
        predicted[test] = model.predict(x[test])
    return float(np.mean(predicted == y)), predicted


@click.command()
@click.option("--data", type=click.Path(path_type=Path, exists=True), default=Path("evals/intent_questions.jsonl"),
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("rag/data/intent.npz"), show_default=True)
@click.option("--cache", type=click.Path(path_type=Path), default=Path(".eval-cache/intent-vectors.npz"), show_default=True)
def main(data: Path, out: Path, cache: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rows = load_rows(data)
    x, model_name = embed([r["question"] for r in rows], cache)
    y = np.array([r["intent"] for r in rows])
    groups = np.array([r["group"] for r in rows])
    grid = [(c, w) for c in C_GRID for w in WEIGHTINGS]
    scores = {cw: grouped_cv(x, y, groups, *cw) for cw in grid}
    best = max(grid, key=lambda cw: scores[cw][0])
    accuracy, predicted = scores[best]
    click.echo("C, class weights: " + ", ".join(f"{c} {w} -> {scores[(c, w)][0]:.3f}" for c, w in grid))
    click.echo(f"chosen C={best[0]} class_weight={best[1]}: grouped {FOLDS}-fold held-out accuracy {accuracy:.3f} "
               f"over {len(rows)} questions")
    labels = sorted(set(y))
    for label in labels:
        mask = y == label
        click.echo(f"  {label:9} n={int(mask.sum()):4} recall {np.mean(predicted[mask] == label):.3f}"
                   f"  precision {np.mean(y[predicted == label] == label) if (predicted == label).any() else 0.0:.3f}")
    outside = np.array([r["source"] != "template" for r in rows])
    click.echo(f"  outside-dataset rows: held-out accuracy {np.mean(predicted[outside] == y[outside]):.3f}; "
               f"template rows: {np.mean(predicted[~outside] == y[~outside]):.3f}")
    model = LogisticRegression(C=best[0], class_weight=best[1], max_iter=5000).fit(x, y)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, labels=np.array(model.classes_, dtype=str), coef=model.coef_.astype(np.float32),
             intercept=model.intercept_.astype(np.float32), model_name=np.array(model_name),
             cv_accuracy=np.array(accuracy), c=np.array(best[0]))
    click.echo(f"wrote {out}")


if __name__ == "__main__":
    main()
