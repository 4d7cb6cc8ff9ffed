"""Errors of the bot, and which of them are safe to show to a person.

Exception tree::

    ClusterbotError
    ├── UserError            message safe to show to the person who asked
    └── ConfigurationError   a setting is missing or wrong (named in the message)

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


__all__ = ["ClusterbotError", "ConfigurationError", "UserError"]
