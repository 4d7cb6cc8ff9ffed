"""What long-running commands (serve, deliver) share.

Stopping cleanly on SIGINT/SIGTERM, and the message for a process with no channel to use.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

NO_CHANNEL = (
    "no chat channel is configured: set CLUSTERBOT_TELEGRAM_TOKEN and/or "
    "CLUSTERBOT_SLACK_BOT_TOKEN (in the environment or a .env file)"
)


def stop_on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set ``stop`` on SIGINT/SIGTERM; returns a function that removes the handlers.

    Outside the main thread (tests) or where signals are not supported, nothing is installed.
    """
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    def remove() -> None:
        for sig in installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)

    return remove


__all__ = ["NO_CHANNEL", "stop_on_signals"]
