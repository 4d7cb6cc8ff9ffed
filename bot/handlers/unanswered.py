"""What cluster staff can do with questions the bot could not answer.

``/unanswered`` lists the queue (declined, 👎'd, handed to a person), each with an "Answer"
button; ``/answer ID text`` answers one: the person who asked is told, and the answer is
used for later questions until it expires. Both check the caller's role on every call and
work only in a private chat, where other people's questions are not on show.
"""

from __future__ import annotations

from bot.context import Context
from bot.handlers.common import PRIVATE_ONLY, STAFF_ONLY, parse_id, staff_refusal
from bot.messages import Button, Incoming, Reply
from bot.unanswered import DEFAULT_EXPIRY_DAYS, answer_question, describe, list_unanswered

#: Button action: "answer this one" (payload: the question id).
ANSWER = "unans"
_SHOWN = 10


async def handle_unanswered(msg: Incoming, ctx: Context) -> Reply:
    """List the questions waiting for staff, oldest first, with their context."""
    refused = staff_refusal(ctx)
    if refused is not None:
        return refused
    items = await list_unanswered(ctx.sessions, limit=_SHOWN + 1)
    if not items:
        return Reply("No questions are waiting for staff.")
    shown = items[:_SHOWN]
    more = "\n\n(more are waiting; answer these first)" if len(items) > _SHOWN else ""
    return Reply(
        "Questions waiting for staff:\n\n"
        + "\n\n".join(describe(item) for item in shown)
        + more
        + "\n\nAnswer one with /answer ID your answer.",
        buttons=tuple(Button(f"Answer #{item.id}", ANSWER, str(item.id)) for item in shown),
    )


async def answer_tap(msg: Incoming, ctx: Context) -> Reply:
    """Say how to answer the question under the tapped button."""
    refused = staff_refusal(ctx)
    if refused is not None:
        return refused
    assert msg.tap is not None
    ref = msg.tap.payload
    if parse_id(ref) is None:
        return Reply("That button no longer works.")
    return Reply(
        f"Send /answer {ref} followed by your answer. The person who asked gets it, and I use "
        f"it for similar questions for {DEFAULT_EXPIRY_DAYS} days."
    )


async def handle_answer(msg: Incoming, ctx: Context) -> Reply:
    """Answer one queued question: ``/answer ID text``."""
    refused = staff_refusal(ctx)
    if refused is not None:
        return refused
    ref, _, text = msg.args.strip().partition(" ")
    question_id = parse_id(ref.lstrip("#"))
    if question_id is None or not text.strip():
        return Reply(
            "Use /answer ID your answer, e.g. /answer 12 The voucher covers up to €10 000."
        )
    done = await answer_question(
        ctx.sessions,
        question_id=question_id,
        text=text,
        actor=f"person:{ctx.caller.person_id}",
        today=ctx.clock.today(),
        index=ctx.index,
    )
    told = (
        "The person who asked will get it."
        if done.notified
        else "I could not reach the person who asked (no private chat on record)."
    )
    return Reply(
        f"Answered question #{done.question_id}. {told} I'll use the answer for similar "
        f"questions until {done.expires_at.isoformat()}."
    )


__all__ = [
    "ANSWER",
    "PRIVATE_ONLY",
    "STAFF_ONLY",
    "answer_tap",
    "handle_answer",
    "handle_unanswered",
]
