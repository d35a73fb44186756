"""The store of one data directory: registry (truth), Chroma vectors, BM25 and origins, kept in
agreement. `Store` is its front door."""

from rag.store.store import Embedded, Progress, Store, chunk_context

__all__ = ["Embedded", "Progress", "Store", "chunk_context"]
