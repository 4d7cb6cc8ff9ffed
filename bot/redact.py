"""Keep secrets and personal data out of logs: a filter on every handler of the root logger.

HTTP client libraries log request URLs, and Telegram puts the bot token in the URL path, so
redaction happens on the formatted record rather than trusting each call site. Some libraries
log whole payloads at debug level (python-telegram-bot every update and API answer, bolt and
slack_sdk request bodies, SQLAlchemy and aiosqlite statement parameters and rows): people's
names, messages and profiles. No pattern can mask those, so their records below a floor are
dropped, even with ``-vv``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "[redacted]"
# Loggers that put payloads (names, message text, profile fields) into records below a level.
PAYLOAD_LOGGERS: dict[str, int] = {
    "telegram": logging.INFO,
    "slack_bolt": logging.WARNING,
    "slack_sdk": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
    "aiosqlite": logging.INFO,
    "asyncpg": logging.INFO,
}
# Shapes of secrets we may not have been told about (another bot's token in a traceback).
# Telegram tokens sit right after "bot" in API URLs (no word boundary there), and may end in
# "-" (no word boundary after it), so the edges are spelled out instead of using \b.
_PATTERNS = (
    re.compile(r"(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])"),  # Telegram bot token
    re.compile(r"\b(?:xoxe\.)?xox[abposre]-[A-Za-z0-9-]{8,}"),  # Slack bot/user/refresh tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"),  # Slack app-level token
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """The text with every known secret and every token-shaped string masked."""
    for secret in sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop a payload-carrying library record; mask any other record in place."""
        if record.levelno < _floor(record.name):
            return False
        try:
            message = record.getMessage()
        except Exception:  # a broken format call must not raise into the code that logged
            message = f"{record.msg!s} (unformattable arguments: {record.args!r})"
        cleaned = redact(message, self._secrets)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        record.msg, record.args = cleaned, None
        return True


def _floor(name: str) -> int:
    for prefix, level in PAYLOAD_LOGGERS.items():
        if name == prefix or name.startswith(prefix + "."):
            return level
    return logging.NOTSET


def install(secrets: Iterable[str] = ()) -> RedactingFilter:
    """Attach one redacting filter to every handler of the root logger."""
    flt = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(flt)
    return flt


__all__ = ["MASK", "PAYLOAD_LOGGERS", "RedactingFilter", "install", "redact"]
