"""Limits shared by several delivery workers through the database (bot/shared_limits.py).

Runs on SQLite and on PostgreSQL. Limits are checked on the fake's recorded arrival times
and by counting, never on how long a test took.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery import DeliveryWorker
from bot.shared_limits import DatabaseLimits, Want
from bot.telegram import TelegramChannel
from storage import SessionFactory
from tests.bot.test_delivery import (
    most_in_any_window,
    people_with_rows,
    settings,
    start_telegram,
    until_settled,
)
from tests.fakes.telegram_api import FakeTelegram

PAUSE_GRACE_S = (
    0.5  # a send already started when the other worker's 429 came back (as the battery)
)


async def test_reservations_of_two_callers_share_one_schedule(sessions: SessionFactory) -> None:
    limits = DatabaseLimits(sessions=sessions)
    first = await limits.reserve(
        "telegram", [Want("1", 1.0), Want("2", 1.0)], interval=0.1, earliest=100.0, horizon=5.0
    )
    assert first.slots == {0: 100.0, 1: pytest.approx(100.1)}
    # Another worker, same instant: it gets the slots after them, and chat 1 is still busy.
    second = await limits.reserve(
        "telegram",
        [Want("1", 1.0), Want("3", 1.0), Want("-100", 3.0, weight=2)],
        interval=0.1,
        earliest=100.0,
        horizon=5.0,
    )
    assert second.busy == {0: pytest.approx(101.0)}
    assert second.slots == {1: pytest.approx(100.2), 2: pytest.approx(100.3)}
    assert second.next_at == pytest.approx(100.5)  # the group message weighs two
    # Slack keeps its own schedule.
    other = await limits.reserve(
        "slack", [Want("C1", 1.0)], interval=0.1, earliest=100.0, horizon=5.0
    )
    assert other.slots == {0: 100.0}


async def test_nothing_is_reserved_beyond_the_horizon(sessions: SessionFactory) -> None:
    limits = DatabaseLimits(sessions=sessions)
    wants = [Want(str(n), 1.0) for n in range(10)]
    grant = await limits.reserve("telegram", wants, interval=0.5, earliest=10.0, horizon=1.0)
    assert sorted(grant.slots) == [0, 1, 2]
    assert sorted(grant.busy) == list(range(3, 10))
    again = await limits.reserve("telegram", wants[3:4], interval=0.5, earliest=10.0, horizon=5)
    assert again.slots == {0: pytest.approx(11.5)}


async def test_a_pause_holds_every_reservation_and_only_grows(sessions: SessionFactory) -> None:
    limits = DatabaseLimits(sessions=sessions)
    await limits.pause("telegram", 50.0)
    await limits.pause("telegram", 40.0)  # an older, shorter pause changes nothing
    assert await limits.paused_until(["telegram", "slack"]) == {"telegram": 50.0}
    grant = await limits.reserve(
        "telegram", [Want("1", 1.0)], interval=0.1, earliest=45.0, horizon=10.0
    )
    assert grant.slots == {0: 50.0}
    assert grant.paused_until == 50.0


async def test_idle_chats_are_forgotten(sessions: SessionFactory) -> None:
    limits = DatabaseLimits(sessions=sessions)
    await limits.reserve("telegram", [Want("1", 1.0)], interval=0.1, earliest=10.0, horizon=5)
    await limits.forget_idle("telegram", 100.0)
    grant = await limits.reserve(
        "telegram", [Want("1", 1.0)], interval=0.1, earliest=10.0, horizon=5
    )
    assert grant.slots == {0: pytest.approx(10.1)}  # the chat's row was gone: free at once


async def _two_workers(
    sessions: SessionFactory, fake: FakeTelegram, *, shared: bool, messages: int
) -> list[DeliveryWorker]:
    """Two workers in one process, each with its own connection, as two processes would."""
    await people_with_rows(sessions, [str(7000 + n) for n in range(messages)])
    channels: list[TelegramChannel] = [await start_telegram(fake) for _ in range(2)]
    workers = [
        DeliveryWorker(
            sessions=sessions,
            senders={"telegram": channel},
            settings=settings(batch=5, lease_s=30.0),
            owner=f"w{n}",
            limits=DatabaseLimits(sessions=sessions) if shared else None,
        )
        for n, channel in enumerate(channels)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
    try:
        await fake.wait_for_sent(messages, within=60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for channel in channels:
            await channel.stop()
    return workers


async def test_two_workers_with_shared_limits_keep_the_overall_rate_together(
    sessions: SessionFactory,
) -> None:
    async with FakeTelegram() as fake:
        workers = await _two_workers(sessions, fake, shared=True, messages=75)
    assert all(worker.stats.sent for worker in workers)  # both took part
    assert most_in_any_window([s.at for s in fake.sent]) <= 30
    chats = [s.chat_id for s in fake.sent]
    assert len(chats) == len(set(chats)) == 75
    assert await until_settled(workers[0], sessions) == {"sent": 75}


async def test_two_workers_without_shared_limits_send_too_fast(
    sessions: SessionFactory,
) -> None:
    """The check above can fail: each worker alone keeps 30/s, the two together do not."""
    async with FakeTelegram() as fake:
        await _two_workers(sessions, fake, shared=False, messages=75)
    assert most_in_any_window([s.at for s in fake.sent]) > 30


async def test_a_429_one_worker_gets_pauses_the_other(sessions: SessionFactory) -> None:
    async with FakeTelegram() as fake:
        fake.fail_next("sendMessage", status=429, retry_after=1)
        await _two_workers(sessions, fake, shared=True, messages=45)
    refused = [c for c in fake.calls("sendMessage") if c.status == 429]
    assert len(refused) == 1
    start, end = refused[0].answered_at + PAUSE_GRACE_S, refused[0].answered_at + 1.0
    during = [c for c in fake.calls("sendMessage") if start <= c.at < end]
    assert during == []
    assert [c for c in fake.calls("sendMessage") if c.at >= end]  # and then it went on
