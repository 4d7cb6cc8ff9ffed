"""Queries behind staff broadcasts: who a segment reaches, queueing them, and live figures.

A segment maps a field to accepted values (already normalised by the caller: lower case,
country codes upper case); fields combine with AND, values within a field with OR. The
recipients are chosen in SQL and queued with one ``INSERT ... SELECT ... ON CONFLICT DO
NOTHING``, so ten thousand rows take one statement, not ten thousand round trips, and the
choice and the queueing see the same snapshot. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from storage.models import (
    Broadcast,
    BroadcastPress,
    Delivery,
    Identity,
    Meta,
    Organisation,
    Person,
    Subscription,
    utcnow,
)
from storage.outbox import as_utc
from storage.questions import set_meta
from storage.upsert import insert_new

#: The channels a broadcast can reach (those with a sender in the delivery worker).
CHANNELS: tuple[str, ...] = ("telegram", "slack")
#: The consent category broadcasts are queued under (checked again at send time).
CATEGORY = "news"
KIND = "broadcast"
#: Segment fields on the organisation holding a JSON list of values.
LIST_FIELDS: tuple[str, ...] = ("sectors", "therapeutic_areas", "networks")
#: Segment fields on the organisation holding one value.
VALUE_FIELDS: tuple[str, ...] = ("country", "org_type", "membership_tier")
_DELIVERIES = cast(Table, Delivery.__table__)
_PRESSES = cast(Table, BroadcastPress.__table__)
_APPROVAL = "broadcast_approval"


def item_key(broadcast_id: int) -> str:
    """The outbox item key of a broadcast's messages."""
    return f"broadcast:{broadcast_id}"


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _list_matches(column: Any, values: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """The JSON list in ``column`` holds one of ``values`` (compared in lower case)."""
    if dialect == "postgresql":
        items = func.json_array_elements_text(column).table_valued("value")
    else:
        items = func.json_each(column).table_valued("value")
    return exists(select(1).select_from(items).where(func.lower(items.c.value).in_(values)))


def _segment_filter(segment: Mapping[str, Sequence[str]], dialect: str) -> list[Any]:
    criteria: list[Any] = []
    for name in LIST_FIELDS:
        if segment.get(name):
            criteria.append(_list_matches(getattr(Organisation, name), segment[name], dialect))
    if segment.get("country"):
        criteria.append(func.upper(Organisation.country).in_(list(segment["country"])))
    for name in ("org_type", "membership_tier"):
        if segment.get(name):
            criteria.append(func.lower(getattr(Organisation, name)).in_(list(segment[name])))
    return criteria


def recipients(
    segment: Mapping[str, Sequence[str]], *, dialect: str
) -> Select[tuple[int, str, str]]:
    """The people a segment reaches: ``(person id, channel, private chat id)``, one row each.

    A recipient has a private chat on a channel the worker sends to, is neither stopped
    nor unreachable, has an active consent to announcements, and (when the segment names
    organisation fields) belongs to a matching organisation. Someone with several accounts
    gets one message, on the segment's channel when it names one, else on their first.
    """
    channels = [c for c in CHANNELS if not segment.get("channel") or c in segment["channel"]]
    first = (
        select(Identity.person_id, func.min(Identity.id).label("identity_id"))
        .where(Identity.chat_id.is_not(None), Identity.channel.in_(channels))
        .group_by(Identity.person_id)
        .subquery("first_identity")
    )
    consent = exists(
        select(1).where(
            Subscription.person_id == Person.id,
            Subscription.category == CATEGORY,
            Subscription.active.is_(True),
        )
    )
    stmt = (
        select(Identity.person_id, Identity.channel, Identity.chat_id)
        .join(first, first.c.identity_id == Identity.id)
        .join(Person, Person.id == Identity.person_id)
        .where(Person.stopped.is_(False), Person.unreachable.is_(False), consent)
    )
    criteria = _segment_filter(segment, dialect)
    if criteria:
        stmt = stmt.join(Organisation, Organisation.id == Person.organisation_id).where(*criteria)
    return cast("Select[tuple[int, str, str]]", stmt.order_by(Identity.person_id))


async def count_recipients(
    session: AsyncSession, segment: Mapping[str, Sequence[str]]
) -> dict[str, int]:
    """How many people a segment reaches now, per channel (channels with none are left out)."""
    chosen = recipients(segment, dialect=_dialect(session)).order_by(None).subquery()
    rows = await session.execute(
        select(chosen.c.channel, func.count())
        .group_by(chosen.c.channel)
        .order_by(chosen.c.channel)
    )
    return {channel: int(n) for channel, n in rows}


def queue_statement(
    *,
    broadcast_id: int,
    segment: Mapping[str, Sequence[str]],
    payload: dict[str, Any],
    due_at: datetime,
    dialect: str,
) -> Any:
    """``INSERT INTO deliveries SELECT <the segment's recipients> ON CONFLICT DO NOTHING``."""
    now = utcnow()
    chosen = recipients(segment, dialect=dialect).subquery()
    columns = {
        "person_id": chosen.c.person_id,
        "channel": chosen.c.channel,
        "chat_id": chosen.c.chat_id,
        "kind": literal(KIND, String()),
        "item_key": literal(item_key(broadcast_id), String()),
        "category": literal(CATEGORY, String()),
        "payload": literal(payload, JSON()),
        "status": literal("pending", String()),
        "due_at": literal(as_utc(due_at), DateTime(timezone=True)),
        "attempts": literal(0, Integer()),
        "created_at": literal(now, DateTime(timezone=True)),
        "updated_at": literal(now, DateTime(timezone=True)),
    }
    # The WHERE keeps SQLite from reading ON CONFLICT as a join constraint of the SELECT.
    picked = select(*columns.values()).where(chosen.c.person_id.is_not(None))
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        maker(Delivery)
        .from_select(list(columns), picked)
        .on_conflict_do_nothing(index_elements=["person_id", "item_key", "kind"])
    )


async def queue_messages(
    session: AsyncSession,
    *,
    broadcast_id: int,
    segment: Mapping[str, Sequence[str]],
    payload: dict[str, Any],
    due_at: datetime,
) -> int:
    """Queue the broadcast's message to everyone the segment reaches, in one statement.

    Rows already queued for this broadcast (a second call) are left as they are.

    Returns:
        How many rows were written.
    """
    stmt = queue_statement(
        broadcast_id=broadcast_id,
        segment=segment,
        payload=payload,
        due_at=due_at,
        dialect=_dialect(session),
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def cancel_messages(session: AsyncSession, broadcast_id: int, *, reason: str) -> int:
    """Cancel the broadcast's messages not yet sent; those sent or on the wire stay.

    Returns:
        How many rows were cancelled.
    """
    result = await session.execute(
        update(_DELIVERIES)
        .where(
            _DELIVERIES.c.item_key == item_key(broadcast_id),
            _DELIVERIES.c.kind == KIND,
            _DELIVERIES.c.status == "pending",
        )
        .values(status="cancelled", last_error=reason, updated_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Figures:
    """What happened to a broadcast's messages so far.

    ``blocked``: the platform refused the person (they blocked the bot or left), or their
    message was skipped because of that; ``skipped``: consent withdrawn (or /stop) since it
    was queued; ``pending`` includes messages being sent right now.
    """

    queued: int = 0
    pending: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0
    cancelled: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    presses: dict[str, int] = field(default_factory=dict)
    pressed_by: int = 0

    @property
    def presses_total(self) -> int:
        """Button presses on all buttons (each person counted once per button)."""
        return sum(self.presses.values())


async def figures(session: AsyncSession, broadcast_id: int) -> Figures:
    """Count a broadcast's outbox rows by outcome, and its button presses."""
    gone = or_(
        and_(_DELIVERIES.c.status == "failed", Person.unreachable.is_(True)),
        and_(_DELIVERIES.c.status == "skipped", _DELIVERIES.c.last_error == "unreachable"),
    )
    outcome = case((gone, "blocked"), else_=_DELIVERIES.c.status)
    rows = await session.execute(
        select(outcome, _DELIVERIES.c.channel, func.count())
        .select_from(_DELIVERIES.join(Person, Person.id == _DELIVERIES.c.person_id))
        .where(_DELIVERIES.c.item_key == item_key(broadcast_id), _DELIVERIES.c.kind == KIND)
        .group_by(outcome, _DELIVERIES.c.channel)
    )
    totals: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    for status, channel, n in rows:
        key = "pending" if status == "sending" else str(status)
        totals[key] = totals.get(key, 0) + int(n)
        by_channel[channel] = by_channel.get(channel, 0) + int(n)
    presses = {
        button: int(n)
        for button, n in await session.execute(
            select(_PRESSES.c.button, func.count())
            .where(_PRESSES.c.broadcast_id == broadcast_id)
            .group_by(_PRESSES.c.button)
            .order_by(_PRESSES.c.button)
        )
    }
    pressed_by = await session.scalar(
        select(func.count(func.distinct(_PRESSES.c.person_id))).where(
            _PRESSES.c.broadcast_id == broadcast_id
        )
    )
    return Figures(
        queued=sum(totals.values()),
        pending=totals.get("pending", 0),
        sent=totals.get("sent", 0),
        failed=totals.get("failed", 0),
        blocked=totals.get("blocked", 0),
        skipped=totals.get("skipped", 0),
        cancelled=totals.get("cancelled", 0),
        by_channel=dict(sorted(by_channel.items())),
        presses=presses,
        pressed_by=int(pressed_by or 0),
    )


async def record_press(
    session: AsyncSession, *, broadcast_id: int, person_id: int, button: str
) -> bool:
    """Count a button press once per person and button.

    Returns:
        True when this was the person's first press of that button.
    """
    press = {"broadcast_id": broadcast_id, "person_id": person_id, "button": button}
    return await insert_new(session, BroadcastPress, {**press, "at": utcnow()}, keys=tuple(press))


async def latest(session: AsyncSession, *, limit: int = 10) -> list[Broadcast]:
    """The most recent broadcasts, newest first."""
    rows = await session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
    return list(rows)


async def approval_required(session: AsyncSession) -> bool:
    """Whether a broadcast needs a second staff member's approval before it goes out."""
    return await session.scalar(select(Meta.value).where(Meta.key == _APPROVAL)) == "on"


async def set_approval_required(session: AsyncSession, required: bool) -> None:
    """Turn the second-approval rule on or off (kept in the store, so every channel obeys)."""
    await set_meta(session, _APPROVAL, "on" if required else "off")


async def open_pending(session: AsyncSession, broadcast_id: int) -> int:
    """How many of a broadcast's messages are still waiting or being sent."""
    n = await session.scalar(
        select(func.count()).where(
            _DELIVERIES.c.item_key == item_key(broadcast_id),
            _DELIVERIES.c.kind == KIND,
            _DELIVERIES.c.status.in_(("pending", "sending")),
        )
    )
    return int(n or 0)


__all__ = [
    "CATEGORY",
    "CHANNELS",
    "KIND",
    "LIST_FIELDS",
    "VALUE_FIELDS",
    "Figures",
    "approval_required",
    "cancel_messages",
    "count_recipients",
    "figures",
    "item_key",
    "latest",
    "open_pending",
    "queue_messages",
    "queue_statement",
    "recipients",
    "record_press",
    "set_approval_required",
]
