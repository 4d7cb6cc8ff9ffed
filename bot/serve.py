"""``clusterbot serve``: every configured channel in one process, on one event loop.

Telegram and Slack run side by side with the HTTP server (health check and webhooks). A
channel that cannot start (a wrong token) stops the whole process with a message naming the
setting, rather than running half-configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy import text

from bot.alerts import keep_planning
from bot.app import App, vector_location
from bot.delivery import DeliveryWorker
from bot.errors import ConfigurationError
from bot.lifecycle import NO_CHANNEL, stop_on_signals
from bot.messages import Reply
from bot.shared_limits import DatabaseLimits
from bot.web import WebServer
from knowledge.vectors import VectorStoreError
from storage.events import forget_events_before
from storage.outbox import counts as outbox_counts

logger = logging.getLogger(__name__)

EVENT_MEMORY = timedelta(days=7)
HOUSEKEEPING_EVERY_S = 3600.0
#: A hung Chroma server must not hang the health check (its client has no timeout).
VECTOR_TIMEOUT_S = 5.0


class Channel(Protocol):
    """What ``serve`` needs of an adapter."""

    channel: str

    async def start(self) -> None:
        """Connect (and check the token)."""
        ...

    async def stop(self) -> None:
        """Disconnect; safe to call twice."""
        ...

    def routes(self) -> list[web.RouteDef]:
        """HTTP routes the channel needs (webhooks), if any."""
        ...

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Put a reply into a chat (the delivery worker's sender)."""
        ...

    async def health(self) -> dict[str, object]:
        """Whether the channel is connected, with details."""
        ...


async def vector_health(app: App, *, timeout_s: float = VECTOR_TIMEOUT_S) -> dict[str, Any]:
    """Whether the vector store answers its heartbeat, and where it is (never the token)."""
    status: dict[str, Any] = {"ok": True, "mode": app.settings.vectors.mode}
    status["where"] = vector_location(app.settings)
    try:
        await asyncio.wait_for(asyncio.to_thread(app.index.heartbeat), timeout_s)
    except (VectorStoreError, TimeoutError) as exc:
        status.update(ok=False, error=str(exc) if isinstance(exc, VectorStoreError) else "timeout")
    return status


def build_channels(app: App) -> list[Channel]:
    """The adapters for every channel that has a token."""
    settings = app.settings
    channels: list[Channel] = []
    if settings.telegram_token is not None:
        from bot.telegram import TelegramChannel

        channels.append(TelegramChannel(settings=settings, responder=app.assistant))
    if settings.slack_bot_token is not None:
        from bot.slack import SlackChannel

        channels.append(SlackChannel(settings=settings, responder=app.assistant))
    return channels


class Server:
    """The running channels and the HTTP server of one ``serve`` process."""

    def __init__(self, app: App, channels: list[Channel]) -> None:
        self.app = app
        self.channels = channels
        routes = [route for channel in channels for route in channel.routes()]
        self.web = WebServer(
            host=app.settings.http_host,
            port=app.settings.http_port,
            health=self.health,
            routes=routes,
        )
        self._started: list[Channel] = []
        self._housekeeping: asyncio.Task[None] | None = None
        self._stop_work = asyncio.Event()
        self.worker: DeliveryWorker | None = None
        self.background: list[asyncio.Task[None]] = []

    async def prune_events(self) -> int:
        """Forget delivery ids older than any platform redelivers (a week; Telegram: a day)."""
        cutoff = datetime.now(UTC) - EVENT_MEMORY
        async with self.app.sessions.begin() as session:
            return await forget_events_before(session, cutoff)

    async def _keep_house(self) -> None:
        while True:
            try:
                dropped = await self.prune_events()
                if dropped:
                    logger.info("forgot %d old delivery ids", dropped)
            except Exception:
                logger.exception("pruning delivery ids failed")
            await asyncio.sleep(HOUSEKEEPING_EVERY_S)

    async def health(self) -> dict[str, Any]:
        """The database, the vector store and every channel, with an overall ``ok``."""
        report: dict[str, Any] = {"ok": True, "channels": {}}
        try:
            async with self.app.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            report["database"] = "ok"
        except Exception as exc:
            report["ok"] = False
            report["database"] = type(exc).__name__
        report["vectors"] = await vector_health(self.app)
        report["ok"] = report["ok"] and report["vectors"]["ok"]
        try:
            async with self.app.sessions() as session:
                report["outbox"] = await outbox_counts(session)
        except Exception as exc:
            report["outbox"] = type(exc).__name__
        for channel in self.channels:
            try:
                status = await channel.health()
            except Exception as exc:
                status = {"ok": False, "error": type(exc).__name__}
            report["channels"][channel.channel] = status
            report["ok"] = report["ok"] and bool(status.get("ok"))
        return report

    async def start(self) -> None:
        """Start the HTTP server, then each channel; undo everything if one fails."""
        await self.web.start()
        self._housekeeping = asyncio.create_task(self._keep_house())
        try:
            for channel in self.channels:
                await channel.start()
                self._started.append(channel)
                logger.info("%s connected", channel.channel)
        except BaseException:
            await self.stop()
            raise
        # Alerts are planned and the outbox drained in this process too, through the same
        # connected channels.
        shared = self.app.settings.delivery.shared_limits
        self.worker = DeliveryWorker(
            sessions=self.app.sessions,
            senders={c.channel: c for c in self._started},
            settings=self.app.settings.delivery,
            # Several serve or deliver processes keep the platform limits together.
            limits=DatabaseLimits(sessions=self.app.sessions) if shared else None,
        )
        self.background = [
            asyncio.create_task(self.worker.run(self._stop_work), name="delivery"),
            asyncio.create_task(
                keep_planning(
                    self.app.planner(),
                    self._stop_work,
                    every_s=self.app.settings.alerts.plan_every_s,
                ),
                name="alert planning",
            ),
        ]

    async def stop(self) -> None:
        """Stop delivery and planning, the channels (last started first), the HTTP server."""
        self._stop_work.set()
        for task in self.background:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
        self.background = []
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        while self._started:
            channel = self._started.pop()
            try:
                await channel.stop()
            except Exception:
                logger.exception("stopping %s failed", channel.channel)
        await self.web.stop()


async def serve(
    app: App,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Server], None] | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or until ``stop`` is set).

    Raises:
        ConfigurationError: no channel is configured, or one refused its token.
    """
    channels = build_channels(app)
    if not channels:
        raise ConfigurationError(f"{NO_CHANNEL}, or use 'clusterbot chat' for the console")
    stop = stop or asyncio.Event()
    remove_handlers = stop_on_signals(stop)
    server = Server(app, channels)
    waiter: asyncio.Task[bool] | None = None
    try:
        await server.start()
        names = ", ".join(c.channel for c in channels)
        logger.info(
            "serving %s; health check on http://%s:%s/healthz",
            names,
            app.settings.http_host,
            server.web.port,
        )
        if on_ready is not None:
            on_ready(server)
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait(
            [waiter, *server.background], return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            failure = None if task is waiter else task.exception()
            if failure is not None:
                # The worker stops only on a refused token: stop serving, and say why.
                raise failure
    finally:
        if waiter is not None:
            waiter.cancel()
        await server.stop()
        remove_handlers()


__all__ = ["Channel", "Server", "build_channels", "serve", "vector_health"]
