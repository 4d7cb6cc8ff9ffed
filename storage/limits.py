"""Sending budgets shared by several delivery workers, kept in the database.

Every worker asks ``reserve`` for the slots of the messages it is about to send. One
transaction locks the channel's row (``FOR UPDATE`` on PostgreSQL; on SQLite the first
statement is a write, so the transaction runs alone), hands out the next slots one
``interval`` apart, skips chats that are still busy, and moves the channel's and the chats'
next free times on. Whatever process asks, the channel's messages get one exact schedule.
A 429 seen by one worker is written with ``pause``; the others read it with the next
reservation or with ``paused_until``.

Times are seconds since the epoch (floats): workers on one host, or on hosts whose clocks
agree to a few milliseconds, share one schedule. Like every query here, nothing commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SendLimit

_TABLE = cast(Table, SendLimit.__table__)
CHANNEL_ROW = ""  # the chat id of a channel's own row


@dataclass(frozen=True)
class Want:
    """A message about to be sent: its chat, the gap that chat needs after it, its weight."""

    chat_id: str
    gap: float
    weight: int = 1


@dataclass
class Grant:
    """What ``reserve`` gave: a slot per wanted message, or when its chat is free again.

    ``slots[i]`` is the time message ``i`` may go; ``busy[i]`` is when the chat of a message
    that got no slot can take it. ``next_at`` is the channel's next free slot after these,
    ``paused_until`` its pause (0: none).
    """

    slots: dict[int, float] = field(default_factory=dict)
    busy: dict[int, float] = field(default_factory=dict)
    next_at: float = 0.0
    paused_until: float = 0.0


async def _ensure(session: AsyncSession, channel: str, chats: Sequence[str]) -> None:
    """Create the missing rows (a write first: on SQLite it takes the lock at once)."""
    rows = [{"channel": channel, "chat_id": c, "free_at": 0.0, "paused_until": 0.0} for c in chats]
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(maker(SendLimit).on_conflict_do_nothing(), rows)


async def reserve(
    session: AsyncSession,
    *,
    channel: str,
    wants: Sequence[Want],
    interval: float,
    earliest: float,
    horizon: float,
) -> Grant:
    """Give the wanted messages their slots, in order, on the channel's shared schedule.

    A message whose chat is busy at the next slot gets no slot (``Grant.busy``); nor does
    one whose slot would lie more than ``horizon`` seconds after ``earliest``.

    Args:
        session: A session whose transaction commits right after (the channel's row stays
            locked until then).
        channel: ``telegram`` or ``slack``.
        wants: The messages, in the order they should go.
        interval: Seconds between two messages of the channel (per unit of weight).
        earliest: No slot before this (epoch seconds; the caller's now plus a little).
        horizon: How far after ``earliest`` slots may be handed out.

    Returns:
        The slots and the channel's state after them.
    """
    await _ensure(session, channel, [CHANNEL_ROW])
    row = (
        await session.execute(
            select(_TABLE.c.free_at, _TABLE.c.paused_until)
            .where(_TABLE.c.channel == channel, _TABLE.c.chat_id == CHANNEL_ROW)
            .with_for_update()
        )
    ).one()
    grant = Grant(paused_until=float(row.paused_until))
    cursor = max(float(row.free_at), grant.paused_until, earliest)
    chats = sorted({w.chat_id for w in wants})
    free: dict[str, float] = {}
    if chats:
        await _ensure(session, channel, chats)
        free = {
            chat: float(at)
            for chat, at in await session.execute(
                select(_TABLE.c.chat_id, _TABLE.c.free_at).where(
                    _TABLE.c.channel == channel, _TABLE.c.chat_id.in_(chats)
                )
            )
        }
    changed: dict[str, float] = {}
    for index, want in enumerate(wants):
        chat_free = free.get(want.chat_id, 0.0)
        if chat_free > cursor or cursor > earliest + horizon:
            grant.busy[index] = max(chat_free, cursor)
            continue
        grant.slots[index] = cursor
        free[want.chat_id] = changed[want.chat_id] = cursor + want.gap * want.weight
        cursor += interval * want.weight
    grant.next_at = cursor
    params: list[dict[str, Any]] = [{"b_chat": c, "b_free": at} for c, at in changed.items()]
    params.append({"b_chat": CHANNEL_ROW, "b_free": cursor})
    await session.execute(
        update(_TABLE)
        .where(_TABLE.c.channel == channel, _TABLE.c.chat_id == bindparam("b_chat"))
        .values(free_at=bindparam("b_free")),
        params,
    )
    return grant


async def pause(session: AsyncSession, *, channel: str, until: float) -> None:
    """Send nothing on ``channel`` before ``until`` (the platform answered 429), for everyone."""
    await _ensure(session, channel, [CHANNEL_ROW])
    await session.execute(
        update(_TABLE)
        .where(_TABLE.c.channel == channel, _TABLE.c.chat_id == CHANNEL_ROW)
        .values(
            paused_until=case((_TABLE.c.paused_until < until, until), else_=_TABLE.c.paused_until)
        )
    )


async def paused_until(session: AsyncSession, *, channels: Sequence[str]) -> dict[str, float]:
    """Until when each channel is paused (0 or absent: not at all)."""
    result = await session.execute(
        select(_TABLE.c.channel, _TABLE.c.paused_until).where(
            _TABLE.c.channel.in_(list(channels)), _TABLE.c.chat_id == CHANNEL_ROW
        )
    )
    return {channel: float(until) for channel, until in result}


async def forget_idle(session: AsyncSession, *, channel: str, before: float) -> int:
    """Drop the rows of chats free since before ``before`` (they hold nothing any more).

    The channel's row is locked first, as ``reserve`` does, so no reservation is under way.
    """
    await _ensure(session, channel, [CHANNEL_ROW])
    await session.execute(
        select(_TABLE.c.free_at)
        .where(_TABLE.c.channel == channel, _TABLE.c.chat_id == CHANNEL_ROW)
        .with_for_update()
    )
    result = await session.execute(
        delete(_TABLE).where(
            _TABLE.c.channel == channel,
            _TABLE.c.chat_id != CHANNEL_ROW,
            _TABLE.c.free_at < before,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["CHANNEL_ROW", "Grant", "Want", "forget_idle", "pause", "paused_until", "reserve"]
