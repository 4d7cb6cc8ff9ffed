"""The unanswered-questions queue: staff list it and answer once, in chat or on the command line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.app import App
from bot.cli import cli
from bot.errors import UserError
from bot.handlers.unanswered import PRIVATE_ONLY, STAFF_ONLY
from bot.messages import reply_from_data
from bot.unanswered import DEFAULT_EXPIRY_DAYS, answer_question, expiry, list_unanswered
from knowledge.answer import AnswerOptions
from storage.models import AuditEntry, Delivery, Document, Organisation, Person, Question
from tests.bot.chat import Chat
from tests.factories import TODAY, make_app

DECLINED = "Who looks after the beekeeping club on the cluster's rooftop?"
ANSWERED = "Which voucher pays for a feasibility study?"
HANDED = "What does the Launchpad incubator offer?"
CURATED = (
    "The rooftop beekeeping club is looked after by Marta Keller of the cluster office; "
    "write to bees@cluster.example to join."
)


@pytest.fixture
async def app(demo_dir: Path) -> AsyncIterator[App]:
    built = await make_app(demo_dir)
    try:
        yield built
    finally:
        await built.close()


async def _staff(app: App, *, chat: str = "b1") -> Chat:
    """A chat with a person given the staff role (as ``people role`` does)."""
    staff = Chat(app.assistant, user="boss", chat=chat)
    await staff.say("/help")
    async with app.sessions.begin() as session:
        person = await session.scalar(select(Person).order_by(Person.id.desc()))
        assert person is not None
        person.role = "staff"
    return staff


async def _ids(app: App) -> dict[str, int]:
    async with app.sessions() as session:
        rows = await session.execute(select(Question.text, Question.id))
        return {text: qid for text, qid in rows}


async def _queue_three(app: App) -> dict[str, int]:
    """A declined question, a 👎'd answer and one handed to a person by a named organisation."""
    await Chat(app.assistant, user="u1", chat="c1").say(DECLINED)
    answered = Chat(app.assistant, user="u2", chat="c2")
    await answered.tap("👎", await answered.say(ANSWERED))
    handed = Chat(app.assistant, user="u3", chat="c3")
    reply = await handed.say(HANDED)
    async with app.sessions.begin() as session:
        org = Organisation(name="Acme Bio GmbH", join_code="ACME-0001")
        session.add(org)
        await session.flush()
        person = await session.scalar(select(Person).order_by(Person.id.desc()))
        assert person is not None
        person.organisation_id = org.id
    await handed.tap("Ask a person", reply)
    ids = await _ids(app)
    async with app.sessions() as session:
        assert (await session.get_one(Question, ids[DECLINED])).abstained
    return ids


async def test_staff_see_each_queued_question_once_with_its_context(app: App) -> None:
    ids = await _queue_three(app)
    staff = await _staff(app)
    reply = await staff.say("/unanswered")
    for text in (DECLINED, ANSWERED, HANDED):
        assert reply.text.count(f"Q: {text}") == 1
    assert [b.label for b in reply.buttons] == [
        f"Answer #{ids[DECLINED]}",
        f"Answer #{ids[ANSWERED]}",
        f"Answer #{ids[HANDED]}",
    ]
    assert "Organisation: Acme Bio GmbH" in reply.text
    assert "👎" in reply.text
    assert "asked for a person" in reply.text
    assert "declined" in reply.text
    items = {item.id: item for item in await list_unanswered(app.sessions)}
    assert items[ids[ANSWERED]].citations  # the titles of the sources the bot cited
    assert items[ids[ANSWERED]].answer_given
    assert items[ids[DECLINED]].citations == ()
    hint = await staff.tap(f"Answer #{ids[HANDED]}")
    assert f"/answer {ids[HANDED]}" in hint.text


async def test_answering_notifies_the_asker_and_answers_later_questions(app: App) -> None:
    ids = await _queue_three(app)
    staff = await _staff(app)
    done = await staff.say(f"/answer {ids[DECLINED]} {CURATED}")
    until = TODAY + timedelta(days=DEFAULT_EXPIRY_DAYS)
    assert "The person who asked will get it." in done.text
    assert until.isoformat() in done.text
    async with app.sessions() as session:
        question = await session.get_one(Question, ids[DECLINED])
        assert question.answered_at is not None
        assert question.staff_answer == CURATED
        (notice,) = await session.scalars(select(Delivery))
        assert (notice.kind, notice.category, notice.chat_id) == ("notice", None, "c1")
        assert CURATED in reply_from_data(notice.payload).text
        doc = await session.scalar(select(Document).where(Document.expires_at.is_not(None)))
        assert doc is not None
        assert doc.expires_at == until
        assert doc.audience == "public"
        (entry,) = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "question.answer")
        )
        assert entry.subject == f"question:{ids[DECLINED]}"
    listed = await staff.say("/unanswered")
    assert DECLINED not in listed.text
    assert HANDED in listed.text
    # Someone else asks much the same later: answered from the curated source, citing it.
    later = await app.answerer.answer(
        "Who looks after the rooftop beekeeping club?", AnswerOptions(record=False)
    )
    assert not later.abstained
    assert f"curated:question-{ids[DECLINED]}" in [c.passage.source for c in later.citations]


async def test_a_handed_off_answer_reaches_whoever_asked_for_a_person(app: App) -> None:
    ids = await _queue_three(app)
    done = await answer_question(
        app.sessions,
        question_id=ids[HANDED],
        text="Launchpad offers desks, mentoring and lab time.",
        actor="cli",
        today=TODAY,
        expires="2027-01-31",
        index=app.index,
    )
    assert done.notified == 1
    assert done.expires_at == date(2027, 1, 31)
    async with app.sessions() as session:
        (notice,) = await session.scalars(select(Delivery))
        assert notice.chat_id == "c3"


async def test_an_expired_curated_answer_is_no_longer_cited(app: App) -> None:
    ids = await _queue_three(app)
    await answer_question(
        app.sessions,
        question_id=ids[DECLINED],
        text=CURATED,
        actor="cli",
        today=TODAY,
        expires=TODAY + timedelta(days=10),
        index=app.index,
    )
    source = f"curated:question-{ids[DECLINED]}"
    question = "Who looks after the rooftop beekeeping club?"
    before = await app.retriever.retrieve(question, today=TODAY + timedelta(days=10))
    assert source in [p.source for p in before.passages]
    after = await app.retriever.retrieve(question, today=TODAY + timedelta(days=11))
    assert source not in [p.source for p in after.passages]


async def test_members_can_neither_list_nor_answer(app: App) -> None:
    ids = await _queue_three(app)
    member = Chat(app.assistant, user="u1", chat="c1")
    assert (await member.say("/unanswered")).text == STAFF_ONLY
    assert (await member.say(f"/answer {ids[DECLINED]} my own answer")).text == STAFF_ONLY
    async with app.sessions() as session:
        assert (await session.get_one(Question, ids[DECLINED])).answered_at is None
    await _staff(app)
    group = Chat(app.assistant, user="boss", chat="g1", chat_type="group")
    assert (await group.say("/unanswered")).text == PRIVATE_ONLY


async def test_unknown_already_answered_and_malformed_answers_are_refused(app: App) -> None:
    ids = await _queue_three(app)
    staff = await _staff(app)
    assert "There is no question #9999" in (await staff.say("/answer 9999 Something")).text
    await staff.say(f"/answer {ids[DECLINED]} {CURATED}")
    again = await staff.say(f"/answer {ids[DECLINED]} A second answer")
    assert f"#{ids[DECLINED]} was already answered" in again.text
    assert "Use /answer ID" in (await staff.say("/answer twelve words")).text
    assert "Use /answer ID" in (await staff.say(f"/answer {ids[HANDED]}")).text
    with pytest.raises(UserError, match="not a date"):
        expiry(TODAY, "next year")
    with pytest.raises(UserError, match="must be after today"):
        expiry(TODAY, TODAY)
    async with app.sessions() as session:
        assert len(list(await session.scalars(select(Delivery)))) == 1


async def _seeded(data_dir: Path) -> dict[str, int]:
    built = await make_app(data_dir)
    try:
        return await _queue_three(built)
    finally:
        await built.close()


def test_questions_commands_on_the_command_line(demo_dir: Path) -> None:
    ids = asyncio.run(_seeded(demo_dir))
    runner = CliRunner()
    listed = runner.invoke(cli, ["questions", "list", "--data-dir", str(demo_dir)])
    assert listed.exit_code == 0, listed.output
    assert f"#{ids[DECLINED]}" in listed.output
    assert HANDED in listed.output
    answered = runner.invoke(
        cli,
        [
            "questions",
            "answer",
            "--data-dir",
            str(demo_dir),
            "--today",
            "2026-11-28",
            "--expires",
            "2027-03-01",
            str(ids[ANSWERED]),
            "The feasibility voucher pays up to 10 000 euros.",
        ],
    )
    assert answered.exit_code == 0, answered.output
    assert "used until 2027-03-01" in answered.output
    again = runner.invoke(
        cli, ["questions", "answer", "--data-dir", str(demo_dir), str(ids[ANSWERED]), "x"]
    )
    assert again.exit_code != 0
    assert "already answered" in again.output
    bad = runner.invoke(
        cli,
        ["questions", "answer", "--data-dir", str(demo_dir), "--expires", "soon", "1", "x"],
    )
    assert bad.exit_code != 0
    assert "not a date" in bad.output
