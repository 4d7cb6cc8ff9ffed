"""/newevent: staff put a meeting on the list; it behaves like one from an ingested calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar
from sqlalchemy import select

from bot.app import App
from bot.handlers.unanswered import PRIVATE_ONLY, STAFF_ONLY
from bot.staff_events import SOURCE_PREFIX
from knowledge.answer import AnswerOptions
from storage.models import AuditEntry, Chunk, Delivery, Document, Opportunity, Person, Source
from tests.bot.chat import Chat, onboard

LINE = (
    "/newevent Biobank Partnering Breakfast | 2026-12-03 08:30-10:00 | "
    "Harbour Hall, Room 2 | Coffee and short pitches on sample logistics for biobanks."
)


async def _staff(app: App, *, user: str = "boss", chat: str = "b1") -> Chat:
    staff = Chat(app.assistant, user=user, chat=chat)
    await staff.say("/help")
    async with app.sessions.begin() as session:
        (person,) = await session.scalars(select(Person).order_by(Person.id.desc()).limit(1))
        person.role = "staff"
    return staff


async def _staff_opportunity(app: App) -> Opportunity | None:
    async with app.sessions() as session:
        return await session.scalar(
            select(Opportunity)
            .join(Source, Source.id == Opportunity.source_id)
            .where(Source.uri.startswith(SOURCE_PREFIX))
        )


async def test_a_created_meeting_is_a_real_event_everywhere(app: App, chat: Chat) -> None:
    staff = await _staff(app)
    created = await staff.say(LINE)
    assert created.text.startswith("Added to /events for everyone")
    assert "2026-12-03 08:30–10:00 (Europe/Berlin)" in created.text
    opp = await _staff_opportunity(app)
    assert opp is not None
    assert opp.kind == "event"
    assert opp.location == "Harbour Hall, Room 2"
    assert opp.deadlines == ["2026-12-03"]
    async with app.sessions() as session:
        doc = await session.get_one(Document, opp.document_id)
        chunks = list(await session.scalars(select(Chunk).where(Chunk.document_id == doc.id)))
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "event.create"))
    assert chunks, "the event has chunks"
    assert app.index.existing([c.vector_id for c in chunks]) == {c.vector_id for c in chunks}
    assert entry is not None
    assert entry.subject == f"opportunity:{opp.id}"
    assert entry.detail["title"] == "Biobank Partnering Breakfast"

    # Members see it first in /events (it is the soonest), RSVP and get a reminder.
    await onboard(chat)
    listing = await chat.say("/events")
    assert "1. Biobank Partnering Breakfast: 2026-12-03" in listing.text
    (ics,) = listing.attachments
    summaries = [str(e["summary"]) for e in Calendar.from_ical(ics.content).walk("VEVENT")]
    assert summaries[0] == "Biobank Partnering Breakfast"
    going = await chat.tap("RSVP 1")
    assert "I'll remind you the day before" in going.text
    async with app.sessions() as session:
        (reminder,) = await session.scalars(select(Delivery).where(Delivery.kind == "reminder"))
    # The day before at 09:00 Berlin (08:00 UTC).
    assert reminder.due_at.replace(tzinfo=UTC) == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)

    # Staff see the attendee; a question finds the meeting.
    assert "Biobank Partnering Breakfast" in (await staff.say("/attendees")).text
    answer = await app.answerer.answer(
        "When is the biobank partnering breakfast?", AnswerOptions(audiences=("public",))
    )
    assert any(c.passage.title == "Biobank Partnering Breakfast" for c in answer.citations)


async def test_cancelling_tells_attendees_and_takes_the_meeting_off(app: App, chat: Chat) -> None:
    staff = await _staff(app)
    created = await staff.say(LINE)
    listing = await chat.say("/events")
    await chat.tap("RSVP 1")
    ask = await staff.tap("Cancel this meeting", created)
    assert "Everyone who RSVPed is told" in ask.text
    done = await staff.tap("Yes, cancel it")
    assert (
        done.text == "Cancelled Biobank Partnering Breakfast. 1 person(s) who RSVPed will be told."
    )
    opp = await _staff_opportunity(app)
    assert opp is not None, "the meeting stays on record, with its RSVPs"
    assert (opp.title, opp.status, opp.deadlines) == (
        "Cancelled: Biobank Partnering Breakfast",
        "closed",
        [],
    )
    async with app.sessions() as session:
        rows = list(await session.scalars(select(Delivery).order_by(Delivery.id)))
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert [(d.kind, d.status) for d in rows] == [("reminder", "cancelled"), ("notice", "pending")]
    assert (
        "Biobank Partnering Breakfast on 2026-12-03 at 08:30 will not take place"
        in (rows[1].payload["text"])
    )
    assert {"event.create", "event.cancel"} <= set(actions)
    assert "Biobank" not in (await chat.say("/events")).text
    assert "Biobank" not in (await staff.say("/attendees")).text
    assert "over or cancelled" in (await chat.tap("RSVP 1", listing)).text
    answer = await app.answerer.answer(
        "Is the biobank partnering breakfast still on?", AnswerOptions(audiences=("public",))
    )
    titles = {c.passage.title for c in answer.citations}
    assert "Biobank Partnering Breakfast" not in titles
    assert "Cancelled: Biobank Partnering Breakfast" in titles
    again = await staff.tap("Yes, cancel it", ask)
    assert "is cancelled already" in again.text


async def test_bad_lines_get_a_message_naming_what_is_wrong(app: App) -> None:
    staff = await _staff(app)
    assert "Use /newevent Title |" in (await staff.say("/newevent")).text
    cases = {
        "/newevent  | 2026-12-03 08:30 | Hall": "The title is missing.",
        "/newevent Breakfast": "The date and time are missing.",
        "/newevent Breakfast | 2026-12-03 08:30": "The location is missing.",
        "/newevent Breakfast | next Tuesday | Hall": "should look like 2026-12-10 14:00-16:00",
        "/newevent Breakfast | 2026-02-30 08:30 | Hall": "2026-02-30 is not a real date",
        "/newevent Breakfast | 2026-12-03 25:00 | Hall": "start time 25:00",
        "/newevent Breakfast | 2026-12-03 10:00-09:00 | Hall": "ends (09:00) before it starts",
        "/newevent Breakfast | 2026-11-01 10:00 | Hall": "2026-11-01 is in the past",
        f"/newevent {'x' * 201} | 2026-12-03 10:00 | Hall": "The title is too long",
    }
    for line, expected in cases.items():
        reply = await staff.say(line)
        assert expected in reply.text, (line, reply.text)
    assert await _staff_opportunity(app) is None


async def test_members_and_shared_chats_cannot_create_or_cancel(app: App, chat: Chat) -> None:
    assert (await chat.say(LINE)).text == STAFF_ONLY
    staff = await _staff(app)
    created = await staff.say(LINE)
    group = Chat(app.assistant, user="boss", chat="g1", chat_type="group")
    assert (await group.say(LINE)).text == PRIVATE_ONLY
    assert (await chat.tap("Cancel this meeting", created)).text == STAFF_ONLY
    assert await _staff_opportunity(app) is not None
