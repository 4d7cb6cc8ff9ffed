"""👍, 👎 and "Ask a person" under answers."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from storage.models import Feedback, Handoff
from tests.bot.chat import Chat


async def test_thumbs_are_recorded_once_per_answer(app: App, chat: Chat) -> None:
    answer = await chat.say("Which voucher pays for a feasibility study?")
    assert [b.label for b in answer.buttons] == ["👍", "👎", "Ask a person"]
    await chat.tap("👍", answer)
    reply = await chat.tap("👎", answer)
    assert "Staff review answers" in reply.text
    async with app.sessions() as session:
        (row,) = await session.scalars(select(Feedback))
    assert row.value == "down"


async def test_ask_a_person_hands_the_question_and_context_to_staff(app: App, chat: Chat) -> None:
    answer = await chat.say("What is the success rate of the cluster's EU proposals in 2031?")
    reply = await chat.tap("Ask a person", answer)
    assert "passed your question to the cluster team" in reply.text
    again = await chat.tap("Ask a person", answer)
    assert "already has this question" in again.text
    async with app.sessions() as session:
        (handoff,) = await session.scalars(select(Handoff))
    assert handoff.text.startswith("What is the success rate")
    assert handoff.status == "open"
    assert handoff.context["answer"]
    assert (handoff.channel, handoff.chat_id) == ("test", "c1")


async def test_a_forged_feedback_payload_is_refused(chat: Chat) -> None:
    from bot.messages import Incoming

    reply = await chat.assistant.respond(
        Incoming.pressed(channel="test", user_id="u1", chat_id="c1", action="fb", payload="up:zz")
    )
    assert reply is not None
    assert "no longer works" in reply.text
