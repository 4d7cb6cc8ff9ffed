"""/events: upcoming meetings with RSVP buttons and a calendar file."""

from __future__ import annotations

from icalendar import Calendar
from sqlalchemy import select

from bot.app import App
from storage.models import Rsvp
from tests.bot.chat import Chat


async def test_events_come_with_rsvp_buttons_and_an_ics_file(chat: Chat) -> None:
    reply = await chat.say("/events")
    assert reply.text.startswith("Upcoming network meetings")
    assert [b.label for b in reply.buttons][:2] == ["RSVP 1", "RSVP 2"]
    (ics,) = reply.attachments
    assert ics.filename.endswith(".ics")
    cal = Calendar.from_ical(ics.content)
    events = cal.walk("VEVENT")
    assert len(events) == len(reply.buttons)
    starts = [e.decoded("dtstart") for e in events]
    assert all(s.year >= 2026 for s in starts)
    assert "Digital Health Network" in str(events[0]["summary"])


async def test_rsvp_is_recorded_and_can_be_cancelled(app: App, chat: Chat) -> None:
    await chat.say("/events")
    reply = await chat.tap("RSVP 1")
    assert "You're on the list for" in reply.text
    assert reply.attachments
    assert reply.attachments[0].content.startswith(b"BEGIN:VCALENDAR")
    async with app.sessions() as session:
        (row,) = await session.scalars(select(Rsvp))
        assert row.status == "going"
    reply = await chat.tap("Cancel my RSVP")
    assert "Cancelled" in reply.text
    async with app.sessions() as session:
        (row,) = await session.scalars(select(Rsvp))
        assert row.status == "cancelled"


async def test_a_stale_rsvp_button_is_explained(chat: Chat) -> None:
    from bot.messages import Incoming

    reply = await chat.assistant.respond(
        Incoming.pressed(
            channel="test", user_id="u1", chat_id="c1", action="rsvp", payload="999999"
        )
    )
    assert reply is not None
    assert "no longer on my list" in reply.text
