"""The eval index cache is keyed by everything that changes the stored vectors."""

from __future__ import annotations

from evals.runner import corpus_hash
from rag.ingest.canonical import make_article
from rag.settings import Settings


def test_cache_key_changes_with_sentence_vectors_and_engine(tmp_path):
    articles = [make_article(id="a", title="A", text="One sentence. Another one.")]
    base = Settings(RAG_DATA_DIR=tmp_path, RAG_LLM="none")
    keys = {corpus_hash(articles, base.with_overrides(**change))
            for change in ({"sentence_vectors": "late"}, {"sentence_vectors": "separate"},
                           {"sentence_vectors": "late", "embed_engine": "onnxruntime"})}
    assert len(keys) == 3
    assert corpus_hash(articles, base) == corpus_hash(articles, Settings(RAG_DATA_DIR=tmp_path, RAG_LLM="none"))
