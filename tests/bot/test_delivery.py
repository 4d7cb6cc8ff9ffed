"""The delivery worker through the real Telegram and Slack senders, against the fakes.

Limits are checked on the fakes' recorded arrival times and by counting (never on how long a
test took); the fakes can enforce the platforms' limits themselves and answer 429.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.cli import cli
from bot.config import DeliverySettings, Settings
from bot.delivery import DeliveryWorker
from bot.errors import ConfigurationError
from bot.limits import SAFETY, Lane, Limits, telegram_group
from bot.messages import Incoming, Reply, reply_to_data
from bot.slack import SlackChannel
from bot.telegram import TelegramChannel
from storage import SessionFactory
from storage.models import Delivery, Identity, Person, Subscription
from storage.outbox import counts, enqueue
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.fakes.telegram_api import FakeTelegram


class Silent:
    """A responder for channels that only send."""

    commands = frozenset[str]()

    async def respond(self, msg: Incoming) -> Reply | None:
        return None


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def start_telegram(fake: FakeTelegram, *, request_timeout: float = 5.0) -> TelegramChannel:
    settings = Settings(telegram_token=fake.token, telegram_api_url=fake.base_url)
    channel = TelegramChannel(
        settings=settings, responder=Silent(), request_timeout=request_timeout
    )
    await channel.start(receive=False)
    return channel


@pytest.fixture
async def telegram(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    channel = await start_telegram(fake)
    yield channel
    await channel.stop()


def settings(**overrides: Any) -> DeliverySettings:
    values: dict[str, Any] = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "idle_poll_s": 0.05}
    values.update(overrides)
    return DeliverySettings(**values)


async def person(
    sessions: SessionFactory,
    chat_id: str,
    *,
    channel: str = "telegram",
    categories: Sequence[str] = ("alerts",),
) -> int:
    async with sessions.begin() as session:
        someone = Person(display_name=f"person {chat_id}")
        session.add(someone)
        await session.flush()
        session.add(
            Identity(person_id=someone.id, channel=channel, external_id=chat_id, chat_id=chat_id)
        )
        for category in categories:
            session.add(Subscription(person_id=someone.id, category=category))
        return someone.id


async def queue(
    sessions: SessionFactory,
    person_id: int,
    chat_id: str,
    key: str,
    *,
    channel: str = "telegram",
    category: str | None = "alerts",
    text: str | None = None,
    due_at: datetime | None = None,
) -> int:
    async with sessions.begin() as session:
        assert await enqueue(
            session,
            person_id=person_id,
            channel=channel,
            chat_id=chat_id,
            kind="alert",
            item_key=key,
            category=category,
            payload=reply_to_data(Reply(text or f"message {key}")),
            due_at=due_at,
        )
        row = await session.scalar(select(Delivery).where(Delivery.item_key == key))
        assert row is not None
        return row.id


async def people_with_rows(
    sessions: SessionFactory, chats: Sequence[str], *, channel: str = "telegram"
) -> list[int]:
    ids = []
    for chat in chats:
        pid = await person(sessions, chat, channel=channel)
        ids.append(await queue(sessions, pid, chat, f"opp:{chat}", channel=channel))
    return ids


async def rows(sessions: SessionFactory) -> dict[int, Delivery]:
    async with sessions() as session:
        return {row.id: row for row in await session.scalars(select(Delivery))}


async def until_settled(
    worker: DeliveryWorker,
    sessions: SessionFactory,
    *,
    passes: int = 200,
    between: float = 0.05,
) -> dict[str, int]:
    """run_once until no row is pending or sending (bounded by passes, not by time)."""
    for _ in range(passes):
        await worker.run_once()
        async with sessions() as session:
            found = await counts(session)
        if not found.get("pending") and not found.get("sending"):
            return found
        await asyncio.sleep(between)
    raise AssertionError(f"rows still queued: {found}")


def by_chat(ats: Sequence[tuple[str, float]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for chat, at in ats:
        out[chat].append(at)
    return out


def most_in_any_window(times: Sequence[float], window: float = 1.0) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


# -- sending and recording ------------------------------------------------------------------------


async def test_due_rows_are_sent_and_recorded_with_message_ids(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    ids = await people_with_rows(sessions, ["1001", "1002", "1003"])
    later = await queue(
        sessions,
        await person(sessions, "1004"),
        "1004",
        "later",
        due_at=datetime.now(UTC) + timedelta(hours=1),
    )
    worker = DeliveryWorker(
        sessions=sessions, senders={"telegram": telegram}, settings=settings(), owner="w1"
    )
    assert await worker.run_once() == 3
    stored = await rows(sessions)
    sent = {s.chat_id: s for s in fake.sent}
    assert set(sent) == {"1001", "1002", "1003"}
    for row_id in ids:
        row = stored[row_id]
        assert row.status == "sent"
        assert row.message_id == sent[row.chat_id].message_id
        assert row.sent_at is not None
        assert row.attempts == 1
        assert (row.lease_owner, row.lease_until) == (None, None)
    assert sent["1001"].text == "message opp:1001"
    assert stored[later].status == "pending"
    assert (worker.stats.sent, worker.stats.failed, worker.stats.skipped) == (3, 0, 0)
    assert await worker.run_once() == 0


async def test_rows_of_a_channel_without_a_sender_stay_queued(
    sessions: SessionFactory, telegram: TelegramChannel
) -> None:
    [slack_row] = await people_with_rows(sessions, ["D0ANNA"], channel="slack")
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    assert await worker.run_once() == 0
    assert (await rows(sessions))[slack_row].status == "pending"


async def test_an_unreadable_payload_fails_with_the_reason(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    [row_id] = await people_with_rows(sessions, ["1001"])
    async with sessions.begin() as session:
        await session.execute(update(Delivery).values(payload={"nothing": "here"}))
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    assert await worker.run_once() == 1
    row = (await rows(sessions))[row_id]
    assert row.status == "failed"
    assert "unreadable payload" in (row.last_error or "")
    assert fake.sent == []


# -- rate limits, retries, refusals -------------------------------------------------------------


async def test_a_429_pauses_the_whole_channel_and_costs_no_attempt(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    ids = await people_with_rows(sessions, ["1001", "1002", "1003", "1004"])
    fake.fail_next("sendMessage", status=429, retry_after=1)
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    found = await until_settled(worker, sessions)
    assert found == {"sent": 4}
    calls = fake.calls("sendMessage")
    [limited] = [c for c in calls if c.status == 429]
    assert len(calls) == 5
    # The channel waited: besides a send already under way, nothing arrived within the second.
    early = [c for c in calls if c.status == 200 and limited.at < c.at < limited.at + 0.9]
    assert len(early) <= 1
    stored = await rows(sessions)
    assert all(stored[i].attempts == 1 for i in ids)
    assert all(stored[i].last_error is None for i in ids)
    assert worker.stats.rate_limited == 1
    assert (worker.stats.failed, worker.stats.retried) == (0, 0)


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_back_off_and_then_succeed(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel, status: int
) -> None:
    [row_id] = await people_with_rows(sessions, ["1001"])
    fake.fail_next("sendMessage", status=status, times=2)
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    assert await until_settled(worker, sessions) == {"sent": 1}
    row = (await rows(sessions))[row_id]
    assert row.attempts == 3
    assert worker.stats.retried == 2
    assert len(fake.sent) == 1


async def test_after_max_attempts_a_row_fails_with_the_reason(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    [row_id, other] = await people_with_rows(sessions, ["1001", "1002"])
    fake.fail_next("sendMessage", status=500, times=3)
    worker = DeliveryWorker(
        sessions=sessions, senders={"telegram": telegram}, settings=settings(max_attempts=2)
    )
    await until_settled(worker, sessions)
    stored = await rows(sessions)
    failed = [r for r in stored.values() if r.status == "failed"]
    assert len(failed) == 1
    assert failed[0].attempts == 2
    assert "gave up after 2 attempts" in (failed[0].last_error or "")
    assert "Internal Server Error" in (failed[0].last_error or "")
    assert {stored[row_id].status, stored[other].status} == {"failed", "sent"}
    assert worker.stats.failed == 1


async def test_backoff_grows_and_is_capped(sessions: SessionFactory, fake: FakeTelegram) -> None:
    worker = DeliveryWorker(
        sessions=sessions,
        senders={},
        settings=settings(backoff_base_s=2.0, backoff_max_s=10.0),
    )
    delays = {n: [worker._backoff(n) for _ in range(50)] for n in (1, 2, 3, 10)}
    assert all(1.0 <= d <= 2.0 for d in delays[1])
    assert all(2.0 <= d <= 4.0 for d in delays[2])
    assert all(4.0 <= d <= 8.0 for d in delays[3])
    assert all(5.0 <= d <= 10.0 for d in delays[10])
    assert len(set(delays[3])) > 1  # jitter


async def test_a_timeout_is_retried(sessions: SessionFactory, fake: FakeTelegram) -> None:
    channel = await start_telegram(fake, request_timeout=0.3)
    try:
        [row_id] = await people_with_rows(sessions, ["1001"])
        fake.stall_next("sendMessage", 1.0)
        worker = DeliveryWorker(
            sessions=sessions, senders={"telegram": channel}, settings=settings()
        )
        assert await until_settled(worker, sessions) == {"sent": 1}
    finally:
        await channel.stop()
    row = (await rows(sessions))[row_id]
    assert row.attempts == 2
    assert len(fake.sent) == 1


async def test_a_blocked_person_becomes_unreachable_and_gets_nothing_more(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    blocked = await person(sessions, "1001")
    mine = [await queue(sessions, blocked, "1001", f"opp:{n}") for n in range(3)]
    asked = await queue(sessions, blocked, "1001", "answer", category=None)
    [other] = await people_with_rows(sessions, ["1002"])
    fake.block("1001")
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    await until_settled(worker, sessions)
    assert len([c for c in fake.calls("sendMessage") if c.params["chat_id"] == 1001]) == 1
    async with sessions() as session:
        who = await session.get_one(Person, blocked)
    assert who.unreachable is True
    assert who.unreachable_at is not None
    stored = await rows(sessions)
    statuses = sorted(stored[i].status for i in [*mine, asked])
    assert statuses == ["failed", "skipped", "skipped", "skipped"]
    assert [stored[i].last_error for i in [*mine, asked] if stored[i].status == "skipped"] == [
        "unreachable"
    ] * 3
    assert stored[other].status == "sent"
    assert worker.stats.unreachable == 1
    later = await queue(sessions, blocked, "1001", "later", category=None)
    await worker.run_once()
    assert (await rows(sessions))[later].status == "skipped"
    assert len([c for c in fake.calls("sendMessage") if c.params["chat_id"] == 1001]) == 1


async def test_a_refused_message_fails_but_the_person_stays_reachable(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    [row_id] = await people_with_rows(sessions, ["1001"])
    fake.fail_next(
        "sendMessage", status=400, description="Bad Request: can't parse entities: oops"
    )
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    assert await worker.run_once() == 1
    row = (await rows(sessions))[row_id]
    assert row.status == "failed"
    assert "Can't parse entities" in (row.last_error or "")
    async with sessions() as session:
        assert (await session.get_one(Person, row.person_id)).unreachable is False


async def test_a_revoked_token_stops_the_worker_and_keeps_the_queue(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    ids = await people_with_rows(sessions, ["1001", "1002", "1003"])
    fake.token = "987654:SomeoneElsesToken"  # revoked after the channel started
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    with pytest.raises(ConfigurationError, match="CLUSTERBOT_TELEGRAM_TOKEN") as caught:
        await worker.run(asyncio.Event())
    assert "987654" not in str(caught.value)
    stored = await rows(sessions)
    for row_id in ids:
        assert stored[row_id].status == "pending"
        assert stored[row_id].attempts == 0
        assert stored[row_id].lease_owner is None
    assert worker.stats.finished == 0


async def test_a_revoked_slack_token_names_the_slack_setting(sessions: SessionFactory) -> None:
    async with FakeSlack() as slack:
        channel = SlackChannel(
            settings=Settings(slack_bot_token=BOT_TOKEN, slack_api_url=slack.api_url),
            responder=Silent(),
        )
        await channel.start(receive=False)
        try:
            [row_id] = await people_with_rows(sessions, ["D0ANNA"], channel="slack")
            slack.bot_token = "xoxb-revoked"
            worker = DeliveryWorker(
                sessions=sessions, senders={"slack": channel}, settings=settings()
            )
            with pytest.raises(ConfigurationError, match="CLUSTERBOT_SLACK_BOT_TOKEN"):
                await worker.run_once()
        finally:
            await channel.stop()
    row = (await rows(sessions))[row_id]
    assert (row.status, row.attempts) == ("pending", 0)


async def test_slack_delivers_pauses_on_429_and_keeps_one_message_a_second_per_channel(
    sessions: SessionFactory,
) -> None:
    async with FakeSlack() as slack:
        slack.enforce_limits(channel_interval_s=1.0)
        channel = SlackChannel(
            settings=Settings(slack_bot_token=BOT_TOKEN, slack_api_url=slack.api_url),
            responder=Silent(),
        )
        await channel.start(receive=False)
        try:
            pid = await person(sessions, "C0ALL", channel="slack")
            for n in range(3):
                await queue(sessions, pid, "C0ALL", f"opp:{n}", channel="slack")
            await people_with_rows(sessions, ["D0ANNA", "D0BEN"], channel="slack")
            # Slack sends whole seconds; a fraction makes slack_sdk leave the wait to us.
            slack.fail_next("chat.postMessage", status=429, retry_after=0.5)
            worker = DeliveryWorker(
                sessions=sessions, senders={"slack": channel}, settings=settings()
            )
            assert await until_settled(worker, sessions) == {"sent": 5}
        finally:
            await channel.stop()
    assert slack.limit_hits == []
    assert worker.stats.rate_limited == 1
    posted = [(c.params["channel"], c.at) for c in slack.calls("chat.postMessage")]
    assert len(posted) == 6
    gaps = by_chat(posted[1:])["C0ALL"]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(gaps))


# -- consent at send time ---------------------------------------------------------------------


async def test_consent_is_checked_again_when_sending(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    withdrawn = await person(sessions, "1001")
    stopped = await person(sessions, "1002")
    gone = await person(sessions, "1003")
    fine = await person(sessions, "1004")
    rows_ = {
        "withdrawn": await queue(sessions, withdrawn, "1001", "a"),
        "stopped": await queue(sessions, stopped, "1002", "b"),
        "asked while stopped": await queue(sessions, stopped, "1002", "c", category=None),
        "unreachable": await queue(sessions, gone, "1003", "d", category=None),
        "other category": await queue(sessions, fine, "1004", "e", category="events"),
        "fine": await queue(sessions, fine, "1004", "f"),
    }
    async with sessions.begin() as session:  # between planning and sending
        await session.execute(
            update(Subscription).where(Subscription.person_id == withdrawn).values(active=False)
        )
        await session.execute(update(Person).where(Person.id == stopped).values(stopped=True))
        await session.execute(update(Person).where(Person.id == gone).values(unreachable=True))
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    await until_settled(worker, sessions)
    stored = await rows(sessions)
    outcome = {name: (stored[i].status, stored[i].last_error) for name, i in rows_.items()}
    assert outcome == {
        "withdrawn": ("skipped", "no consent to alerts"),
        "stopped": ("skipped", "stopped"),
        "asked while stopped": ("sent", None),
        "unreachable": ("skipped", "unreachable"),
        "other category": ("skipped", "no consent to events"),
        "fine": ("sent", None),
    }
    assert sorted(s.chat_id for s in fake.sent) == ["1002", "1004"]
    assert worker.stats.skipped == 4


# -- limits and fairness ----------------------------------------------------------------------


async def test_per_chat_group_and_overall_limits_are_kept(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    fake.enforce_limits()  # answers 429 like Telegram beyond 30/s, 1/s per chat, 20/min
    await people_with_rows(sessions, [str(2000 + n) for n in range(50)])
    busy = await person(sessions, "3001")
    for n in range(3):
        await queue(sessions, busy, "3001", f"busy:{n}")
    group = await person(sessions, "-1001234")
    for n in range(2):
        await queue(sessions, group, "-1001234", f"group:{n}", category=None)
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    assert await until_settled(worker, sessions) == {"sent": 55}
    assert fake.limit_hits == []
    assert worker.stats.rate_limited == 0
    times = by_chat([(s.chat_id, s.at) for s in fake.sent])
    assert len(times["3001"]) == 3
    for chat, ats in times.items():
        gaps = [b - a for a, b in itertools.pairwise(ats)]
        assert all(gap >= (2.9 if chat.startswith("-") else 0.95) for gap in gaps), (chat, gaps)
    assert most_in_any_window([s.at for s in fake.sent]) <= 30


async def test_one_busy_chat_does_not_hold_back_the_others(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    busy = await person(sessions, "1000")
    early = datetime.now(UTC) - timedelta(minutes=5)
    for n in range(10):
        await queue(sessions, busy, "1000", f"busy:{n}", due_at=early)
    others = await people_with_rows(sessions, [str(1100 + n) for n in range(20)])
    # A short lease: the busy chat's later messages go back to the queue instead of waiting.
    worker = DeliveryWorker(
        sessions=sessions, senders={"telegram": telegram}, settings=settings(lease_s=5.0)
    )
    await worker.run_once()
    stored = await rows(sessions)
    assert all(stored[i].status == "sent" for i in others)
    order = [s.chat_id for s in fake.sent]
    # The others go out beside the busy chat instead of queueing behind it: its next message
    # waits a second while theirs do not (sends run concurrently, so only counts are sure).
    assert order[:6].count("1000") <= 1
    busy_times = [s.at for s in fake.sent if s.chat_id == "1000"]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(busy_times))
    waiting = [r for r in stored.values() if r.chat_id == "1000" and r.status == "pending"]
    assert waiting
    assert worker.stats.deferred == len(waiting)
    assert all(r.attempts == 0 for r in waiting)
    dues = sorted(r.due_at for r in waiting)
    assert all(b > a for a, b in itertools.pairwise(dues))


# -- stopping -----------------------------------------------------------------------------------


async def test_a_clean_stop_hands_back_the_unsent_rows(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    group = await person(sessions, "-100777")
    ids = [await queue(sessions, group, "-100777", f"g:{n}") for n in range(4)]
    stop = asyncio.Event()
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    task = asyncio.create_task(worker.run(stop))
    await fake.wait_for_sent(1)
    stop.set()
    await asyncio.wait_for(task, 30)
    stored = await rows(sessions)
    assert [stored[i].status for i in ids].count("sent") == len(fake.sent) == 1
    for row_id in ids:
        if stored[row_id].status != "sent":
            assert stored[row_id].status == "pending"
            assert stored[row_id].lease_owner is None
            assert stored[row_id].attempts == 0
    assert worker.stats.released == 3


async def test_run_keeps_polling_for_new_rows(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    stop = asyncio.Event()
    worker = DeliveryWorker(sessions=sessions, senders={"telegram": telegram}, settings=settings())
    task = asyncio.create_task(worker.run(stop))
    try:
        await people_with_rows(sessions, ["1001"])
        await fake.wait_for_sent(1)
        await people_with_rows(sessions, ["1002"])
        worker.notify()
        await fake.wait_for_sent(2)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert await until_settled(worker, sessions) == {"sent": 2}


async def test_two_workers_share_the_queue_without_sending_twice(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    await people_with_rows(sessions, [str(4000 + n) for n in range(40)])
    first, second = (
        DeliveryWorker(
            sessions=sessions,
            senders={"telegram": telegram},
            settings=settings(telegram_per_second=200.0, batch=5),
            owner=name,
        )
        for name in ("w1", "w2")
    )

    async def drain(worker: DeliveryWorker) -> None:
        while await worker.run_once():
            pass

    await asyncio.gather(drain(first), drain(second))
    assert await until_settled(first, sessions) == {"sent": 40}
    chats = [s.chat_id for s in fake.sent]
    assert len(chats) == len(set(chats)) == 40
    assert first.stats.sent > 0
    assert second.stats.sent > 0


async def test_a_send_slower_than_the_lease_is_not_taken_over_by_another_worker(
    sessions: SessionFactory, fake: FakeTelegram, telegram: TelegramChannel
) -> None:
    """The lease is renewed while a send hangs (and while its outcome waits to be written),
    so the second worker, polling all along, never finds the row claimable."""
    await people_with_rows(sessions, ["5001"])
    fake.stall_next("sendMessage", 4.0, deliver=True)  # over two leases, then delivered
    stop = asyncio.Event()
    slow, other = (
        DeliveryWorker(
            sessions=sessions,
            senders={"telegram": telegram},
            settings=settings(lease_s=1.5),
            owner=name,
        )
        for name in ("slow", "other")
    )
    first = asyncio.create_task(slow.run(stop))
    await fake.wait_for_calls("sendMessage")
    second = asyncio.create_task(other.run(stop))
    try:
        await fake.wait_for_sent(1, within=10)
        await asyncio.sleep(2.0)  # over another lease, for a second send to show up
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(first, second), 30)
    assert [s.chat_id for s in fake.sent] == ["5001"]
    assert (slow.stats.sent, other.stats.claimed) == (1, 0)
    assert await until_settled(other, sessions) == {"sent": 1}


async def test_stats_line_reads_well(sessions: SessionFactory) -> None:
    worker = DeliveryWorker(sessions=sessions, senders={}, settings=settings())
    worker.stats.sent = 3
    assert worker.stats.line().startswith("sent 3, failed 0, skipped 0")
    assert worker.stats.finished == 3


# -- the lane on its own (synthetic clock) --------------------------------------------------------


def test_a_lane_spaces_chats_and_the_channel_and_takes_chats_in_turn() -> None:
    lane: Lane[str] = Lane(
        limits=Limits(per_second=10.0, chat_interval_s=1.0, group_interval_s=3.0),
        is_group=telegram_group,
    )
    for n in range(3):
        lane.add("busy", f"busy{n}", now=0.0)
    for chat in ("a", "b", "-100"):
        lane.add(chat, chat, now=0.0)
    lane.add("-100", "-100 again", now=0.0)
    slots = []
    now = 0.0
    while (slot := lane.pop(now, until=now + 100)) is not None:
        slots.append(slot)
        now = slot[1]
    order = [item for item, _ in slots]
    assert order[:4] == ["busy0", "a", "b", "-100"]  # the busy chat waits its turn
    at = dict(slots)
    step = (1 + SAFETY) / 10.0
    assert all(y - x >= step - 1e-9 for (_, x), (_, y) in itertools.pairwise(slots))
    assert at["busy1"] - at["busy0"] >= 1.0 * (1 + SAFETY) - 1e-9
    assert at["-100 again"] - at["-100"] >= 3.0 * (1 + SAFETY) - 1e-9
    assert len(lane) == 0


def test_a_lane_pauses_and_spills_what_cannot_go_soon() -> None:
    lane: Lane[str] = Lane(
        limits=Limits(per_second=100.0, chat_interval_s=1.0, group_interval_s=1.0)
    )
    for n in range(5):
        lane.add("chat", f"m{n}", now=0.0)
    lane.add("other", "o", now=0.0)
    lane.pause(2.0)
    assert lane.pop(0.5) is None
    assert lane.next_at(0.5) == 2.0
    spilled = dict(lane.spill(0.0, horizon=3.5))
    assert set(spilled) == {"m2", "m3", "m4"}  # m0 at 2.0, m1 at 3.04: within the horizon
    assert spilled["m2"] == pytest.approx(2.0 + 2 * 1.04)
    assert len(lane) == 3
    assert lane.remove(lambda item: item == "o") == ["o"]
    first = lane.pop(2.0)
    assert first is not None
    assert first == ("m0", 2.0)
    assert lane.drain() == ["m1"]
    assert lane.next_at(5.0) is None


def test_deliver_without_a_channel_says_what_to_set() -> None:
    result = CliRunner().invoke(cli, ["deliver"])
    assert result.exit_code == 1
    assert "CLUSTERBOT_TELEGRAM_TOKEN" in result.output
