"""``kill -9`` of ``clusterbot deliver`` mid-run, then a restart: nothing is lost, and only
messages that were in flight at the kill (claimed, not recorded as sent) go out twice.

The worker runs as a real subprocess against FakeTelegram, which runs here on 127.0.0.1;
settings come through ``CLUSTERBOT_*`` variables, with a short lease so the dead worker's
rows come back quickly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from bot.messages import Reply, reply_to_data
from storage import SessionFactory, create_engine, session_factory, upgrade
from storage.models import Delivery, Identity, Person, Subscription
from storage.outbox import enqueue
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 150
KILL_AFTER = 40


async def _plan(sessions: SessionFactory, chats: list[str]) -> None:
    async with sessions.begin() as session:
        for chat in chats:
            person = Person(display_name=f"person {chat}")
            session.add(person)
            await session.flush()
            session.add(Identity(person_id=person.id, channel="telegram", external_id=chat))
            session.add(Subscription(person_id=person.id, category="alerts"))
            await enqueue(
                session,
                person_id=person.id,
                channel="telegram",
                chat_id=chat,
                kind="alert",
                item_key=f"opp:{chat}",
                category="alerts",
                payload=reply_to_data(Reply(f"news for {chat}")),
            )


async def _statuses(sessions: SessionFactory) -> dict[str, str]:
    async with sessions() as session:
        return {
            chat: status
            for chat, status in await session.execute(select(Delivery.chat_id, Delivery.status))
        }


async def _start(
    data_dir: Path, fake: FakeTelegram, *, token: str | None = None
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ANONYMIZED_TELEMETRY": "False",
        "CLUSTERBOT_DATA_DIR": str(data_dir),
        "CLUSTERBOT_TELEGRAM_TOKEN": token or fake.token,
        "CLUSTERBOT_TELEGRAM_API_URL": fake.base_url,
        "CLUSTERBOT_DELIVERY__LEASE_S": "2",
        "CLUSTERBOT_DELIVERY__TELEGRAM_PER_SECOND": "60",
        "CLUSTERBOT_DELIVERY__IDLE_POLL_S": "0.2",
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


async def test_a_killed_worker_loses_nothing_and_resends_only_what_was_in_flight(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    engine = create_engine(Settings(data_dir=data_dir).resolved_database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    chats = [str(50_000 + n) for n in range(MESSAGES)]
    await _plan(sessions, chats)
    try:
        async with FakeTelegram() as fake:
            first = await _start(data_dir, fake)
            await fake.wait_for_sent(KILL_AFTER, within=45)
            first.send_signal(signal.SIGKILL)
            await first.wait()
            at_kill = await _statuses(sessions)
            sent_before = Counter(s.chat_id for s in fake.sent)
            in_flight = {chat for chat, status in at_kill.items() if status == "sending"}
            recorded = {chat for chat, status in at_kill.items() if status == "sent"}
            assert recorded <= set(sent_before)  # recorded only after the send

            second = await _start(data_dir, fake)
            try:
                async with asyncio.timeout(45):
                    while set((await _statuses(sessions)).values()) != {"sent"}:  # noqa: ASYNC110
                        await asyncio.sleep(0.2)
            finally:
                second.send_signal(signal.SIGTERM)
                _, err = await second.communicate()
            assert second.returncode == 0, err.decode()[-2000:]
    finally:
        await engine.dispose()

    received = Counter(s.chat_id for s in fake.sent)
    assert set(received) == set(chats)  # nothing lost
    twice = {chat for chat, n in received.items() if n > 1}
    assert all(received[chat] == 2 for chat in twice)
    assert twice <= in_flight  # only rows not yet recorded at the kill...
    # ...and exactly those that had gone out without being recorded: the sends in flight.
    assert twice == set(sent_before) - recorded
    assert set(at_kill.values()) != {"sent"}  # the kill did land mid-run


async def test_deliver_with_a_refused_token_exits_naming_the_setting(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    engine = create_engine(Settings(data_dir=data_dir).resolved_database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    await _plan(sessions, ["60001", "60002"])
    try:
        async with FakeTelegram(token="111:TheOnlyTokenTheFakeTakes") as fake:
            child = await _start(data_dir, fake, token="222:AnOldRevokedToken")
            _, err = await asyncio.wait_for(child.communicate(), 60)
        statuses = await _statuses(sessions)
    finally:
        await engine.dispose()
    assert child.returncode == 1
    assert "CLUSTERBOT_TELEGRAM_TOKEN" in err.decode()
    assert "AnOldRevokedToken" not in err.decode()
    assert set(statuses.values()) == {"pending"}
    assert fake.calls("sendMessage") == []
