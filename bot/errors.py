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

    ``permanent``: retrying cannot help (the person blocked the bot, the chat is gone, the
    message itself was refused).
    ``unreachable``: the recipient cannot be reached at all (blocked the bot, left, deleted
    chat), so nothing more should be sent to them; implies ``permanent``. Defaults to
    ``permanent``, so a plain permanent refusal means the recipient is gone; a refusal of
    this one message (bad markup, too long) passes ``unreachable=False``.
    ``retry_after``: seconds the platform asked us to wait before the next attempt.
    ``fatal``: the bot itself cannot send on this channel (its token was rejected or
    revoked); the message names the setting to fix. Nothing on this channel can succeed
    until it is fixed.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        fatal: bool = False,
        unreachable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.unreachable = permanent if unreachable is None else unreachable
        self.permanent = permanent or self.unreachable
        self.retry_after = retry_after
        self.fatal = fatal


__all__ = ["ClusterbotError", "ConfigurationError", "DeliveryError", "UserError"]
