"""/events: upcoming network meetings, with an RSVP button each and a calendar file."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar
from icalendar import Event as IcsEvent
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.handlers.attendees import CONSENT, also_coming, visibility_button
from bot.handlers.common import caller_records, days_until, parse_id
from bot.messages import Attachment, Button, Incoming, Reply, SourceRef, reply_to_data
from bot.schedule import local_time
from knowledge.match.filters import status_today
from storage.models import Delivery, Opportunity, Rsvp
from storage.opportunities import list_opportunities
from storage.outbox import cancel, enqueue
from storage.people import subscriptions

SHOWN = 5
RSVP = "rsvp"
UNRSVP = "unrsvp"


def _start(opp: Opportunity) -> date | None:
    if opp.starts_at is not None:
        return opp.starts_at.date()
    return date.fromisoformat(opp.deadlines[0]) if opp.deadlines else None


def _when(opp: Opportunity) -> str:
    if opp.starts_at is None:
        start = _start(opp)
        return start.isoformat() if start else "date to be announced"
    text = opp.starts_at.strftime("%Y-%m-%d %H:%M")
    if opp.ends_at is not None and opp.ends_at.date() == opp.starts_at.date():
        text += opp.ends_at.strftime("–%H:%M")
    return text


def calendar(events: list[Opportunity], *, cluster: str = "clusterbot") -> bytes:
    """An iCalendar file holding these events."""
    cal = Calendar()
    cal.add("prodid", f"-//{cluster}//events//EN")
    cal.add("version", "2.0")
    for opp in events:
        item = IcsEvent()
        item.add("uid", f"{opp.external_id}@{cluster}")
        item.add("summary", opp.title)
        start = _start(opp)
        if opp.starts_at is not None:
            item.add("dtstart", opp.starts_at)
            item.add("dtend", opp.ends_at or opp.starts_at + timedelta(hours=2))
        elif start is not None:
            item.add("dtstart", start)
        if opp.location:
            item.add("location", opp.location)
        if opp.url:
            item.add("url", opp.url)
        item.add("dtstamp", datetime.now(UTC))
        cal.add_component(item)
    data: bytes = cal.to_ical()
    return data


async def upcoming_events(ctx: Context) -> list[Opportunity]:
    """Events from today on that the caller may see, soonest first."""
    today = ctx.clock.today()
    async with ctx.sessions() as session:
        rows = await list_opportunities(session, kinds=["event"], audiences=ctx.audiences)
    # A cancelled meeting is recorded as closed: it keeps its date but is no longer offered.
    events = [
        opp
        for opp, _ in rows
        if (d := _start(opp)) is not None and d >= today and status_today(opp, today) != "closed"
    ]
    events.sort(key=lambda o: (_start(o) or date.max, o.title))
    return events


async def handle_events(msg: Incoming, ctx: Context) -> Reply:
    """List upcoming meetings with RSVP buttons and one .ics file for all of them."""
    events = (await upcoming_events(ctx))[:SHOWN]
    if not events:
        return Reply("No upcoming network meetings are on my list right now.")
    today = ctx.clock.today()
    lines = ["Upcoming network meetings:", ""]
    for n, opp in enumerate(events, start=1):
        start = _start(opp)
        soon = f" ({days_until(start, today)})" if start else ""
        where = f", {opp.location}" if opp.location else ""
        lines.append(f"{n}. {opp.title}: {_when(opp)}{soon}{where}")
    lines += ["", "Tap to RSVP; the calendar file has all of them."]
    sources = tuple(
        SourceRef(n=n, title=o.title, source=o.url or o.external_id, url=o.url)
        for n, o in enumerate(events, start=1)
    )
    buttons = tuple(Button(f"RSVP {n}", RSVP, str(o.id)) for n, o in enumerate(events, start=1))
    ics = Attachment("network-meetings.ics", calendar(events), "text/calendar")
    return Reply("\n".join(lines), sources=sources, buttons=buttons, attachments=(ics,))


async def rsvp_tap(msg: Incoming, ctx: Context) -> Reply:
    """Register (or cancel) the caller for one event, with a reminder the day before."""
    assert msg.tap is not None
    going = msg.tap.action == RSVP
    event_id = parse_id(msg.tap.payload)
    if event_id is None:
        return Reply("That button no longer works; /events shows the current meetings.")
    async with ctx.sessions.begin() as session:
        opp = await session.get(Opportunity, event_id)
        if opp is None or opp.kind != "event":
            return Reply("That meeting is no longer on my list; /events shows the current ones.")
        if going and status_today(opp, ctx.clock.today()) == "closed":
            return Reply("That meeting is over or cancelled; /events shows the current ones.")
        person, _ = await caller_records(session, ctx)
        row = await session.scalar(
            select(Rsvp).where(Rsvp.person_id == person.id, Rsvp.opportunity_id == opp.id)
        )
        if row is None:
            row = Rsvp(person_id=person.id, opportunity_id=opp.id)
            session.add(row)
        row.status = "going" if going else "cancelled"
        if not going:
            await cancel(
                session,
                item_key_prefix=f"event:{opp.id}",
                person_id=person.id,
                reason="RSVP cancelled",
            )
            return Reply(f"Cancelled: you're off the list for {opp.title}.")
        reminded = ctx.caller.chat_type == "private" and await _remind(session, ctx, opp)
        shown = bool((await subscriptions(session, person.id)).get(CONSENT))
        others = await also_coming(session, person, opp.id)
    name = re.sub(r"[^A-Za-z0-9]+", "-", opp.title).strip("-").lower()[:48] or "event"
    ics = Attachment(f"{name}.ics", calendar([opp]), "text/calendar")
    where = f" at {opp.location}" if opp.location else ""
    text = (
        f"You're on the list for {opp.title}, {_when(opp)}{where}. The calendar file is attached."
    )
    if reminded:
        text += " I'll remind you the day before."
    if others:
        text += "\n\nAlso coming, and happy to meet:\n" + "\n".join(others)
    return Reply(
        text,
        buttons=(
            Button("Cancel my RSVP", UNRSVP, str(opp.id)),
            visibility_button(opp.id, shown=shown),
        ),
        attachments=(ics,),
    )


async def _remind(session: AsyncSession, ctx: Context, opp: Opportunity) -> bool:
    """Queue a reminder for the day before the event (or revive a cancelled one)."""
    start = _start(opp)
    if start is None:
        return False
    due = local_time(start - timedelta(days=1), ctx.alerts.digest_hour, tz=ctx.timezone)
    if due <= ctx.clock.now():
        return False
    payload = reply_to_data(
        Reply(
            f"Tomorrow: {opp.title}, {_when(opp)}"
            + (f" at {opp.location}" if opp.location else "")
            + ".",
            buttons=(Button("Cancel my RSVP", UNRSVP, str(opp.id)),),
        )
    )
    key = f"event:{opp.id}"
    existing = await session.scalar(
        select(Delivery).where(
            Delivery.person_id == ctx.caller.person_id,
            Delivery.item_key == key,
            Delivery.kind == "reminder",
        )
    )
    if existing is not None:
        if existing.status in ("pending", "cancelled"):
            existing.status, existing.due_at, existing.payload = "pending", due, payload
            return True
        return False
    return await enqueue(
        session,
        person_id=ctx.caller.person_id,
        channel=ctx.caller.channel,
        chat_id=ctx.caller.chat_id,
        kind="reminder",
        item_key=key,
        category=None,  # the person asked for it by RSVPing; /stop cancels it
        payload=payload,
        due_at=due,
        opportunity_id=opp.id,
    )


__all__ = ["RSVP", "UNRSVP", "calendar", "handle_events", "rsvp_tap", "upcoming_events"]
