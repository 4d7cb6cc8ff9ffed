"""The outbox: planning proactive messages, and the claims and outcomes of the delivery worker.

Planners write rows with ``enqueue`` in the transaction of what caused them; a row is unique
per recipient, item and kind, so planning twice queues once. The worker ``claim``s due rows
under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite one UPDATE statement,
which the database runs alone), sends them, and ``record``s each outcome; rows it could not
send go back with ``release``; while it holds rows it ``renew``s their lease. A worker that
dies leaves its rows ``sending`` until the lease runs out, and then any worker claims them
again: nothing is lost.

Statuses: pending -> sending -> sent | failed | skipped, or back to pending (a retry, a rate
limit, a release); pending -> cancelled by planners. Like every query here, nothing commits:
the caller owns the transaction. Times are stored in UTC.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

from storage.models import Delivery, Opportunity, Person, Source, Subscription, utcnow
from storage.upsert import insert_new

_UNIQUE = ("person_id", "item_key", "kind")
_TABLE = cast(Table, Delivery.__table__)
_RENEW_CHUNK = 500  # ids per renewing statement (SQLite allows a few thousand parameters)

Status = Literal["sent", "pending", "failed", "skipped"]


def as_utc(moment: datetime) -> datetime:
    """An aware UTC timestamp; a naive one is taken to be UTC already (as SQLite returns it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


async def enqueue(
    session: AsyncSession,
    *,
    person_id: int,
    channel: str,
    chat_id: str,
    kind: str,
    item_key: str,
    category: str | None,
    payload: dict[str, Any],
    due_at: datetime | None = None,
    opportunity_id: int | None = None,
) -> bool:
    """Queue one proactive message, unless the same (person, item, kind) is already queued.

    Args:
        session: The planner's session; the row commits with what caused it.
        person_id: The recipient.
        channel: ``telegram`` or ``slack``: which sender delivers it.
        chat_id: The chat to post in (the person's private chat).
        kind: alert, update, digest, reminder, broadcast or notice.
        item_key: What the message is about, unique per person and kind (e.g. ``opp:42``).
        category: The consent category checked again at send time; None for messages the
            person asked for (only reachability is checked).
        payload: ``bot.messages.reply_to_data(reply)``.
        due_at: When to send, at the earliest (default now); stored in UTC.
        opportunity_id: The opportunity the message is about (its rows can be cancelled
            together when it closes).

    Returns:
        True when a row was written, False when it existed (in any status).
    """
    now = utcnow()
    values: dict[str, Any] = {
        "person_id": person_id,
        "channel": channel,
        "chat_id": str(chat_id),
        "kind": kind,
        "item_key": item_key,
        "category": category,
        "payload": payload,
        "status": "pending",
        "due_at": as_utc(due_at or now),
        "attempts": 0,
        "opportunity_id": opportunity_id,
        "created_at": now,
        "updated_at": now,
    }
    return await insert_new(session, Delivery, values, keys=_UNIQUE)


async def cancel(
    session: AsyncSession,
    *,
    item_key_prefix: str | None = None,
    person_id: int | None = None,
    kind: str | None = None,
    opportunity_ids: Collection[int] | None = None,
    reason: str = "cancelled",
) -> int:
    """Cancel pending rows: those whose item key starts with a prefix, or about opportunities.

    Rows already being sent are left alone (they are on the wire). A cancelled row keeps its
    place in the unique key: plan a changed message under a new item key (e.g. with the new
    deadline in it), or set the row back to pending.

    Args:
        session: The planner's session.
        item_key_prefix: Cancel rows whose ``item_key`` starts with this (taken literally).
        person_id: Only this person's rows.
        kind: Only rows of this kind.
        opportunity_ids: Cancel rows about these opportunities.
        reason: Kept in ``last_error``.

    Returns:
        How many rows were cancelled.

    Raises:
        ValueError: Neither a prefix nor opportunities were given (that would cancel all).
    """
    if item_key_prefix is None and opportunity_ids is None:
        raise ValueError("cancel needs item_key_prefix or opportunity_ids")
    criteria = [_TABLE.c.status == "pending"]
    if item_key_prefix is not None:
        criteria.append(_TABLE.c.item_key.startswith(item_key_prefix, autoescape=True))
    if opportunity_ids is not None:
        if not opportunity_ids:
            return 0
        criteria.append(_TABLE.c.opportunity_id.in_(list(opportunity_ids)))
    if person_id is not None:
        criteria.append(_TABLE.c.person_id == person_id)
    if kind is not None:
        criteria.append(_TABLE.c.kind == kind)
    result = await session.execute(
        update(_TABLE)
        .where(*criteria)
        .values(status="cancelled", last_error=reason, updated_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def withdraw_restricted(
    session: AsyncSession, *, organisation_id: int, visible: Collection[str]
) -> int:
    """Cancel pending rows to an organisation's members about opportunities they may not see.

    For an organisation that lost its membership: alerts and reminders already queued about
    member-only opportunities must not reach its people any more. Staff keep theirs.

    Returns:
        How many rows were cancelled.
    """
    people = select(Person.id).where(
        Person.organisation_id == organisation_id, Person.role == "member"
    )
    restricted = (
        select(Opportunity.id)
        .join(Source, Source.id == Opportunity.source_id)
        .where(Source.audience.not_in(list(visible)))
    )
    result = await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.status == "pending",
            _TABLE.c.person_id.in_(people),
            _TABLE.c.opportunity_id.in_(restricted),
        )
        .values(status="cancelled", last_error="no longer visible", updated_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claim(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    lease_s: float,
    limit: int,
    channel: str | None = None,
) -> list[Delivery]:
    """Lease up to ``limit`` due rows to ``owner``, oldest due first.

    Due: pending with ``due_at`` reached, or sending with a lease that ran out (its worker
    died). Rows locked by another worker's claim are skipped, never waited for.

    Args:
        session: A session whose transaction should commit right after (short).
        owner: The worker's name, written into the lease.
        now: The current time.
        lease_s: How long the rows stay with this worker.
        limit: Most rows to take.
        channel: Only rows of this channel.

    Returns:
        The claimed rows, status ``sending``, in due order.
    """
    leased = await session.execute(
        claim_statement(owner=owner, now=now, lease_s=lease_s, limit=limit, channel=channel)
    )
    ids = list(leased.scalars())
    if not ids:
        return []
    rows = await session.scalars(
        select(Delivery)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.due_at, Delivery.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def claim_statement(
    *, owner: str, now: datetime, lease_s: float, limit: int, channel: str | None = None
) -> ReturningUpdate[tuple[int]]:
    """The one statement behind :func:`claim`: lease due rows, returning their ids.

    ``WITH picked AS MATERIALIZED (SELECT id ... LIMIT n FOR UPDATE SKIP LOCKED) UPDATE ...
    WHERE id IN (SELECT id FROM picked) RETURNING id``. The pick is a materialised CTE
    because PostgreSQL may run a plain ``IN (subquery)`` once per row, and then the limit
    no longer holds. SQLite has no row locks and ignores the clause, but runs the statement
    alone.
    """
    now = as_utc(now)
    due = or_(
        and_(_TABLE.c.status == "pending", _TABLE.c.due_at <= now),
        and_(_TABLE.c.status == "sending", _TABLE.c.lease_until < now),
    )
    pick = select(_TABLE.c.id).where(due)
    if channel is not None:
        pick = pick.where(_TABLE.c.channel == channel)
    picked = (
        pick.order_by(_TABLE.c.due_at, _TABLE.c.id)
        .limit(max(1, limit))
        .with_for_update(skip_locked=True)
        .cte("picked")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        update(_TABLE)
        .where(_TABLE.c.id.in_(select(picked.c.id)), due)
        .values(
            status="sending",
            lease_owner=owner,
            lease_until=now + timedelta(seconds=lease_s),
            updated_at=now,
        )
        .returning(_TABLE.c.id)
    )


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed row.

    ``sent`` (with ``message_id``), ``pending`` again (a retry, a rate limit or a release;
    due at ``due_at``, or as before when None), ``failed`` or ``skipped`` (``error`` says
    why). ``attempts`` is the row's new count of send attempts.
    """

    id: int
    status: Status
    attempts: int
    due_at: datetime | None = None
    message_id: str | None = None
    error: str | None = None


def _row_id() -> Any:
    return _TABLE.c.id == bindparam("b_id")


def _mine(owner: str) -> Any:
    return and_(_TABLE.c.status == "sending", _TABLE.c.lease_owner == owner)


async def record(
    session: AsyncSession, outcomes: Sequence[Outcome], *, owner: str, now: datetime
) -> None:
    """Write the outcomes of sends (in as few statements as their kinds).

    ``sent`` is written whoever holds the row now (the message did go out); the others only
    while ``owner`` still holds the lease, so a row another worker took over is left to it.
    """
    now = as_utc(now)
    cleared = {"lease_owner": None, "lease_until": None, "updated_at": now}
    sent = [o for o in outcomes if o.status == "sent"]
    if sent:
        await session.execute(
            update(_TABLE)
            .where(_row_id())
            .values(
                status="sent",
                attempts=bindparam("b_attempts"),
                message_id=bindparam("b_message_id"),
                sent_at=now,
                last_error=None,
                **cleared,
            ),
            [{"b_id": o.id, "b_attempts": o.attempts, "b_message_id": o.message_id} for o in sent],
        )
    again = [o for o in outcomes if o.status == "pending"]
    if again:
        await session.execute(
            update(_TABLE)
            .where(_row_id(), _mine(owner))
            .values(
                status="pending",
                attempts=bindparam("b_attempts"),
                due_at=func.coalesce(
                    bindparam("b_due_at", type_=_TABLE.c.due_at.type), _TABLE.c.due_at
                ),
                last_error=bindparam("b_error"),
                **cleared,
            ),
            [
                {
                    "b_id": o.id,
                    "b_attempts": o.attempts,
                    "b_due_at": as_utc(o.due_at) if o.due_at is not None else None,
                    "b_error": o.error,
                }
                for o in again
            ],
        )
    ended = [o for o in outcomes if o.status in ("failed", "skipped")]
    if ended:
        await session.execute(
            update(_TABLE)
            .where(_row_id(), _mine(owner))
            .values(
                status=bindparam("b_status"),
                attempts=bindparam("b_attempts"),
                last_error=bindparam("b_error"),
                **cleared,
            ),
            [
                {"b_id": o.id, "b_status": o.status, "b_attempts": o.attempts, "b_error": o.error}
                for o in ended
            ],
        )


async def renew(
    session: AsyncSession, ids: Collection[int], *, owner: str, now: datetime, lease_s: float
) -> set[int]:
    """Extend the lease on the rows ``owner`` still holds, in id order; returns their ids.

    A worker renews what it holds (waiting, being sent, sent but not yet recorded) well
    before the lease runs out, so in normal operation no other worker can take a row over.
    The ids missing from the answer were lost (the lease ran out and another worker took
    the row, or the row was recorded meanwhile).
    """
    until = as_utc(now) + timedelta(seconds=lease_s)
    held: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), _RENEW_CHUNK):
        result = await session.execute(
            update(_TABLE)
            .where(_TABLE.c.id.in_(ordered[start : start + _RENEW_CHUNK]), _mine(owner))
            .values(lease_until=until)
            .returning(_TABLE.c.id)
        )
        held.update(result.scalars())
    return held


async def release(session: AsyncSession, ids: Collection[int], *, owner: str) -> int:
    """Hand claimed rows back unsent (pending, due as before, attempts unchanged)."""
    if not ids:
        return 0
    result = await session.execute(
        update(_TABLE)
        .where(_TABLE.c.id.in_(list(ids)), _mine(owner))
        .values(status="pending", lease_owner=None, lease_until=None, updated_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_unreachable(
    session: AsyncSession, person_ids: Collection[int], *, now: datetime, reason: str
) -> int:
    """Mark people the platform will not deliver to, and skip their pending messages.

    Returns:
        How many pending rows were skipped.
    """
    if not person_ids:
        return 0
    now = as_utc(now)
    ids = list(person_ids)
    await session.execute(
        update(Person)
        .where(Person.id.in_(ids), Person.unreachable.is_(False))
        .values(unreachable=True, unreachable_at=now)
    )
    result = await session.execute(
        update(_TABLE)
        .where(_TABLE.c.person_id.in_(ids), _TABLE.c.status == "pending")
        .values(status="skipped", last_error=reason, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def refusals(
    session: AsyncSession, rows: Iterable[tuple[int, int, str | None]]
) -> dict[int, str]:
    """Which rows may not be sent now, and why: consent checked again at send time.

    A row with a category needs its person reachable, not stopped, and an active
    subscription to that category; a row without one (the person asked for it) needs its
    person reachable.

    Args:
        session: Any session.
        rows: ``(row id, person id, category)`` of the rows about to be sent.

    Returns:
        Row id -> reason, for the rows to skip.
    """
    wanted = list(rows)
    people_ids = list({person for _, person, _ in wanted})
    if not people_ids:
        return {}
    people = {
        pid: (stopped, unreachable)
        for pid, stopped, unreachable in await session.execute(
            select(Person.id, Person.stopped, Person.unreachable).where(Person.id.in_(people_ids))
        )
    }
    consents = {
        (pid, category)
        for pid, category in await session.execute(
            select(Subscription.person_id, Subscription.category).where(
                Subscription.person_id.in_(people_ids), Subscription.active.is_(True)
            )
        )
    }
    found: dict[int, str] = {}
    for row_id, person_id, category in wanted:
        state = people.get(person_id)
        if state is None:
            found[row_id] = "the person is gone"
        elif state[1]:
            found[row_id] = "unreachable"
        elif category is None:
            continue
        elif state[0]:
            found[row_id] = "stopped"
        elif (person_id, category) not in consents:
            found[row_id] = f"no consent to {category}"
    return found


async def counts(session: AsyncSession, *, channel: str | None = None) -> dict[str, int]:
    """How many rows are in each status."""
    stmt = select(_TABLE.c.status, func.count()).group_by(_TABLE.c.status)
    if channel is not None:
        stmt = stmt.where(_TABLE.c.channel == channel)
    return {status: int(n) for status, n in await session.execute(stmt)}


__all__ = [
    "Outcome",
    "Status",
    "as_utc",
    "cancel",
    "claim",
    "claim_statement",
    "counts",
    "enqueue",
    "mark_unreachable",
    "record",
    "refusals",
    "release",
    "renew",
    "withdraw_restricted",
]
