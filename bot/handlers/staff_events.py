"""/newevent: staff put a network meeting on the list from the chat, and can cancel it.

``/newevent Title | 2026-12-10 14:00-16:00 | Location | optional description`` creates the
meeting at once (times in the cluster's timezone) and shows it as members will see it, with
a button that cancels it again. Staff only, in a private chat; checked on every call.
"""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.event_draft import USAGE, draft_from_line
from bot.handlers.common import parse_id, staff_refusal
from bot.messages import Button, Incoming, Reply
from bot.staff_events import cancel_event, create_event
from ingest.chunk import Chunker
from ingest.loaders import Limits
from ingest.pipeline import Ingester

#: Button action: cancel the staff event (payload: "ask:<id>" first, then "yes:<id>").
CANCEL = "evcancel"


def _ingester(ctx: Context) -> Ingester:
    if ctx.index is None:
        raise UserError("Meetings can't be created here: I have no search index at hand.")
    return Ingester(sessions=ctx.sessions, index=ctx.index, chunker=Chunker(), limits=Limits())


async def handle_newevent(msg: Incoming, ctx: Context) -> Reply:
    """Create a network meeting from one line, and offer to cancel it."""
    if (refused := staff_refusal(ctx)) is not None:
        return refused
    if not msg.args.strip():
        return Reply(USAGE.format(tz=ctx.timezone))
    try:
        draft = draft_from_line(msg.args, tz=ctx.timezone, today=ctx.clock.today())
    except UserError as exc:  # say what was wrong, then how it is written
        return Reply(f"{exc}\n\n{USAGE.format(tz=ctx.timezone)}")
    event = await create_event(
        ctx.sessions, _ingester(ctx), draft, actor=f"person:{ctx.caller.person_id}"
    )
    lines = [
        f"Added to /events for {'everyone' if draft.audience == 'public' else draft.audience}:",
        "",
        draft.title,
        f"When: {draft.when()} ({ctx.timezone})",
        f"Where: {draft.location}",
    ]
    if draft.description:
        lines.append(draft.description)
    lines += [
        "",
        "Members can RSVP now, get a reminder the day before and download the calendar "
        "file; alerts about it go out with the next planning run.",
    ]
    return Reply(
        "\n".join(lines),
        buttons=(Button("Cancel this meeting", CANCEL, f"ask:{event.opportunity_id}"),),
    )


async def cancel_tap(msg: Incoming, ctx: Context) -> Reply:
    """Ask once more, then cancel a staff meeting (those who RSVPed are told)."""
    if (refused := staff_refusal(ctx)) is not None:
        return refused
    assert msg.tap is not None
    step, _, ref = msg.tap.payload.partition(":")
    if step not in ("ask", "yes") or parse_id(ref) is None:
        return Reply("That button no longer works.")
    if step == "ask":
        return Reply(
            "Cancel this meeting? Everyone who RSVPed is told, and it leaves /events.",
            buttons=(Button("Yes, cancel it", CANCEL, f"yes:{ref}"),),
        )
    title, told = await cancel_event(
        ctx.sessions,
        _ingester(ctx),
        ref,
        actor=f"person:{ctx.caller.person_id}",
        tz=ctx.timezone,
    )
    return Reply(f"Cancelled {title}. {told} person(s) who RSVPed will be told.")


__all__ = ["CANCEL", "cancel_tap", "handle_newevent"]
