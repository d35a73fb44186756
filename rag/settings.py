"""One settings object, read from the environment and overridable by CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Set before anything imports onnxruntime, chromadb, gradio or huggingface_hub: nothing may
# reach the network at run time, and telemetry attempts only produce noise and delays offline.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "ORT_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_offline_env() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


apply_offline_env()


class Settings(BaseSettings):
    """Everything configurable. Env vars use the names in DESIGN.md; flags override them."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=Path(".rag"), validation_alias="RAG_DATA_DIR")
    llm: Literal["none", "openai"] | None = Field(default=None, validation_alias="RAG_LLM")
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="RAG_LLM_MODEL")
    llm_timeout_s: float = Field(default=60.0, validation_alias="RAG_LLM_TIMEOUT")
    llm_context_window: int = Field(default=8192, validation_alias="RAG_LLM_CONTEXT_WINDOW")
    embed_model: str = Field(default="local-minilm", validation_alias="RAG_EMBED_MODEL")
    embed_engine: Literal["auto", "openvino", "onnxruntime"] = Field(default="auto", validation_alias="RAG_EMBED_ENGINE")
    chroma_host: str | None = Field(default=None, validation_alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, validation_alias="CHROMA_PORT")
    collection: str = Field(default="chunks", validation_alias="RAG_COLLECTION")

    chunk_tokens: int = Field(default=200, validation_alias="RAG_CHUNK_TOKENS")
    chunk_overlap_sentences: int = Field(default=1, validation_alias="RAG_CHUNK_OVERLAP")
    # Sentence vectors for the evidence ranker: pooled from the chunk's own pass ("late", about half
    # the model work, answers as good on SQuAD half A) or a second pass ("separate"); docs/constants.md.
    sentence_vectors: Literal["late", "separate"] = Field(default="late", validation_alias="RAG_SENTENCE_VECTORS")
    # Chunks embedded (and added to Chroma) together: enough for length bucketing to fill batches of
    # similar lengths, small enough that progress moves and a crash loses little (bench/bench_ingest.py --levers).
    embed_batch_chunks: int = Field(default=256, ge=1, validation_alias="RAG_EMBED_BATCH_CHUNKS")
    # Articles segmented ahead, in a thread, while the model embeds (0: one after the other). A batch of
    # ~256 chunks is ~20 news articles, so one ahead would barely overlap (bench/bench_ingest.py --levers).
    segment_ahead: int = Field(default=64, ge=0, validation_alias="RAG_SEGMENT_AHEAD")
    top_k: int = Field(default=5, validation_alias="RAG_TOP_K")
    rrf_k: int = Field(default=5, validation_alias="RAG_RRF_K")
    max_file_mb: float = Field(default=20.0, validation_alias="RAG_MAX_FILE_MB")
    # Extractive answers abstain under this best-evidence score: the highest threshold answering 0.9 of the
    # answerable questions of SQuAD 2.0, CLAP NQ and RealTimeQA half A, 80 each (`python -m evals.fit_abstain
    # --format squad2 --dataset ../shared/datasets/squad-v2-sample/half-a.json --format clapnq --dataset
    # ../shared/datasets/clapnq --format realtimeqa --dataset ../shared/datasets/realtimeqa/questions-2024q1.half-a.jsonl
    # --corpus ../shared/datasets/realtimeqa/gcs_2024Q1_docs.jsonl --limit 80`): it abstains on 0.128 / 0.556 / 0.714
    # of their unanswerable ones. LLM mode asks the model whatever the score.
    abstain_threshold: float = Field(default=0.105, validation_alias="RAG_ABSTAIN_THRESHOLD")
    # Fetching from the web (rag add URL, feeds, sitemaps): see rag/ingest/web.py.
    fetch_allow_private: bool = Field(default=False, validation_alias="RAG_FETCH_ALLOW_PRIVATE")
    fetch_user_agent: str = Field(default="newsground/0.1 (news reader for grounded question answering)",
                                  validation_alias="RAG_FETCH_USER_AGENT")
    fetch_timeout_s: float = Field(default=20.0, validation_alias="RAG_FETCH_TIMEOUT")
    fetch_delay_s: float = Field(default=1.0, validation_alias="RAG_FETCH_DELAY")
    fetch_robots: bool = Field(default=True, validation_alias="RAG_FETCH_ROBOTS")
    feed_check_s: float = Field(default=60.0, validation_alias="RAG_FEED_CHECK_S")
    # The web UI's default answer mode: "auto" answers with a configured endpoint, else the bundled
    # local model when it is installed (started on first use), else extractively.
    ui_mode: Literal["auto", "extractive", "local", "llm"] = Field(default="auto", validation_alias="RAG_UI_MODE")
    recency_half_life_days: float = Field(default=14.0, gt=0, validation_alias="RAG_RECENCY_HALF_LIFE_DAYS")

    @model_validator(mode="after")
    def _default_llm(self) -> "Settings":
        # DESIGN.md: openai when a key or base URL is configured, else the offline answerer.
        if self.llm is None:
            self.llm = "openai" if (self.openai_api_key or self.openai_base_url) else "none"
        return self

    def with_overrides(self, **overrides: object) -> "Settings":
        """A copy with the given fields replaced; None values are ignored (unset flags)."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        return self.model_copy(update=changes)

    @property
    def registry_path(self) -> Path:
        return self.data_dir / "registry.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def bm25_path(self) -> Path:
        return self.data_dir / "bm25"
