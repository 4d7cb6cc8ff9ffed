"""The delivery fault battery: a broadcast through FakeTelegram injecting faults, with real
``clusterbot deliver`` processes on one PostgreSQL database, one of them SIGKILLed mid-way.

Shared by tests/reliability/test_delivery_faults.py (scaled down) and
bench/bench_delivery_faults.py (10,000 recipients at Telegram's 30/s). Every figure comes
from the fake's own record of calls, plus the outbox counts.

Messages in flight at the kill are counted from the fake's record and the database as it
was at the kill (the killed worker can write nothing more, and its rows stay leased to it
until their lease runs out, so no one else can change them meanwhile): a request that came
through the killed worker's URL (``FakeTelegram.base_url_for``), was accepted by the fake
(at any time: one still being answered at the kill counts too), and whose row was not
recorded as sent at the kill. Those are the only messages a restart may send again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select

from bot.messages import Reply, reply_to_data
from storage import create_engine, session_factory, upgrade
from storage.engine import SessionFactory
from storage.models import Delivery, Identity, Person, Subscription, utcnow
from storage.outbox import counts
from tests.fakes.telegram_api import FakeTelegram, FaultPlan

ROOT = Path(__file__).resolve().parents[2]
FIRST_CHAT = 300_000_000
TEXT = "Cluster news: the spring partnering day opens for registration on 2 March."


def chats(n: int) -> list[str]:
    """The recipients' chat ids."""
    return [str(FIRST_CHAT + i) for i in range(n)]


@dataclass(frozen=True)
class Scale:
    """The limits the workers keep and the fake's faults are timed by."""

    per_second: float = 30.0
    chat_interval_s: float = 1.0
    retry_after_s: float = 1.0
    send_timeout_s: float = 10.0
    lease_s: float = 120.0
    batch: int = 200
    pause_grace_s: float = 0.1  # a send already started when a 429 came back to its worker


@dataclass
class Report:
    """What the battery measured."""

    recipients: int
    blocked: int
    outbox: dict[str, int]
    accepted: Counter[str]
    lost: list[str]
    duplicates: int
    duplicated: set[str]
    in_flight: set[str]
    most_in_a_second: int
    # requests that arrived inside a retry_after, after the grace: (seconds after the 429,
    # the worker that got the 429, the worker that sent)
    sends_in_pauses: list[tuple[float, str, str]]
    sends_in_grace: int  # requests that arrived inside the grace after a 429
    latest_in_grace: float  # the latest of them, in seconds after its 429
    chat_gap_breaks: int  # two requests to one chat closer than its interval
    faults: Counter[str]
    rate_per_s: float
    sent_by: Counter[str]  # messages each worker got accepted (w1, w2; w3 after a restart)
    wall_s: float = 0.0
    killed_at_sent: int = 0
    exit_codes: list[int] = field(default_factory=list)

    def line(self) -> str:
        """A one-line summary."""
        return (
            f"{self.recipients} recipients ({self.blocked} blocked): outbox {self.outbox}; "
            f"lost {len(self.lost)}; duplicates {self.duplicates} (in flight at the kill "
            f"{len(self.in_flight)}); most in any second {self.most_in_a_second}; sends in "
            f"a retry_after {len(self.sends_in_pauses)} (in the grace {self.sends_in_grace}, "
            f"the latest {self.latest_in_grace:.3f} s after its 429); "
            f"chat gaps broken {self.chat_gap_breaks}; faults {dict(self.faults)}; "
            f"sent by {dict(sorted(self.sent_by.items()))}; exit codes {self.exit_codes}; "
            f"rate {self.rate_per_s:.1f}/s; {self.wall_s:.1f} s"
        )


async def plan(sessions: SessionFactory, recipients: Sequence[str]) -> None:
    """A broadcast's outbox: one row per recipient, consent to news, all due now."""
    now = utcnow()
    payload = reply_to_data(Reply(TEXT))
    ids = list(range(1, len(recipients) + 1))
    async with sessions.begin() as session:
        await session.execute(
            insert(Person),
            [{"id": i, "display_name": f"member {i}", "created_at": now} for i in ids],
        )
        await session.execute(
            insert(Identity),
            [
                {"person_id": i, "channel": "telegram", "external_id": c, "chat_id": c}
                for i, c in zip(ids, recipients, strict=True)
            ],
        )
        await session.execute(
            insert(Subscription), [{"person_id": i, "category": "news"} for i in ids]
        )
        await session.execute(
            insert(Delivery),
            [
                {
                    "person_id": i,
                    "channel": "telegram",
                    "chat_id": c,
                    "kind": "broadcast",
                    "item_key": "broadcast:1",
                    "category": "news",
                    "payload": payload,
                    "status": "pending",
                    "due_at": now,
                    "attempts": 0,
                }
                for i, c in zip(ids, recipients, strict=True)
            ],
        )


async def start_worker(
    fake: FakeTelegram, via: str, scale: Scale, data_dir: Path, database_url: str
) -> asyncio.subprocess.Process:
    """``clusterbot deliver`` as a child process, calling the fake through its own URL.

    Each worker has a data folder of its own: processes never share an embedded vector store
    (docs/deploy.md); the outbox they share is in the database.
    """
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ANONYMIZED_TELEMETRY": "False",
        "CLUSTERBOT_DATA_DIR": str(data_dir / via),
        "CLUSTERBOT_DATABASE_URL": database_url,
        "CLUSTERBOT_TELEGRAM_TOKEN": fake.token,
        "CLUSTERBOT_TELEGRAM_API_URL": fake.base_url_for(via),
        "CLUSTERBOT_DELIVERY__SHARED_LIMITS": "true",
        "CLUSTERBOT_DELIVERY__TELEGRAM_PER_SECOND": str(scale.per_second),
        "CLUSTERBOT_DELIVERY__TELEGRAM_CHAT_INTERVAL_S": str(scale.chat_interval_s),
        "CLUSTERBOT_DELIVERY__SEND_TIMEOUT_S": str(scale.send_timeout_s),
        "CLUSTERBOT_DELIVERY__LEASE_S": str(scale.lease_s),
        "CLUSTERBOT_DELIVERY__BATCH": str(scale.batch),
        "CLUSTERBOT_DELIVERY__IDLE_POLL_S": "0.2",
        "CLUSTERBOT_DELIVERY__BACKOFF_BASE_S": str(min(2.0, scale.retry_after_s)),
        "CLUSTERBOT_DELIVERY__BACKOFF_MAX_S": str(min(60.0, 10 * scale.retry_after_s)),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "deliver",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _settled(sessions: SessionFactory) -> dict[str, int]:
    async with sessions() as session:
        return await counts(session)


async def _recorded(sessions: SessionFactory) -> set[str]:
    """Chats whose message is recorded as sent (read right after the kill)."""
    async with sessions() as session:
        found = await session.execute(select(Delivery.chat_id).where(Delivery.status == "sent"))
        return {chat for (chat,) in found}


def most_in_any_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most events in any window of ``window`` seconds (sliding over the events)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run(
    *,
    recipients: int,
    scale: Scale,
    plan_faults: FaultPlan,
    data_dir: Path,
    database_url: str,
    kill_after: float | None,
    within: float,
) -> Report:
    """Two workers drain a broadcast under faults; with ``kill_after`` (a share of the
    recipients), the first is SIGKILLed once the fake accepted that many and restarted.

    Raises:
        TimeoutError: The outbox did not settle within ``within`` seconds.
    """
    engine = create_engine(database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    wanted = chats(recipients)
    await plan(sessions, wanted)
    blocked = {chat for chat in wanted if plan_faults.is_blocked(chat)}
    workers: list[asyncio.subprocess.Process] = []
    exit_codes: list[int] = []
    in_flight: set[str] = set()
    recorded: set[str] = set()
    killed_at_sent = 0
    started = time.monotonic()
    try:
        async with FakeTelegram() as fake:
            fake.inject_faults(plan_faults)
            workers = [
                await start_worker(fake, via, scale, data_dir, database_url)
                for via in ("w1", "w2")
            ]
            try:
                async with asyncio.timeout(within):
                    if kill_after is not None:
                        await fake.wait_for_sent(int(recipients * kill_after), within=within)
                        victim = workers.pop(0)
                        victim.send_signal(signal.SIGKILL)
                        await victim.wait()
                        killed_at_sent = len(fake.sent)
                        recorded = await _recorded(sessions)
                        workers.append(
                            await start_worker(fake, "w3", scale, data_dir, database_url)
                        )
                    while True:
                        outbox = await _settled(sessions)
                        if not outbox.get("pending") and not outbox.get("sending"):
                            break
                        await asyncio.sleep(0.2)
            finally:
                for worker in workers:
                    if worker.returncode is None:
                        worker.send_signal(signal.SIGTERM)
                    _, err = await worker.communicate()
                    exit_codes.append(worker.returncode or 0)
                    if worker.returncode:
                        print(err.decode()[-3000:], file=sys.stderr)
            wall = time.monotonic() - started
            if kill_after is not None:
                in_flight = {
                    str(c.params.get("chat_id"))
                    for c in fake.calls("sendMessage")
                    if c.via == "w1" and c.status == 200
                } - recorded
            report = _report(fake, wanted, blocked, outbox, in_flight, scale)
    finally:
        await engine.dispose()
    report.wall_s, report.killed_at_sent, report.exit_codes = wall, killed_at_sent, exit_codes
    return report


def _report(
    fake: FakeTelegram,
    wanted: list[str],
    blocked: set[str],
    outbox: dict[str, int],
    in_flight: set[str],
    scale: Scale,
) -> Report:
    accepted = Counter(s.chat_id for s in fake.sent)
    times = sorted(s.at for s in fake.sent)
    requests = fake.calls("sendMessage")
    in_pause: list[tuple[float, str, str]] = []
    in_grace, latest = 0, 0.0
    pauses = [
        (f.answered_at, f.answered_at + (f.retry_after or 0.0), f.via)
        for f in fake.faults
        if f.kind == "rate_limited"
    ]
    arrivals = sorted((c.at, c.via) for c in requests)
    for answered, until, via in pauses:
        grace_end = answered + scale.pause_grace_s
        first = bisect_right(arrivals, (answered, "~"))
        middle = bisect_left(arrivals, (grace_end, ""))
        last = bisect_left(arrivals, (until, ""))
        in_grace += max(0, middle - first)
        if middle > first:
            latest = max(latest, arrivals[middle - 1][0] - answered)
        for at, by in arrivals[middle:last]:
            in_pause.append((round(at - answered, 4), via, by))
    per_chat: dict[str, list[float]] = defaultdict(list)
    for call in requests:
        per_chat[str(call.params.get("chat_id"))].append(call.at)
    gap = scale.chat_interval_s * 0.99
    breaks = sum(
        1
        for ats in per_chat.values()
        for a, b in zip(sorted(ats), sorted(ats)[1:], strict=False)
        if b - a < gap
    )
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return Report(
        recipients=len(wanted),
        blocked=len(blocked),
        outbox=outbox,
        accepted=accepted,
        lost=[c for c in wanted if c not in blocked and c not in accepted],
        duplicates=sum(n - 1 for n in accepted.values()),
        duplicated={c for c, n in accepted.items() if n > 1},
        in_flight=in_flight,
        most_in_a_second=most_in_any_window(times),
        sends_in_pauses=in_pause,
        sends_in_grace=in_grace,
        latest_in_grace=latest,
        chat_gap_breaks=breaks,
        faults=Counter(f.kind for f in fake.faults),
        rate_per_s=(len(times) - 1) / span if span else 0.0,
        sent_by=Counter(c.via for c in requests if c.status == 200),
    )


__all__ = ["Report", "Scale", "chats", "most_in_any_window", "plan", "run", "start_worker"]
