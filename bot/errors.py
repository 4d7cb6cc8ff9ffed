"""Errors of the bot, and which of them are safe to show to a person.

Exception tree::

    ClusterbotError
    ├── UserError            message safe to show to the person who asked
    ├── ConfigurationError   a setting is missing or wrong (named in the message)
    └── DeliveryError        a platform refused or failed to take a message

Anything else is a bug or an outage: the router logs it with a traceback and shows a short
apology with a reference id, never the exception text.
"""

from __future__ import annotations


class ClusterbotError(Exception):
    """Base of clusterbot's own errors."""


class UserError(ClusterbotError):
    """Something the person can fix; the message is shown to them as it is."""


class ConfigurationError(ClusterbotError):
    """A setting is missing or invalid; the message names the setting."""


class DeliveryError(ClusterbotError):
    """A chat platform did not take a message.

    ``permanent``: retrying cannot help (the person blocked the bot, the chat is gone).
    ``retry_after``: seconds the platform asked us to wait before the next attempt.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


__all__ = ["ClusterbotError", "ConfigurationError", "DeliveryError", "UserError"]
