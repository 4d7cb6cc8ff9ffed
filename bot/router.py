"""The router: one entry point for every channel, from an incoming message to a reply."""

from __future__ import annotations

import logging
import secrets

from bot.context import Context
from bot.errors import UserError
from bot.handlers import COMMANDS, FREE_TEXT, Handler
from bot.messages import Incoming, Reply

logger = logging.getLogger(__name__)


class Router:
    """Dispatches commands to their handler and free text to the question handler."""

    def __init__(
        self, *, commands: dict[str, Handler] | None = None, free_text: Handler | None = None
    ) -> None:
        self._commands = commands if commands is not None else COMMANDS
        self._free_text = free_text or FREE_TEXT

    async def dispatch(self, msg: Incoming, ctx: Context) -> Reply:
        """The reply to a message; failures become a short apology with a reference id."""
        handler = self._free_text
        if msg.command is not None:
            found = self._commands.get(msg.command)
            if found is None:
                known = ", ".join(f"/{c}" for c in sorted(self._commands))
                return Reply(f"I don't know /{msg.command}. Commands I know: {known}.")
            handler = found
        try:
            return await handler(msg, ctx)
        except UserError as exc:
            return Reply(str(exc))
        except Exception:
            reference = secrets.token_hex(4)
            logger.exception("handler failed (ref %s, channel %s)", reference, msg.channel)
            return Reply(
                f"Sorry, something went wrong on my side. Reference: {reference}.",
                reference=reference,
            )


__all__ = ["Router"]
