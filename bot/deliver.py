"""``clusterbot deliver``: the outbox worker on its own, with the configured channels as senders.

The channels start in send-only mode (no polling, no webhook, no Socket Mode), so a
``clusterbot serve`` process can keep receiving updates with the same tokens. The worker runs
until SIGINT/SIGTERM (or until ``stop`` is set); a clean stop hands back every claimed row
that was not sent. A channel refusing its token stops the process with a message naming the
setting, and the queue stays as it was. Several ``deliver`` processes on one PostgreSQL
database share the queue; with ``CLUSTERBOT_DELIVERY__SHARED_LIMITS=true`` they also share
the platform limits and 429 pauses (bot/shared_limits.py).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from typing import Protocol

from bot.app import App
from bot.delivery import DeliveryWorker
from bot.errors import ConfigurationError
from bot.lifecycle import NO_CHANNEL, stop_on_signals
from bot.messages import Reply
from bot.recorder import DeliveryStats
from bot.shared_limits import DatabaseLimits

logger = logging.getLogger(__name__)


class SendingChannel(Protocol):
    """What ``deliver`` needs of an adapter: start it to send only, send, stop."""

    channel: str

    async def start(self, *, receive: bool = True) -> None:
        """Connect and check the token; ``receive=False`` takes no updates."""
        ...

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Send a reply; returns the platform's message id."""
        ...

    async def stop(self) -> None:
        """Disconnect; safe to call twice."""
        ...


def build_senders(app: App) -> list[SendingChannel]:
    """The adapters of every channel that has a token, to be started send-only."""
    settings = app.settings
    senders: list[SendingChannel] = []
    if settings.telegram_token is not None:
        from bot.telegram import TelegramChannel

        senders.append(
            TelegramChannel(
                settings=settings,
                responder=app.assistant,
                request_timeout=settings.delivery.send_timeout_s or 10.0,
            )
        )
    if settings.slack_bot_token is not None:
        from bot.slack import SlackChannel

        senders.append(
            SlackChannel(
                settings=settings,
                responder=app.assistant,
                timeout=settings.delivery.send_timeout_s or 30.0,
            )
        )
    return senders


async def deliver(
    app: App,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[DeliveryWorker], None] | None = None,
) -> DeliveryStats:
    """Send the outbox through every configured channel until SIGINT/SIGTERM or ``stop``.

    Args:
        app: The built app (settings and database).
        stop: Set to stop (signals set it too).
        on_ready: Called with the worker once the channels are connected.

    Returns:
        What the worker did.

    Raises:
        ConfigurationError: No channel is configured, or one refused its token (at start
            or while sending).
    """
    senders = build_senders(app)
    if not senders:
        raise ConfigurationError(NO_CHANNEL)
    stop = stop or asyncio.Event()
    remove_handlers = stop_on_signals(stop)
    started: list[SendingChannel] = []
    try:
        for sender in senders:
            await sender.start(receive=False)
            started.append(sender)
        # Everything built so far lives as long as the process: keep it out of the garbage
        # collector's full passes, whose pauses would make sends bunch up.
        gc.freeze()
        shared = app.settings.delivery.shared_limits
        worker = DeliveryWorker(
            sessions=app.sessions,
            senders={s.channel: s for s in started},
            settings=app.settings.delivery,
            limits=DatabaseLimits(sessions=app.sessions) if shared else None,
        )
        names = ", ".join(s.channel for s in started)
        logger.info("delivering through %s as %s", names, worker.owner)
        if on_ready is not None:
            on_ready(worker)
        await worker.run(stop)
        return worker.stats
    finally:
        for sender in reversed(started):
            try:
                await sender.stop()
            except Exception:
                logger.exception("stopping %s failed", sender.channel)
        remove_handlers()


__all__ = ["SendingChannel", "build_senders", "deliver"]
