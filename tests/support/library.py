"""Plain helpers for tests of a real Library: the repository's paths, the seed article, `library_at`."""

from __future__ import annotations

from pathlib import Path

from rag.library import Library
from rag.settings import Settings


ROOT = Path(__file__).resolve().parents[2]  # the repository


CORPUS = ROOT / "corpus"


SEED_ID = "01-washtimes-2025-11-21-kremlin-peace-plan"


def library_at(data_dir: Path, **overrides) -> Library:
    """A library on `data_dir`, offline answerer unless overridden (the env may hold an API key)."""
    return Library(Settings(RAG_DATA_DIR=data_dir, RAG_LLM="none").with_overrides(**overrides))
