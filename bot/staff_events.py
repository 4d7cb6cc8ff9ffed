"""Network meetings created by staff, in chat or on the command line.

A staff event is written as a one-event iCalendar file and ingested into a source of its
own, ``staff-event:<uid>``, through the same loader and pipeline as any calendar. It becomes
an opportunity of kind ``event`` with a document, chunks and vectors, so /events, RSVPs,
reminders, the .ics download, answers and alert planning treat it like an ingested meeting.
Cancelling re-stores it as closed, tells the people who RSVPed (through the outbox) and
cancels what was queued about it. Both are written to the audit log.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as IcsEvent
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.event_draft import EventDraft
from bot.messages import Reply, reply_to_data
from ingest.loaders import parse_bytes
from ingest.pipeline import Ingester
from storage.engine import SessionFactory
from storage.models import Identity, Opportunity, Rsvp, Source
from storage.outbox import cancel, enqueue
from storage.people import audit

SOURCE_PREFIX = "staff-event:"
#: The recorded status of a cancelled meeting: closed, whatever its dates say.
CANCELLED = "closed"


@dataclass(frozen=True)
class StaffEvent:
    """A staff event as stored: its opportunity id, its UID, and what it says."""

    opportunity_id: int
    uid: str
    draft: EventDraft


@dataclass(frozen=True)
class EventRow:
    """One line of ``clusterbot events list``."""

    id: int
    uid: str
    title: str
    starts_at: str | None
    location: str | None
    audience: str
    origin: str
    going: int
    cancelled: bool = False


def source_uri(uid: str) -> str:
    """The source a staff event is stored under."""
    return f"{SOURCE_PREFIX}{uid}"


def event_ics(draft: EventDraft, uid: str) -> bytes:
    """The one-event calendar a draft is ingested from."""
    cal = Calendar()
    cal.add("prodid", "-//clusterbot//staff events//EN")
    cal.add("version", "2.0")
    item = IcsEvent()
    item.add("uid", uid)
    item.add("summary", draft.title)
    item.add("dtstart", draft.starts_at)
    if draft.ends_at is not None:
        item.add("dtend", draft.ends_at)
    if draft.location:
        item.add("location", draft.location)
    if draft.description:
        item.add("description", draft.description)
    item.add("dtstamp", datetime.now(UTC))
    cal.add_component(item)
    data: bytes = cal.to_ical()
    return data


async def create_event(
    sessions: SessionFactory, ingester: Ingester, draft: EventDraft, *, actor: str
) -> StaffEvent:
    """Ingest a draft as a new staff event and audit it.

    Raises:
        UserError: the event could not be stored.
    """
    uid = f"staff-{draft.starts_at:%Y%m%d}-{secrets.token_hex(4)}"
    items = parse_bytes(f"{uid}.ics", event_ics(draft, uid))
    summary = await ingester.ingest_items(source_uri(uid), items, audience=draft.audience)
    async with sessions.begin() as session:
        opp = await session.scalar(_staff_event(uid))
        if summary.added != 1 or opp is None:
            raise UserError("The event could not be stored; nothing was created.")
        await audit(
            session,
            actor=actor,
            action="event.create",
            subject=f"opportunity:{opp.id}",
            detail={
                "uid": uid,
                "title": draft.title,
                "starts_at": draft.starts_at.isoformat(),
                "audience": draft.audience,
            },
        )
        return StaffEvent(opp.id, uid, draft)


def _staff_event(uid: str) -> Select[Opportunity]:
    return (
        select(Opportunity)
        .join(Source, Opportunity.source_id == Source.id)
        .where(Source.uri == source_uri(uid), Opportunity.external_id == uid)
    )


async def _find(session: AsyncSession, ref: str) -> Opportunity:
    """A staff event by opportunity id or UID."""
    ref = ref.strip().lstrip("#")
    if ref.isdigit():
        opp = await session.get(Opportunity, int(ref))
    else:
        opp = await session.scalar(_staff_event(ref))
    if opp is None or opp.kind != "event":
        raise UserError(f"There is no meeting {ref!r}; 'clusterbot events list' shows them.")
    uri = await session.scalar(select(Source.uri).where(Source.id == opp.source_id))
    if uri != source_uri(opp.external_id):
        raise UserError(
            f"{opp.title} comes from an ingested calendar: change that file and ingest it again."
        )
    if opp.status == CANCELLED:
        raise UserError(f"{opp.title} is cancelled already.")
    return opp


def _local(moment: datetime | None, tz: str) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        # SQLite keeps the wall-clock time of the calendar entry without its offset; /events
        # shows it as it is, and so does this list.
        return moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(ZoneInfo(tz))


async def cancel_event(
    sessions: SessionFactory,
    ingester: Ingester,
    ref: str,
    *,
    actor: str,
    tz: str,
    reason: str = "",
) -> tuple[str, int]:
    """Cancel a staff event: mark it closed, tell who RSVPed, cancel what was queued about it.

    The meeting stays on record (its RSVPs, alerts and deliveries are history), re-stored as
    "Cancelled: <title>" with the recorded status ``closed`` and no date to count down to:
    /events, /attendees, alert planning and delivery all leave a closed opportunity alone,
    and answers say it was cancelled.

    Returns:
        The event's title and how many people were told.

    Raises:
        UserError: no staff event has this id or UID, or it is cancelled already.
    """
    async with sessions() as session:
        opp = await _find(session, ref)
        audience = await session.scalar(select(Source.audience).where(Source.id == opp.source_id))
    title, uid, opp_id = opp.title, opp.external_id, opp.id
    start = _local(opp.starts_at, tz)
    if start is None:
        raise UserError(f"{title} has no start time on record; it cannot be cancelled here.")
    why = f" {reason.strip()}" if reason.strip() else ""
    draft = EventDraft(
        title=f"Cancelled: {title}",
        starts_at=start,
        ends_at=_local(opp.ends_at, tz),
        location=opp.location or "",
        description=f"This meeting was cancelled.{why}",
        audience=audience or "public",
    )
    (item,) = parse_bytes(f"{uid}.ics", event_ics(draft, uid))
    assert item.opportunity is not None
    closed = replace(item, opportunity=replace(item.opportunity, status=CANCELLED, deadlines=()))
    await ingester.ingest_items(source_uri(uid), [closed], audience=draft.audience)
    notice = reply_to_data(
        Reply(f"Cancelled: {title} on {start:%Y-%m-%d at %H:%M} will not take place.{why}")
    )
    async with sessions.begin() as session:
        rows = await session.execute(
            select(Rsvp.person_id, func.min(Identity.channel), func.min(Identity.chat_id))
            .join(Identity, Identity.person_id == Rsvp.person_id)
            .where(
                Rsvp.opportunity_id == opp_id,
                Rsvp.status == "going",
                Identity.chat_id.is_not(None),
            )
            .group_by(Rsvp.person_id)
        )
        told = 0
        for person_id, channel, chat_id in rows:
            told += await enqueue(
                session,
                person_id=person_id,
                channel=channel,
                chat_id=str(chat_id),
                kind="notice",
                item_key=f"event-cancelled:{uid}",
                category=None,  # they asked to come: they are told it is off
                payload=notice,
            )
        # Reminders and alerts about it that are still waiting are not sent.
        await cancel(session, opportunity_ids=[opp_id], reason="event cancelled")
        await audit(
            session,
            actor=actor,
            action="event.cancel",
            subject=f"opportunity:{opp_id}",
            detail={"uid": uid, "title": title, "told": told},
        )
    return title, told


async def list_events(
    sessions: SessionFactory, *, today: date, tz: str, include_past: bool = False
) -> list[EventRow]:
    """Meetings (ingested or created by staff) from ``today`` on, soonest first.

    ``include_past`` adds past and cancelled ones.
    """
    async with sessions() as session:
        rows = [
            (opp, str(uri), str(audience))
            for opp, uri, audience in await session.execute(
                select(Opportunity, Source.uri, Source.audience)
                .join(Source, Opportunity.source_id == Source.id)
                .where(Opportunity.kind == "event")
            )
        ]
        counted = await session.execute(
            select(Rsvp.opportunity_id, func.count(Rsvp.id))
            .where(Rsvp.status == "going")
            .group_by(Rsvp.opportunity_id)
        )
        going = {int(opp_id): int(n) for opp_id, n in counted}
    found: list[tuple[str, EventRow]] = []
    for opp, uri, audience in rows:
        start = _local(opp.starts_at, tz)
        day = start.date().isoformat() if start else next(iter(opp.deadlines), None)
        cancelled = opp.status == CANCELLED
        if day is None or (not include_past and (day < today.isoformat() or cancelled)):
            continue
        row = EventRow(
            id=opp.id,
            uid=opp.external_id,
            title=opp.title,
            starts_at=start.isoformat(timespec="minutes") if start else day,
            location=opp.location,
            audience=audience,
            origin="staff" if uri == source_uri(opp.external_id) else "calendar",
            going=going.get(opp.id, 0),
            cancelled=cancelled,
        )
        found.append((row.starts_at or "", row))
    return [row for _key, row in sorted(found, key=lambda pair: (pair[0], pair[1].id))]


__all__ = [
    "CANCELLED",
    "SOURCE_PREFIX",
    "EventRow",
    "StaffEvent",
    "cancel_event",
    "create_event",
    "event_ics",
    "list_events",
    "source_uri",
]
