"""The bot: channel-neutral messages, the router, handlers, the console channel and the CLI."""

from bot.messages import Button, Incoming, Reply, SourceRef

__all__ = ["Button", "Incoming", "Reply", "SourceRef"]
