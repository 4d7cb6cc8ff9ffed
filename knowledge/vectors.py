"""The vector store: Chroma holding the vectors of chunks, keyed by vector id.

The database is the truth; this store can always be rebuilt from it. Each embedding model
gets its own collections (named after a hash of the model id), so changing the model starts
empty collections that :func:`ingest.pipeline.reconcile` fills again.

Vectors live in one collection per audience rather than behind a metadata filter: on 25,000
vectors a Chroma ``where`` filter made each query about 35 ms, against 2 ms unfiltered, and
audiences are exactly the filter every query needs.

The store runs embedded (:func:`persistent_client`, one process) or as a ``chroma run`` server
shared by several processes (:func:`server_client`). That server checks no token itself (as of
chromadb 1.5.9); the token we send is for an auth proxy in front of it, and the server must
never be reachable from a public network (open advisory CVE-2026-45829).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import chromadb
import httpx
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings

from ingest.types import AUDIENCES
from knowledge.embeddings import TextEmbedder
from storage.locks import file_held

#: The header carrying the token; Chroma's own clients use the same name.
TOKEN_HEADER = "X-Chroma-Token"

#: How long startup waits for the server to say who we are.
PREFLIGHT_TIMEOUT_S = 10.0

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
    """An embedded Chroma store in a folder, with telemetry off.

    Opening creates the store's tables when they are missing, and two processes doing that
    at once (a ``serve`` and a ``deliver`` started together on a fresh folder) make one fail
    with "table collections already exists"; a lock file beside the folder takes them in turn.
    """
    path.mkdir(parents=True, exist_ok=True)
    with file_held(path.with_name(f"{path.name}.open.lock")):
        return chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )


class VectorStoreError(RuntimeError):
    """The vector store cannot be used: unreachable, refused our token, or a refused address.

    The message names the address (never the token) and says what to check.
    """


def server_url(*, host: str, port: int, ssl: bool) -> str:
    """The server's base URL, as shown in messages and health reports."""
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if ssl else 'http'}://{shown}:{port}"


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to that are reachable from the internet.

    Loopback, private (RFC 1918, unique local), link-local and shared (CGNAT) addresses are
    not public.

    Raises:
        VectorStoreError: the host name does not resolve.
    """
    try:
        literal = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        pass
    else:
        return [str(literal)] if literal.is_global else []
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise VectorStoreError(f"the Chroma server host {host!r} does not resolve") from exc
    found = {str(info[4][0]).split("%")[0] for info in infos}
    return sorted(a for a in found if ipaddress.ip_address(a).is_global)


def server_client(
    *,
    host: str,
    port: int,
    ssl: bool = False,
    token: str | None = None,
    allow_public: bool = False,
) -> ClientAPI:
    """A client of a ``chroma run`` server, connected and checked.

    Args:
        host: Server (or auth proxy) host; must resolve to non-public addresses unless
            ``allow_public``.
        port: Its port.
        ssl: Use HTTPS.
        token: Sent in :data:`TOKEN_HEADER` on every request, for the auth proxy that checks
            it; ``chroma run`` itself ignores it.
        allow_public: Accept a host with a public address.

    Raises:
        VectorStoreError: the host is public and not allowed, does not resolve, cannot be
            reached, or refused the request (a missing or wrong token at the proxy).
    """
    where = server_url(host=host, port=port, ssl=ssl)
    public = public_addresses(host, port)
    if public and not allow_public:
        raise VectorStoreError(
            f"the Chroma server {where} has a public address ({', '.join(public)}); "
            "Chroma's HTTP server must stay on a private network (CVE-2026-45829)"
        )
    headers = {TOKEN_HEADER: token} if token else None
    _preflight(where, headers or {})
    try:
        return chromadb.HttpClient(
            host=host,
            port=port,
            ssl=ssl,
            headers=headers,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except Exception as exc:  # chromadb wraps connection and HTTP failures differently
        raise VectorStoreError(f"cannot use the Chroma server at {where}: {_reason(exc)}") from exc


def close_client(client: ClientAPI) -> None:
    """Close a Chroma client, including the HTTP connection pool chromadb leaves open.

    chromadb 1.5.9's HTTP client never closes its ``httpx.Client`` (``close()`` only releases
    the shared system), which leaks a socket per client.
    """
    owners = (client, getattr(client, "_admin_client", None))  # each holds its own pool
    sessions = [getattr(getattr(o, "_server", None), "_session", None) for o in owners]
    closer = getattr(client, "close", None)  # on the Client class, not the ClientAPI protocol
    if callable(closer):
        closer()
    for session in sessions:
        if isinstance(session, httpx.Client):
            session.close()


def _preflight(where: str, headers: dict[str, str]) -> None:
    """Ask the server who we are, with a timeout, before chromadb's client (which has none).

    Raises:
        VectorStoreError: nothing answers, the token is refused, or the answer is not Chroma's.
    """
    try:
        response = httpx.get(
            f"{where}/api/v2/auth/identity", headers=headers, timeout=PREFLIGHT_TIMEOUT_S
        )
    except httpx.TimeoutException as exc:
        raise VectorStoreError(
            f"the Chroma server at {where} did not answer in {PREFLIGHT_TIMEOUT_S:g} s"
        ) from exc
    except httpx.TransportError as exc:
        raise VectorStoreError(
            f"cannot use the Chroma server at {where}: nothing answers there "
            "(is 'chroma run' started?)"
        ) from exc
    if response.status_code in (401, 403):
        raise VectorStoreError(
            f"the Chroma server at {where} refused the token (check CLUSTERBOT_VECTORS__TOKEN)"
        )
    if response.status_code != 200:
        raise VectorStoreError(
            f"the Chroma server at {where} answered HTTP {response.status_code}"
        )


def _reason(exc: Exception) -> str:
    """A short, token-free reason for a failed request."""
    text = str(exc)
    if "Could not connect" in text or isinstance(exc, ConnectionError | httpx.TransportError):
        return "nothing answers there (is 'chroma run' started?)"
    if any(word in text for word in ("401", "403", "Unauthorized", "Forbidden")):
        return "it refused the token (check CLUSTERBOT_VECTORS__TOKEN)"
    return type(exc).__name__


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

    def heartbeat(self) -> None:
        """Check the store answers (a network call in server mode).

        Raises:
            VectorStoreError: it does not.
        """
        try:
            self._client.heartbeat()
        except Exception as exc:
            raise VectorStoreError(f"the vector store does not answer: {_reason(exc)}") from exc

    def close(self) -> None:
        """Release the client's connections."""
        close_client(self._client)

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


__all__ = [
    "TOKEN_HEADER",
    "VectorIndex",
    "VectorStoreError",
    "close_client",
    "collection_name",
    "persistent_client",
    "public_addresses",
    "server_client",
    "server_url",
]
