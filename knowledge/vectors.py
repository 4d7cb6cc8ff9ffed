"""The vector store: Chroma holding one vector per chunk, keyed by chunk id.

The database is the truth; this store can always be rebuilt from it. Each embedding model
gets its own collection (named after a hash of the model id), so changing the model starts
an empty collection that :meth:`VectorIndex.missing` reports as needing a full re-index.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings

from knowledge.embeddings import TextEmbedder

_PREFIX = "chunks-"
#: HNSW search breadth. Chroma's default (100) missed the true nearest neighbour on some
#: loads of a 25,000-vector store, so answers varied between processes; 400 costs ~1 ms.
_EF_SEARCH = 400


class _ExplicitEmbeddingFunction(EmbeddingFunction[Documents]):
    """Hands Chroma our embedder, so it never falls back to its downloading default."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._embedder.embed_array(list(input)))

    @staticmethod
    def name() -> str:
        return "clusterbot"

    def get_config(self) -> dict[str, Any]:
        return {"model_id": self._embedder.model_id}


def collection_name(model_id: str) -> str:
    """The collection holding vectors of one embedding model."""
    return _PREFIX + hashlib.sha256(model_id.encode()).hexdigest()[:16]


def persistent_client(path: Path) -> ClientAPI:
    """An embedded Chroma store in a folder, with telemetry off."""
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )


class VectorIndex:
    """Dense vectors of chunks with audience and kind filters."""

    def __init__(self, *, client: ClientAPI, embedder: TextEmbedder) -> None:
        self._client = client
        self.embedder = embedder
        self._collection = client.get_or_create_collection(
            collection_name(embedder.model_id),
            embedding_function=_ExplicitEmbeddingFunction(embedder),  # type: ignore[arg-type]
            configuration={
                "hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": _EF_SEARCH}
            },
            metadata={"model_id": embedder.model_id},
        )
        hnsw = (self._collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("ef_search") != _EF_SEARCH:  # stores made before the setting
            self._collection.modify(configuration={"hnsw": {"ef_search": _EF_SEARCH}})

    def drop_other_models(self) -> list[str]:
        """Delete collections of embedding models no longer in use; returns their names."""
        keep = self._collection.name
        dropped = []
        for collection in self._client.list_collections():
            name = collection.name
            if name.startswith(_PREFIX) and name != keep:
                self._client.delete_collection(name)
                dropped.append(name)
        return dropped

    def count(self) -> int:
        """How many vectors the collection holds."""
        return int(self._collection.count())

    def ids(self) -> set[str]:
        """Every chunk id that has a vector."""
        return set(self._collection.get(include=[])["ids"])

    def upsert(
        self, *, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, Any]]
    ) -> None:
        """Store vectors for chunks (replacing any with the same ids)."""
        for start in range(0, len(ids), 2000):
            end = start + 2000
            self._collection.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                metadatas=cast(Any, [dict(m) for m in metadatas[start:end]]),
            )

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these chunk ids already have a vector."""
        found: set[str] = set()
        for start in range(0, len(ids), 2000):
            found.update(
                self._collection.get(ids=list(ids[start : start + 2000]), include=[])["ids"]
            )
        return found

    def update_metadata(
        self, *, ids: Sequence[str], metadatas: Sequence[Mapping[str, Any]]
    ) -> None:
        """Change the filter fields (audience, kind) of vectors that keep their embedding."""
        for start in range(0, len(ids), 2000):
            end = start + 2000
            self._collection.update(
                ids=list(ids[start:end]),
                metadatas=cast(Any, [dict(m) for m in metadatas[start:end]]),
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove the vectors of these chunks, if present."""
        for start in range(0, len(ids), 2000):
            self._collection.delete(ids=list(ids[start : start + 2000]))

    def query(
        self,
        vector: np.ndarray,
        *,
        limit: int,
        audiences: Sequence[str],
        kinds: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Nearest chunks as (chunk id, cosine similarity), best first."""
        if self.count() == 0:
            return []
        clauses: list[dict[str, Any]] = [{"audience": {"$in": list(audiences)}}]
        if kinds:
            clauses.append({"kind": {"$in": list(kinds)}})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        result = self._collection.query(
            query_embeddings=[vector],
            n_results=limit,
            where=cast(Any, where),
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    async def aquery(
        self,
        vector: np.ndarray,
        *,
        limit: int,
        audiences: Sequence[str],
        kinds: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """:meth:`query` off the event loop."""
        return await asyncio.to_thread(
            self.query, vector, limit=limit, audiences=audiences, kinds=kinds
        )


__all__ = ["VectorIndex", "collection_name", "persistent_client"]
