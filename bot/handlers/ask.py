"""Ask: any free text is a question, answered from the cluster's documents with sources."""

from __future__ import annotations

from bot.context import Context
from bot.messages import Button, Incoming, Reply, SourceRef
from knowledge.answer import AnswerOptions
from knowledge.types import Answer

MAX_QUESTION_CHARS = 2000


async def handle_question(msg: Incoming, ctx: Context) -> Reply:
    """Answer a question with numbered sources, or say plainly that the sources don't cover it."""
    text = msg.text.strip()
    if not text:
        return Reply("Ask me about funding calls, incubator offers or network meetings.")
    if len(text) > MAX_QUESTION_CHARS:
        return Reply(
            f"That question is {len(text)} characters long; please keep it under "
            f"{MAX_QUESTION_CHARS}."
        )
    answer = await ctx.answerer.answer(
        text,
        AnswerOptions(audiences=ctx.audiences, channel=msg.channel, user_ref=ctx.caller.user_ref),
    )
    return reply_for(answer)


def reply_for(answer: Answer) -> Reply:
    """An answer as a reply: its text, its sources as data, and the feedback buttons."""
    sources = tuple(
        SourceRef(
            n=c.n,
            title=c.passage.title,
            source=c.passage.source,
            url=c.passage.url,
            section=c.passage.section,
            record_id=c.passage.record_id,
            status_today=c.passage.status_today,
            deadlines=tuple(d.isoformat() for d in c.passage.deadlines),
        )
        for c in answer.citations
    )
    ref = str(answer.question_id) if answer.question_id is not None else ""
    buttons = (
        Button("👍", "fb", f"up:{ref}"),
        Button("👎", "fb", f"down:{ref}"),
        Button("Ask a person", "handoff", ref),
    )
    return Reply(answer.text, sources, buttons)


__all__ = ["MAX_QUESTION_CHARS", "handle_question", "reply_for"]
