"""The buttons under every answer: 👍, 👎, and "ask a person" (hands the question to staff)."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Context
from bot.handlers.common import caller_records, parse_id
from bot.messages import Incoming, Reply
from storage.models import Feedback, Handoff, Question

FEEDBACK = "fb"
HANDOFF = "handoff"


async def feedback_tap(msg: Incoming, ctx: Context) -> Reply:
    """Record a thumbs up or down on one answer (a second tap changes it)."""
    assert msg.tap is not None
    value, _, ref = msg.tap.payload.partition(":")
    question_id = parse_id(ref)
    if value not in ("up", "down") or question_id is None:
        return Reply("That button no longer works.")
    async with ctx.sessions.begin() as session:
        question = await session.get(Question, question_id)
        if question is None:
            return Reply("That answer is no longer on record, but thanks all the same.")
        person, _ = await caller_records(session, ctx)
        row = await session.scalar(
            select(Feedback).where(
                Feedback.person_id == person.id, Feedback.question_id == question.id
            )
        )
        if row is None:
            session.add(Feedback(person_id=person.id, question_id=question.id, value=value))
        else:
            row.value = value
    if value == "up":
        return Reply("Thanks, glad it helped.")
    return Reply(
        "Thanks for telling me. Staff review answers marked 👎; tap “Ask a person” if you "
        "want someone to follow up."
    )


async def handoff_tap(msg: Incoming, ctx: Context) -> Reply:
    """Pass the question, the answer given and its sources to the cluster team."""
    assert msg.tap is not None
    question_id = parse_id(msg.tap.payload)
    async with ctx.sessions.begin() as session:
        person, org = await caller_records(session, ctx)
        question = await session.get(Question, question_id) if question_id is not None else None
        if question is not None:
            existing = await session.scalar(
                select(Handoff).where(
                    Handoff.person_id == person.id, Handoff.question_id == question.id
                )
            )
            if existing is not None:
                return Reply("The cluster team already has this question; they'll reply here.")
        session.add(
            Handoff(
                person_id=person.id,
                question_id=question.id if question else None,
                channel=ctx.caller.channel,
                chat_id=ctx.caller.chat_id,
                text=question.text if question else "(asked for a person)",
                context={
                    "answer": question.answer if question else None,
                    "abstained": question.abstained if question else None,
                    "citations": question.citations if question else [],
                    "organisation": org.name if org else None,
                    "chat_type": ctx.caller.chat_type,
                },
            )
        )
    return Reply(
        "I've passed your question to the cluster team, with my answer and sources. "
        "Someone will get back to you here."
    )


__all__ = ["FEEDBACK", "HANDOFF", "feedback_tap", "handoff_tap"]
