"""Broadcast queries: segments chosen in SQL, queued in one statement, counted exactly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql

from storage import SessionFactory
from storage.broadcasts import (
    approval_required,
    cancel_messages,
    count_recipients,
    figures,
    queue_messages,
    queue_statement,
    recipients,
    record_press,
    set_approval_required,
)
from storage.models import (
    Broadcast,
    Delivery,
    Identity,
    Organisation,
    Person,
    Subscription,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


async def org(sessions: SessionFactory, name: str, **fields: Any) -> int:
    async with sessions.begin() as session:
        row = Organisation(name=name, join_code=name[:8], **fields)
        session.add(row)
        await session.flush()
        return row.id


async def someone(
    sessions: SessionFactory,
    org_id: int | None,
    accounts: Sequence[tuple[str, str | None]] = (("telegram", "1"),),
    *,
    news: bool = True,
    **fields: Any,
) -> int:
    async with sessions.begin() as session:
        person = Person(organisation_id=org_id, **fields)
        session.add(person)
        await session.flush()
        for channel, chat in accounts:
            session.add(
                Identity(
                    person_id=person.id,
                    channel=channel,
                    external_id=f"{person.id}-{channel}",
                    chat_id=chat,
                )
            )
        session.add(Subscription(person_id=person.id, category="news", active=news))
        session.add(Subscription(person_id=person.id, category="funding", active=True))
        return person.id


async def chosen(sessions: SessionFactory, segment: dict[str, list[str]]) -> list[Any]:
    async with sessions() as session:
        return [
            tuple(row)
            for row in await session.execute(
                recipients(segment, dialect=session.get_bind().dialect.name)
            )
        ]


async def test_fields_combine_with_and_values_with_or_ignoring_case(
    sessions: SessionFactory,
) -> None:
    acme = await org(
        sessions,
        "Acme",
        country="DE",
        org_type="sme",
        sectors=["Diagnostics", "digital health"],
        therapeutic_areas=["Oncology"],
        networks=["Digital Health Network"],
        membership_tier="Full",
    )
    beta = await org(
        sessions, "Beta", country="DK", org_type="university", sectors=["medtech"], networks=[]
    )
    gamma = await org(sessions, "Gamma", country="FR", sectors=["diagnostics"], networks=[])
    a = await someone(sessions, acme, [("telegram", "100")])
    b = await someone(sessions, beta, [("slack", "D1")])
    c = await someone(sessions, gamma, [("telegram", "300")])
    loner = await someone(sessions, None, [("telegram", "400")])

    assert await chosen(sessions, {}) == [
        (a, "telegram", "100"),
        (b, "slack", "D1"),
        (c, "telegram", "300"),
        (loner, "telegram", "400"),
    ]
    assert [r[0] for r in await chosen(sessions, {"sectors": ["diagnostics"]})] == [a, c]
    both = {"sectors": ["diagnostics", "medtech"], "country": ["DE", "DK"]}
    assert [r[0] for r in await chosen(sessions, both)] == [a, b]
    assert [r[0] for r in await chosen(sessions, {"therapeutic_areas": ["oncology"]})] == [a]
    assert [r[0] for r in await chosen(sessions, {"networks": ["digital health network"]})] == [a]
    assert [r[0] for r in await chosen(sessions, {"membership_tier": ["full"]})] == [a]
    assert [r[0] for r in await chosen(sessions, {"org_type": ["university"]})] == [b]
    assert [r[0] for r in await chosen(sessions, {"channel": ["slack"]})] == [b]
    assert await chosen(sessions, {"sectors": ["diagnostics"], "country": ["DK"]}) == []
    async with sessions() as session:
        assert await count_recipients(session, {}) == {"slack": 1, "telegram": 3}


async def test_only_reachable_consenting_people_with_a_private_chat_are_chosen(
    sessions: SessionFactory,
) -> None:
    ok = await someone(sessions, None, [("telegram", "1")])
    await someone(sessions, None, [("telegram", "2")], news=False)
    await someone(sessions, None, [("telegram", "3")], stopped=True)
    await someone(sessions, None, [("telegram", "4")], unreachable=True)
    await someone(sessions, None, [("telegram", None)])  # never wrote in a private chat
    await someone(sessions, None, [("console", "local")])  # no sender for the console
    assert [r[0] for r in await chosen(sessions, {})] == [ok]


async def test_one_message_per_person_on_the_segments_channel_or_their_first(
    sessions: SessionFactory,
) -> None:
    both = await someone(sessions, None, [("slack", "D9"), ("telegram", "9")])
    assert await chosen(sessions, {}) == [(both, "slack", "D9")]
    assert await chosen(sessions, {"channel": ["telegram"]}) == [(both, "telegram", "9")]


async def draft(sessions: SessionFactory) -> int:
    async with sessions.begin() as session:
        row = Broadcast(author="cli:test", text="Hello")
        session.add(row)
        await session.flush()
        return row.id


async def queue(sessions: SessionFactory, broadcast_id: int, segment: dict[str, Any]) -> int:
    async with sessions.begin() as session:
        return await queue_messages(
            session,
            broadcast_id=broadcast_id,
            segment=segment,
            payload={"text": "Hello"},
            due_at=NOW,
        )


async def test_queueing_is_one_row_per_person_and_idempotent(sessions: SessionFactory) -> None:
    people = [await someone(sessions, None, [("telegram", str(n))]) for n in range(5)]
    bid = await draft(sessions)
    assert await queue(sessions, bid, {}) == 5
    assert await queue(sessions, bid, {}) == 0
    async with sessions() as session:
        rows = list(await session.scalars(select(Delivery).order_by(Delivery.person_id)))
    assert [r.person_id for r in rows] == people
    first = rows[0]
    assert (first.kind, first.item_key, first.category, first.status) == (
        "broadcast",
        f"broadcast:{bid}",
        "news",
        "pending",
    )
    assert first.payload == {"text": "Hello"}
    assert first.due_at.replace(tzinfo=UTC) == NOW
    assert first.attempts == 0


async def test_cancel_touches_only_this_broadcasts_pending_rows(
    sessions: SessionFactory,
) -> None:
    for n in range(3):
        await someone(sessions, None, [("telegram", str(n))])
    ids = [await draft(sessions) for _ in range(10)]  # ids 1..10: "broadcast:1" is a prefix
    first, tenth = ids[0], ids[-1]
    await queue(sessions, first, {})
    await queue(sessions, tenth, {})
    async with sessions.begin() as session:
        sent = await session.scalar(
            select(Delivery.id).where(Delivery.item_key == f"broadcast:{first}").limit(1)
        )
        await session.execute(update(Delivery).where(Delivery.id == sent).values(status="sent"))
    async with sessions.begin() as session:
        assert await cancel_messages(session, first, reason="cancelled by test") == 2
    async with sessions() as session:
        mine = await figures(session, first)
        other = await figures(session, tenth)
    assert (mine.sent, mine.cancelled, mine.pending) == (1, 2, 0)
    assert (other.pending, other.cancelled) == (3, 0)


async def test_figures_tell_blocked_from_failed_and_skipped(sessions: SessionFactory) -> None:
    people = [await someone(sessions, None, [("telegram", str(n))]) for n in range(7)]
    bid = await draft(sessions)
    await queue(sessions, bid, {})
    outcomes = [
        ("sent", None),
        ("sent", None),
        ("failed", "telegram: Forbidden"),  # its person becomes unreachable below
        ("skipped", "unreachable"),
        ("failed", "Bad Request: can't parse entities"),
        ("skipped", "stopped"),
        ("sending", None),
    ]
    async with sessions.begin() as session:
        for pid, (state, error) in zip(people, outcomes, strict=True):
            await session.execute(
                update(Delivery)
                .where(Delivery.person_id == pid)
                .values(status=state, last_error=error)
            )
        await session.execute(
            update(Person).where(Person.id == people[2]).values(unreachable=True)
        )
        assert await record_press(session, broadcast_id=bid, person_id=people[0], button="Go")
        assert not await record_press(session, broadcast_id=bid, person_id=people[0], button="Go")
        assert await record_press(session, broadcast_id=bid, person_id=people[1], button="Go")
        assert await record_press(session, broadcast_id=bid, person_id=people[1], button="Read")
    async with sessions() as session:
        found = await figures(session, bid)
    assert found.queued == 7
    assert (found.sent, found.failed, found.blocked, found.skipped) == (2, 1, 2, 1)
    assert (found.pending, found.cancelled) == (1, 0)
    assert found.by_channel == {"telegram": 7}
    assert found.presses == {"Go": 2, "Read": 1}
    assert (found.presses_total, found.pressed_by) == (3, 2)


async def test_the_approval_rule_is_off_until_turned_on(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        assert await approval_required(session) is False
        await set_approval_required(session, True)
    async with sessions.begin() as session:
        assert await approval_required(session) is True
        await set_approval_required(session, False)
        assert await approval_required(session) is False


def test_on_postgresql_lists_are_matched_with_json_array_elements() -> None:
    segment = {"sectors": ["diagnostics"], "country": ["DE"]}
    stmt = queue_statement(
        broadcast_id=3, segment=segment, payload={"text": "Hi"}, due_at=NOW, dialect="postgresql"
    )
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert "json_array_elements_text(organisations.sectors)" in sql
    assert "json_each" not in sql
    assert sql.startswith("INSERT INTO deliveries (person_id, channel, chat_id, kind, item_key")
    assert sql.rstrip().endswith("ON CONFLICT (person_id, item_key, kind) DO NOTHING")
