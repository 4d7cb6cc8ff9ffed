"""The outbox queries on the real schema: planning, claims and leases, outcomes, consent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql

from storage import SessionFactory, create_engine, session_factory
from storage.models import Delivery, Document, Opportunity, Person, Source, Subscription
from storage.outbox import (
    Outcome,
    as_utc,
    cancel,
    claim,
    claim_statement,
    counts,
    enqueue,
    mark_unreachable,
    record,
    refusals,
    release,
    renew,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


async def _person(sessions: SessionFactory, *categories: str) -> int:
    async with sessions.begin() as session:
        person = Person(display_name="someone")
        session.add(person)
        await session.flush()
        for category in categories:
            session.add(Subscription(person_id=person.id, category=category))
        return person.id


async def _queue(
    sessions: SessionFactory,
    person_id: int,
    key: str,
    *,
    due_at: datetime = NOW,
    kind: str = "alert",
    channel: str = "telegram",
    category: str | None = "alerts",
) -> bool:
    async with sessions.begin() as session:
        return await enqueue(
            session,
            person_id=person_id,
            channel=channel,
            chat_id="42",
            kind=kind,
            item_key=key,
            category=category,
            payload={"text": key},
            due_at=due_at,
        )


async def _rows(sessions: SessionFactory) -> dict[str, Delivery]:
    async with sessions() as session:
        return {row.item_key: row for row in await session.scalars(select(Delivery))}


async def _claim(
    sessions: SessionFactory,
    owner: str = "w1",
    *,
    now: datetime = NOW,
    limit: int = 10,
    lease_s: float = 60.0,
    channel: str | None = None,
) -> list[str]:
    async with sessions.begin() as session:
        got = await claim(
            session, owner=owner, now=now, lease_s=lease_s, limit=limit, channel=channel
        )
        return [row.item_key for row in got]


# -- planning -----------------------------------------------------------------------------------


async def test_enqueue_writes_once_per_person_item_and_kind(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    assert await _queue(sessions, pid, "opp:1")
    assert not await _queue(sessions, pid, "opp:1")  # planned twice, queued once
    assert await _queue(sessions, pid, "opp:1", kind="reminder")
    other = await _person(sessions)
    assert await _queue(sessions, other, "opp:1")
    async with sessions() as session:
        assert await counts(session) == {"pending": 3}


async def test_enqueue_in_a_failed_transaction_leaves_nothing(sessions: SessionFactory) -> None:
    pid = await _person(sessions)

    async def plan_then_fail() -> None:
        async with sessions.begin() as session:
            await enqueue(
                session,
                person_id=pid,
                channel="telegram",
                chat_id="42",
                kind="alert",
                item_key="opp:1",
                category=None,
                payload={"text": "x"},
            )
            raise RuntimeError("the cause failed")

    with pytest.raises(RuntimeError):
        await plan_then_fail()
    assert await _rows(sessions) == {}


async def test_due_times_are_stored_in_utc(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    berlin = datetime(2026, 11, 28, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    await _queue(sessions, pid, "local", due_at=berlin)
    row = (await _rows(sessions))["local"]
    assert as_utc(row.due_at) == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert as_utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    # Due at 08:00 UTC: not claimable at 07:59 UTC, claimable at 08:00.
    assert await _claim(sessions, now=datetime(2026, 11, 28, 7, 59, tzinfo=UTC)) == []
    assert await _claim(sessions, now=datetime(2026, 11, 28, 8, 0, tzinfo=UTC)) == ["local"]


async def test_cancel_takes_pending_rows_by_literal_prefix(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    other = await _person(sessions)
    for key in ("remind:7:2026-12-01:14", "remind:7:2026-12-01:7", "remind:70:x", "remind_7"):
        await _queue(sessions, pid, key, kind="reminder")
    await _queue(sessions, other, "remind:7:2026-12-01:14", kind="reminder")
    await _queue(sessions, pid, "remind:7:sending", kind="reminder")
    await _claim(sessions, limit=1)  # one of them is on the wire: left alone
    async with sessions.begin() as session:
        on_wire = await session.scalar(
            select(Delivery.item_key).where(Delivery.status != "pending")
        )
        cancelled = await cancel(
            session, item_key_prefix="remind:7:", person_id=pid, reason="the deadline changed"
        )
        assert await cancel(session, item_key_prefix="remind%") == 0  # % is not a wildcard
        with pytest.raises(ValueError, match="item_key_prefix"):
            await cancel(session)
    rows = await _rows(sessions)
    expected = {"remind:7:2026-12-01:14", "remind:7:2026-12-01:7", "remind:7:sending"}
    expected.discard(on_wire or "")
    assert cancelled == len(expected)
    async with sessions() as session:
        mine = await session.scalars(
            select(Delivery).where(Delivery.person_id == pid, Delivery.status == "cancelled")
        )
        assert {r.item_key for r in mine} == expected
    assert all(
        r.last_error == "the deadline changed" for r in rows.values() if r.status == "cancelled"
    )
    assert rows["remind:70:x"].status == "pending"
    assert rows["remind_7"].status == "pending"


async def test_cancel_by_kind(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    await _queue(sessions, pid, "opp:1", kind="alert")
    await _queue(sessions, pid, "opp:1", kind="update")
    async with sessions.begin() as session:
        assert await cancel(session, item_key_prefix="opp:", kind="update") == 1
        assert await cancel(session, item_key_prefix="opp:", opportunity_ids=None) == 1


async def test_cancel_by_opportunity(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    async with sessions.begin() as session:
        source = Source(uri="calls.csv")
        session.add(source)
        await session.flush()
        opps = []
        for n in (1, 2):
            doc = Document(
                source_id=source.id, external_id=f"c{n}", title=f"Call {n}", content_hash="h"
            )
            session.add(doc)
            await session.flush()
            opp = Opportunity(
                source_id=source.id,
                document_id=doc.id,
                external_id=f"c{n}",
                kind="funding_call",
                title=f"Call {n}",
            )
            session.add(opp)
            await session.flush()
            opps.append(opp.id)
            await enqueue(
                session,
                person_id=pid,
                channel="telegram",
                chat_id="42",
                kind="alert",
                item_key=f"opp:{opp.id}",
                category="alerts",
                payload={"text": "x"},
                opportunity_id=opp.id,
            )
        assert await cancel(session, opportunity_ids=[]) == 0
        assert await cancel(session, opportunity_ids=[opps[0]]) == 1
    rows = await _rows(sessions)
    assert rows[f"opp:{opps[0]}"].status == "cancelled"
    assert rows[f"opp:{opps[1]}"].status == "pending"
    assert rows[f"opp:{opps[1]}"].opportunity_id == opps[1]


# -- claims and leases ----------------------------------------------------------------------------


async def test_claim_takes_due_rows_in_due_order_with_a_lease(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    await _queue(sessions, pid, "second", due_at=NOW - timedelta(minutes=1))
    await _queue(sessions, pid, "first", due_at=NOW - timedelta(minutes=5))
    await _queue(sessions, pid, "later", due_at=NOW + timedelta(minutes=1))
    await _queue(sessions, pid, "slack", channel="slack")
    assert await _claim(sessions, channel="telegram", lease_s=30) == ["first", "second"]
    rows = await _rows(sessions)
    for key in ("first", "second"):
        assert rows[key].status == "sending"
        assert rows[key].lease_owner == "w1"
        assert as_utc(rows[key].lease_until or NOW) == NOW + timedelta(seconds=30)
    assert rows["later"].status == "pending"
    assert rows["slack"].status == "pending"
    assert await _claim(sessions, "w2", channel="telegram") == []  # leased: not again
    assert await _claim(sessions, "w2", limit=1) == ["slack"]


async def test_an_expired_lease_makes_a_row_claimable_again(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    await _queue(sessions, pid, "opp:1")
    assert await _claim(sessions, "dead", lease_s=10) == ["opp:1"]
    assert await _claim(sessions, "w2", now=NOW + timedelta(seconds=9)) == []
    assert await _claim(sessions, "w2", now=NOW + timedelta(seconds=11)) == ["opp:1"]
    row = (await _rows(sessions))["opp:1"]
    assert row.lease_owner == "w2"
    assert row.attempts == 0


async def test_concurrent_claims_never_share_a_row(
    db_url: str, sessions: SessionFactory, tmp_path: Path
) -> None:
    pid = await _person(sessions)
    for n in range(60):
        await _queue(sessions, pid, f"opp:{n}")
    # Separate engines: separate connections, as separate worker processes would have.
    engines = [create_engine(db_url) for _ in range(3)]
    try:
        factories = [session_factory(engine) for engine in engines]

        async def take(factory: SessionFactory, owner: str) -> list[str]:
            got: list[str] = []
            while batch := await _claim(factory, owner, limit=4):
                got += batch
                await asyncio.sleep(0)
            return got

        results = await asyncio.gather(*(take(f, f"w{n}") for n, f in enumerate(factories)))
    finally:
        for engine in engines:
            await engine.dispose()
    everything = [key for got in results for key in got]
    assert sorted(everything) == sorted(f"opp:{n}" for n in range(60))
    assert len(set(everything)) == 60
    owners = {row.lease_owner for row in (await _rows(sessions)).values()}
    assert len(owners) > 1


def test_the_claim_skips_locked_rows_on_postgresql() -> None:
    stmt = claim_statement(owner="w", now=NOW, lease_s=60, limit=10, channel="telegram")
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert "FOR UPDATE SKIP LOCKED" in sql
    assert "WITH picked AS MATERIALIZED" in sql  # the limit holds: the pick runs once
    assert "UPDATE deliveries SET" in sql
    assert "RETURNING deliveries.id" in sql


# -- outcomes -------------------------------------------------------------------------------------


async def test_record_writes_each_kind_of_outcome(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    for key in ("sent", "retry", "failed", "skipped", "released"):
        await _queue(sessions, pid, key)
    await _claim(sessions)
    rows = await _rows(sessions)
    later = NOW + timedelta(minutes=3)
    async with sessions.begin() as session:
        await record(
            session,
            [
                Outcome(rows["sent"].id, "sent", 1, message_id="m-1"),
                Outcome(rows["retry"].id, "pending", 1, due_at=later, error="HTTP 502"),
                Outcome(rows["failed"].id, "failed", 3, error="gave up"),
                Outcome(rows["skipped"].id, "skipped", 0, error="stopped"),
                Outcome(rows["released"].id, "pending", 0),
            ],
            owner="w1",
            now=NOW,
        )
    rows = await _rows(sessions)
    assert (rows["sent"].status, rows["sent"].message_id, rows["sent"].attempts) == (
        "sent",
        "m-1",
        1,
    )
    assert as_utc(rows["sent"].sent_at or NOW - timedelta(days=1)) == NOW
    assert (rows["retry"].status, rows["retry"].last_error) == ("pending", "HTTP 502")
    assert as_utc(rows["retry"].due_at) == later
    assert (rows["failed"].status, rows["failed"].attempts) == ("failed", 3)
    assert (rows["skipped"].status, rows["skipped"].last_error) == ("skipped", "stopped")
    assert rows["released"].status == "pending"
    assert as_utc(rows["released"].due_at) == NOW  # due as before
    assert all(r.lease_owner is None and r.lease_until is None for r in rows.values())


async def test_a_worker_that_lost_its_lease_does_not_undo_the_new_owner(
    sessions: SessionFactory,
) -> None:
    pid = await _person(sessions)
    await _queue(sessions, pid, "opp:1")
    await _queue(sessions, pid, "opp:2")
    await _claim(sessions, "slow", lease_s=5)
    await _claim(sessions, "fast", now=NOW + timedelta(seconds=6))
    rows = await _rows(sessions)
    async with sessions.begin() as session:
        await record(
            session,
            [
                Outcome(rows["opp:1"].id, "pending", 1, error="late retry"),
                Outcome(rows["opp:2"].id, "sent", 1, message_id="m-2"),  # it did go out
            ],
            owner="slow",
            now=NOW,
        )
        assert await release(session, [rows["opp:1"].id], owner="slow") == 0
    rows = await _rows(sessions)
    assert (rows["opp:1"].status, rows["opp:1"].lease_owner) == ("sending", "fast")
    assert rows["opp:2"].status == "sent"


async def test_release_hands_rows_back_unchanged(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    await _queue(sessions, pid, "opp:1")
    await _claim(sessions)
    row = (await _rows(sessions))["opp:1"]
    async with sessions.begin() as session:
        assert await release(session, [], owner="w1") == 0
        assert await release(session, [row.id], owner="w1") == 1
    row = (await _rows(sessions))["opp:1"]
    assert (row.status, row.attempts, row.lease_owner) == ("pending", 0, None)
    assert await _claim(sessions, "w2") == ["opp:1"]


async def test_renew_extends_only_the_leases_the_owner_still_holds(
    sessions: SessionFactory,
) -> None:
    pid = await _person(sessions)
    for n in range(3):
        await _queue(sessions, pid, f"opp:{n}")
    assert await _claim(sessions, "w1", lease_s=10, limit=2) == ["opp:0", "opp:1"]
    rows = await _rows(sessions)
    mine = [rows["opp:0"].id, rows["opp:1"].id]
    # Both leases run out and w2 takes opp:0 over; opp:2 was never w1's.
    assert await _claim(sessions, "w2", now=NOW + timedelta(seconds=11), limit=1) == ["opp:0"]
    later = NOW + timedelta(seconds=12)
    async with sessions.begin() as session:
        assert await renew(session, [], owner="w1", now=later, lease_s=10) == set()
        kept = await renew(session, [*mine, rows["opp:2"].id], owner="w1", now=later, lease_s=10)
    assert kept == {rows["opp:1"].id}
    rows = await _rows(sessions)
    assert as_utc(rows["opp:1"].lease_until or NOW) == later + timedelta(seconds=10)
    assert rows["opp:0"].lease_owner == "w2"
    assert as_utc(rows["opp:0"].lease_until or NOW) == NOW + timedelta(seconds=71)
    assert rows["opp:2"].status == "pending"
    assert await _claim(sessions, "w3", now=later + timedelta(seconds=9)) == ["opp:2"]


async def test_mark_unreachable_skips_the_persons_pending_rows(sessions: SessionFactory) -> None:
    gone = await _person(sessions)
    other = await _person(sessions)
    await _queue(sessions, gone, "opp:1")
    await _queue(sessions, gone, "opp:2")
    await _queue(sessions, other, "opp:1")
    async with sessions.begin() as session:
        assert await mark_unreachable(session, [], now=NOW, reason="x") == 0
        assert await mark_unreachable(session, [gone], now=NOW, reason="unreachable") == 2
    async with sessions() as session:
        person = await session.get_one(Person, gone)
        assert person.unreachable is True
        assert as_utc(person.unreachable_at or NOW - timedelta(days=1)) == NOW
        statuses = dict((await session.execute(select(Delivery.person_id, Delivery.status))).all())
    assert statuses == {gone: "skipped", other: "pending"}


async def test_refusals_check_consent_as_of_now(sessions: SessionFactory) -> None:
    ok = await _person(sessions, "alerts")
    withdrawn = await _person(sessions, "alerts")
    stopped = await _person(sessions, "alerts")
    gone = await _person(sessions, "alerts")
    async with sessions.begin() as session:
        await session.execute(
            update(Subscription).where(Subscription.person_id == withdrawn).values(active=False)
        )
        await session.execute(update(Person).where(Person.id == stopped).values(stopped=True))
        await session.execute(update(Person).where(Person.id == gone).values(unreachable=True))
    async with sessions() as session:
        found = await refusals(
            session,
            [
                (1, ok, "alerts"),
                (2, ok, "events"),
                (3, withdrawn, "alerts"),
                (4, stopped, "alerts"),
                (5, stopped, None),
                (6, gone, None),
                (7, 999_999, None),
                (8, ok, None),
            ],
        )
        assert await refusals(session, []) == {}
    assert found == {
        2: "no consent to events",
        3: "no consent to alerts",
        4: "stopped",
        6: "unreachable",
        7: "the person is gone",
    }


async def test_counts_by_status_and_channel(sessions: SessionFactory) -> None:
    pid = await _person(sessions)
    await _queue(sessions, pid, "a")
    await _queue(sessions, pid, "b", channel="slack")
    await _claim(sessions, channel="slack")
    async with sessions() as session:
        assert await counts(session) == {"pending": 1, "sending": 1}
        assert await counts(session, channel="slack") == {"sending": 1}
