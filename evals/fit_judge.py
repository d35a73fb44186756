"""Re-choose the offline grounding judge's factors on the SummEdits tuning half.

Usage: python -m evals.fit_judge PATH/summedits_news.json
Grid-searches the penalty factors and the threshold of `rag.grounding` for balanced accuracy
on the documents with an even index (`rag.grounding.TUNED_ON`) and prints the best setting with
its balanced accuracy on both halves; paste it into `rag/grounding.py` by hand.
"""

from __future__ import annotations

import itertools
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
    """[coverage, cosine, names, numbers, negation, novel] per pair, as the judge computes them."""
    units = {p.doc: grounding._evidence_units(p.doc) for p in pairs}
    texts = list(dict.fromkeys([p.summary for p in pairs] + [u for us in units.values() for u in us]))
    index = {t: i for i, t in enumerate(texts)}
    vectors = embedder.embed_array(texts)
    rows = []
    for p in pairs:
        sims = vectors[[index[u] for u in units[p.doc]]] @ vectors[index[p.summary]]
        best = int(sims.argmax())
        rows.append(list(grounding._features(p.summary, p.doc, float(sims[best]), units[p.doc][best]).vector().values()))
    return np.asarray(rows, dtype=float)


def main(path: str) -> None:
    pairs = load_summedits(path)
    x = feature_rows(pairs, LocalMiniLMEmbedding())
    y = np.array([p.label for p in pairs])
    tune = np.array([is_tuning_group(p.group) for p in pairs])
    coverage, cosine, names, numbers, negation, _ = x.T
    cap = grounding._MAX_PENALISED
    best = (0.0,)
    for lexical, number, name, flip in itertools.product([0.3, 0.55, 0.8], [0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                                                         [0.5, 0.6, 0.7, 0.8, 0.9], [0.6, 0.75, 0.9, 1.0]):
        score = (lexical * coverage + (1 - lexical) * cosine) * number ** np.minimum(numbers, cap) \
            * name ** np.minimum(names, cap) * np.where(negation > 0, flip, 1.0)
        for threshold in np.round(np.quantile(score[tune], np.linspace(0.05, 0.95, 46)), 2):
            acc = balanced_accuracy(list(y[tune]), list(score[tune] >= threshold))
            if acc > best[0]:
                best = (acc, lexical, number, name, flip, threshold, score)
    acc, lexical, number, name, flip, threshold, score = best
    print(f"lexical weight {lexical}, missing number {number}, missing name {name}, negation flip {flip}, "
          f"threshold {threshold}")
    for label, mask in (("tuning half", tune), ("held-out half", ~tune)):
        print(label, round(balanced_accuracy(list(y[mask]), list(score[mask] >= threshold)), 4))


if __name__ == "__main__":
    main(sys.argv[1])
