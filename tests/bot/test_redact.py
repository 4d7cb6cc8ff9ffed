"""The log filter that keeps tokens out of logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.redact import MASK, RedactingFilter, install, redact

TG = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"
OTHER_TG = "555000111:BBAnotherBotsTokenNobodyToldUs-xyz12"
SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"
SLACK_APP = "xapp-1-A0123-4567-abcdef0123456789"


def test_known_secrets_are_masked() -> None:
    assert redact("key=s3cr3t-value!", ["s3cr3t-value"]) == f"key={MASK}!"


def test_short_secrets_are_not_used_as_patterns() -> None:
    assert redact("a b c", ["a"]) == "a b c"


def test_longest_secret_first() -> None:
    assert redact("abcdefgh", ["abcdef", "abcdefgh"]) == MASK


@pytest.mark.parametrize(
    "text",
    [
        f"POST http://127.0.0.1:8081/bot{TG}/getUpdates",
        f"POST https://api.telegram.org/bot{OTHER_TG}/sendMessage",
        f"token {OTHER_TG}.",
        f"The token `{OTHER_TG}` was rejected by the server.",
        f"url=https://api.telegram.org/file/bot{OTHER_TG}/photos/1.jpg",
    ],
)
def test_telegram_token_shapes_are_masked_without_being_told(text: str) -> None:
    cleaned = redact(text)
    assert TG not in cleaned
    assert OTHER_TG not in cleaned
    assert "AAFakeToken" not in cleaned
    assert "BBAnother" not in cleaned
    assert "Us-" not in cleaned  # no tail of the token left behind
    assert MASK in cleaned


@pytest.mark.parametrize(
    "token", [SLACK_BOT, SLACK_APP, "xoxp-11-22-33-aabbccddee", "xoxe.xoxp-1-abcdefghij"]
)
def test_slack_token_shapes_are_masked(token: str) -> None:
    cleaned = redact(f"Authorization: Bearer {token} sent")
    assert token not in cleaned
    assert "Bearer [redacted] sent" in cleaned


def test_ordinary_text_is_untouched() -> None:
    text = "Deadline 2026-09-30 12:00:00 for HORIZON-HLTH-2026-01-TOOL-03, ref 1a2b3c4d"
    assert redact(text) == text


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, list[str]]]:
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    logger = logging.getLogger("tests.redact")
    handler = Capture()
    handler.addFilter(RedactingFilter([TG]))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, lines
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_filter_masks_arguments_and_tracebacks(captured: tuple[logging.Logger, list[str]]) -> None:
    logger, lines = captured
    logger.info("calling %s", f"/bot{TG}/getMe")
    try:
        raise RuntimeError(f"The token `{TG}` was rejected")
    except RuntimeError:
        logger.exception("start failed")
    logger.warning("stack", stack_info=True, extra={"token": TG})
    text = "\n".join(lines)
    assert TG not in text
    assert "calling /bot[redacted]/getMe" in text
    assert "RuntimeError: The token `[redacted]` was rejected" in text
    assert len(lines) == 3  # never drops a record


def test_filter_survives_a_broken_format_call(captured: tuple[logging.Logger, list[str]]) -> None:
    logger, lines = captured
    logger.info("two %s %s", TG)  # wrong number of arguments: must not raise into the caller
    logger.info({"token": TG})  # not a string at all
    assert len(lines) == 2
    assert all(TG not in line for line in lines)


def test_install_attaches_to_every_root_handler() -> None:
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        flt = install([TG])
        assert flt in handler.filters
        assert all(flt in h.filters for h in root.handlers)
    finally:
        for h in root.handlers:
            h.removeFilter(flt)
        root.removeHandler(handler)
