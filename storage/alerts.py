"""Queries on alerts: who may get them, what was already sent, and how they were received."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Alert,
    Delivery,
    Identity,
    Opportunity,
    OpportunityChange,
    Organisation,
    Person,
    Subscription,
)


@dataclass(frozen=True)
class Recipient:
    """A person who may get alerts, where to reach them, and their organisation."""

    person: Person
    organisation: Organisation
    channel: str
    chat_id: str
    categories: frozenset[str]


async def recipients(session: AsyncSession) -> list[Recipient]:
    """People with at least one consented category, reachable in a private chat.

    The newest identity with a private chat is where messages go.
    """
    people = await session.scalars(
        select(Person).where(
            Person.stopped.is_(False),
            Person.unreachable.is_(False),
            Person.organisation_id.is_not(None),
        )
    )
    found: list[Recipient] = []
    for person in people:
        categories = frozenset(
            await session.scalars(
                select(Subscription.category).where(
                    Subscription.person_id == person.id, Subscription.active.is_(True)
                )
            )
        )
        if not categories:
            continue
        identity = await session.scalar(
            select(Identity)
            .where(Identity.person_id == person.id, Identity.chat_id.is_not(None))
            .order_by(Identity.id.desc())
            .limit(1)
        )
        org = await session.get(Organisation, person.organisation_id)
        if identity is None or identity.chat_id is None or org is None:
            continue
        found.append(Recipient(person, org, identity.channel, identity.chat_id, categories))
    return found


async def alerted(session: AsyncSession, person_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(person, opportunity) pairs that already have an alert."""
    if not person_ids:
        return set()
    rows = await session.execute(
        select(Alert.person_id, Alert.opportunity_id).where(Alert.person_id.in_(person_ids))
    )
    return {(p, o) for p, o in rows}


async def touched_since(session: AsyncSession, since: datetime | None) -> list[int]:
    """Ids of opportunities created or updated after ``since`` (all when None)."""
    query = select(Opportunity.id)
    if since is not None:
        query = query.where((Opportunity.created_at > since) | (Opportunity.updated_at > since))
    return list(await session.scalars(query))


async def changes_since(
    session: AsyncSession, since: datetime | None, fields: Sequence[str]
) -> list[OpportunityChange]:
    """Recorded changes of these fields after ``since``, oldest first."""
    query = select(OpportunityChange).where(OpportunityChange.field.in_(list(fields)))
    if since is not None:
        query = query.where(OpportunityChange.changed_at > since)
    return list(await session.scalars(query.order_by(OpportunityChange.id)))


async def feedback_of(session: AsyncSession, organisation_id: int) -> dict[int, str]:
    """An organisation's feedback on alerts, by opportunity id (latest wins)."""
    rows = await session.execute(
        select(Alert.opportunity_id, Alert.feedback)
        .where(Alert.organisation_id == organisation_id, Alert.feedback.is_not(None))
        .order_by(Alert.feedback_at)
    )
    return {opp: value for opp, value in rows if value}


async def sent_in_window(session: AsyncSession, person_id: int, since: datetime) -> int:
    """Alert-like messages planned for a person since ``since`` (for the weekly cap)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.person_id == person_id,
            Delivery.kind.in_(["alert", "update", "digest"]),
            Delivery.created_at >= since,
            Delivery.status.not_in(["cancelled", "skipped"]),
        )
    )
    return int(count or 0)


@dataclass(frozen=True)
class CategoryStats:
    """How alerts of one category were received."""

    category: str
    sent: int
    answered: int
    relevant: int
    not_for_us: int
    already_knew: int
    saved: int
    applying: int

    @property
    def precision(self) -> float | None:
        """Relevant (or already known) among the alerts people judged."""
        judged = self.relevant + self.not_for_us + self.already_knew
        return (self.relevant + self.already_knew) / judged if judged else None


async def category_stats(
    session: AsyncSession, start: datetime | None = None, end: datetime | None = None
) -> list[CategoryStats]:
    """Per category: alerts sent (in ``[start, end)`` when given), feedback, saved, applying."""
    window = []
    if start is not None:
        window.append(Alert.sent_at >= start)
    if end is not None:
        window.append(Alert.sent_at < end)
    rows = await session.execute(
        select(
            Alert.category,
            func.count(),
            func.count(Alert.feedback),
            func.sum((Alert.feedback == "relevant").cast(Integer)),
            func.sum((Alert.feedback == "not_for_us").cast(Integer)),
            func.sum((Alert.feedback == "already_knew").cast(Integer)),
            func.sum(Alert.saved.cast(Integer)),
            func.sum(Alert.applying.cast(Integer)),
        )
        .where(Alert.status == "sent", *window)
        .group_by(Alert.category)
        .order_by(Alert.category)
    )
    return [
        CategoryStats(cat, n, answered, rel or 0, nfu or 0, ak or 0, sv or 0, ap or 0)
        for cat, n, answered, rel, nfu, ak, sv, ap in rows
    ]


__all__ = [
    "CategoryStats",
    "Recipient",
    "alerted",
    "category_stats",
    "changes_since",
    "feedback_of",
    "recipients",
    "sent_in_window",
    "touched_since",
]
