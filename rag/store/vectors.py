"""Chunk vectors in Chroma, through LlamaIndex's `ChromaVectorStore`.

Embedded `PersistentClient` by default; with `CHROMA_HOST` set, an `HttpClient` against a
`chroma run` server. Chroma's own embedding function is never used (it downloads a model):
vectors are always computed by rag.embeddings and passed in.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.errors import StoreError
from rag.models import Article, Chunk
from rag.settings import Settings

_NO_DATE = -1


def _client(settings: Settings, reopen: bool = False):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        if reopen:
            # An embedded client searches the HNSW index it loaded at open and never sees vectors
            # another process added since; chromadb shares one client per path in a process, so
            # drop that cached one (clients still holding it keep working) and load the files again.
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(str(settings.chroma_path), None)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises bare Exceptions for connection failures
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.chroma_path
        raise StoreError(f"cannot open Chroma at {where}: {exc} (CHROMA_HOST/CHROMA_PORT or RAG_DATA_DIR)") from exc


class VectorIndex:
    """One Chroma collection of chunk vectors with article id, offsets and date as metadata."""

    def __init__(self, settings: Settings, model_name: str, reopen: bool = False):
        """`reopen`: read the collection from its files again (after another process wrote to it)."""
        name = f"{settings.collection}-{model_name}".lower().replace(":", "-")[:60]
        try:
            collection = _client(settings, reopen).get_or_create_collection(
                name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open Chroma collection {name!r}: {exc}") from exc
        self._store = ChromaVectorStore(chroma_collection=collection)
        self._collection = collection

    def add(self, article: Article, chunks: list[Chunk], vectors: np.ndarray) -> None:
        self.add_many([(article, chunks, vectors)])

    def add_many(self, items: list[tuple[Article, list[Chunk], np.ndarray]]) -> None:
        """Chunks of several articles in one add (ChromaVectorStore splits it into Chroma's max batch)."""
        nodes = []
        for article, chunks, vectors in items:
            published = article.published.toordinal() if article.published else _NO_DATE
            for chunk, vector in zip(chunks, vectors):
                node = TextNode(
                    id_=chunk.id,
                    text=article.text[chunk.start:chunk.end],
                    embedding=vector.tolist(),
                    metadata={"article_id": article.id, "start": chunk.start, "end": chunk.end, "published": published},
                )
                node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=article.id)
                nodes.append(node)
        if not nodes:
            return
        try:
            self._store.add(nodes)
        except Exception as exc:
            names = ", ".join(article.id for article, _, _ in items[:3]) + (" ..." if len(items) > 3 else "")
            raise StoreError(f"Chroma rejected the chunks of {names}: {exc}") from exc

    def delete_article(self, article_id: str) -> None:
        try:
            self._store.delete(ref_doc_id=article_id)
        except Exception as exc:
            raise StoreError(f"Chroma could not delete the chunks of {article_id}: {exc}") from exc

    def count(self) -> int:
        return self._collection.count()

    def search(
        self, query_vector: list[float], k: int, since: date | None = None, until: date | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks, optionally within a date range."""
        filters = []
        if since or until:
            # Undated articles (published = -1) fall outside every date range.
            low = since.toordinal() if since else 1
            filters.append(MetadataFilter(key="published", value=low, operator=FilterOperator.GTE))
        if until:
            filters.append(MetadataFilter(key="published", value=until.toordinal(), operator=FilterOperator.LTE))
        query = VectorStoreQuery(
            query_embedding=query_vector,
            similarity_top_k=k,
            filters=MetadataFilters(filters=filters) if filters else None,
        )
        try:
            result = self._store.query(query)
        except Exception as exc:
            raise StoreError(f"Chroma query failed: {exc}") from exc
        # ChromaVectorStore reports exp(-distance); with cosine space distance = 1 - cos.
        return [(i, 1.0 + math.log(max(s, 1e-12))) for i, s in zip(result.ids or [], result.similarities or [])]

    def chunk_ids_by_article(self) -> dict[str, set[str]]:
        """Every stored chunk id, grouped by the article id in its metadata (for consistency checks)."""
        out: dict[str, set[str]] = {}
        offset, page = 0, 5000
        try:
            while True:
                got = self._collection.get(include=["metadatas"], limit=page, offset=offset)
                for chunk_id, meta in zip(got["ids"], got["metadatas"] or []):
                    out.setdefault(str((meta or {}).get("article_id", "")), set()).add(chunk_id)
                if len(got["ids"]) < page:
                    return out
                offset += page
        except Exception as exc:
            raise StoreError(f"Chroma could not list its chunks: {exc}") from exc

    def delete_ids(self, chunk_ids: list[str]) -> None:
        try:
            for i in range(0, len(chunk_ids), 5000):
                self._collection.delete(ids=chunk_ids[i:i + 5000])
        except Exception as exc:
            raise StoreError(f"Chroma could not delete {len(chunk_ids)} chunks: {exc}") from exc

    def vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vector of each chunk id that exists (for export)."""
        out: dict[str, np.ndarray] = {}
        try:
            for i in range(0, len(chunk_ids), 5000):
                got = self._collection.get(ids=chunk_ids[i:i + 5000], include=["embeddings"])
                for chunk_id, vector in zip(got["ids"], got["embeddings"]):
                    out[chunk_id] = np.asarray(vector, dtype=np.float32)
        except Exception as exc:
            raise StoreError(f"Chroma could not read chunk vectors: {exc}") from exc
        return out
