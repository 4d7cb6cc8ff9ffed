"""Queries for partner scouting: the innovation-asset portfolio, requests and their candidates.

An asset is keyed by ``(source, external_id)`` and carries a content hash, so importing the
same export twice changes nothing. A request's candidates move through the funnel
identified -> shortlisted -> introduced -> contract (or declined); each step after the first
keeps its own timestamp, which is what the impact report counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Asset,
    Delivery,
    Document,
    Identity,
    Opportunity,
    Organisation,
    Person,
    ScoutingCandidate,
    ScoutingRequest,
    utcnow,
)

Outcome = Literal["added", "updated", "unchanged"]
#: Funnel stages in order; ``declined`` ends a candidate anywhere before a contract.
STAGES: tuple[str, ...] = ("identified", "shortlisted", "introduced", "contract", "declined")


async def upsert_asset(
    session: AsyncSession,
    *,
    source: str,
    external_id: str,
    fields: dict[str, Any],
    content_hash: str,
) -> Outcome:
    """Add or replace one asset; an unchanged hash leaves the row as it is."""
    asset = await session.scalar(
        select(Asset).where(Asset.source == source, Asset.external_id == external_id)
    )
    if asset is not None and asset.content_hash == content_hash:
        return "unchanged"
    outcome: Outcome = "updated"
    if asset is None:
        asset = Asset(source=source, external_id=external_id)
        session.add(asset)
        outcome = "added"
    for name, value in fields.items():
        setattr(asset, name, value)
    asset.content_hash = content_hash
    asset.updated_at = utcnow()
    await session.flush()
    return outcome


async def list_assets(session: AsyncSession, *, source: str | None = None) -> list[Asset]:
    """Every asset (of one source when given), by name."""
    query = select(Asset).order_by(func.lower(Asset.name), Asset.id)
    if source is not None:
        query = query.where(Asset.source == source)
    return list(await session.scalars(query))


async def organisation_named(session: AsyncSession, name: str) -> Organisation | None:
    """The organisation with this name (case-insensitive), when exactly one has it."""
    found = list(
        await session.scalars(
            select(Organisation).where(func.lower(Organisation.name) == name.strip().lower())
        )
    )
    return found[0] if len(found) == 1 else None


async def scoutable_opportunities(
    session: AsyncSession, *, kinds: Sequence[str], audiences: Sequence[str]
) -> list[Opportunity]:
    """Opportunities of these kinds whose document the asker may see (dates checked later)."""
    return list(
        await session.scalars(
            select(Opportunity)
            .join(Document, Document.id == Opportunity.document_id)
            .where(Opportunity.kind.in_(list(kinds)), Document.audience.in_(list(audiences)))
            .order_by(Opportunity.id)
        )
    )


async def create_request(
    session: AsyncSession,
    *,
    person_id: int,
    organisation_id: int | None,
    technology: str,
    partner_type: str | None,
    region: str | None,
    text: str = "",
) -> ScoutingRequest:
    """A new open scouting request."""
    request = ScoutingRequest(
        person_id=person_id,
        organisation_id=organisation_id,
        technology=technology,
        partner_type=partner_type,
        region=region,
        text=text,
        status="open",
    )
    session.add(request)
    await session.flush()
    return request


async def add_candidate(
    session: AsyncSession,
    *,
    request_id: int,
    asset_id: int | None,
    opportunity_id: int | None,
    score: float,
    reasons: list[str],
    shortlisted_at: datetime | None = None,
) -> ScoutingCandidate:
    """One candidate of a request, identified (and shortlisted when a time is given)."""
    candidate = ScoutingCandidate(
        request_id=request_id,
        asset_id=asset_id,
        opportunity_id=opportunity_id,
        score=score,
        reasons=reasons,
        stage="shortlisted" if shortlisted_at else "identified",
        shortlisted_at=shortlisted_at,
    )
    session.add(candidate)
    await session.flush()
    return candidate


async def candidates_of(
    session: AsyncSession, request_id: int, *, stages: Sequence[str] | None = None
) -> list[ScoutingCandidate]:
    """A request's candidates, best first."""
    query = select(ScoutingCandidate).where(ScoutingCandidate.request_id == request_id)
    if stages is not None:
        query = query.where(ScoutingCandidate.stage.in_(list(stages)))
    return list(
        await session.scalars(query.order_by(ScoutingCandidate.score.desc(), ScoutingCandidate.id))
    )


async def list_requests(
    session: AsyncSession,
    *,
    status: str | None = "open",
    person_id: int | None = None,
    limit: int = 50,
) -> list[ScoutingRequest]:
    """Requests, newest first (open ones by default; ``status=None`` for all)."""
    query = select(ScoutingRequest)
    if status is not None:
        query = query.where(ScoutingRequest.status == status)
    if person_id is not None:
        query = query.where(ScoutingRequest.person_id == person_id)
    return list(
        await session.scalars(
            query.order_by(ScoutingRequest.created_at.desc(), ScoutingRequest.id.desc()).limit(
                limit
            )
        )
    )


async def private_chat(session: AsyncSession, person_id: int) -> Identity | None:
    """The identity through which a person can be written to privately (newest first)."""
    return await session.scalar(
        select(Identity)
        .where(Identity.person_id == person_id, Identity.chat_id.is_not(None))
        .order_by(Identity.id.desc())
        .limit(1)
    )


async def people_of(session: AsyncSession, organisation_id: int) -> list[Person]:
    """The people of an organisation who can be written to (not stopped, not unreachable)."""
    return list(
        await session.scalars(
            select(Person)
            .where(
                Person.organisation_id == organisation_id,
                Person.stopped.is_(False),
                Person.unreachable.is_(False),
            )
            .order_by(Person.id)
        )
    )


async def staff_people(session: AsyncSession) -> list[Person]:
    """People with a staff or admin role on record."""
    return list(
        await session.scalars(
            select(Person).where(Person.role.in_(("staff", "admin"))).order_by(Person.id)
        )
    )


async def was_asked(session: AsyncSession, *, person_id: int, item_key: str) -> bool:
    """Whether a message about ``item_key`` was queued for this person (any status)."""
    found = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.person_id == person_id, Delivery.item_key == item_key)
    )
    return bool(found)


@dataclass(frozen=True)
class ScoutingFunnel:
    """Scouting in a period: requests opened, and candidates reaching each stage."""

    requests: int
    identified: int
    shortlisted: int
    introduced: int
    contracts: int


async def scouting_funnel(session: AsyncSession, start: datetime, end: datetime) -> ScoutingFunnel:
    """Counts by the time each stage was reached, in ``[start, end)``."""

    async def counted(model: Any, column: Any) -> int:
        value = await session.scalar(
            select(func.count()).select_from(model).where(column >= start, column < end)
        )
        return int(value or 0)

    return ScoutingFunnel(
        requests=await counted(ScoutingRequest, ScoutingRequest.created_at),
        identified=await counted(ScoutingCandidate, ScoutingCandidate.created_at),
        shortlisted=await counted(ScoutingCandidate, ScoutingCandidate.shortlisted_at),
        introduced=await counted(ScoutingCandidate, ScoutingCandidate.introduced_at),
        contracts=await counted(ScoutingCandidate, ScoutingCandidate.contract_at),
    )


__all__ = [
    "STAGES",
    "Outcome",
    "ScoutingFunnel",
    "add_candidate",
    "candidates_of",
    "create_request",
    "list_assets",
    "list_requests",
    "organisation_named",
    "people_of",
    "private_chat",
    "scoutable_opportunities",
    "scouting_funnel",
    "staff_people",
    "upsert_asset",
    "was_asked",
]
