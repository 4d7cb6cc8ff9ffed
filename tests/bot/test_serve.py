"""``serve``: both channels and the HTTP server in one process, on one event loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import App
from bot.errors import ConfigurationError
from bot.messages import Reply, reply_to_data
from bot.serve import Server, serve
from storage.models import Identity, ProcessedEvent, utcnow
from storage.outbox import enqueue
from tests.factories import make_app
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SlackDriver
from tests.fakes.telegram_api import FakeTelegram, TelegramDriver


async def _event_ids(app: App) -> list[str]:
    async with app.sessions() as session:
        return list(await session.scalars(select(ProcessedEvent.event_id)))


async def _get(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.json()


async def test_serve_runs_telegram_and_slack_with_a_health_check(demo_dir: Path) -> None:
    async with FakeTelegram() as telegram, FakeSlack() as slack:
        app = await make_app(
            demo_dir,
            telegram_token=telegram.token,
            telegram_api_url=telegram.base_url,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=slack.api_url,
            slack_mode="http",
            http_port=0,
        )
        async with app.sessions.begin() as session:
            session.add(
                ProcessedEvent(
                    channel="telegram", event_id="old", seen_at=utcnow() - timedelta(days=8)
                )
            )
            session.add(ProcessedEvent(channel="telegram", event_id="new", seen_at=utcnow()))
        stop = asyncio.Event()
        ready: asyncio.Future[Server] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(serve(app, stop=stop, on_ready=ready.set_result))
        try:
            server = await asyncio.wait_for(ready, 30)
            async with asyncio.timeout(10):  # housekeeping forgets week-old delivery ids
                while await _event_ids(app) != ["new"]:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            base = f"http://127.0.0.1:{server.web.port}"
            status, health = await _get(f"{base}/healthz")
            assert status == 200
            assert health["database"] == "ok"
            assert set(health["channels"]) == {"telegram", "slack"}  # type: ignore[arg-type]

            tg, sl = server.channels
            by_telegram = TelegramDriver(fake=telegram, adapter=tg)  # type: ignore[arg-type]
            (sent,) = await by_telegram.say("501", "/help")
            assert "/calls" in sent.text
            # The outbox is drained inside serve, through the connected channel.
            async with app.sessions.begin() as session:
                identity = await session.scalar(select(Identity))
                assert identity is not None
                await enqueue(
                    session,
                    person_id=identity.person_id,
                    channel="telegram",
                    chat_id="501",
                    kind="notice",
                    item_key="serve-test",
                    category=None,
                    payload=reply_to_data(Reply("Queued hello")),
                )
            await telegram.wait_for_sent(2)
            assert telegram.sent[-1].text == "Queued hello"
            by_slack = SlackDriver(
                fake=slack,
                adapter=sl,  # type: ignore[arg-type]
                mode="http",
                events_url=f"{base}/slack/events",
                signing_secret=SIGNING_SECRET,
            )
            try:
                replies = await by_slack.say("U501", "Which voucher pays for a feasibility study?")
            finally:
                await by_slack.close()
            assert "Feasibility Voucher 2027" in replies[0].text

            await tg.stop()  # a channel that is down makes the whole process unhealthy
            status, health = await _get(f"{base}/healthz")
            assert status == 503
            assert health["channels"]["telegram"]["ok"] is False  # type: ignore[index]
            assert health["channels"]["slack"]["ok"] is True  # type: ignore[index]
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await app.close()
    assert task.exception() is None


async def test_a_refused_token_stops_serve_and_names_the_setting(demo_dir: Path) -> None:
    async with FakeTelegram() as telegram:
        app = await make_app(
            demo_dir,
            telegram_token="999999:AAwrongTokenForTestsOnly_abcdefghijklmnopq",
            telegram_api_url=telegram.base_url,
            http_port=0,
        )
        try:
            with pytest.raises(ConfigurationError, match="CLUSTERBOT_TELEGRAM_TOKEN") as caught:
                await serve(app, stop=asyncio.Event())
            assert "AAwrongToken" not in str(caught.value)
        finally:
            await app.close()


async def test_serve_without_channels_is_a_configuration_error(demo_dir: Path) -> None:
    app = await make_app(demo_dir)
    try:
        with pytest.raises(ConfigurationError, match="CLUSTERBOT_SLACK_BOT_TOKEN"):
            await serve(app)
    finally:
        await app.close()
