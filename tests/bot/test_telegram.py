"""The Telegram adapter against FakeTelegram: real python-telegram-bot, polling and webhook."""

from __future__ import annotations

import asyncio
import html
import io
import logging
import re
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from telegram import Update

from bot.config import Settings
from bot.errors import ConfigurationError, DeliveryError
from bot.messages import Attachment, Button, Incoming, Reply, SourceRef
from bot.redact import MASK, install
from bot.telegram import WEBHOOK_PATH, TelegramChannel, render, to_incoming
from tests.fakes.telegram_api import (
    DEFAULT_TOKEN,
    DEFAULT_USERNAME,
    DEFAULT_WEBHOOK_SECRET,
    FakeTelegram,
    running_telegram,
)

BOT = DEFAULT_USERNAME
APOLOGY = re.compile(r"^Sorry, something went wrong on my side\. Reference: ([0-9a-f]{8})\.$")
CITATION = SourceRef(
    n=1,
    title="Call <HLTH> & partners",
    source="calls.json",
    url="https://example.org/call?id=1&lang=en",
    section="Eligibility",
    record_id="HORIZON-HLTH-2026-01",
    status_today="closed",
    deadlines=("2026-04-15", "2026-09-30"),
)


class EchoResponder:
    """A small real responder: echoes text, answers taps, can fail or block, dedupes."""

    commands = frozenset({"start", "help", "calls"})

    def __init__(self) -> None:
        self.received: list[Incoming] = []
        self.seen: set[str] = set()
        self.fail = False
        self.gate: asyncio.Event | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.changed = asyncio.Condition()

    async def respond(self, msg: Incoming) -> Reply | None:
        self.received.append(msg)
        if msg.event_id is not None:
            if msg.event_id in self.seen:
                return None
            self.seen.add(msg.event_id)
        if self.fail:
            raise RuntimeError(f"boom while using {DEFAULT_TOKEN}")
        if self.gate is not None:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            async with self.changed:
                self.changed.notify_all()
            try:
                await self.gate.wait()
            finally:
                self.in_flight -= 1
        if msg.tap is not None:
            return Reply(f"tapped {msg.tap.action} {msg.tap.payload}")
        if msg.text == "long":
            paragraphs = [f"Part {i}: " + "R&D <lab> " * 300 for i in range(4)]
            return Reply("\n\n".join(paragraphs), buttons=(Button("More", "more", "p2"),))
        if msg.text == "file":
            ics = Attachment(
                "meeting.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"
            )
            return Reply("Here is the invite.", attachments=(ics,))
        return Reply(
            f"echo: {msg.text}",
            sources=(CITATION,),
            buttons=(Button("Useful", "feedback", "up"), Button("More", "more", "p2")),
        )


@pytest.fixture
def responder() -> EchoResponder:
    return EchoResponder()


def _update(data: dict[str, Any]) -> Update:
    return Update.de_json({"update_id": 7, **data}, None)


def _message(text: str | None, *, chat_type: str = "private", **extra: Any) -> dict[str, Any]:
    chat = {"id": 42 if chat_type == "private" else -100500, "type": chat_type}
    message: dict[str, Any] = {
        "message_id": 3,
        "date": 0,
        "chat": chat,
        "from": {"id": 42, "is_bot": False, "first_name": "Ada", "last_name": "L"},
        **extra,
    }
    if text is not None:
        message["text"] = text
    return message


# -- to_incoming ---------------------------------------------------------------------------------


def test_private_text_becomes_incoming() -> None:
    msg = to_incoming(_update({"message": _message("Hello there")}), bot_username=BOT)
    assert msg is not None
    assert (msg.channel, msg.user_id, msg.chat_id, msg.chat_type) == (
        "telegram",
        "42",
        "42",
        "private",
    )
    assert (msg.text, msg.command, msg.event_id, msg.display_name) == (
        "Hello there",
        None,
        "7",
        "Ada L",
    )


def test_commands_are_parsed_with_and_without_the_bot_name() -> None:
    msg = to_incoming(_update({"message": _message(f"/calls@{BOT} cancer")}), bot_username=BOT)
    assert msg is not None
    assert (msg.command, msg.args) == ("calls", "cancer")
    other = _update({"message": _message("/calls@some_other_bot")})
    assert to_incoming(other, bot_username=BOT) is None


def test_group_needs_a_mention_a_command_or_a_reply() -> None:
    def group(text: str, **extra: Any) -> Incoming | None:
        update = _update({"message": _message(text, chat_type="supergroup", **extra)})
        return to_incoming(update, bot_username=BOT)

    assert group("what are the open calls?") is None
    mentioned = group(f"@{BOT.upper()} what are the open calls?")
    assert mentioned is not None
    assert mentioned.text == "what are the open calls?"
    assert mentioned.chat_type == "group"
    assert group(f"hi @{BOT}, any news?").text == "hi any news?"  # type: ignore[union-attr]
    assert group(f"@{BOT}xyz hello") is None  # a different name that starts the same
    assert group("/help").command == "help"  # type: ignore[union-attr]
    assert group(f"@{BOT} /calls").command == "calls"  # type: ignore[union-attr]
    bot_msg = {"message_id": 2, "date": 0, "chat": {"id": -100500, "type": "supergroup"}}
    bot_msg["from"] = {"id": 1, "is_bot": True, "first_name": "B", "username": BOT}
    assert group("and in Norway?", reply_to_message=bot_msg).text == "and in Norway?"  # type: ignore[union-attr]
    human_msg = {**bot_msg, "from": {"id": 5, "is_bot": False, "first_name": "H"}}
    assert group("and in Norway?", reply_to_message=human_msg) is None


@pytest.mark.parametrize(
    "data",
    [
        {"edited_message": _message("edited")},
        {"channel_post": {**_message("post", chat_type="channel"), "from": None}},
        {"message": _message(None, sticker=None)},
        {"message": {**_message("no sender"), "from": None}},
        {"message": {**_message("bot"), "from": {"id": 9, "is_bot": True, "first_name": "B"}}},
        {"message": _message("in a channel", chat_type="channel")},
        {
            "callback_query": {
                "id": "1",
                "from": {"id": 1, "is_bot": False, "first_name": "A"},
                "chat_instance": "c",
            }
        },
        {
            "callback_query": {
                "id": "1",
                "from": {"id": 1, "is_bot": False, "first_name": "A"},
                "chat_instance": "c",
                "data": "x",
            }
        },
        {
            "poll_answer": {
                "poll_id": "p",
                "option_ids": [0],
                "option_persistent_ids": ["a"],
                "user": {"id": 1, "is_bot": False, "first_name": "A"},
            }
        },
        {"something_new": {"field": 1}},
        {},
    ],
)
def test_other_updates_are_ignored(data: dict[str, Any]) -> None:
    assert to_incoming(_update(data), bot_username=BOT) is None


def test_a_broken_update_object_gives_none_not_an_exception() -> None:
    update = _update({"message": _message("hi")})
    object.__setattr__(update.message, "chat", None)  # what no parser would produce
    assert to_incoming(update, bot_username=BOT) is None


def test_callback_query_becomes_a_tap() -> None:
    query = {
        "id": "99",
        "from": {"id": 42, "is_bot": False, "first_name": "Ada"},
        "chat_instance": "c",
        "data": "feedback|up|extra",
        "message": _message("the answer", chat_type="group"),
    }
    msg = to_incoming(_update({"callback_query": query}), bot_username=BOT)
    assert msg is not None
    assert msg.tap is not None
    assert (msg.tap.action, msg.tap.payload) == ("feedback", "up|extra")
    assert (msg.chat_id, msg.chat_type, msg.event_id) == ("-100500", "group", "7")


# -- render --------------------------------------------------------------------------------------


def test_render_escapes_and_lists_sources() -> None:
    [message] = render(Reply("a < b & <i>c</i>", sources=(CITATION,)))
    assert message.text.startswith("a &lt; b &amp; &lt;i&gt;c&lt;/i&gt;\n\n<b>Sources</b>\n1. ")
    assert (
        '<a href="https://example.org/call?id=1&amp;lang=en">Call &lt;HLTH&gt; &amp; partners</a>'
        in message.text
    )
    assert "Eligibility" in message.text
    assert "HORIZON-HLTH-2026-01" in message.text
    assert "deadlines 2026-04-15, 2026-09-30" in message.text
    assert message.text.endswith("· closed")


def test_render_source_without_url_is_plain() -> None:
    ref = SourceRef(n=2, title="Guide", source="guide.md", url="javascript:alert(1)")
    [message] = render(Reply("x", sources=(ref,)))
    assert message.text.endswith("2. Guide")
    assert "href" not in message.text


def test_render_splits_long_text_without_breaking_entities() -> None:
    text = "\n\n".join([("&<>" * 800).strip(), "x " * 3000, "y" * 9000])
    parts = render(Reply(text, buttons=(Button("Go", "go"),)))
    assert len(parts) > 3
    for part in parts:
        assert 0 < len(part.text) <= 4096
        assert re.fullmatch(r"([^&<>]|&(amp|lt|gt);)*", part.text, re.S), part.text[-20:]
    assert all(p.keyboard is None for p in parts[:-1])
    assert parts[-1].keyboard is not None
    joined = "".join(html.unescape(p.text) for p in parts)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", text)


def test_render_keeps_links_whole_when_splitting() -> None:
    sources = tuple(
        SourceRef(n=i, title=f"Title {i} " * 20, source="s", url=f"https://e.org/{i}")
        for i in range(1, 60)
    )
    parts = render(Reply("intro", sources=sources))
    assert len(parts) > 1
    for part in parts:
        assert len(part.text) <= 4096
        assert part.text.count("<a ") == part.text.count("</a>")


def test_render_buttons_and_attachments() -> None:
    long_payload = "p" * 80
    reply = Reply(
        "Pick one",
        buttons=(
            Button("Yes", "vote", "y"),
            Button("No", "vote", "n"),
            Button("Read the full guidance", "", url="https://example.org/guide"),
            Button("Long", "act", long_payload),
        ),
        attachments=(Attachment("a.ics", b"A"), Attachment("b.pdf", b"B")),
    )
    parts = render(reply)
    assert [p.document.filename if p.document else None for p in parts] == [None, "a.ics", "b.pdf"]
    keyboard = parts[0].keyboard
    assert keyboard is not None
    keys = [key for row in keyboard.inline_keyboard for key in row]
    assert [k.callback_data for k in keys[:2]] == ["vote|y", "vote|n"]
    assert len(keyboard.inline_keyboard[0]) == 2  # short labels share a row
    assert keys[2].url == "https://example.org/guide"
    assert keys[2].callback_data is None
    assert len(str(keys[3].callback_data).encode()) <= 64


def test_render_keyboard_goes_on_a_document_when_there_is_no_text() -> None:
    parts = render(
        Reply("", buttons=(Button("Ok", "ok"),), attachments=(Attachment("a.txt", b"a"),))
    )
    assert len(parts) == 1
    assert parts[0].document is not None
    assert parts[0].keyboard is not None
    assert render(Reply("  ")) == []


# -- polling end to end --------------------------------------------------------------------------


async def test_private_message_is_answered_with_escaped_html(responder: EchoResponder) -> None:
    async with running_telegram(responder) as driver:
        [sent] = await driver.say("1001", "Is R&D <funded>?")
        assert sent.chat_id == "1001"
        assert sent.text.startswith("echo: Is R&amp;D &lt;funded&gt;?")
        assert [label for label, _ in sent.buttons] == ["Useful", "More"]
        [call] = driver.fake.calls("sendMessage")
        assert call.params["parse_mode"] == "HTML"
        assert call.params["chat_id"] == 1001
        [msg] = responder.received
        assert (msg.user_id, msg.chat_type, msg.display_name) == ("1001", "private", "User1001")
        polls = driver.fake.calls("getUpdates")
        assert polls[0].params["allowed_updates"] == ["message", "callback_query"]
        assert not driver.fake.calls("deleteWebhook")[0].params.get("drop_pending_updates")


async def test_citation_is_rendered_in_the_chat(responder: EchoResponder) -> None:
    async with running_telegram(responder) as driver:
        [sent] = await driver.say("1001", "calls?")
        assert "<b>Sources</b>" in sent.text
        assert '<a href="https://example.org/call?id=1&amp;lang=en">' in sent.text
        assert "HORIZON-HLTH-2026-01" in sent.text
        assert "closed" in sent.text


async def test_long_reply_is_split_with_keyboard_on_the_last(responder: EchoResponder) -> None:
    async with running_telegram(responder) as driver:
        sent = await driver.say("1001", "long", expect=2)
        assert len(sent) >= 2
        assert all(len(s.text) <= 4096 for s in sent)
        assert all(s.buttons == [] for s in sent[:-1])
        assert sent[-1].buttons == [("More", "more|p2")]
        assert sent[0].text.startswith("Part 0: R&amp;D &lt;lab&gt;")


async def test_button_tap_is_routed_and_answered(responder: EchoResponder) -> None:
    async with running_telegram(responder) as driver:
        [answer] = await driver.say("1001", "hello")
        [tapped] = await driver.tap("1001", answer, "More")
        assert tapped.text == "tapped more p2"
        [ack] = driver.fake.calls("answerCallbackQuery")
        assert ack.params["callback_query_id"]
        tap = responder.received[-1].tap
        assert tap is not None
        assert (tap.action, tap.payload) == ("more", "p2")


async def test_tap_is_answered_even_without_a_reply(responder: EchoResponder) -> None:
    async with running_telegram(responder) as driver:
        [answer] = await driver.say("1001", "hello")
        await driver.tap("1001", answer, "Useful")
        assert await driver.redeliver_last() == []  # the responder returns None
        assert len(driver.fake.calls("answerCallbackQuery")) == 2


async def test_group_messages_need_a_mention_or_a_command(responder: EchoResponder) -> None:
    async with running_telegram(responder) as driver:
        assert await driver.say("1001", "anyone here?", group=True, expect=0) == []
        [sent] = await driver.say("1001", f"@{driver.bot_username} any calls?", group=True)
        assert sent.chat_id == driver.group_chat_id
        assert sent.text.startswith("echo: any calls?")
        [sent] = await driver.say("1002", "/help", group=True)
        assert sent.text.startswith("echo: /help")
        assert await driver.say("1002", "/help@other_bot", group=True, expect=0) == []
        [reply] = await driver.say("1003", "and for SMEs?", group=True, reply_to=sent)
        assert reply.text.startswith("echo: and for SMEs?")
        assert [m.chat_type for m in responder.received] == ["group"] * 3


async def test_unknown_and_malformed_updates_do_not_stop_the_bot(responder: EchoResponder) -> None:
    user = {"id": 1001, "is_bot": False, "first_name": "A"}
    chat = {"id": 1001, "type": "private"}
    odd: list[dict[str, Any]] = [
        {"edited_message": {"message_id": 1, "date": 0, "chat": chat, "from": user, "text": "x"}},
        {"message": {"message_id": 2, "date": 0, "chat": chat, "from": user, "sticker": None}},
        {"message": {"message_id": 3, "date": 0, "chat": chat, "text": "no sender"}},
        {
            "channel_post": {
                "message_id": 4,
                "date": 0,
                "chat": {"id": -1, "type": "channel"},
                "text": "p",
            }
        },
        {"callback_query": {"id": "5", "from": user, "chat_instance": "c"}},
        {"something_new": {"whatever": [1, 2, 3]}},
    ]
    async with running_telegram(responder) as driver:
        for update in odd:
            assert await driver.send_raw(update) == []
        assert responder.received == []
        assert len(driver.fake.calls("answerCallbackQuery")) == 1  # taps are always answered
        [sent] = await driver.say("1001", "still there?")
        assert sent.text.startswith("echo: still there?")


async def test_redelivered_update_is_answered_once(responder: EchoResponder) -> None:
    async with running_telegram(responder) as driver:
        assert len(await driver.say("1001", "once")) == 1
        assert await driver.redeliver_last() == []
        first, second = responder.received
        assert first.event_id == second.event_id is not None
        assert first.text == second.text == "once"


async def test_failure_apologises_with_a_reference_and_logs_it(
    responder: EchoResponder, caplog: pytest.LogCaptureFixture
) -> None:
    responder.fail = True
    async with running_telegram(responder) as driver:
        with caplog.at_level(logging.ERROR, logger="bot.telegram"):
            [sent] = await driver.say("1001", "break")
        match = APOLOGY.match(sent.text)
        assert match is not None, sent.text
        ref = match.group(1)
        [record] = [r for r in caplog.records if ref in r.getMessage()]
        assert record.exc_info is not None
        assert "RuntimeError" in caplog.text
        assert DEFAULT_TOKEN not in sent.text
        responder.fail = False
        [ok] = await driver.say("1001", "better now?")
        assert ok.text.startswith("echo:")


async def test_a_failed_send_goes_to_the_error_handler(
    responder: EchoResponder, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_telegram(responder) as driver:
        driver.fake.fail_next("sendMessage", status=500)
        with caplog.at_level(logging.ERROR, logger="bot.telegram"):
            [sent] = await driver.say("1001", "hello")
        match = APOLOGY.match(sent.text)
        assert match is not None
        assert any(match.group(1) in r.getMessage() and r.exc_info for r in caplog.records)


async def test_no_token_in_logs_or_replies(responder: EchoResponder) -> None:
    settings = Settings(telegram_token=SecretStr(DEFAULT_TOKEN))
    raw: list[str] = []
    clean: list[str] = []

    class Capture(logging.Handler):
        def __init__(self, sink: list[str]) -> None:
            super().__init__(logging.DEBUG)
            self.sink = sink
            self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

        def emit(self, record: logging.LogRecord) -> None:
            self.sink.append(self.format(record))

    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    unfiltered, filtered = Capture(raw), Capture(clean)
    old_levels = root.level, httpx_logger.level
    root.addHandler(filtered)
    flt = install(settings.secrets())  # what the CLI does: every root handler gets the filter
    httpx_logger.addHandler(unfiltered)  # runs before the record reaches the root handlers
    root.setLevel(logging.DEBUG)
    httpx_logger.setLevel(logging.INFO)
    try:
        async with running_telegram(responder) as driver:
            await driver.say("1001", "hello")
            responder.fail = True
            [apology] = await driver.say("1001", "break")
            responder.fail = False
            driver.fake.fail_next("sendMessage", status=500)
            await driver.say("1001", "hello again")
    finally:
        root.setLevel(old_levels[0])
        httpx_logger.setLevel(old_levels[1])
        for handler in root.handlers:
            handler.removeFilter(flt)
        httpx_logger.removeHandler(unfiltered)
        root.removeHandler(filtered)
    raw_text, clean_text = "\n".join(raw), "\n".join(clean)
    assert DEFAULT_TOKEN in raw_text  # httpx logs request URLs, the test is meaningful
    assert "HTTP Request" in clean_text
    assert "Traceback" in clean_text
    assert MASK in clean_text
    assert DEFAULT_TOKEN not in clean_text
    assert DEFAULT_TOKEN.split(":")[1] not in clean_text
    assert APOLOGY.match(apology.text)
    assert DEFAULT_TOKEN not in apology.text


async def test_attachments_are_sent_as_documents(responder: EchoResponder) -> None:
    async with running_telegram(responder) as driver:
        text, document = await driver.say("1001", "file", expect=2)
        assert text.text == "Here is the invite."
        assert document.files == [("meeting.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")]
        [call] = driver.fake.calls("sendDocument")
        assert call.params["chat_id"] == 1001
        assert call.files["document"][0] == "meeting.ics"


async def test_concurrency_is_bounded(responder: EchoResponder) -> None:
    responder.gate = asyncio.Event()
    async with running_telegram(responder, telegram_concurrent_updates=2) as driver:
        for user in ("1", "2", "3", "4", "5"):
            assert await driver.say(user, "wait", expect=0) == []
        async with asyncio.timeout(10), responder.changed:
            await responder.changed.wait_for(lambda: responder.in_flight >= 2)
        await asyncio.sleep(0.2)  # give a third handler every chance to start
        assert responder.in_flight == 2
        responder.gate.set()
        await driver.fake.wait_for_sent(5)
        assert responder.max_in_flight == 2


async def test_stop_is_idempotent_and_health_follows(responder: EchoResponder) -> None:
    async with running_telegram(responder) as driver:
        assert await driver.adapter.health() == {
            "ok": True,
            "mode": "polling",
            "username": DEFAULT_USERNAME,
        }
        assert driver.adapter.routes() == []
        await driver.adapter.stop()
        await driver.adapter.stop()
        assert (await driver.adapter.health())["ok"] is False
        with pytest.raises(RuntimeError):
            await driver.adapter.send("1001", Reply("hi"))


# -- send(): errors ------------------------------------------------------------------------------


@pytest.fixture
async def polling(responder: EchoResponder) -> Any:
    async with running_telegram(responder, request_timeout=0.5) as driver:
        yield driver


async def test_send_returns_the_first_message_id(polling: Any) -> None:
    first = await polling.adapter.send("1001", Reply("x " * 3000))
    assert first == polling.fake.sent[0].message_id
    assert len(polling.fake.sent) == 2


async def test_send_maps_429_to_retry_after(polling: Any) -> None:
    polling.fake.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(DeliveryError) as info:
        await polling.adapter.send("1001", Reply("hi"))
    assert info.value.permanent is False
    assert info.value.retry_after == 7


@pytest.mark.parametrize(
    ("status", "description"),
    [(403, None), (400, "Bad Request: chat not found"), (403, "Forbidden: user is deactivated")],
)
async def test_send_maps_refusals_to_permanent(
    polling: Any, status: int, description: str | None
) -> None:
    polling.fake.fail_next("sendMessage", status=status, description=description)
    with pytest.raises(DeliveryError) as info:
        await polling.adapter.send("1001", Reply("hi"))
    assert info.value.permanent is True
    assert info.value.retry_after is None
    assert DEFAULT_TOKEN not in str(info.value)


async def test_blocked_user_is_permanent(polling: Any) -> None:
    polling.fake.block("1001")
    with pytest.raises(DeliveryError) as info:
        await polling.adapter.send("1001", Reply("hi"))
    assert info.value.permanent is True
    assert "blocked" in str(info.value)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_send_maps_server_errors_to_transient(polling: Any, status: int) -> None:
    polling.fake.fail_next("sendMessage", status=status)
    with pytest.raises(DeliveryError) as info:
        await polling.adapter.send("1001", Reply("hi"))
    assert info.value.permanent is False
    assert info.value.retry_after is None


async def test_send_maps_a_stalled_call_to_transient(polling: Any) -> None:
    polling.fake.stall_next("sendMessage", 3.0)
    with pytest.raises(DeliveryError) as info:
        await polling.adapter.send("1001", Reply("hi"))
    assert info.value.permanent is False
    assert "TimedOut" in str(info.value)
    assert polling.fake.sent == []


async def test_send_maps_a_failed_document_upload(polling: Any) -> None:
    polling.fake.fail_next("sendDocument", status=429, retry_after=2)
    reply = Reply("see file", attachments=(Attachment("x.txt", b"x"),))
    with pytest.raises(DeliveryError) as info:
        await polling.adapter.send("1001", reply)
    assert info.value.retry_after == 2


# -- configuration -------------------------------------------------------------------------------


async def test_invalid_token_is_a_configuration_error(responder: EchoResponder) -> None:
    bad = "987654321:AAWrongTokenWrongTokenWrongToken_xyz"
    async with FakeTelegram() as fake:
        settings = Settings(telegram_token=SecretStr(bad), telegram_api_url=fake.base_url)
        channel = TelegramChannel(settings=settings, responder=responder)
        with pytest.raises(ConfigurationError) as info:
            await channel.start()
        assert "CLUSTERBOT_TELEGRAM_TOKEN" in str(info.value)
        assert bad not in str(info.value)
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__
        assert fake.calls("getMe")[0].status == 401
        await channel.stop()


async def test_token_rejected_with_404_is_a_configuration_error(responder: EchoResponder) -> None:
    async with FakeTelegram() as fake:
        fake.fail_next("getMe", status=404)
        settings = Settings(telegram_token=SecretStr(fake.token), telegram_api_url=fake.base_url)
        with pytest.raises(ConfigurationError, match="CLUSTERBOT_TELEGRAM_TOKEN"):
            await TelegramChannel(settings=settings, responder=responder).start()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({}, "CLUSTERBOT_TELEGRAM_TOKEN"),
        ({"telegram_token": "  "}, "CLUSTERBOT_TELEGRAM_TOKEN"),
        (
            {"telegram_token": DEFAULT_TOKEN, "telegram_api_url": "http://127.0.0.1:9/api"},
            "CLUSTERBOT_TELEGRAM_API_URL",
        ),
        (
            {"telegram_token": DEFAULT_TOKEN, "telegram_mode": "webhook"},
            "CLUSTERBOT_TELEGRAM_WEBHOOK_URL",
        ),
        (
            {
                "telegram_token": DEFAULT_TOKEN,
                "telegram_mode": "webhook",
                "telegram_webhook_url": "https://x.org/h",
            },
            "CLUSTERBOT_TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            {
                "telegram_token": DEFAULT_TOKEN,
                "telegram_mode": "webhook",
                "telegram_webhook_url": "https://x.org/h",
                "telegram_webhook_secret": "spaces are not allowed",
            },
            "CLUSTERBOT_TELEGRAM_WEBHOOK_SECRET",
        ),
    ],
)
async def test_missing_settings_are_named(
    responder: EchoResponder, overrides: dict[str, Any], named: str
) -> None:
    channel = TelegramChannel(settings=Settings(**overrides), responder=responder)
    with pytest.raises(ConfigurationError, match=named) as info:
        await channel.start()
    assert DEFAULT_TOKEN not in str(info.value)


async def test_unreachable_api_is_a_configuration_error(responder: EchoResponder) -> None:
    async with FakeTelegram() as fake:
        url = fake.base_url
    settings = Settings(telegram_token=SecretStr(DEFAULT_TOKEN), telegram_api_url=url)
    channel = TelegramChannel(settings=settings, responder=responder, request_timeout=1.0)
    with pytest.raises(ConfigurationError, match="CLUSTERBOT_TELEGRAM_API_URL") as info:
        await channel.start()
    assert DEFAULT_TOKEN not in str(info.value)


# -- webhook -------------------------------------------------------------------------------------


@pytest.fixture
async def webhook(responder: EchoResponder) -> Any:
    async with running_telegram(responder, telegram_mode="webhook") as driver:
        yield driver


async def test_webhook_mode_registers_and_answers(webhook: Any, responder: EchoResponder) -> None:
    [call] = webhook.fake.calls("setWebhook")
    assert call.params["secret_token"] == DEFAULT_WEBHOOK_SECRET
    assert call.params["url"].endswith(WEBHOOK_PATH)
    assert call.params["allowed_updates"] == ["message", "callback_query"]
    assert webhook.fake.calls("getUpdates") == []
    [sent] = await webhook.say("1001", "via webhook")
    assert sent.text.startswith("echo: via webhook")
    [tapped] = await webhook.tap("1001", sent, "Useful")
    assert tapped.text == "tapped feedback up"
    assert [status for _, status in webhook.fake.webhook.pushed] == [200, 200]
    assert await webhook.redeliver_last() == []
    assert responder.received[-1].event_id == responder.received[-2].event_id
    health = await webhook.adapter.health()
    assert (health["ok"], health["mode"]) == (True, "webhook")


def _hook_url(driver: Any) -> str:
    return str(driver.fake.webhook.url)


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b'{"update_id": 1}', 403),
        ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, b'{"update_id": 1}', 403),
        (
            {"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET + "x"},
            b'{"update_id": 1}',
            403,
        ),
        ({"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET}, b"not json", 400),
        ({"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET}, b"[1, 2]", 400),
        ({"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET}, b'{"message": {}}', 400),
        (
            {"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET},
            b'{"update_id": 5, "message": "x"}',
            400,
        ),
        (
            {"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET},
            b'{"update_id": 5, "poll": {"x": 1}}',
            400,
        ),
        (
            {"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET},
            b'{"update_id": 5, "new_kind": {}}',
            200,
        ),
    ],
)
async def test_webhook_rejects_bad_requests(
    webhook: Any, responder: EchoResponder, headers: dict[str, str], body: bytes, status: int
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(_hook_url(webhook), data=body, headers=headers) as response,
    ):
        assert response.status == status
    [sent] = await webhook.say("1001", "still fine")
    assert sent.text.startswith("echo: still fine")
    assert [m.text for m in responder.received] == ["still fine"]


async def test_webhook_rejects_oversize_bodies(webhook: Any) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET}
    body = b'{"update_id": 1, "pad": "' + b"x" * (1024 * 1024) + b'"}'

    async def chunks() -> Any:
        for i in range(0, len(body), 100_000):
            yield body[i : i + 100_000]

    async with aiohttp.ClientSession() as session:
        async with session.post(
            _hook_url(webhook), data=io.BytesIO(body), headers=headers
        ) as response:
            assert response.status == 413
        async with session.post(_hook_url(webhook), data=chunks(), headers=headers) as response:
            assert response.status == 413  # chunked: no Content-Length to trust


async def test_webhook_route_with_aiohttp_test_client(responder: EchoResponder) -> None:
    async with FakeTelegram() as fake:
        settings = Settings(
            telegram_token=SecretStr(fake.token),
            telegram_api_url=fake.base_url,
            telegram_mode="webhook",
            telegram_webhook_url="https://bot.example.org/telegram/webhook",
            telegram_webhook_secret=SecretStr("s3cret"),
        )
        channel = TelegramChannel(settings=settings, responder=responder)
        app = web.Application()
        app.add_routes(channel.routes())
        async with TestClient(TestServer(app)) as client:
            update = {
                "update_id": 77,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 5, "type": "private"},
                    "from": {"id": 5, "is_bot": False, "first_name": "E"},
                    "text": "early",
                },
            }
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            response = await client.post(WEBHOOK_PATH, json=update, headers=headers)
            assert response.status == 503  # not started yet: Telegram will retry
            await channel.start()
            try:
                response = await client.post(WEBHOOK_PATH, json=update, headers=headers)
                assert response.status == 200
                await fake.wait_for_sent(1)
                assert fake.sent[0].text.startswith("echo: early")
                assert responder.received[0].event_id == "77"
            finally:
                await channel.stop()


async def test_harness_accepts_settings_and_fills_in_the_webhook(responder: EchoResponder) -> None:
    base = Settings(telegram_mode="webhook", staff=["telegram:1001"])
    async with running_telegram(responder, settings=base) as driver:
        assert driver.adapter.routes()
        [sent] = await driver.say("1001", "hi")
        assert sent.text.startswith("echo: hi")


# -- the fake itself -----------------------------------------------------------------------------


async def test_fake_answers_like_telegram() -> None:
    async with FakeTelegram() as fake, aiohttp.ClientSession() as session:
        async with session.post(f"{fake.base_url}wrong:token/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with session.post(f"{fake.base_url}{fake.token}/noSuchMethod") as response:
            assert response.status == 404
            assert (await response.json())["ok"] is False
        fake.fail_next("sendMessage", status=429, retry_after=5)
        url = f"{fake.base_url}{fake.token}/sendMessage"
        async with session.post(url, data={"chat_id": "7", "text": "12"}) as response:
            assert response.status == 429
            assert (await response.json())["parameters"] == {"retry_after": 5}
        async with session.post(url, data={"chat_id": "7", "text": "12"}) as response:
            first = (await response.json())["result"]
        async with session.post(url, json={"chat_id": 7, "text": "again"}) as response:
            second = (await response.json())["result"]
        assert second["message_id"] > first["message_id"]
        assert [c.params["text"] for c in fake.calls("sendMessage")] == ["12", "12", "again"]
        assert [c.status for c in fake.calls()] == [401, 404, 429, 200, 200]
        assert [s.text for s in fake.sent] == ["12", "again"]


async def test_fake_get_updates_long_polls_and_honours_offset() -> None:
    async with FakeTelegram() as fake, aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{fake.token}/getUpdates"
        first = fake.enqueue_update({"message": {"text": "a"}})
        second = fake.enqueue_update({"message": {"text": "b"}})
        async with session.post(url, data={"timeout": "0"}) as response:
            got = [u["update_id"] for u in (await response.json())["result"]]
        assert got == [first, second]
        async with session.post(url, data={"offset": str(second), "timeout": "0"}) as response:
            got = [u["update_id"] for u in (await response.json())["result"]]
        assert got == [second]  # not yet confirmed
        poll = asyncio.ensure_future(
            session.post(url, data={"offset": str(second + 1), "timeout": "5"})
        )
        await fake.wait_for_calls("getUpdates", 3)
        assert fake.calls("getUpdates")[-1].status == 0  # still waiting
        third = fake.enqueue_update({"message": {"text": "c"}})
        async with await poll as response:
            got = [u["update_id"] for u in (await response.json())["result"]]
        assert got == [third]
