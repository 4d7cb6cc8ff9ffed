"""Free text: answered with sources, readable in a chat, with limits named."""

from __future__ import annotations

from tests.bot.chat import Chat


async def test_answers_read_cleanly_without_markdown_markers(chat: Chat) -> None:
    reply = await chat.say("Does the Launchpad incubator take equity?")
    assert "no equity" in reply.text
    assert "**" not in reply.text
    assert reply.sources[0].record_id == "KBR-LAUNCHPAD-2027"


async def test_an_overlong_question_is_refused_with_its_length(chat: Chat) -> None:
    reply = await chat.say("funding " * 400)
    assert "characters long; please keep it under 2000" in reply.text
    assert not reply.sources
