"""Plain helpers for tests of a real Library: the repository's paths, the seed article, `library_at`."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from rag.embeddings import make_embedder
from rag.library import Library
from rag.settings import Settings
from rag.store import Store


ROOT = Path(__file__).resolve().parents[2]  # the repository


CORPUS = ROOT / "corpus"


SEED_ID = "01-washtimes-2025-11-21-kremlin-peace-plan"


def library_at(data_dir: Path, **overrides) -> Library:
    """A library on `data_dir`, offline answerer unless overridden (the env may hold an API key)."""
    return Library(Settings(RAG_DATA_DIR=data_dir, RAG_LLM="none").with_overrides(**overrides))


def store_of(library: Library) -> Store:
    """The library's data directory opened as a Store of its own, as on disk now (opening only
    reads): for tests whose subject is the store, without reaching into the library."""
    return Store(library.settings, make_embedder(library.settings))


def set_state_behind_the_store(library: Library, article_id: str, state: str) -> None:
    """An interrupted write (`pending`, `deleting`), made with plain sqlite3 behind the store's back."""
    with closing(sqlite3.connect(library.settings.registry_path)) as db, db:
        db.execute("UPDATE articles SET state=? WHERE id=?", (state, article_id))
