"""The vector store: Chroma holding the vectors of chunks, keyed by vector id.

The database is the truth; this store can always be rebuilt from it. Each embedding model
gets its own collections (named after a hash of the model id), so changing the model starts
empty collections that :func:`ingest.pipeline.reconcile` fills again.

Vectors live in one collection per audience rather than behind a metadata filter: on 25,000
vectors a Chroma ``where`` filter made each query about 35 ms, against 2 ms unfiltered, and
audiences are exactly the filter every query needs.
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
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings

from ingest.types import AUDIENCES
from knowledge.embeddings import TextEmbedder

_PREFIX = "chunks-"
_BATCH = 2000
#: HNSW search breadth (Chroma's default is 100); 200 costs well under a millisecond here.
_EF_SEARCH = 200


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


def collection_name(model_id: str, audience: str = "public") -> str:
    """The collection holding one audience's vectors of one embedding model."""
    return f"{_PREFIX}{hashlib.sha256(model_id.encode()).hexdigest()[:16]}-{audience}"


def persistent_client(path: Path) -> ClientAPI:
    """An embedded Chroma store in a folder, with telemetry off."""
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )


def _batches(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[start : start + _BATCH] for start in range(0, len(items), _BATCH)]


class VectorIndex:
    """Dense vectors of chunks, one collection per audience, with an optional kind filter."""

    def __init__(self, *, client: ClientAPI, embedder: TextEmbedder) -> None:
        self._client = client
        self.embedder = embedder
        self._collections: dict[str, Collection] = {}
        for audience in AUDIENCES:
            collection = client.get_or_create_collection(
                collection_name(embedder.model_id, audience),
                embedding_function=_ExplicitEmbeddingFunction(embedder),  # type: ignore[arg-type]
                configuration={
                    "hnsw": {"space": "cosine", "ef_construction": 200, "ef_search": _EF_SEARCH}
                },
                metadata={"model_id": embedder.model_id, "audience": audience},
            )
            self._collections[audience] = collection

    def drop_other_models(self) -> list[str]:
        """Delete collections of embedding models no longer in use; returns their names."""
        keep = {c.name for c in self._collections.values()}
        dropped = []
        for collection in self._client.list_collections():
            name = collection.name
            if name.startswith(_PREFIX) and name not in keep:
                self._client.delete_collection(name)
                dropped.append(name)
        return dropped

    def count(self) -> int:
        """How many vectors the collections hold."""
        return sum(int(c.count()) for c in self._collections.values())

    def ids(self) -> set[str]:
        """Every vector id held, in any audience."""
        found: set[str] = set()
        for collection in self._collections.values():
            found.update(collection.get(include=[])["ids"])
        return found

    def vectors(self) -> dict[str, np.ndarray]:
        """Every vector held, by id (for benchmarks and exports)."""
        found: dict[str, np.ndarray] = {}
        for collection in self._collections.values():
            got = collection.get(include=["embeddings"])
            found.update(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))
        return found

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these vector ids are held, in any audience."""
        found: set[str] = set()
        for collection in self._collections.values():
            for batch in _batches(ids):
                found.update(collection.get(ids=list(batch), include=[])["ids"])
        return found

    def upsert(
        self, *, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, Any]]
    ) -> None:
        """Store vectors (replacing any with the same ids) in their audience's collection.

        Each metadata needs ``audience`` and ``kind``. A vector whose audience changed is
        removed from its former collection.
        """
        groups: dict[str, list[int]] = {}
        for row, meta in enumerate(metadatas):
            groups.setdefault(str(meta["audience"]), []).append(row)
        for audience, rows in groups.items():
            group_ids = [ids[r] for r in rows]
            for other, collection in self._collections.items():
                if other != audience:
                    self._delete_from(collection, group_ids)
            target = self._collections[audience]
            for batch in _batches(rows):
                target.upsert(
                    ids=[ids[r] for r in batch],
                    embeddings=vectors[list(batch)],
                    metadatas=cast(Any, [{"kind": metadatas[r]["kind"]} for r in batch]),
                )

    def update_metadata(
        self, *, ids: Sequence[str], metadatas: Sequence[Mapping[str, Any]]
    ) -> None:
        """Give kept vectors a new audience or kind without embedding them again."""
        wanted = dict(zip(ids, metadatas, strict=True))
        for audience, collection in self._collections.items():
            for batch in _batches(list(wanted)):
                got = collection.get(ids=list(batch), include=["embeddings", "metadatas"])
                embeddings = got["embeddings"] if got["embeddings"] is not None else []
                metas: list[Any] = list(got["metadatas"] or [{}] * len(got["ids"]))
                moving = [
                    (i, e)
                    for i, e, m in zip(got["ids"], embeddings, metas, strict=True)
                    if wanted[i]["audience"] != audience
                    or (m or {}).get("kind") != wanted[i]["kind"]
                ]
                if moving:
                    self.upsert(
                        ids=[i for i, _e in moving],
                        vectors=np.asarray([e for _i, e in moving], dtype=np.float32),
                        metadatas=[wanted[i] for i, _e in moving],
                    )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove these vectors, whichever audience holds them."""
        for collection in self._collections.values():
            self._delete_from(collection, ids)

    @staticmethod
    def _delete_from(collection: Collection, ids: Sequence[str]) -> None:
        for batch in _batches(ids):
            collection.delete(ids=list(batch))

    def query(
        self,
        vector: np.ndarray,
        *,
        limit: int,
        audiences: Sequence[str],
        kinds: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Nearest vectors as (vector id, cosine similarity), best first."""
        hits: list[tuple[str, float]] = []
        where = cast(Any, {"kind": {"$in": list(kinds)}}) if kinds else None
        for audience in audiences:
            collection = self._collections[audience]
            if collection.count() == 0:
                continue
            result = collection.query(
                query_embeddings=[vector], n_results=limit, where=where, include=["distances"]
            )
            distances = (result.get("distances") or [[]])[0]
            hits.extend(
                (i, 1.0 - float(d)) for i, d in zip(result["ids"][0], distances, strict=True)
            )
        hits.sort(key=lambda hit: hit[1], reverse=True)
        return hits[:limit]

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
