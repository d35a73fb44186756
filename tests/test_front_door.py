"""`Library` is the only front door: the faces (CLI, UI, evals, benches) never reach past it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACES = ["ui", "evals", "bench", "rag/cli"]
# The Library's parts: a face that needs one of them needs a Library method instead.
PARTS = {"store", "origins", "embedder", "judge", "retriever", "extractive"}


def reaches(source: str) -> list[str]:
    """Each place `source` touches a Library part or a private name of rag/, as 'line: what'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            private = node.attr.startswith("_") and not node.attr.startswith("__") and owner not in ("self", "cls")
            if node.attr in PARTS or private:
                found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rag"):
            found += [f"{node.lineno}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


def face_files() -> list[Path]:
    return sorted(p for face in FACES for p in (ROOT / face).rglob("*.py"))


@pytest.mark.parametrize("path", face_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_faces_use_only_the_library(path):
    assert reaches(path.read_text(encoding="utf-8")) == []


def test_the_scan_sees_a_face_reaching_past_the_library():
    assert sorted(reaches("n = library.store.ready_count()\nlibrary.embedder._cache.clear()\n")) == \
        ["1: .store", "2: ._cache", "2: .embedder"]
    assert reaches("from rag.store.store import _EMBED_CHUNKS\n") == ["1: rag.store.store._EMBED_CHUNKS"]
    assert reaches("self._chat(session)\nlibrary.ask(q)\n") == []
