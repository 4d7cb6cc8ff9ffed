"""The assistant: redeliveries answered once, roles, and what each person may see where."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.admin import confirm_membership, organisations, set_role
from bot.app import App
from bot.errors import UserError
from bot.messages import Incoming
from storage.models import Identity
from tests.bot.chat import Chat, onboard
from tests.factories import make_app

SECRET_FACT = """---
title: Members' price list 2027
---
# Members' price list 2027

Members book the Korvenstad cryo-electron microscope at a members' rate of EUR 410 per
session day, the Zephyr rate agreed with the imaging core facility.
"""
QUESTION = "What is the members' rate for the cryo-electron microscope?"


@pytest.fixture
async def app(demo_dir: Path, tmp_path: Path) -> AsyncIterator[App]:
    built = await make_app(demo_dir, staff=["console:boss"])
    doc = tmp_path / "members-prices.md"
    doc.write_text(SECRET_FACT)
    summary = await built.ingester.ingest([str(doc)], audience="members")
    assert summary.failed == 0
    try:
        yield built
    finally:
        await built.close()


def _cites_secret(reply_sources: tuple) -> bool:  # type: ignore[type-arg]
    return any("Members' price list" in s.title for s in reply_sources)


async def test_a_redelivered_update_is_answered_once(app: App) -> None:
    msg = Incoming.parse(channel="test", user_id="u1", chat_id="c1", text="/help", event_id="42")
    assert await app.assistant.respond(msg) is not None
    assert await app.assistant.respond(msg) is None
    other_channel = Incoming.parse(
        channel="other", user_id="u1", chat_id="c1", text="/help", event_id="42"
    )
    assert await app.assistant.respond(other_channel) is not None


async def test_member_documents_need_a_confirmed_member_organisation(app: App) -> None:
    chat = Chat(app.assistant)
    assert not _cites_secret((await chat.say(QUESTION)).sources)
    await onboard(chat)
    assert not _cites_secret((await chat.say(QUESTION)).sources)
    with pytest.raises(UserError, match="no organisation is called"):
        await confirm_membership(app.sessions, "Nobody Ltd", member=True, actor="test")
    await confirm_membership(app.sessions, "acme diagnostics gmbh", member=True, actor="test")
    (row,) = await organisations(app.sessions)
    assert row.is_member
    assert row.people == 1
    reply = await chat.say(QUESTION)
    assert _cites_secret(reply.sources)
    assert "410" in reply.text
    chat.chat_type = "group"
    assert not _cites_secret((await chat.say(QUESTION)).sources)


async def test_staff_come_from_configuration_and_the_database(app: App) -> None:
    boss = Chat(app.assistant, user="boss", channel="console")
    assert _cites_secret((await boss.say(QUESTION)).sources)
    helper = Chat(app.assistant, user="helper")
    assert not _cites_secret((await helper.say(QUESTION)).sources)
    await set_role(app.sessions, "test:helper", "staff", actor="test")
    assert _cites_secret((await helper.say(QUESTION)).sources)
    with pytest.raises(UserError, match="has not written to the bot yet"):
        await set_role(app.sessions, "test:nobody", "staff", actor="test")
    with pytest.raises(UserError, match="is not a role"):
        await set_role(app.sessions, "test:helper", "king", actor="test")


async def test_console_answers_with_the_audience_it_was_started_with(app: App) -> None:
    staff_console = Chat(app.console_assistant(("public", "members", "staff")), channel="console")
    assert _cites_secret((await staff_console.say(QUESTION)).sources)
    public_console = Chat(app.console_assistant(("public",)), channel="console")
    assert not _cites_secret((await public_console.say(QUESTION)).sources)


async def test_unknown_commands_and_stale_buttons_get_a_clear_reply(app: App) -> None:
    chat = Chat(app.assistant)
    assert "I don't know /frobnicate" in (await chat.say("/frobnicate")).text
    reply = await app.assistant.respond(
        Incoming.pressed(channel="test", user_id="u1", chat_id="c1", action="gone")
    )
    assert reply is not None
    assert "no longer works" in reply.text


async def test_a_broken_database_gets_an_apology_with_a_reference(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    async with app.engine.begin() as connection:  # every message's first query now fails
        await connection.execute(text("DROP TABLE conversation_states"))
    reply = await app.assistant.respond(
        Incoming.parse(channel="test", user_id="u1", chat_id="c1", text="hello")
    )
    assert reply is not None
    assert reply.reference
    assert f"Reference: {reply.reference}" in reply.text
    assert reply.reference in caplog.text
    assert "Traceback" in caplog.text or any(r.exc_info for r in caplog.records)


async def test_one_persons_messages_sent_at_once_are_answered_in_order(app: App) -> None:
    chat = Chat(app.assistant, user="quick")
    await chat.say("/start")
    replies = await asyncio.gather(chat.say("Quickfingers Bio GmbH"), chat.say("Germany"))
    assert "(2/9)" in replies[0].text  # the name was taken first, then the country
    assert "(3/9)" in replies[1].text
    assert "(4/9)" in (await chat.tap("SME")).text


async def test_a_new_persons_first_messages_at_once_make_one_person(app: App) -> None:
    chats = [Chat(app.assistant, user="newcomer", chat="newcomer") for _ in range(5)]
    replies = await asyncio.gather(*(chat.say("/help") for chat in chats))
    assert not any("went wrong" in reply.text for reply in replies)
    async with app.sessions() as session:
        found = await session.scalars(
            select(Identity.person_id).where(Identity.external_id == "newcomer")
        )
        assert len(list(found)) == 1
