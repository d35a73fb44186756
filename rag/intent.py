"""The question's intent from its MiniLM embedding: a multinomial logistic regression fitted by
`evals/fit_intent.py` on evals/intent_questions.jsonl (outside questions plus paraphrase
templates) and shipped as rag/data/intent.npz. Prediction is one matrix product over the vector
retrieval computes anyway (the embedder caches query vectors), so it costs microseconds.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, get_args

import numpy as np

from rag.errors import StoreError
from rag.query import Intent

WEIGHTS = Path(__file__).parent / "data" / "intent.npz"
# Grouped 5-fold held-out accuracy of the shipped weights over 1083 questions (0.924 on the outside
# datasets' rows, 0.836 on unseen paraphrase templates): `python -m evals.fit_intent`.
HELD_OUT_ACCURACY = 0.881


@dataclass(frozen=True)
class IntentClassifier:
    """Weights of one fitted classifier and the embedding model its inputs must come from."""

    labels: tuple[str, ...]
    coef: np.ndarray  # (classes, dim)
    intercept: np.ndarray  # (classes,)
    model_name: str
    cv_accuracy: float  # grouped cross-validated accuracy reported by the fit script

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> IntentClassifier:
        try:
            with np.load(path, allow_pickle=False) as data:
                labels = tuple(str(x) for x in data["labels"])
                clf = cls(labels, data["coef"].astype(np.float32), data["intercept"].astype(np.float32),
                          str(data["model_name"]), float(data["cv_accuracy"]))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise StoreError(f"intent classifier weights {path} cannot be read ({exc}); "
                             "rebuild them with: python -m evals.fit_intent") from exc
        unknown = set(labels) - set(get_args(Intent))
        if unknown or clf.coef.ndim != 2 or clf.coef.shape[0] != len(labels) or clf.intercept.shape != (len(labels),):
            raise StoreError(f"intent classifier weights {path} do not match the intents {get_args(Intent)}")
        return clf

    def probabilities(self, vector: np.ndarray | list[float]) -> dict[str, float]:
        logits = self.coef @ np.asarray(vector, dtype=np.float32) + self.intercept
        exp = np.exp(logits - logits.max())
        return dict(zip(self.labels, (exp / exp.sum()).tolist()))

    def predict(self, vector: np.ndarray | list[float]) -> Intent:
        logits = self.coef @ np.asarray(vector, dtype=np.float32) + self.intercept
        return self.labels[int(np.argmax(logits))]  # type: ignore[return-value]


@dataclass(frozen=True)
class IntentDetector:
    """A classifier bound to the embedding function of the model it was fitted on."""

    classifier: IntentClassifier
    embed: Callable[[str], list[float]]

    def __call__(self, text: str) -> Intent:
        return self.classifier.predict(self.embed(text))


def intent_detector(embedder) -> IntentDetector:
    """The shipped classifier over `embedder` when it is the model the classifier was fitted on,
    else over a local MiniLM of its own (an OpenAI embedder's vectors mean nothing to it)."""
    from rag.embeddings import LocalMiniLMEmbedding

    classifier = IntentClassifier.load()
    if getattr(embedder, "model_name", None) != classifier.model_name:
        embedder = LocalMiniLMEmbedding()
    return IntentDetector(classifier, embedder.get_query_embedding)
