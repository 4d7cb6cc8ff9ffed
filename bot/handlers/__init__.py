"""Handlers: one module per command family; commands are wired here and nowhere else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.context import Context
from bot.handlers.ask import handle_question
from bot.handlers.help import handle_help
from bot.messages import Incoming, Reply

Handler = Callable[[Incoming, Context], Awaitable[Reply]]

COMMANDS: dict[str, Handler] = {
    "help": handle_help,
    "start": handle_help,
}
FREE_TEXT: Handler = handle_question

__all__ = ["COMMANDS", "FREE_TEXT", "Handler"]
