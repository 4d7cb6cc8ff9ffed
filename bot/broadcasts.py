"""Staff broadcasts: a segment and a text become a draft, a preview, and outbox rows.

draft -> (awaiting_approval ->) queued -> done, or cancelled at any point before done. A
draft shows how many people it reaches and what they will see; its author confirms it;
when the second-approval rule is on, another staff member approves it (never the author);
then one message per recipient is queued in the outbox (category ``news``, so consent is
checked again at send time), due at once or at the chosen time. Cancelling stops what is
not sent yet. Each step is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcast_spec import Request, Segment, describe_segment
from bot.errors import UserError
from bot.messages import Button, Reply, reply_to_data
from storage.broadcasts import (
    Figures,
    approval_required,
    cancel_messages,
    count_recipients,
    figures,
    latest,
    open_pending,
    queue_messages,
    record_press,
    set_approval_required,
)
from storage.engine import SessionFactory
from storage.models import Broadcast, utcnow
from storage.people import audit

#: Button action of a recipient's button under a broadcast (payload ``<id>:<index>``).
PRESS = "bcpress"
FOOTER = "\n\n— Cluster announcement. /alerts changes what I send you."


@dataclass(frozen=True)
class View:
    """A broadcast as the handlers and the CLI show it."""

    id: int
    status: str
    author: str
    author_id: int | None
    text: str
    buttons: tuple[tuple[str, str], ...]
    segment: Segment
    needs_approval: bool
    send_at: datetime | None
    recipients: int
    confirmed_by: str | None
    approved_by: str | None
    cancelled_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class Preview:
    """A broadcast with how many people it reaches now, per channel."""

    view: View
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Recipients on all channels."""
        return sum(self.counts.values())


# -- the message --------------------------------------------------------------------------------


def message(view: View) -> Reply:
    """The message each recipient gets; its buttons come back as taps so presses count."""
    return Reply(
        view.text + FOOTER,
        buttons=tuple(
            Button(label, PRESS, f"{view.id}:{n}") for n, (label, _) in enumerate(view.buttons)
        ),
    )


def _view(row: Broadcast) -> View:
    return View(
        id=row.id,
        status=row.status,
        author=row.author,
        author_id=row.author_id,
        text=row.text,
        buttons=tuple((str(b["label"]), str(b["url"])) for b in row.buttons),
        segment={k: list(v) for k, v in row.segment.items()},
        needs_approval=row.needs_approval,
        send_at=row.send_at.replace(tzinfo=UTC)
        if row.send_at and row.send_at.tzinfo is None
        else row.send_at,
        recipients=row.recipients,
        confirmed_by=row.confirmed_by,
        approved_by=row.approved_by,
        cancelled_by=row.cancelled_by,
        created_at=row.created_at,
    )


# -- the steps ----------------------------------------------------------------------------------


async def create(
    sessions: SessionFactory, request: Request, *, author: str, author_id: int | None
) -> Preview:
    """Save a draft and count who it reaches; nothing is queued yet."""
    async with sessions.begin() as session:
        row = Broadcast(
            author=author,
            author_id=author_id,
            text=request.text,
            buttons=[{"label": label, "url": url} for label, url in request.buttons],
            segment=request.segment,
            needs_approval=await approval_required(session),
            send_at=request.send_at,
        )
        session.add(row)
        await session.flush()
        counts = await count_recipients(session, request.segment)
        await audit(
            session,
            actor=author,
            action="broadcast.create",
            subject=f"broadcast:{row.id}",
            detail={
                "segment": request.segment,
                "reach": sum(counts.values()),
                "send_at": request.send_at.isoformat() if request.send_at else None,
            },
        )
        return Preview(_view(row), counts)


async def _get(session: AsyncSession, broadcast_id: int, *, lock: bool = True) -> Broadcast:
    row = await session.get(Broadcast, broadcast_id, with_for_update=lock)
    if row is None:
        raise UserError(f"There is no broadcast #{broadcast_id}. /broadcast list shows them.")
    return row


async def preview(sessions: SessionFactory, broadcast_id: int) -> Preview:
    """A broadcast with how many people it reaches now."""
    async with sessions() as session:
        row = await _get(session, broadcast_id, lock=False)
        return Preview(_view(row), await count_recipients(session, row.segment))


def _state_error(row: Broadcast, doing: str) -> UserError:
    why = {
        "awaiting_approval": "is waiting for a second staff member's approval",
        "queued": "is already on its way",
        "done": "was sent to everyone already",
        "cancelled": f"was cancelled by {row.cancelled_by}",
        "draft": "is not confirmed by its author yet",
    }.get(row.status, f"is {row.status}")
    return UserError(f"Broadcast #{row.id} {why}; I can't {doing} it.")


async def _queue(session: AsyncSession, row: Broadcast) -> int:
    now = utcnow()
    payload = reply_to_data(message(_view(row)))
    queued = await queue_messages(
        session,
        broadcast_id=row.id,
        segment=row.segment,
        payload=payload,
        due_at=row.send_at or now,
    )
    row.status, row.queued_at, row.recipients, row.updated_at = "queued", now, queued, now
    return queued


async def confirm(
    sessions: SessionFactory, broadcast_id: int, *, actor: str, actor_id: int | None
) -> View:
    """Confirm a draft: queue it, or pass it on for approval when the rule is on.

    Raises:
        UserError: unknown, not a draft, or nobody matches the segment any more.
    """
    async with sessions.begin() as session:
        row = await _get(session, broadcast_id)
        if row.status != "draft":
            raise _state_error(row, "send")
        if not sum((await count_recipients(session, row.segment)).values()):
            raise UserError(
                f"Nobody matches broadcast #{row.id} now, so nothing was sent. Cancel it and "
                "try a wider segment."
            )
        now = utcnow()
        row.confirmed_by, row.confirmed_at, row.updated_at = actor, now, now
        detail: dict[str, Any] = {}
        if row.needs_approval:
            row.status = "awaiting_approval"
        else:
            detail["queued"] = await _queue(session, row)
        await audit(
            session,
            actor=actor,
            action="broadcast.confirm",
            subject=f"broadcast:{row.id}",
            detail=detail,
        )
        return _view(row)


async def approve(
    sessions: SessionFactory, broadcast_id: int, *, actor: str, actor_id: int | None
) -> View:
    """A second staff member approves a confirmed broadcast, which queues it.

    Raises:
        UserError: unknown, not waiting for approval, or the approver is its author.
    """
    async with sessions.begin() as session:
        row = await _get(session, broadcast_id)
        if row.status != "awaiting_approval":
            raise _state_error(row, "approve")
        same_person = actor_id is not None and actor_id == row.author_id
        if same_person or actor in (row.author, row.confirmed_by):
            raise UserError(
                f"You wrote or sent broadcast #{row.id}, so someone else on the team has to "
                "approve it."
            )
        row.approved_by, row.approved_at = actor, utcnow()
        queued = await _queue(session, row)
        await audit(
            session,
            actor=actor,
            action="broadcast.approve",
            subject=f"broadcast:{row.id}",
            detail={"queued": queued},
        )
        return _view(row)


async def cancel(sessions: SessionFactory, broadcast_id: int, *, actor: str) -> tuple[View, int]:
    """Cancel a broadcast: messages not sent yet stay unsent; those sent stay sent.

    Returns:
        The broadcast and how many messages were stopped.

    Raises:
        UserError: unknown, already cancelled, or sent to everyone.
    """
    async with sessions.begin() as session:
        row = await _get(session, broadcast_id)
        if row.status in ("done", "cancelled"):
            raise _state_error(row, "cancel")
        stopped = await cancel_messages(session, row.id, reason=f"cancelled by {actor}")
        now = utcnow()
        row.status, row.cancelled_by, row.cancelled_at, row.updated_at = (
            "cancelled",
            actor,
            now,
            now,
        )
        await audit(
            session,
            actor=actor,
            action="broadcast.cancel",
            subject=f"broadcast:{row.id}",
            detail={"stopped": stopped},
        )
        return _view(row), stopped


async def status(sessions: SessionFactory, broadcast_id: int) -> tuple[View, Figures]:
    """A broadcast and its live figures; a queued one with nothing left to send is done."""
    async with sessions.begin() as session:
        row = await _get(session, broadcast_id)
        if row.status == "queued" and not await open_pending(session, row.id):
            row.status, row.updated_at = "done", utcnow()
        return _view(row), await figures(session, row.id)


async def recent(sessions: SessionFactory, *, limit: int = 10) -> list[View]:
    """The latest broadcasts, newest first."""
    async with sessions() as session:
        return [_view(row) for row in await latest(session, limit=limit)]


async def press(
    sessions: SessionFactory, *, payload: str, person_id: int
) -> tuple[str, str] | None:
    """Count a recipient's press of a broadcast button (once per person and button).

    Returns:
        The button's label and link, or None when the button is unknown.
    """
    ref, _, index = payload.partition(":")
    if not ref.isdigit() or not index.isdigit():
        return None
    async with sessions.begin() as session:
        row = await session.get(Broadcast, int(ref))
        if row is None or int(index) >= len(row.buttons):
            return None
        button = row.buttons[int(index)]
        label, url = str(button["label"]), str(button["url"])
        await record_press(session, broadcast_id=row.id, person_id=person_id, button=label)
        return label, url


async def set_approval(sessions: SessionFactory, *, required: bool, actor: str) -> None:
    """Turn the second-approval rule on or off for broadcasts drafted from now on."""
    async with sessions.begin() as session:
        await set_approval_required(session, required)
        await audit(
            session,
            actor=actor,
            action="broadcast.approval_rule",
            detail={"required": required},
        )


async def approval_rule(sessions: SessionFactory) -> bool:
    """Whether new broadcasts need a second staff member's approval."""
    async with sessions() as session:
        return await approval_required(session)


# -- text for staff -----------------------------------------------------------------------------


def when(view: View, timezone: str) -> str:
    """When a broadcast goes out, in the cluster's time."""
    if view.send_at is None:
        return "as soon as it is sent"
    local = view.send_at.astimezone(ZoneInfo(timezone))
    return f"at {local:%Y-%m-%d %H:%M} ({timezone})"


def people(count: int) -> str:
    """``1 person``, ``2 people``."""
    return "1 person" if count == 1 else f"{count} people"


def reach_line(counts: Mapping[str, int]) -> str:
    """``1234 people (telegram 700, slack 534)``."""
    split = ", ".join(f"{channel} {n}" for channel, n in counts.items())
    total = people(sum(counts.values()))
    return f"{total} ({split})" if split else total


def figures_text(view: View, found: Figures) -> str:
    """The live figures of a broadcast, a few short lines."""
    lines = [
        f"Broadcast #{view.id}: {view.status.replace('_', ' ')}",
        f"To: {describe_segment(view.segment)}",
        f"Queued {found.queued} · sent {found.sent} · pending {found.pending}",
        f"Failed {found.failed} · blocked {found.blocked} · skipped {found.skipped} · "
        f"cancelled {found.cancelled}",
    ]
    if view.buttons:
        pressed = ", ".join(f"{label} {found.presses.get(label, 0)}" for label, _ in view.buttons)
        lines.append(f"Buttons pressed: {pressed} (total {found.presses_total})")
    return "\n".join(lines)


def list_line(view: View) -> str:
    """One broadcast in a list."""
    text = view.text.replace("\n", " ")
    short = text if len(text) <= 40 else text[:39] + "…"
    return f"#{view.id} {view.status.replace('_', ' ')} · {view.recipients} · “{short}”"


__all__ = [
    "FOOTER",
    "PRESS",
    "Preview",
    "View",
    "approval_rule",
    "approve",
    "cancel",
    "confirm",
    "create",
    "figures_text",
    "list_line",
    "message",
    "people",
    "press",
    "preview",
    "reach_line",
    "recent",
    "set_approval",
    "status",
    "when",
]
