"""Ingest files, folders and URLs: parse, chunk, embed, store, index; one file at a time.

Each file is all-or-nothing in the database: its items are written in one transaction, after
their vectors were computed (so no transaction stays open across the slow part). Vectors are
written after the commit; if that fails, :func:`reconcile` repairs the store from the database.
An unchanged item (same content hash) costs one hash comparison and nothing else.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from ingest.chunk import Chunker, embedding_text, mark_shared
from ingest.errors import IngestError
from ingest.loaders import Limits, parse_bytes, parse_file, supported_suffixes
from ingest.types import ParsedItem
from knowledge.vectors import VectorIndex
from storage.documents import (
    NewChunk,
    all_vector_ids,
    chunk_texts,
    delete_document,
    documents_of,
    get_or_create_source,
    referenced_vector_ids,
    replace_chunks,
    vector_ids_of,
)
from storage.engine import SessionFactory
from storage.models import Document, utcnow
from storage.opportunities import upsert_opportunity

logger = logging.getLogger(__name__)

#: Files that describe a folder rather than hold cluster content; skipped when walking folders.
_SKIPPED_PREFIXES = ("source.md", "license", "copying")


@dataclass
class IngestSummary:
    """What one ingest run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    files: int = 0
    chunks_embedded: int = 0
    changes: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        """A one-line summary for people."""
        return (
            f"{self.files} file(s): {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed, {self.failed} failed "
            f"({self.chunks_embedded} chunks embedded, {self.changes} field changes recorded)"
        )


def content_hash(item: ParsedItem, audience: str) -> str:
    """A hash of everything stored for an item: a different hash means a changed item."""
    payload = {
        "title": item.title,
        "url": item.url,
        "sections": [(s.heading, s.text) for s in item.sections],
        "opportunity": asdict(item.opportunity) if item.opportunity else None,
        "audience": audience,
    }
    return hashlib.sha256(json.dumps(payload, default=str, sort_keys=True).encode()).hexdigest()


def _opportunity_fields(item: ParsedItem) -> dict[str, Any] | None:
    opp = item.opportunity
    if opp is None:
        return None
    return {
        "external_id": opp.id,
        "kind": opp.kind,
        "title": opp.title,
        "programme": opp.programme,
        "type_of_action": opp.type_of_action,
        "status": opp.status,
        "opening_date": opp.opening_date,
        "deadlines": [d.isoformat() for d in opp.deadlines],
        "two_stage": opp.two_stage,
        "budget_total_eur": opp.budget_total_eur,
        "budget_min_eur": opp.budget_min_eur,
        "budget_max_eur": opp.budget_max_eur,
        "countries": list(opp.countries),
        "org_types": list(opp.org_types),
        "keywords": list(opp.keywords),
        "url": opp.url,
        "sme_only": opp.sme_only,
        "starts_at": opp.starts_at,
        "ends_at": opp.ends_at,
        "location": opp.location,
    }


def discover(targets: Sequence[str]) -> tuple[list[str], list[str]]:
    """Expand folders into supported files; returns (files and URLs, one-line errors)."""
    found: list[str] = []
    errors: list[str] = []
    suffixes = supported_suffixes()
    for target in targets:
        if target.startswith(("http://", "https://")):
            found.append(target)
            continue
        path = Path(target)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and not any(part.startswith(".") for part in child.relative_to(path).parts)
                    and not child.name.lower().startswith(_SKIPPED_PREFIXES)
                    and child.suffix.lower() in suffixes
                ):
                    found.append(str(child))
        elif path.is_file():
            found.append(str(path))
        else:
            errors.append(f"{target}: no such file or folder")
    return found, errors


@dataclass(frozen=True)
class _Planned:
    item: ParsedItem
    digest: str
    chunks: list[NewChunk]
    kind: str


class Ingester:
    """Brings files, folders and URLs into the database and the vector store."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        index: VectorIndex,
        chunker: Chunker,
        limits: Limits,
        http: httpx.AsyncClient | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._index = index
        self._chunker = chunker
        self._limits = limits
        self._http = http
        self._progress = progress or (lambda _line: None)
        # Vectors by embedded text, for one run: the same record in two files (a snapshot
        # and a subset of it) is embedded once.
        self._run_cache: dict[str, Any] = {}

    async def ingest(self, targets: Sequence[str], *, audience: str = "public") -> IngestSummary:
        """Ingest every target; one bad file is reported and counted, never fatal."""
        summary = IngestSummary()
        files, errors = discover(targets)
        summary.failed += len(errors)
        summary.errors.extend(errors)
        for n, target in enumerate(files, start=1):
            summary.files += 1
            try:
                items = await self._parse(target)
                await self._store(self._uri(target), items, audience=audience, summary=summary)
            except IngestError as exc:
                summary.failed += 1
                summary.errors.append(f"{target}: {exc}")
                self._progress(f"[{n}/{len(files)}] {target}: failed: {exc}")
                continue
            self._progress(f"[{n}/{len(files)}] {target}: {len(items)} item(s)")
        self._run_cache.clear()
        await reconcile(self._sessions, self._index)
        return summary

    async def _parse(self, target: str) -> list[ParsedItem]:
        if target.startswith(("http://", "https://")):
            data, content_type = await self._download(target)
            return await asyncio.to_thread(
                parse_bytes, target, data, limits=self._limits, content_type=content_type
            )
        return await asyncio.to_thread(parse_file, Path(target), limits=self._limits)

    async def _download(self, url: str) -> tuple[bytes, str | None]:
        if self._http is None:
            raise IngestError("fetching URLs needs an HTTP client")
        try:
            async with self._http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code >= 400:
                    raise IngestError(f"HTTP {response.status_code} from the server")
                body = bytearray()
                async for piece in response.aiter_bytes():
                    body.extend(piece)
                    if len(body) > self._limits.max_file_bytes:
                        raise IngestError(
                            f"larger than the limit of {self._limits.max_file_bytes} bytes"
                        )
                return bytes(body), response.headers.get("content-type")
        except httpx.HTTPError as exc:
            raise IngestError(f"could not fetch: {type(exc).__name__}") from exc

    def _uri(self, target: str) -> str:
        if target.startswith(("http://", "https://")):
            return target
        return str(Path(target).resolve())

    async def ingest_items(
        self, uri: str, items: Sequence[ParsedItem], *, audience: str = "public"
    ) -> IngestSummary:
        """Store items made by the bot itself (a staff-created event) as the source ``uri``.

        They go exactly the way a parsed file's items go (documents, chunks, opportunity,
        vectors); items the source held before and ``items`` lacks are removed, so an empty
        list removes the source's content.
        """
        summary = IngestSummary(files=1)
        await self._store(uri, list(items), audience=audience, summary=summary)
        self._run_cache.clear()
        return summary

    async def _store(
        self, uri: str, items: list[ParsedItem], *, audience: str, summary: IngestSummary
    ) -> None:
        # Keep the first of items sharing an id (e.g. a language copy of an EU topic).
        unique: dict[str, ParsedItem] = {}
        for item in items:
            unique.setdefault(item.external_id, item)
        async with self._sessions() as session:
            source = await get_or_create_source(session, uri=uri, audience=audience)
            existing = {
                k: d.content_hash for k, d in (await documents_of(session, source.id)).items()
            }
            await session.rollback()
        # Chunk every item (cheap), so that boilerplate is recognised the same way whichever
        # items changed; then plan only the changed ones.
        chunked = mark_shared([self._chunker.chunks(i, source_uri=uri) for i in unique.values()])
        planned: list[_Planned] = []
        for item, chunks in zip(unique.values(), chunked, strict=True):
            digest = content_hash(item, audience)
            if existing.get(item.external_id) == digest:
                summary.unchanged += 1
                continue
            kind = item.opportunity.kind if item.opportunity else "document"
            keyed = [
                replace(c, vector_id=vector_key(c, audience=audience, kind=kind)) for c in chunks
            ]
            planned.append(_Planned(item, digest, keyed, kind))
        vanished = set(existing) - set(unique)
        if not planned and not vanished:
            return
        vectors = await self._embed(planned, summary=summary)
        released: set[str] = set()
        kept: dict[str, dict[str, Any]] = {}
        async with self._sessions.begin() as session:
            source = await get_or_create_source(session, uri=uri, audience=audience)
            docs = await documents_of(session, source.id)
            for plan in planned:
                doc = docs.get(plan.item.external_id)
                if doc is None:
                    doc = Document(source_id=source.id, external_id=plan.item.external_id)
                    session.add(doc)
                    summary.added += 1
                else:
                    old = await vector_ids_of(session, doc.id)
                    new = {c.vector_id for c in plan.chunks}
                    released |= old - new
                    # Same text, same vector: only the filter fields may have changed.
                    kept.update({v: {"audience": audience, "kind": plan.kind} for v in old & new})
                    doc.updated_at = utcnow()
                    summary.updated += 1
                doc.title, doc.url, doc.audience, doc.kind = (
                    plan.item.title,
                    plan.item.url,
                    audience,
                    plan.kind,
                )
                doc.content_hash, doc.chars = plan.digest, len(plan.item.text)
                await session.flush()
                await replace_chunks(session, doc, plan.chunks)
                fields = _opportunity_fields(plan.item)
                if fields is not None:
                    _opp, changes = await upsert_opportunity(
                        session, source_id=source.id, document_id=doc.id, fields=fields
                    )
                    summary.changes += len(changes)
            for external_id in vanished:
                released |= await delete_document(session, docs[external_id])
                summary.removed += 1
            await session.flush()
            stale = released - await referenced_vector_ids(session, sorted(released))
        await asyncio.to_thread(self._write_vectors, planned, vectors, kept, stale, audience)

    async def _embed(self, planned: list[_Planned], *, summary: IngestSummary) -> dict[str, Any]:
        """Vectors for the vector ids the store does not hold yet, each embedded once."""
        texts: dict[str, str] = {}
        for plan in planned:
            for c in plan.chunks:
                texts.setdefault(
                    c.vector_id,
                    embedding_text(None if c.shared else plan.item.title, c.section, c.text),
                )
        have = await asyncio.to_thread(self._index.existing, list(texts))
        vectors: dict[str, Any] = {}
        by_text: dict[str, list[str]] = {}
        for vector_id, text in texts.items():
            if vector_id in have:
                continue
            if text in self._run_cache:
                vectors[vector_id] = self._run_cache[text]
            else:
                by_text.setdefault(text, []).append(vector_id)
        todo = list(by_text)
        step = 256
        for start in range(0, len(todo), step):
            batch = todo[start : start + step]
            array = await asyncio.to_thread(self._index.embedder.embed_array, batch)
            for text, row in zip(batch, array, strict=True):
                self._run_cache[text] = row
                for vector_id in by_text[text]:
                    vectors[vector_id] = row
            if len(todo) > step:
                self._progress(f"  embedded {min(start + step, len(todo))}/{len(todo)} chunks")
        summary.chunks_embedded += len(todo)
        return vectors

    def _write_vectors(
        self,
        planned: list[_Planned],
        vectors: dict[str, Any],
        kept: dict[str, dict[str, Any]],
        stale: set[str],
        audience: str,
    ) -> None:
        metas = {
            c.vector_id: {"audience": audience, "kind": plan.kind}
            for plan in planned
            for c in plan.chunks
        }
        ids = [v for v in vectors if v in metas]
        if ids:
            self._index.upsert(
                ids=ids,
                vectors=np.vstack([vectors[v] for v in ids]),
                metadatas=[metas[v] for v in ids],
            )
        update = [v for v in kept if v not in vectors]
        if update:
            self._index.update_metadata(ids=update, metadatas=[kept[v] for v in update])
        if stale:
            self._index.delete(sorted(stale))


def vector_key(chunk: NewChunk, *, audience: str, kind: str) -> str:
    """The vector a chunk uses: its own, or for shared boilerplate one per text and filter."""
    if not chunk.shared:
        return chunk.id
    digest = hashlib.sha256(
        f"{audience}\x00{kind}\x00{chunk.section}\x00{chunk.text}".encode()
    ).hexdigest()
    return "shared-" + digest[:40]


async def reconcile(sessions: SessionFactory, index: VectorIndex, *, batch: int = 256) -> int:
    """Make the vector store hold exactly the vectors the chunks use; returns vectors written."""
    async with sessions() as session:
        expected = await all_vector_ids(session)
    present = await asyncio.to_thread(index.ids)
    extra = sorted(present - expected)
    if extra:
        await asyncio.to_thread(index.delete, extra)
    missing = sorted(expected - present)
    written = 0
    for start in range(0, len(missing), batch):
        async with sessions() as session:
            rows = await chunk_texts(session, missing[start : start + batch])
        texts = [embedding_text(None if r.shared else r.title, r.section, r.text) for r in rows]
        array = await asyncio.to_thread(index.embedder.embed_array, texts)
        await asyncio.to_thread(
            index.upsert,
            ids=[r.vector_id for r in rows],
            vectors=array,
            metadatas=[{"audience": r.audience, "kind": r.kind} for r in rows],
        )
        written += len(rows)
    if extra or missing:
        logger.info("vector store reconciled: %d removed, %d written", len(extra), written)
    return written


__all__ = ["IngestSummary", "Ingester", "content_hash", "discover", "reconcile", "vector_key"]
