"""Queries on structured opportunities and the changes recorded when they are re-ingested."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Chunk, Document, Opportunity, OpportunityChange, Source, utcnow

#: Fields whose change is worth telling a member about (old and new are recorded).
TRACKED_FIELDS: tuple[str, ...] = (
    "deadlines",
    "opening_date",
    "status",
    "budget_total_eur",
    "budget_min_eur",
    "budget_max_eur",
    "title",
    "two_stage",
    "starts_at",
    "location",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


async def upsert_opportunity(
    session: AsyncSession,
    *,
    source_id: int,
    document_id: int,
    fields: Mapping[str, Any],
) -> tuple[Opportunity, list[OpportunityChange]]:
    """Insert or update the opportunity of a document; returns it and the changes recorded.

    ``fields`` uses the column names of :class:`storage.models.Opportunity`.
    """
    existing = await session.scalar(
        select(Opportunity).where(
            Opportunity.source_id == source_id,
            Opportunity.external_id == fields["external_id"],
        )
    )
    if existing is None:
        opportunity = Opportunity(source_id=source_id, document_id=document_id, **fields)
        session.add(opportunity)
        await session.flush()
        return opportunity, []
    changes: list[OpportunityChange] = []
    for name in (f for f in TRACKED_FIELDS if f in fields):
        old, new = getattr(existing, name), fields[name]
        if _jsonable(old) != _jsonable(new):
            changes.append(
                OpportunityChange(
                    opportunity_id=existing.id,
                    external_id=existing.external_id,
                    field=name,
                    old=_jsonable(old),
                    new=_jsonable(new),
                )
            )
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.document_id = document_id
    existing.updated_at = utcnow()
    session.add_all(changes)
    await session.flush()
    return existing, changes


async def list_opportunities(
    session: AsyncSession,
    *,
    kinds: Sequence[str] | None = None,
    audiences: Sequence[str] | None = None,
) -> list[tuple[Opportunity, str]]:
    """All opportunities with their source URI, ordered by id then source.

    ``audiences`` keeps only those whose document may be shown to these audiences.
    """
    query = select(Opportunity, Source.uri).join(Source, Opportunity.source_id == Source.id)
    if kinds:
        query = query.where(Opportunity.kind.in_(list(kinds)))
    if audiences is not None:
        query = query.join(Document, Opportunity.document_id == Document.id).where(
            Document.audience.in_(list(audiences))
        )
    rows = await session.execute(query.order_by(Opportunity.external_id, Opportunity.id))
    return [(opp, uri) for opp, uri in rows]


async def opportunities_by_document(
    session: AsyncSession, document_ids: Sequence[int]
) -> dict[int, Opportunity]:
    """The opportunities of the given documents, by document id."""
    if not document_ids:
        return {}
    rows = await session.scalars(
        select(Opportunity).where(Opportunity.document_id.in_(list(document_ids)))
    )
    return {opp.document_id: opp for opp in rows}


async def find_by_external_ids(
    session: AsyncSession, external_ids: Sequence[str]
) -> list[Opportunity]:
    """Opportunities whose identifier is one of these, ignoring case."""
    if not external_ids:
        return []
    wanted = [i.upper() for i in external_ids]
    rows = await session.scalars(
        select(Opportunity).where(func.upper(Opportunity.external_id).in_(wanted))
    )
    return list(rows)


async def changes_of(session: AsyncSession, external_id: str) -> list[OpportunityChange]:
    """The recorded changes of an opportunity, oldest first."""
    rows = await session.scalars(
        select(OpportunityChange)
        .where(OpportunityChange.external_id == external_id)
        .order_by(OpportunityChange.id)
    )
    return list(rows)


async def opening_passages(session: AsyncSession, document_ids: Sequence[int]) -> dict[int, str]:
    """The text of each document's first two chunks (to summarise it under its title)."""
    if not document_ids:
        return {}
    rows = await session.execute(
        select(Chunk.document_id, Chunk.text)
        .where(Chunk.document_id.in_(list(document_ids)), Chunk.ordinal <= 1)
        .order_by(Chunk.document_id, Chunk.ordinal)
    )
    found: dict[int, str] = {}
    for doc_id, text in rows:
        found[doc_id] = f"{found[doc_id]}\n{text}" if doc_id in found else text
    return found


async def document_sizes(session: AsyncSession, document_ids: Sequence[int]) -> dict[int, int]:
    """The length in characters of each document."""
    if not document_ids:
        return {}
    rows = await session.execute(
        select(Document.id, Document.chars).where(Document.id.in_(list(document_ids)))
    )
    return {doc_id: chars for doc_id, chars in rows}


__all__ = [
    "TRACKED_FIELDS",
    "changes_of",
    "document_sizes",
    "find_by_external_ids",
    "list_opportunities",
    "opening_passages",
    "opportunities_by_document",
    "upsert_opportunity",
]
