"""Fixtures for the core library tests: real Library objects on temporary data directories.

A pytest plugin (registered in tests/conftest.py): `corpus_library` is the one index of the shipped
corpus per session (read-only); tests that change a library use `seed_only_library` or their own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.library import Library
from tests.support.library import CORPUS, SEED_ID, library_at


@pytest.fixture(scope="session")
def corpus_library(tmp_path_factory) -> Library:
    """The shipped corpus, indexed once per session. Tests must not modify it."""
    library = library_at(tmp_path_factory.mktemp("corpus-data"))
    results = library.add([CORPUS])
    assert all(r.status == "added" for r in results), results
    return library


@pytest.fixture(scope="session")
def corpus_dir(corpus_library) -> Path:
    """The data directory of `corpus_library`, for `rag` subprocesses (which must not modify it)."""
    return corpus_library.settings.data_dir


@pytest.fixture(scope="session")
def corpus_texts(corpus_library) -> dict[str, str]:
    """Canonical text of every indexed article, to check citations against."""
    return {s.id: corpus_library.article(s.id).text for s in corpus_library.articles()}


@pytest.fixture
def seed_only_library(tmp_path) -> Library:
    """A fresh library holding only the seed article (safe to modify)."""
    library = library_at(tmp_path / "data")
    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(CORPUS / f"{SEED_ID}.html", source)
    assert library.add([source])[0].status == "added"
    return library
