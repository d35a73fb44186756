"""The embedding engines agree: OpenVINO (bf16 where the CPU has it, and f32) against onnxruntime,
and late-chunked sentence vectors against a second pass. Correctness only; speed is in bench/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.embeddings import LocalMiniLMEmbedding, resolve_engine
from rag.text import split_sentences
from tests.support.library import store_of

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _corpus_sentences() -> list[str]:
    from rag.ingest.files import load_file

    texts = []
    for path in sorted(CORPUS.glob("0[1-5]-*")):
        for loaded in load_file(path, 1 << 24):
            text = loaded.article.text
            texts += [text[s.start:s.end] for s in split_sentences(text)]
    return texts[:400]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _corpus_sentences()


@pytest.fixture(scope="module")
def reference(texts) -> np.ndarray:
    return LocalMiniLMEmbedding(engine="onnxruntime").embed_array(texts)


def test_auto_picks_openvino_on_x86_and_onnxruntime_on_request():
    assert resolve_engine("onnxruntime") == ("onnxruntime", "f32")
    engine, precision = resolve_engine("auto")
    if os.uname().machine in ("x86_64", "AMD64"):
        assert engine == "openvino"
        flags = Path("/proc/cpuinfo").read_text()
        assert precision == ("bf16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "f32")
    else:
        assert engine == "onnxruntime"


@pytest.mark.parametrize("precision", ["bf16", "f32"])
def test_openvino_vectors_match_onnxruntime(texts, reference, precision):
    """Cosine >= 0.999 on every sentence, and the same top-5 for 40 queries over them (at most one
    of the 200 neighbour slots may differ: bf16 may swap two near-tied neighbours)."""
    if resolve_engine("auto")[0] != "openvino":
        pytest.skip("OpenVINO is not the engine on this machine")
    if precision == "bf16" and resolve_engine("auto")[1] != "bf16":
        pytest.skip("this CPU has no native bf16")
    vectors = LocalMiniLMEmbedding(engine="openvino", precision=precision).embed_array(texts)
    cosine = (vectors * reference).sum(axis=1)
    assert len(texts) > 50 and cosine.min() >= 0.999, cosine.min()
    queries = reference[::max(1, len(texts) // 40)][:40]
    top = lambda m: np.argsort(-(queries @ m.T), axis=1)[:, 1:6]  # [:, 0] is the query itself
    differ = sum(len(set(a) ^ set(b)) // 2 for a, b in zip(top(reference), top(vectors)))
    assert differ <= 1, differ


def test_late_chunked_sentence_vectors_are_close_to_separate_ones(texts):
    """Pooling a sentence's tokens inside a longer text gives a vector near the sentence's own
    (context shifts it, so not equal), and a span cut off by the token limit comes back NaN."""
    embedder = LocalMiniLMEmbedding(engine="onnxruntime")
    pair = texts[10] + " " + texts[11]
    spans = [(0, len(texts[10])), (len(texts[10]) + 1, len(pair))]
    _, (late,) = embedder.embed_with_spans([pair], [spans])
    alone = embedder.embed_array(texts[10:12])
    assert np.allclose(np.linalg.norm(late, axis=1), 1.0, atol=1e-5)
    assert ((late * alone).sum(axis=1) > 0.75).all()
    assert (late @ alone.T).argmax(axis=1).tolist() == [0, 1]  # each is nearest its own sentence
    long_text = " ".join(texts[:60])
    _, (cut,) = embedder.embed_with_spans([long_text], [[(0, 5), (len(long_text) - 5, len(long_text))]])
    assert not np.isnan(cut[0]).any() and np.isnan(cut[1]).all()


def test_openvino_sends_no_telemetry_and_writes_nothing_home(tmp_path):
    """`import openvino` alone would send a usage event and write ~/intel (no consent file counts
    as consent); our import blocks the module that does it. Run in a fresh process with HOME and
    the default engine, and check neither the telemetry package loaded nor anything was written."""
    if resolve_engine("auto")[0] != "openvino":
        pytest.skip("OpenVINO is not the engine on this machine")
    code = ("import sys, json; from rag.embeddings import LocalMiniLMEmbedding as E; e = E(); e.embed_array(['x']); "
            "print(json.dumps([e.describe(), sorted(m for m in sys.modules if 'telemetry' in m and 'openvino' in m)]))")
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(CORPUS.parent)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    described, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert ("on openvino bf16" in described or "on openvino f32" in described) and loaded == []
    assert list(tmp_path.iterdir()) == []


def test_store_gives_every_sentence_a_vector_late_or_separate(tmp_path, texts):
    """Late chunking covers every sentence, including one too long for the model's 256 tokens in
    its chunk (it falls back to its own pass) and sentences shared by overlapping chunks; the
    vectors are unit length and near a second pass's."""
    from rag.ingest.canonical import make_article
    from rag.library import Library
    from rag.settings import Settings

    long_sentence = " ".join(texts[:30]).replace(".", ",") + "."
    article = make_article(id="late", title="A headline", text=" ".join(texts[30:45]) + "\n" + long_sentence + "\n" + " ".join(texts[45:60]))
    stored = {}
    for mode in ("late", "separate"):
        library = Library(Settings(RAG_DATA_DIR=tmp_path / mode, RAG_LLM="none", RAG_EMBED_ENGINE="onnxruntime",
                                   RAG_SENTENCE_VECTORS=mode))
        library.add_articles([article])
        _, chunks = library.segments("late")
        assert len(chunks) >= 3 and any(c.first_sentence == c.last_sentence for c in chunks)
        sentences, vectors = store_of(library).article_sentences_with_vectors("late")
        assert len(sentences) == len(vectors) and np.isfinite(vectors).all()
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)  # stored as float16
        stored[mode] = vectors
    agreement = (stored["late"] * stored["separate"]).sum(axis=1)
    # Context moves a sentence's vector (measured here: median cosine 0.80, min 0.47), it does not replace it.
    assert agreement.min() > 0.3 and np.median(agreement) > 0.7, (agreement.min(), np.median(agreement))


def test_a_single_text_runs_on_onnxruntime_and_agrees_with_the_batch_engine(texts, reference):
    """With OpenVINO running batches, one text (a question) goes to an onnxruntime session, created
    on first use: its vector is onnxruntime's own and agrees with the batch engine's to 0.999."""
    if resolve_engine("auto")[0] != "openvino":
        pytest.skip("OpenVINO is not the engine on this machine")
    embedder = LocalMiniLMEmbedding()
    batch = embedder.embed_array(texts[:40])
    assert embedder._single is None  # ingestion alone never loads the second session
    singles = np.array([embedder.get_query_embedding(t) for t in texts[:40]], dtype=np.float32)
    assert embedder._single is not None and "single texts: onnxruntime" in embedder.describe()
    assert np.allclose(singles, reference[:40], atol=1e-5)
    assert (singles * batch).sum(axis=1).min() >= 0.999
    same = LocalMiniLMEmbedding(single_engine="same")
    same.embed_array(texts[:1])
    assert same._single is None and "single texts" not in same.describe()
