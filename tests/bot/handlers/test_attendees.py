"""Network meetings: a reminder the day before, who else comes (with consent), staff lists."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.admin import set_role
from bot.app import App
from storage.models import Delivery
from tests.bot.chat import Chat, onboard


async def _reminders(app: App) -> list[Delivery]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Delivery).where(Delivery.kind == "reminder")))


async def test_rsvp_queues_a_reminder_the_day_before_and_cancel_removes_it(
    app: App, chat: Chat
) -> None:
    await chat.say("/events")
    reply = await chat.tap("RSVP 1")
    assert "I'll remind you the day before" in reply.text
    (reminder,) = await _reminders(app)
    # Digital Health Network on 2026-12-09: the reminder is due 2026-12-08 09:00 Berlin.
    assert reminder.due_at.replace(tzinfo=UTC) == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    assert reminder.item_key.startswith("event:")
    await chat.tap("Cancel my RSVP")
    (reminder,) = await _reminders(app)
    assert reminder.status == "cancelled"
    await chat.say("/events")
    await chat.tap("RSVP 1")
    (reminder,) = await _reminders(app)
    assert reminder.status == "pending"


async def test_attendees_see_each_other_only_when_both_agree(app: App, chat: Chat) -> None:
    await onboard(chat)
    other = Chat(app.assistant, user="u2", chat="c2")
    await onboard(other)
    for person in (chat, other):
        await person.say("/events")
        await person.tap("RSVP 1")
    reply = await chat.tap("Show me to other attendees")
    assert "Nobody else who fits you has agreed" in reply.text
    reply = await other.tap("Show me to other attendees")
    assert "Also coming to Digital Health Network" in reply.text
    assert "Acme Diagnostics GmbH (biomarkers, diagnostics, digital health)" in reply.text
    reply = await other.tap("Stop showing me")
    assert "no longer see you" in reply.text
    await chat.say("/events")
    reply = await chat.tap("RSVP 1")
    assert "Also coming" not in reply.text


async def test_attendee_lists_are_for_staff_only(app: App, chat: Chat) -> None:
    await onboard(chat)
    await chat.say("/events")
    await chat.tap("RSVP 1")
    assert (await chat.say("/attendees")).text == "That command is for cluster staff."
    await set_role(app.sessions, "test:u1", "staff", actor="test")
    overview = await chat.say("/attendees")
    assert "Digital Health Network" in overview.text
    assert ": 1" in overview.text.splitlines()[2]
    listing = await chat.say("/attendees 1")
    assert "1 going" in listing.text
    assert "Acme Diagnostics GmbH" in listing.text
    assert "Give the number of a meeting" in (await chat.say("/attendees 99")).text


async def test_help_shows_staff_commands_to_staff_only(app: App, chat: Chat) -> None:
    assert "/attendees" not in (await chat.say("/help")).text
    await set_role(app.sessions, "test:u1", "staff", actor="test")
    assert "/attendees" in (await chat.say("/help")).text
