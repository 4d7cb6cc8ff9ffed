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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ingest.chunk import Chunker, embedding_text, mark_shared
from ingest.errors import IngestError
from ingest.loaders import Limits, parse_bytes, parse_file, supported_suffixes
from ingest.types import ParsedItem
from knowledge.vectors import VectorIndex
from storage.documents import (
    NewChunk,
    all_chunk_ids,
    chunk_ids_of,
    chunk_texts,
    delete_document,
    documents_of,
    get_or_create_source,
    replace_chunks,
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
                await self._store(target, items, audience=audience, summary=summary)
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

    async def _store(
        self, target: str, items: list[ParsedItem], *, audience: str, summary: IngestSummary
    ) -> None:
        uri = self._uri(target)
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
            planned.append(_Planned(item, digest, chunks))
        vanished = set(existing) - set(unique)
        if not planned and not vanished:
            return
        vectors = await self._embed(planned, audience=audience, summary=summary)
        stale_ids: list[str] = []
        kept_ids: list[tuple[str, dict[str, Any]]] = []
        doc_ids: dict[str, int] = {}
        async with self._sessions.begin() as session:
            source = await get_or_create_source(session, uri=uri, audience=audience)
            docs = await documents_of(session, source.id)
            for plan in planned:
                doc = docs.get(plan.item.external_id)
                fields = _opportunity_fields(plan.item)
                kind = fields["kind"] if fields else "document"
                if doc is None:
                    doc = Document(
                        source_id=source.id,
                        external_id=plan.item.external_id,
                        title=plan.item.title,
                        url=plan.item.url,
                        audience=audience,
                        kind=kind,
                        content_hash=plan.digest,
                        chars=len(plan.item.text),
                    )
                    session.add(doc)
                    await session.flush()
                    summary.added += 1
                else:
                    old_ids = set(await chunk_ids_of(session, doc.id))
                    new_ids = {c.id for c in plan.chunks}
                    stale_ids.extend(old_ids - new_ids)
                    meta = {"audience": audience, "kind": kind, "document_id": doc.id}
                    kept_ids.extend((i, meta) for i in old_ids & new_ids)
                    doc.title, doc.url, doc.audience, doc.kind = (
                        plan.item.title,
                        plan.item.url,
                        audience,
                        kind,
                    )
                    doc.content_hash, doc.chars, doc.updated_at = (
                        plan.digest,
                        len(plan.item.text),
                        utcnow(),
                    )
                    summary.updated += 1
                doc_ids[plan.item.external_id] = doc.id
                await replace_chunks(session, doc, plan.chunks)
                if fields is not None:
                    _opp, changes = await upsert_opportunity(
                        session, source_id=source.id, document_id=doc.id, fields=fields
                    )
                    summary.changes += len(changes)
            for external_id in vanished:
                stale_ids.extend(await delete_document(session, docs[external_id]))
                summary.removed += 1
        await asyncio.to_thread(
            self._write_vectors, planned, vectors, doc_ids, audience, stale_ids, kept_ids
        )

    async def _embed(
        self, planned: list[_Planned], *, audience: str, summary: IngestSummary
    ) -> dict[str, Any]:
        """Vectors for chunks that do not have one yet (same id means same text)."""
        all_chunks = [(plan.item.title, c) for plan in planned for c in plan.chunks]
        have = await asyncio.to_thread(self._index.existing, [c.id for _t, c in all_chunks])
        # Identical embedding texts (shared boilerplate) are embedded once.
        by_text: dict[str, list[str]] = {}
        for title, c in all_chunks:
            if c.id not in have:
                text = embedding_text(None if c.shared else title, c.section, c.text)
                by_text.setdefault(text, []).append(c.id)
        vectors: dict[str, Any] = {}
        for text in [t for t in by_text if t in self._run_cache]:
            for chunk_id in by_text.pop(text):
                vectors[chunk_id] = self._run_cache[text]
        todo = list(by_text)
        step = 256
        for start in range(0, len(todo), step):
            texts = todo[start : start + step]
            array = await asyncio.to_thread(self._index.embedder.embed_array, texts)
            for text, row in zip(texts, array, strict=True):
                self._run_cache[text] = row
                for chunk_id in by_text[text]:
                    vectors[chunk_id] = row
            if len(todo) > step:
                self._progress(f"  embedded {min(start + step, len(todo))}/{len(todo)} chunks")
        summary.chunks_embedded += len(todo)
        return vectors

    def _write_vectors(
        self,
        planned: list[_Planned],
        vectors: dict[str, Any],
        doc_ids: dict[str, int],
        audience: str,
        stale_ids: list[str],
        kept_ids: list[tuple[str, dict[str, Any]]],
    ) -> None:
        import numpy as np

        ids: list[str] = []
        rows: list[Any] = []
        metas: list[dict[str, Any]] = []
        for plan in planned:
            fields = plan.item.opportunity
            kind = fields.kind if fields else "document"
            for chunk in plan.chunks:
                if chunk.id in vectors:
                    ids.append(chunk.id)
                    rows.append(vectors[chunk.id])
                    metas.append(
                        {
                            "audience": audience,
                            "kind": kind,
                            "document_id": doc_ids[plan.item.external_id],
                        }
                    )
        if ids:
            self._index.upsert(ids=ids, vectors=np.vstack(rows), metadatas=metas)
        if kept_ids:
            self._index.update_metadata(
                ids=[i for i, _m in kept_ids], metadatas=[m for _i, m in kept_ids]
            )
        if stale_ids:
            self._index.delete(stale_ids)


async def reconcile(sessions: SessionFactory, index: VectorIndex, *, batch: int = 256) -> int:
    """Make the vector store hold exactly the database's chunks; returns vectors written."""
    async with sessions() as session:
        db_ids = await all_chunk_ids(session)
    vec_ids = await asyncio.to_thread(index.ids)
    extra = sorted(vec_ids - db_ids)
    if extra:
        await asyncio.to_thread(index.delete, extra)
    missing = sorted(db_ids - vec_ids)
    written = 0
    for start in range(0, len(missing), batch):
        async with sessions() as session:
            rows = await chunk_texts(session, missing[start : start + batch])
        texts = [embedding_text(None if r.shared else r.title, r.section, r.text) for r in rows]
        array = await asyncio.to_thread(index.embedder.embed_array, texts)
        await asyncio.to_thread(
            index.upsert,
            ids=[r.id for r in rows],
            vectors=array,
            metadatas=[
                {"audience": r.audience, "kind": r.kind, "document_id": r.document_id}
                for r in rows
            ],
        )
        written += len(rows)
    if extra or missing:
        logger.info("vector store reconciled: %d removed, %d written", len(extra), written)
    return written


__all__ = ["IngestSummary", "Ingester", "content_hash", "discover", "reconcile"]
