"""Who comes to a network meeting.

Staff see the attendee list (/attendees). Members who agree to be shown see the other
attendees who agreed too and whose work overlaps theirs; both sides' consent is needed.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.handlers.common import PRIVATE_ONLY, STAFF_ONLY, caller_records, parse_id
from bot.messages import Button, Incoming, Reply
from storage.models import Opportunity, Organisation, Person, Rsvp
from storage.people import set_subscription, subscriptions

VISIBLE = "visible"
# Consent to be shown to other attendees: a category of its own, given and withdrawn per person.
CONSENT = "attendee_list"


async def _going(session: AsyncSession, event_id: int) -> list[tuple[Person, Organisation | None]]:
    rows = await session.execute(
        select(Person, Organisation)
        .join(Rsvp, Rsvp.person_id == Person.id)
        .outerjoin(Organisation, Organisation.id == Person.organisation_id)
        .where(Rsvp.opportunity_id == event_id, Rsvp.status == "going")
        .order_by(Person.id)
    )
    return [(person, org) for person, org in rows]


def _terms(org: Organisation | None) -> set[str]:
    if org is None:
        return set()
    found = [*org.sectors, *org.therapeutic_areas, *org.technologies]
    return {t.strip().lower() for t in found if t.strip()}


async def also_coming(session: AsyncSession, person: Person, event_id: int) -> list[str]:
    """Other attendees who agreed to be shown and share a field with the person."""
    if not (await subscriptions(session, person.id)).get(CONSENT):
        return []
    mine = _terms(await session.get(Organisation, person.organisation_id or -1))
    lines = []
    for other, org in await _going(session, event_id):
        if other.id == person.id or org is None:
            continue
        if not (await subscriptions(session, other.id)).get(CONSENT):
            continue
        shared = sorted(mine & _terms(org))
        if shared:
            lines.append(f"• {org.name} ({', '.join(shared[:3])})")
    return lines


def visibility_button(event_id: int, *, shown: bool) -> Button:
    """The button that gives (or withdraws) consent to be shown to other attendees."""
    if shown:
        return Button("Stop showing me", VISIBLE, f"off:{event_id}")
    return Button("Show me to other attendees", VISIBLE, f"on:{event_id}")


async def visible_tap(msg: Incoming, ctx: Context) -> Reply:
    """Agree to be shown to other attendees and see who else agreed; or withdraw."""
    assert msg.tap is not None
    verb, _, ref = msg.tap.payload.partition(":")
    event_id = parse_id(ref)
    if verb not in ("on", "off") or event_id is None:
        return Reply("That button no longer works; /events shows the current meetings.")
    async with ctx.sessions.begin() as session:
        person, _ = await caller_records(session, ctx)
        opp = await session.get(Opportunity, event_id)
        if opp is None:
            return Reply("That meeting is no longer on my list.")
        await set_subscription(session, person.id, CONSENT, active=verb == "on")
        others = await also_coming(session, person, opp.id)
    if verb == "off":
        return Reply(
            "Done: other attendees no longer see you.",
            buttons=(visibility_button(opp.id, shown=False),),
        )
    lead = "Done: other attendees who agreed too can see your organisation and its fields."
    stop = (visibility_button(opp.id, shown=True),)
    if not others:
        return Reply(
            f"{lead}\n\nNobody else who fits you has agreed to be shown yet.", buttons=stop
        )
    return Reply(f"{lead}\n\nAlso coming to {opp.title}:\n" + "\n".join(others), buttons=stop)


async def handle_attendees(msg: Incoming, ctx: Context) -> Reply:
    """Staff: upcoming meetings with RSVP counts; ``/attendees N`` lists who comes to one."""
    if not ctx.caller.is_staff:
        return Reply(STAFF_ONLY)
    if ctx.caller.chat_type != "private":
        return Reply(PRIVATE_ONLY)  # a list of names is not for a shared chat
    today = ctx.clock.today()
    async with ctx.sessions() as session:
        events = [
            opp
            for opp in await session.scalars(
                select(Opportunity).where(Opportunity.kind == "event").order_by(Opportunity.id)
            )
            if opp.deadlines and date.fromisoformat(opp.deadlines[0]) >= today
        ]
        events.sort(key=lambda o: o.deadlines[0])
        if not msg.args:
            lines = ["Upcoming meetings (RSVPs going); /attendees N lists one:", ""]
            for n, opp in enumerate(events, start=1):
                going = await _going(session, opp.id)
                lines.append(f"{n}. {opp.deadlines[0]} {opp.title}: {len(going)}")
            return Reply("\n".join(lines) if events else "No upcoming meetings.")
        number = parse_id(msg.args)
        if number is None or not 1 <= number <= len(events):
            return Reply(f"Give the number of a meeting from 1 to {len(events)}: /attendees 2")
        opp = events[number - 1]
        going = await _going(session, opp.id)
    if not going:
        return Reply(f"Nobody has RSVPed to {opp.title} yet.")
    rows = [
        f"• {person.display_name or 'someone'}, {(org.name if org else '') or 'no organisation'}"
        for person, org in going
    ]
    return Reply(f"{opp.title} ({opp.deadlines[0]}): {len(going)} going\n" + "\n".join(rows))


__all__ = [
    "CONSENT",
    "STAFF_ONLY",
    "VISIBLE",
    "also_coming",
    "handle_attendees",
    "visibility_button",
    "visible_tap",
]
