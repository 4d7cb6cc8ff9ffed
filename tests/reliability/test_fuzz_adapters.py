"""15 000 fuzzed Telegram updates and Slack payloads against the real adapters and assistant.

Telegram updates reach the real python-telegram-bot ``Application`` the way ``serve`` builds
it: 6 500 by long polling the fake Bot API, 1 000 POSTed to the adapter's webhook route (the
only way a non-object body can arrive). 7 500 Slack payloads are signed HTTP requests to the
real bolt ``AsyncApp`` in HTTP mode. Behind both sits the real assistant over the demo store.
About a quarter of the inputs are intact enough to reach the assistant; the rest are damaged
updates the adapters must drop without harm. Telegram runs with ``serve``'s default of 16
updates at once, so one person's messages often arrive together (the assistant takes them in
turn); Slack posts are sent one at a time.

What must hold: the adapters keep serving (a last well-formed message is still answered), no
error is logged, no command is answered with an apology, and every certainly malformed
command is answered with help (a usage line, an example or a pointer to a command). The
inputs come from one seeded RNG: ``CLUSTERBOT_FUZZ_SEED`` replays a failing run, and
``CLUSTERBOT_FUZZ_TELEGRAM`` / ``_WEBHOOK`` / ``_SLACK`` change the counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.app import App
from bot.handlers.unanswered import PRIVATE_ONLY, STAFF_ONLY
from bot.messages import Incoming, Reply, Responder
from tests.bot.chat import Chat
from tests.factories import make_app
from tests.fakes.slack_api import SlackDriver, running_slack, sign
from tests.fakes.telegram_api import DEFAULT_WEBHOOK_SECRET, TelegramDriver, running_telegram
from tests.reliability.fuzz import MALFORMED, Fuzzed, SlackFuzzer, TelegramFuzzer

SEED = int(os.environ.get("CLUSTERBOT_FUZZ_SEED", "20261128"))
TELEGRAM_POLLED = int(os.environ.get("CLUSTERBOT_FUZZ_TELEGRAM", "6500"))
TELEGRAM_WEBHOOK = int(os.environ.get("CLUSTERBOT_FUZZ_WEBHOOK", "1000"))
SLACK = int(os.environ.get("CLUSTERBOT_FUZZ_SLACK", "7500"))
TG_STAFF, TG_MEMBERS = 5001, (5002, 5003, 5004)
SLACK_STAFF, SLACK_MEMBERS = "U0STAFF", tuple(f"U0M{n:02d}" for n in range(15))
APOLOGY = re.compile(r"Sorry, something went wrong on my side\. Reference: [0-9a-f]{8}\.")
# Help: a usage line, an example, a pointer to a command, or the list of commands.
HELP = re.compile(
    r"(?<![\w/])/[a-z]+\b|\be\.g\.|\blike \d|Commands I know|\bUse /|in a private chat",
    re.IGNORECASE,
)
SENTINEL = "/help"


@dataclass
class Recorder:
    """The real assistant, with every message it was given and what it answered."""

    inner: Responder
    seen: list[tuple[Incoming, Reply | BaseException | None]] = field(default_factory=list)
    pending: int = 0

    @property
    def commands(self) -> frozenset[str]:
        return self.inner.commands

    async def respond(self, msg: Incoming) -> Reply | None:
        self.pending += 1
        try:
            reply = await self.inner.respond(msg)
        except BaseException as exc:
            self.seen.append((msg, exc))
            raise
        finally:
            self.pending -= 1
        self.seen.append((msg, reply))
        return reply


@pytest.fixture
async def app(demo_dir: Path) -> AsyncIterator[App]:
    staff = [f"telegram:{TG_STAFF}", f"slack:{SLACK_STAFF}"]
    built = await make_app(demo_dir, staff=staff)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
def problems(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """Log records so far that mean an unhandled failure: errors (each traceback is one)."""
    caplog.set_level(logging.WARNING)

    def found() -> list[str]:
        return [
            f"{r.name}: {r.getMessage()[:200]}"
            for r in caplog.records
            if r.levelno >= logging.ERROR
        ]

    return found


def _failures(seen: list[tuple[Incoming, Reply | BaseException | None]]) -> dict[str, Any]:
    """What went wrong, by kind; the seed is in every assertion message."""
    bad: dict[str, list[str]] = {"raised": [], "apology": [], "no help": [], "silent": []}
    counts: Counter[str] = Counter()
    for msg, reply in seen:
        what = f"/{msg.command} {msg.args[:80]!r}" if msg.command else repr(msg.tap or msg.text)
        kind = "command" if msg.command is not None else "tap" if msg.tap else "text"
        counts[kind] += 1
        if isinstance(reply, BaseException):
            bad["raised"].append(f"{what}: {reply!r}")
        elif reply is None:
            counts["redelivered"] += 1
        elif APOLOGY.search(reply.text):
            counts[f"apology to a {kind}"] += 1
            bad["apology"].append(what)
        elif not reply.text.strip() and not reply.attachments:
            bad["silent"].append(what)
    return {"bad": {k: v for k, v in bad.items() if v}, "counts": counts}


def _check_help(
    fuzzed: list[Fuzzed], seen: list[tuple[Incoming, Reply | BaseException | None]]
) -> list[str]:
    """Malformed commands (by their text) whose answer holds no help."""
    wanted = {_command_text(f) for f in fuzzed if f.malformed_command}
    missing = []
    answered = 0
    for msg, reply in seen:
        if msg.command is None or msg.text not in wanted or not isinstance(reply, Reply):
            continue
        answered += 1
        if not (HELP.search(reply.text) or reply.text in (STAFF_ONLY, PRIVATE_ONLY)):
            missing.append(f"{msg.text[:80]!r} -> {reply.text[:120]!r}")
    assert answered > 0.5 * sum(f.malformed_command for f in fuzzed), "oracle saw too little"
    return missing


def _command_text(f: Fuzzed) -> str:
    if f.kind == "update":
        text = str(f.payload["message"]["text"]).strip()
    else:
        text = str(f.payload.get("text") or f.payload.get("event", {}).get("text", "")).strip()
        if not text.startswith("/"):
            text = "/" + text
    return text.replace("@clusterbot_test_bot", "")


async def _drained(recorder: Recorder, done: Any, *, within: float = 240.0) -> None:
    """Wait until ``done()`` holds and no message is being answered, twice in a row.

    The 6,500 polled updates take about 40 s on a quiet 2-core machine and well over a
    minute beside the other test run; ``within`` only catches an adapter that stopped.
    """
    calm = 0
    async with asyncio.timeout(within):
        while calm < 2:
            await asyncio.sleep(0.001)
            calm = calm + 1 if done() and recorder.pending == 0 else 0


async def _poll_telegram(
    driver: TelegramDriver, recorder: Recorder, rng: random.Random
) -> list[Fuzzed]:
    """Queue fuzzed updates at the fake Bot API; the adapter long-polls them in batches."""
    fuzzer = TelegramFuzzer(rng, users=[TG_STAFF, *TG_MEMBERS], bot_username=driver.bot_username)
    items = [fuzzer.next() for _ in range(TELEGRAM_POLLED)]
    fake = driver.fake
    for item in items:
        if isinstance(item.payload, dict):  # getUpdates can only carry objects
            with contextlib.suppress(LookupError, TypeError, ValueError):
                fake.enqueue_update(item.payload)  # queued before the fake indexes its chats
    application = driver.adapter._app
    assert application is not None
    await _drained(recorder, lambda: not fake._queue and application.update_queue.empty())
    return items


async def _post_telegram(
    driver: TelegramDriver, recorder: Recorder, rng: random.Random
) -> list[Fuzzed]:
    """POST fuzzed updates (any JSON, even non-objects) to the adapter's webhook route."""
    fuzzer = TelegramFuzzer(rng, users=[TG_STAFF, *TG_MEMBERS], bot_username=driver.bot_username)
    items = [fuzzer.next() for _ in range(TELEGRAM_WEBHOOK)]
    url = driver.adapter._settings.telegram_webhook_url
    assert url is not None
    headers = {"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET}
    statuses: Counter[int] = Counter()
    async with aiohttp.ClientSession() as http:
        for n, item in enumerate(items):
            payload = item.payload
            if isinstance(payload, dict):
                payload = {"update_id": 900_000 + n, **payload}
            body = json.dumps(payload).encode("utf-8", "surrogatepass")
            async with http.post(url, data=body, headers=headers) as response:
                statuses[response.status] += 1
            if n % 50 == 0:  # keep the adapter's queue short, like Telegram's one-by-one pushes
                await _drained(recorder, lambda: recorder.pending == 0)
    assert set(statuses) <= {200, 400}, f"seed {SEED}: webhook answered {statuses}"
    application = driver.adapter._app
    assert application is not None
    await _drained(recorder, application.update_queue.empty)
    return items


async def _post_slack(driver: SlackDriver, recorder: Recorder, rng: random.Random) -> list[Fuzzed]:
    """Signed requests to the bolt app in HTTP mode: slash commands, events, buttons, junk."""
    fake = driver.fake
    fuzzer = SlackFuzzer(
        rng,
        users=[SLACK_STAFF, *SLACK_MEMBERS],
        team_id=fake.team_id,
        response_url=fake.response_url,
    )
    items = [fuzzer.next() for _ in range(SLACK)]
    statuses: Counter[int] = Counter()
    server_errors: list[str] = []
    batch: set[str] = set()
    for n, item in enumerate(items):
        if item.kind == "raw":
            body = item.payload
            ctype = rng.choice(("application/json", "application/x-www-form-urlencoded"))
        elif item.kind == "events_api":
            body = json.dumps(item.payload).encode("utf-8", "surrogatepass")
            ctype = "application/json"
        elif item.kind == "slash_commands":
            body = urlencode(item.payload, errors="surrogatepass").encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            payload = json.dumps(item.payload)
            body = urlencode({"payload": payload}, errors="surrogatepass").encode()
            ctype = "application/x-www-form-urlencoded"
        headers = {"Content-Type": ctype, **sign(body, driver.signing_secret)}
        status, text = await driver.post_raw(body, headers)
        statuses[status] += 1
        if status >= 500:
            server_errors.append(f"{body[:300]!r} -> {status} {text[:100]}")
        # bolt answers in the background. A person's messages are not answered side by side:
        # this test is about input, and two at once from one person can race in the database.
        sender = _slack_sender(item)
        if sender in batch or len(batch) >= 8:
            await _drained(recorder, lambda: _bolt_idle(driver))
            batch.clear()
        batch.add(sender or f"anonymous{n}")
    driver.responses.clear()
    assert not server_errors, f"seed {SEED}: slack answered {statuses}: {server_errors[:5]}"
    await _drained(recorder, lambda: _bolt_idle(driver))
    return items


def _bolt_idle(driver: SlackDriver) -> bool:
    """No Slack listener is running: bolt starts one task per request, right after the ack."""
    if driver.adapter._inflight:
        return False
    return not any(
        getattr(task.get_coro(), "__name__", "") == "run_ack_function_asynchronously"
        for task in asyncio.all_tasks()
        if not task.done()
    )


def _slack_sender(item: Fuzzed) -> str | None:
    payload = item.payload
    if not isinstance(payload, dict):
        return None
    user = payload.get("user_id") or payload.get("user")
    event = payload.get("event")
    if isinstance(event, dict):
        user = event.get("user")
    if isinstance(user, dict):
        user = user.get("id")
    return str(user)


async def test_fuzzed_telegram_and_slack_never_crash_and_commands_get_help(
    app: App, problems: Callable[[], list[str]]
) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    recorder = Recorder(app.assistant)
    fuzzed: list[Fuzzed] = []
    async with running_telegram(recorder) as driver:
        fuzzed += await _poll_telegram(driver, recorder, rng)
        sent = await driver.say(str(TG_MEMBERS[0]), SENTINEL, expect=1)
        assert "/calls" in sent[-1].text, f"seed {SEED}: telegram polling stopped answering"
    async with running_telegram(recorder, telegram_mode="webhook") as driver:
        fuzzed += await _post_telegram(driver, recorder, rng)
        driver.fake.enqueue_update({"update_id": 2_000_000})  # past the ids already answered
        sent = await driver.say(str(TG_MEMBERS[1]), SENTINEL, expect=1)
        assert "/calls" in sent[-1].text, f"seed {SEED}: the telegram webhook stopped answering"
    async with running_slack(recorder) as slack:
        fuzzed += await _post_slack(slack, recorder, rng)
        answered = await slack.say(SLACK_MEMBERS[0], SENTINEL, expect=1)
        assert "/calls" in answered[-1].text, f"seed {SEED}: slack stopped answering"
    report = _failures(recorder.seen)
    print(f"seed {SEED}", report["counts"], f"{time.monotonic() - started:.1f}s")
    assert not report["bad"], f"seed {SEED}: {json.dumps(report['bad'], indent=1)[:4000]}"
    assert not problems(), f"seed {SEED}: errors logged: {problems()[:20]}"
    missing = _check_help(fuzzed, recorder.seen)
    assert not missing, f"seed {SEED}: malformed commands without help: {missing[:30]}"


# -- what the fuzzer found, pinned down --------------------------------------------------------


async def test_each_malformed_staff_command_gets_help(app: App) -> None:
    staff = Chat(app.assistant, user=str(TG_STAFF), chat=str(TG_STAFF), channel="telegram")
    numbers = ("/answer 999999999999999999999999 text", "/attendees 99999999999999999999")
    for text in (*(t for t in MALFORMED if "\x00" not in t), *numbers):
        reply = await staff.say(text)
        assert not APOLOGY.search(reply.text), f"{text!r} -> {reply.text!r}"
        assert HELP.search(reply.text), f"{text!r} -> {reply.text!r}"


async def test_polling_goes_past_an_update_the_library_cannot_read(app: App) -> None:
    async with running_telegram(app.assistant) as driver:
        # A callback query without its required fields: python-telegram-bot cannot parse it,
        # and used to fail (and refetch) the whole batch forever.
        driver.fake.enqueue_update({"callback_query": {"id": "1", "data": "x"}})
        driver.fake.enqueue_update({"message": {"message_id": 1, "from": {"id": [1]}}})
        [sent] = await driver.say(str(TG_MEMBERS[0]), "/help")
        assert "/calls" in sent.text


async def test_webhook_refuses_an_update_with_fields_of_the_wrong_type(app: App) -> None:
    async with running_telegram(app.assistant, telegram_mode="webhook") as driver:
        url = driver.adapter._settings.telegram_webhook_url
        assert url is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": DEFAULT_WEBHOOK_SECRET}
        update = TelegramFuzzer(random.Random(1), users=[1], bot_username="b").message("/help")
        update["message"]["from"]["id"] = {"nested": "junk"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json={"update_id": 5, **update}, headers=headers) as response,
        ):
            assert response.status == 400
        [sent] = await driver.say(str(TG_MEMBERS[0]), "/help")
        assert "/calls" in sent.text


async def test_slack_refuses_payloads_bolt_cannot_match(
    app: App, problems: Callable[[], list[str]]
) -> None:
    payloads: list[dict[str, Any]] = [
        {"type": "block_actions", "actions": 0.5},
        {"type": "block_actions", "actions": [{"action_id": "fb:0"}], "response_url": "0"},
        {"type": "event_callback", "event": {"type": {}, "user": "U1", "channel": "D1"}},
        {"command": "/cluster", "text": "help", "user_id": "U1", "channel_id": "D1"},
    ]
    async with running_slack(app.assistant) as slack:
        for payload in payloads:
            if "command" in payload:
                body = urlencode(payload).encode()
            else:
                body = urlencode({"payload": json.dumps(payload)}).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
            status, _ = await slack.post_raw(body, headers)
            assert status == 400, payload
        [sent] = await slack.say(SLACK_MEMBERS[0], "/help")
        assert "/calls" in sent.text
    assert not problems()
