"""What cluster staff can do with broadcasts, and what recipients' buttons do.

``/broadcast sector=diagnostics country=DE | Text | Register=https://...`` saves a draft and
shows who it reaches and what they will see, with Send and Cancel buttons; ``at=`` in the
segment schedules it. ``/broadcast list``, ``status N``, ``send N``, ``approve N`` and
``cancel N`` do the rest. Staff only, and only in a private chat. A recipient's tap on a
broadcast button is counted once and answered with the button's link.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.broadcast_spec import EVERYONE, VALID_FIELDS, describe_segment, parse_request
from bot.broadcasts import (
    Preview,
    View,
    approve,
    cancel,
    confirm,
    create,
    figures_text,
    list_line,
    message,
    people,
    press,
    preview,
    reach_line,
    recent,
    status,
    when,
)
from bot.context import Context
from bot.errors import UserError
from bot.handlers.common import parse_id, staff_refusal
from bot.messages import Button, Incoming, Reply

#: Button actions (payload: the broadcast id).
SEND = "bcsend"
APPROVE = "bcok"
CANCEL = "bcstop"
STATUS = "bcstat"
USAGE = (
    "Broadcast to members:\n"
    "/broadcast SEGMENT | your text | Label=https://link\n"
    "e.g. /broadcast sector=diagnostics country=DE,DK | The network meets on 9 Dec. "
    "| Register=https://example.org\n\n"
    f"Segment fields: {VALID_FIELDS}. Fields combine with AND, commas mean OR; "
    f"{EVERYONE} means everyone subscribed to announcements. Add at=2026-12-01T09:00 "
    "to send later.\n\n"
    "Then: /broadcast list · status N · send N · approve N · cancel N"
)
_SUBCOMMANDS = ("list", "status", "send", "approve", "cancel", "preview")
_SHOWN = 10


def _actor(ctx: Context) -> str:
    return f"person:{ctx.caller.person_id}"


def _preview_reply(found: Preview, ctx: Context) -> Reply:
    view = found.view
    sample = message(view)
    links = "".join(f"\n[{label}] → {url}" for label, url in view.buttons)
    lines = [
        f"Draft #{view.id} reaches {reach_line(found.counts)}.",
        f"To: {describe_segment(view.segment)}",
        f"Goes out {when(view, ctx.timezone)}.",
    ]
    if view.needs_approval:
        lines.append("A second staff member approves it after you tap Send.")
    lines += ["", "They will see:", "———", sample.text + links, "———"]
    if view.send_at is None:
        lines.append("To send later, start again with at=2026-12-01T09:00 in the segment.")
    if not found.total:
        lines.append("Nobody matches this segment now: widen it and start again.")
        return Reply("\n".join(lines), buttons=(Button("Cancel", CANCEL, str(view.id)),))
    send = "Send for approval" if view.needs_approval else f"Send to {found.total}"
    return Reply(
        "\n".join(lines),
        buttons=(Button(send, SEND, str(view.id)), Button("Cancel", CANCEL, str(view.id))),
    )


def _after_send(view: View, ctx: Context) -> Reply:
    if view.status == "awaiting_approval":
        return Reply(
            f"Broadcast #{view.id} waits for a second staff member: they send "
            f"/broadcast approve {view.id}.",
            buttons=(Button("Cancel", CANCEL, str(view.id)),),
        )
    return Reply(
        f"Broadcast #{view.id} is queued for {people(view.recipients)} and goes out "
        f"{when(view, ctx.timezone)}. /broadcast status {view.id} shows the figures.",
        buttons=(
            Button("Figures", STATUS, str(view.id)),
            Button("Cancel", CANCEL, str(view.id)),
        ),
    )


async def _figures(broadcast_id: int, ctx: Context) -> Reply:
    view, found = await status(ctx.sessions, broadcast_id)
    buttons = [Button("Refresh", STATUS, str(view.id))]
    if view.status not in ("done", "cancelled"):
        buttons.append(Button("Cancel", CANCEL, str(view.id)))
    return Reply(figures_text(view, found), buttons=tuple(buttons))


async def _run(sub: str, broadcast_id: int, ctx: Context) -> Reply:
    if sub == "status":
        return await _figures(broadcast_id, ctx)
    if sub == "preview":
        return _preview_reply(await preview(ctx.sessions, broadcast_id), ctx)
    if sub == "send":
        view = await confirm(
            ctx.sessions, broadcast_id, actor=_actor(ctx), actor_id=ctx.caller.person_id
        )
        return _after_send(view, ctx)
    if sub == "approve":
        view = await approve(
            ctx.sessions, broadcast_id, actor=_actor(ctx), actor_id=ctx.caller.person_id
        )
        return _after_send(view, ctx)
    view, stopped = await cancel(ctx.sessions, broadcast_id, actor=_actor(ctx))
    unsent = f" Messages not sent yet: {stopped}, now stopped." if stopped else ""
    return Reply(f"Broadcast #{view.id} is cancelled.{unsent}")


async def handle_broadcast(msg: Incoming, ctx: Context) -> Reply:
    """Draft a broadcast, or list, show, send, approve or cancel one."""
    refused = staff_refusal(ctx)
    if refused is not None:
        return refused
    args = msg.args.strip()
    head, _, rest = args.partition(" ")
    sub = head.lower()
    if not args or sub == "help":
        return Reply(USAGE)
    if sub == "list":
        views = await recent(ctx.sessions, limit=_SHOWN)
        if not views:
            return Reply("No broadcasts yet. " + USAGE)
        return Reply("Latest broadcasts:\n" + "\n".join(list_line(v) for v in views))
    if sub in _SUBCOMMANDS:
        ref = parse_id(rest.strip().lstrip("#"))
        if ref is None:
            return Reply(f"Give the broadcast's number: /broadcast {sub} 12")
        return await _run(sub, ref, ctx)
    try:
        request = parse_request(args, timezone=ctx.timezone)
    except UserError as exc:  # say what was wrong, then where the how-to is
        return Reply(f"{exc}\n\n/broadcast help shows how to write one.")
    found = await create(ctx.sessions, request, author=_actor(ctx), author_id=ctx.caller.person_id)
    return _preview_reply(found, ctx)


def _tap(sub: str) -> Callable[[Incoming, Context], Awaitable[Reply]]:
    async def handle(msg: Incoming, ctx: Context) -> Reply:
        refused = staff_refusal(ctx)
        if refused is not None:
            return refused
        assert msg.tap is not None
        ref = parse_id(msg.tap.payload)
        if ref is None:
            return Reply("That button no longer works.")
        return await _run(sub, ref, ctx)

    handle.__doc__ = f"The {sub} button under a broadcast (staff only)."
    return handle


send_tap = _tap("send")
approve_tap = _tap("approve")
cancel_tap = _tap("cancel")
status_tap = _tap("status")


async def press_tap(msg: Incoming, ctx: Context) -> Reply:
    """A recipient pressed a broadcast's button: count it once, answer with the link."""
    assert msg.tap is not None
    found = await press(ctx.sessions, payload=msg.tap.payload, person_id=ctx.caller.person_id)
    if found is None:
        return Reply("That button no longer works.")
    label, url = found
    return Reply(f"{label}: {url}", buttons=(Button(label, "link", url=url),))


__all__ = [
    "APPROVE",
    "CANCEL",
    "SEND",
    "STATUS",
    "USAGE",
    "approve_tap",
    "cancel_tap",
    "handle_broadcast",
    "press_tap",
    "send_tap",
    "status_tap",
]
