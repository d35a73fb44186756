"""Fit the LLM answer check's threshold (`rag.answer.llm.ANSWER_CHECK_THRESHOLD`).

Usage:
    python -m evals.fit_answer_check --format squad2 --dataset PATH [--format clapnq --dataset DIR]
                                     [--limit N --seed S] [--at T]

In LLM mode, when the model replies "not in the sources" (or nothing it wrote is supported) and
the evidence is not strong, the model is asked once more, about the extractive answer's cited
sentences alone, whether they answer the question; the extractive answer is shown when p(yes)
reaches the threshold, else the answer is an abstention. This script measures that check on a
dataset with unanswerable questions: every question gets its extractive answer (`rag eval`'s
index and `Library.ask`), and each answer that is not an abstention is labelled right when its
quotes contain a gold answer or cite a gold span (an unanswerable question's answer is never
right). It prints p(yes) per label, the balanced accuracy at 0.5, at `--at T` and at the best
threshold, and the fitted threshold to paste into `rag/answer/llm.py` by hand. It needs the LLM
settings (e.g. `rag llm-server`'s environment). p(yes) per prompt is cached in `--cache`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from evals.datasets import corpus_for, load, sample
from evals.metrics import balanced_accuracy, contains_gold
from evals.runner import RunConfig, ask, open_index


def is_right(question, answer) -> bool:
    """The extractive answer quotes a gold answer, or cites a gold span (CLAP NQ's gold is its
    selected sentences; its long-form answers never occur verbatim)."""
    if not question.answerable:
        return False
    if contains_gold([c.quote for c in answer.citations], question.answers):
        return True
    return any(c.article_id == s.article_id and c.start < s.end and s.start < c.end
               for c in answer.citations for s in question.spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", required=True, action="append", choices=["squad2", "clapnq"],
                        help="Repeat with --dataset to pool several datasets.")
    parser.add_argument("--dataset", required=True, action="append", type=Path)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--at", type=float, default=None, help="Also report this threshold (one fitted elsewhere).")
    parser.add_argument("--cache", type=Path, default=Path(".eval-cache/answer-check.jsonl"))
    args = parser.parse_args()

    from tqdm import tqdm

    from rag.answer.prompt import ANSWER_CHECK_SYSTEM, answer_check_prompt
    from rag.llm.client import ChatLLM
    from rag.settings import Settings

    if len(args.format) != len(args.dataset):
        parser.error("give one --format per --dataset")
    settings = Settings()
    llm = ChatLLM(settings, max_tokens=1)
    done = {}
    if args.cache.is_file():
        done = {row["key"]: row["p_yes"] for row in map(json.loads, args.cache.read_text().splitlines()) if row}
    labels, scores = [], []
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    asked = []
    for fmt, path in zip(args.format, args.dataset):
        evalset = load(fmt, path)
        questions = sample(evalset.questions, args.limit, args.seed)
        library, _ = open_index(corpus_for(evalset, questions), settings, None)
        asked += [(library, q) for q in questions]
    with args.cache.open("a") as out:
        for library, q in tqdm(asked, desc="answer check", unit="question"):
            answer, _ = ask(library, q, RunConfig(mode="extractive", k=settings.top_k))
            if answer.abstained or not answer.citations:
                continue
            articles = {c.article_id: library.article(c.article_id) for c in answer.citations}
            prompt = answer_check_prompt(q.question, answer.citations, articles)
            key = f"{llm.model}|{prompt}"
            if key not in done:
                done[key] = llm.yes_probability(ANSWER_CHECK_SYSTEM, prompt)
                out.write(json.dumps({"key": key, "p_yes": done[key]}) + "\n")
                out.flush()
            labels.append(is_right(q, answer))
            scores.append(done[key])
    labels_arr, scores_arr = np.array(labels), np.array(scores)
    print(f"{len(asked)} questions, {len(labels)} extractive answers: {labels_arr.sum()} right, "
          f"{(~labels_arr).sum()} wrong or unanswerable")
    for name, mask in (("right", labels_arr), ("wrong", ~labels_arr)):
        q = np.quantile(scores_arr[mask], [0.1, 0.25, 0.5, 0.75, 0.9]) if mask.any() else []
        print(f"p(yes) {name}: quantiles 10/25/50/75/90 " + " / ".join(f"{v:.3f}" for v in q))
    print(f"balanced accuracy at 0.5: {balanced_accuracy(labels, list(scores_arr >= 0.5)):.3f}")
    for t in [t for t in (args.at,) if t is not None]:
        print(f"at {t:.3f}: balanced accuracy {balanced_accuracy(labels, list(scores_arr >= t)):.3f}, keeps "
              f"{(scores_arr[labels_arr] >= t).mean():.3f} of right answers, {(scores_arr[~labels_arr] >= t).mean():.3f} of wrong ones")
    best = max(sorted(set(scores)), key=lambda t: balanced_accuracy(labels, list(scores_arr >= t)))
    print(f"best threshold {best:.3f}: balanced accuracy {balanced_accuracy(labels, list(scores_arr >= best)):.3f}, "
          f"keeps {(scores_arr[labels_arr] >= best).mean():.3f} of right answers, "
          f"{(scores_arr[~labels_arr] >= best).mean():.3f} of wrong ones")


if __name__ == "__main__":
    main()
