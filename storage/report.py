"""Queries for the impact report and the audit log: what the bot did in a window of time.

Every window is half-open, ``start <= t < end``, in aware UTC timestamps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.alerts import CategoryStats, category_stats
from storage.models import (
    Alert,
    AuditEntry,
    BroadcastPress,
    Delivery,
    Feedback,
    Handoff,
    Identity,
    Opportunity,
    Organisation,
    Person,
    Question,
    Rsvp,
    ScoutingRequest,
)

# What the outbox sends about opportunities (reminders are about ones already forwarded).
FORWARDING_KINDS = ("alert", "update", "digest")


@dataclass(frozen=True)
class Forwarded:
    """Opportunity messages that went out: single alerts, updates, digests and their items."""

    alerts: int
    updates: int
    digests: int
    digest_items: int

    @property
    def total(self) -> int:
        """Opportunities forwarded: every alert, update and digest item."""
        return self.alerts + self.updates + self.digest_items


@dataclass(frozen=True)
class Stakeholder:
    """An engaged person and what is known of their organisation."""

    person_id: int
    organisation_id: int | None
    org_type: str | None
    country: str | None
    networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Funnel:
    """Alerts planned in the window and how far people took them."""

    identified: int
    shortlisted: int  # saved or "I'm applying"
    applying: int


@dataclass(frozen=True)
class Meeting:
    """A network meeting that took place in the window, with who said they would come."""

    opportunity_id: int
    title: str
    starts_at: datetime
    going: int


@dataclass(frozen=True)
class QuestionStats:
    """Questions asked in the window and the thumbs on their answers."""

    answered: int
    abstained: int
    thumbs_up: int
    thumbs_down: int

    @property
    def asked(self) -> int:
        """Every question, answered or not."""
        return self.answered + self.abstained


async def forwarded(session: AsyncSession, start: datetime, end: datetime) -> Forwarded:
    """Alert, update and digest messages sent in the window; digests count their items."""
    rows = await session.execute(
        select(Delivery.kind, Delivery.payload).where(
            Delivery.status == "sent",
            Delivery.kind.in_(FORWARDING_KINDS),
            Delivery.sent_at >= start,
            Delivery.sent_at < end,
        )
    )
    kinds: Counter[str] = Counter()
    items = 0
    for kind, payload in rows:
        kinds[kind] += 1
        if kind == "digest":
            sources = payload.get("sources") if isinstance(payload, dict) else None
            items += len(sources) if isinstance(sources, list) and sources else 1
    return Forwarded(kinds["alert"], kinds["update"], kinds["digest"], items)


async def engaged_people(session: AsyncSession, start: datetime, end: datetime) -> set[int]:
    """People who did something with the bot in the window.

    They joined, got an opportunity, RSVPed, gave feedback, asked staff, sent a scouting
    request or pressed a broadcast's button.

    Questions are kept under a pseudonym, not a person id; :func:`question_refs` and
    :func:`identities` let the caller add the people who asked.
    """
    queries = [
        select(Delivery.person_id).where(
            Delivery.status == "sent",
            Delivery.kind.in_(FORWARDING_KINDS),
            Delivery.sent_at >= start,
            Delivery.sent_at < end,
        ),
        select(Rsvp.person_id).where(Rsvp.created_at >= start, Rsvp.created_at < end),
        select(Feedback.person_id).where(Feedback.created_at >= start, Feedback.created_at < end),
        select(Alert.person_id).where(Alert.feedback_at >= start, Alert.feedback_at < end),
        select(Handoff.person_id).where(Handoff.created_at >= start, Handoff.created_at < end),
        select(Person.id).where(Person.created_at >= start, Person.created_at < end),
        select(ScoutingRequest.person_id).where(
            ScoutingRequest.created_at >= start, ScoutingRequest.created_at < end
        ),
        select(BroadcastPress.person_id).where(
            BroadcastPress.at >= start, BroadcastPress.at < end
        ),
    ]
    found: set[int] = set()
    for query in queries:
        found.update(await session.scalars(query))
    return found


async def question_refs(session: AsyncSession, start: datetime, end: datetime) -> set[str]:
    """The pseudonyms of everyone who asked a question in the window."""
    rows = await session.scalars(
        select(Question.user_ref).where(
            Question.asked_at >= start, Question.asked_at < end, Question.user_ref.is_not(None)
        )
    )
    return {ref for ref in rows if ref}


async def identities(session: AsyncSession) -> list[tuple[int, str, str]]:
    """Every (person id, channel, external id), to match question pseudonyms to people."""
    rows = await session.execute(
        select(Identity.person_id, Identity.channel, Identity.external_id)
    )
    return [(p, c, e) for p, c, e in rows]


async def stakeholders(session: AsyncSession, person_ids: Collection[int]) -> list[Stakeholder]:
    """These people with their organisation's type and country (None when unknown)."""
    if not person_ids:
        return []
    rows = await session.execute(
        select(
            Person.id,
            Person.organisation_id,
            Organisation.org_type,
            Organisation.country,
            Organisation.networks,
        )
        .outerjoin(Organisation, Organisation.id == Person.organisation_id)
        .where(Person.id.in_(list(person_ids)))
        .order_by(Person.id)
    )
    return [Stakeholder(p, o, t, c, tuple(n or ())) for p, o, t, c, n in rows]


async def funnel(session: AsyncSession, start: datetime, end: datetime) -> Funnel:
    """Alerts planned in the window, and how many of those were saved or applied for."""
    row = (
        await session.execute(
            select(
                func.count(),
                func.sum((Alert.saved | Alert.applying).cast(Integer)),
                func.sum(Alert.applying.cast(Integer)),
            ).where(Alert.created_at >= start, Alert.created_at < end)
        )
    ).one()
    return Funnel(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


async def meetings(session: AsyncSession, start: datetime, end: datetime) -> list[Meeting]:
    """Events that started in the window, soonest first, with RSVPs still ``going``."""
    going = (
        select(Rsvp.opportunity_id, func.count().label("n"))
        .where(Rsvp.status == "going")
        .group_by(Rsvp.opportunity_id)
        .subquery()
    )
    rows = await session.execute(
        select(Opportunity.id, Opportunity.title, Opportunity.starts_at, going.c.n)
        .outerjoin(going, going.c.opportunity_id == Opportunity.id)
        .where(
            Opportunity.kind == "event",
            Opportunity.starts_at >= start,
            Opportunity.starts_at < end,
        )
        .order_by(Opportunity.starts_at, Opportunity.id)
    )
    return [Meeting(i, t, s, int(n or 0)) for i, t, s, n in rows if s is not None]


async def question_stats(session: AsyncSession, start: datetime, end: datetime) -> QuestionStats:
    """Questions asked in the window, answered or abstained, and 👍/👎 on them."""
    in_window = (Question.asked_at >= start, Question.asked_at < end)
    row = (
        await session.execute(
            select(func.count(), func.sum(Question.abstained.cast(Integer))).where(*in_window)
        )
    ).one()
    total, abstained = int(row[0] or 0), int(row[1] or 0)
    thumbs = dict(
        (value, int(n))
        for value, n in await session.execute(
            select(Feedback.value, func.count())
            .join(Question, Question.id == Feedback.question_id)
            .where(*in_window)
            .group_by(Feedback.value)
        )
    )
    return QuestionStats(total - abstained, abstained, thumbs.get("up", 0), thumbs.get("down", 0))


async def category_precision(
    session: AsyncSession, start: datetime, end: datetime
) -> list[CategoryStats]:
    """Per category, alerts sent in the window and the feedback given on them."""
    return await category_stats(session, start, end)


async def audit_entries(session: AsyncSession, since: datetime | None = None) -> list[AuditEntry]:
    """The audit log, oldest first, from ``since`` on (all of it when None).

    The log is append-only: this module, like the rest of the code, never updates or deletes it.
    """
    query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return list(await session.scalars(query))


__all__ = [
    "FORWARDING_KINDS",
    "Forwarded",
    "Funnel",
    "Meeting",
    "QuestionStats",
    "Stakeholder",
    "audit_entries",
    "category_precision",
    "engaged_people",
    "forwarded",
    "funnel",
    "identities",
    "meetings",
    "question_refs",
    "question_stats",
    "stakeholders",
]
