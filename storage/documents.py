"""Queries on sources, documents and chunks, including the SQLite FTS5 twin of each chunk.

Like every module in ``storage``, these functions never commit: the caller owns the
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.models import Chunk, Document, Source, utcnow


@dataclass(frozen=True)
class NewChunk:
    """A chunk to store: its id, position, section heading and text."""

    id: str
    ordinal: int
    section: str | None
    text: str
    shared: bool = False
    vector_id: str = ""


async def get_or_create_source(
    session: AsyncSession, *, uri: str, audience: str, fmt: str | None = None
) -> Source:
    """The source with this URI, created when new; its audience and format are updated."""
    source = await session.scalar(select(Source).where(Source.uri == uri))
    if source is None:
        source = Source(uri=uri, audience=audience, format=fmt)
        session.add(source)
        await session.flush()
    else:
        source.audience = audience
        source.format = fmt or source.format
        source.updated_at = utcnow()
    return source


async def documents_of(session: AsyncSession, source_id: int) -> dict[str, Document]:
    """The documents of a source by external id."""
    rows = await session.scalars(select(Document).where(Document.source_id == source_id))
    return {doc.external_id: doc for doc in rows}


async def chunk_ids_of(session: AsyncSession, document_id: int) -> list[str]:
    """The ids of a document's chunks, in order."""
    rows = await session.scalars(
        select(Chunk.id).where(Chunk.document_id == document_id).order_by(Chunk.ordinal)
    )
    return list(rows)


def _uses_fts5(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


async def replace_chunks(
    session: AsyncSession, document: Document, chunks: Sequence[NewChunk]
) -> None:
    """Replace a document's chunks (and their lexical index rows) with new ones."""
    await delete_chunks(session, document.id)
    session.add_all(
        Chunk(
            id=c.id,
            document_id=document.id,
            ordinal=c.ordinal,
            section=c.section,
            text=c.text,
            shared=c.shared,
            vector_id=c.vector_id or c.id,
        )
        for c in chunks
    )
    await session.flush()
    if not chunks:
        return
    if not _uses_fts5(session):
        await index_for_search(session, document.id)
        return
    await session.execute(
        text(
            "INSERT INTO chunks_fts (chunk_id, title, section, text, audience, kind) "
            "VALUES (:chunk_id, :title, :section, :text, :audience, :kind)"
        ),
        [
            {
                "chunk_id": c.id,
                "title": document.title,
                "section": c.section or "",
                "text": c.text,
                "audience": document.audience,
                "kind": document.kind,
            }
            for c in chunks
        ],
    )


async def index_for_search(
    session: AsyncSession | AsyncConnection, document_id: int | None = None
) -> None:
    """Write PostgreSQL's search vectors of one document's chunks (all chunks with None).

    The vector (migration 0008) weighs title, section and text as FTS5's bm25 weights do on
    SQLite; the title lives on the document, so a generated column cannot hold it. Rows
    written without ``replace_chunks`` (a bulk copy) need this call to be found.
    """
    where = "" if document_id is None else "AND d.id = :document_id"
    await session.execute(
        text(
            "UPDATE chunks AS c SET search_vector = "
            "setweight(to_tsvector('english', coalesce(d.title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(c.section, '')), 'B') || "
            "setweight(to_tsvector('english', c.text), 'C') "
            f"FROM documents AS d WHERE d.id = c.document_id {where}"
        ),
        {} if document_id is None else {"document_id": document_id},
    )


async def vector_ids_of(session: AsyncSession, document_id: int) -> set[str]:
    """The vector ids a document's chunks use."""
    rows = await session.scalars(select(Chunk.vector_id).where(Chunk.document_id == document_id))
    return set(rows)


async def referenced_vector_ids(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    """Which of these vector ids some chunk still uses."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        batch = list(ids[start : start + 500])
        found.update(
            await session.scalars(select(Chunk.vector_id).where(Chunk.vector_id.in_(batch)))
        )
    return found


async def all_vector_ids(session: AsyncSession) -> set[str]:
    """Every vector id the chunks use (what the vector store must hold)."""
    return set(await session.scalars(select(Chunk.vector_id).distinct()))


async def chunks_for_vectors(session: AsyncSession, ids: Sequence[str]) -> dict[str, str]:
    """For each vector id, one chunk that uses it (the copies of boilerplate are alike)."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Chunk.vector_id, func.min(Chunk.id))
        .where(Chunk.vector_id.in_(list(ids)))
        .group_by(Chunk.vector_id)
    )
    return {vector_id: chunk_id for vector_id, chunk_id in rows}


async def delete_chunks(session: AsyncSession, document_id: int) -> set[str]:
    """Delete a document's chunks and lexical rows; returns the vector ids they used."""
    vectors = await vector_ids_of(session, document_id)
    ids = await chunk_ids_of(session, document_id)
    if ids and _uses_fts5(session):
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ",".join(f":p{i}" for i in range(len(batch)))
            await session.execute(
                text(f"DELETE FROM chunks_fts WHERE chunk_id IN ({marks})"),
                {f"p{i}": v for i, v in enumerate(batch)},
            )
    await session.execute(delete(Chunk).where(Chunk.document_id == document_id))
    return vectors


async def delete_document(session: AsyncSession, document: Document) -> set[str]:
    """Delete a document with its chunks and opportunity; returns the vector ids they used."""
    vectors = await delete_chunks(session, document.id)
    await session.delete(document)
    return vectors


async def chunks_by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Chunk]:
    """Chunks with their documents and sources loaded, in no particular order."""
    if not ids:
        return []
    rows = await session.execute(
        select(Chunk, Document, Source)
        .join(Document, Chunk.document_id == Document.id)
        .join(Source, Document.source_id == Source.id)
        .where(Chunk.id.in_(list(ids)))
    )
    result = []
    for chunk, document, source in rows:
        document.source = source
        chunk.document = document
        result.append(chunk)
    return result


@dataclass(frozen=True)
class ChunkToEmbed:
    """What the vector store needs to (re-)embed one chunk."""

    vector_id: str
    text: str
    section: str | None
    title: str
    audience: str
    kind: str
    document_id: int
    shared: bool


async def chunk_texts(session: AsyncSession, vector_ids: Sequence[str]) -> list[ChunkToEmbed]:
    """One chunk per vector id, with its document's title, audience and kind."""
    if not vector_ids:
        return []
    chosen = await chunks_for_vectors(session, vector_ids)
    rows = await session.execute(
        select(
            Chunk.vector_id,
            Chunk.text,
            Chunk.section,
            Document.title,
            Document.audience,
            Document.kind,
            Document.id,
            Chunk.shared,
        )
        .join(Document, Chunk.document_id == Document.id)
        .where(Chunk.id.in_(list(chosen.values())))
    )
    return [ChunkToEmbed(*row) for row in rows]


__all__ = [
    "ChunkToEmbed",
    "NewChunk",
    "all_vector_ids",
    "chunk_ids_of",
    "chunk_texts",
    "chunks_by_ids",
    "chunks_for_vectors",
    "delete_chunks",
    "delete_document",
    "documents_of",
    "get_or_create_source",
    "index_for_search",
    "referenced_vector_ids",
    "replace_chunks",
    "vector_ids_of",
]
