"""Tokens and personal data never reach a log record, even with every library at DEBUG.

One realistic session against the fake Telegram and Slack APIs, logged the way ``clusterbot
-vv serve`` logs (root at DEBUG, the redacting filter installed with the settings' secrets):
a token refused at startup, people onboarding with their name, e-mail address and phone
number in their answers, questions, /mydata, /forget, a broadcast and its delivery through
403 and 429 answers. Then every record is searched (formatted message, arguments, traceback)
for each token, the e-mail address, the phone number, the names and the question text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.config import DeliverySettings, Settings
from bot.delivery import DeliveryWorker
from bot.errors import ConfigurationError
from bot.redact import install
from bot.slack import SlackChannel
from bot.telegram import TelegramChannel
from tests.factories import make_app
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack, running_slack
from tests.fakes.telegram_api import (
    DEFAULT_TOKEN,
    DEFAULT_WEBHOOK_SECRET,
    FakeTelegram,
    Sent,
    TelegramDriver,
    running_telegram,
)

STAFF = "5101"
MEMBER = "5102"
OTHER = "5103"
FIRST, LAST = "Ottilie", "Brennecke"
EMAIL = "ottilie.brennecke@acme-dx.example"
PHONE = "+49 621 555 0199"
QUESTION = "Which voucher pays for a feasibility study of our quetiapine sensor?"
SLACK_QUESTION = "Is there a grant for sepsis biomarkers in Mannheim for Brennecke labs?"
REFUSED_TELEGRAM = "987654321:AAHrefusedTokenForTheLogHygieneTest_xyz"
REFUSED_SLACK = "xoxb-9999-8888-refusedbottoken"
CHROMA_TOKEN = "chroma-token-for-the-log-hygiene-test"
LIBRARIES = ("httpx", "httpcore", "telegram", "slack_bolt", "slack_sdk", "aiohttp", "sqlalchemy")
SECRETS = (
    DEFAULT_TOKEN,
    DEFAULT_WEBHOOK_SECRET,
    BOT_TOKEN,
    APP_TOKEN,
    SIGNING_SECRET,
    REFUSED_TELEGRAM,
    REFUSED_SLACK,
    CHROMA_TOKEN,
)
PERSONAL = (
    FIRST,
    LAST,
    EMAIL,
    PHONE,
    PHONE.replace(" ", ""),
    "quetiapine sensor",
    "sepsis biomarkers in Mannheim",
)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the test, logged as ``clusterbot -vv`` logs (DEBUG, filter installed)."""
    caplog.set_level(logging.DEBUG)
    levels = {name: logging.getLogger(name).level for name in LIBRARIES}
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG)
    flt = install(SECRETS)
    try:
        yield caplog
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(flt)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
async def app(demo_dir: Path) -> Any:
    built = await make_app(demo_dir, staff=[f"telegram:{STAFF}"])
    try:
        yield built
    finally:
        await built.close()


def _texts(record: logging.LogRecord) -> list[str]:
    texts = [str(record.msg), repr(record.args), record.exc_text or "", record.stack_info or ""]
    if record.exc_info and record.exc_info[1] is not None:
        texts.append(logging.Formatter().formatException(record.exc_info))
    return texts


def _named(driver: TelegramDriver) -> None:
    """Make the driver send the member with a real-looking name."""
    plain_user = driver.user

    def user(user_id: str) -> dict[str, Any]:
        found = plain_user(user_id)
        if user_id == MEMBER:
            found.update(first_name=FIRST, last_name=LAST, username="ottilie_b")
        return found

    driver.user = user  # type: ignore[method-assign]


def _tap_target(sents: list[Sent], label: str) -> Sent:
    return next(s for s in reversed(sents) if any(label in lab for lab, _ in s.buttons))


def _label(sent: Sent, label: str) -> str:
    return next(lab for lab, _ in sent.buttons if label in lab)


async def _refused_tokens() -> None:
    async with FakeTelegram() as fake:
        channel = TelegramChannel(
            settings=Settings(telegram_token=REFUSED_TELEGRAM, telegram_api_url=fake.base_url),
            responder=_Silent(),
        )
        with pytest.raises(ConfigurationError, match="CLUSTERBOT_TELEGRAM_TOKEN"):
            await channel.start()
    async with FakeSlack() as slack:
        settings = Settings(slack_bot_token=REFUSED_SLACK, slack_api_url=slack.api_url)
        refused = SlackChannel(settings=settings, responder=_Silent())
        with pytest.raises(ConfigurationError, match="CLUSTERBOT_SLACK_BOT_TOKEN"):
            await refused.start(receive=False)


class _Silent:
    commands = frozenset[str]()

    async def respond(self, msg: Any) -> None:
        return None


async def _telegram_session(driver: TelegramDriver) -> None:
    _named(driver)
    await driver.say(MEMBER, "/start")
    await driver.say(MEMBER, f"Brennecke Diagnostics GmbH, {EMAIL}, {PHONE}")
    await driver.say(MEMBER, "Germany")
    sents = await driver.say(MEMBER, QUESTION, expect=1)
    assert sents
    sents = await driver.say(MEMBER, "/mydata", expect=2)  # the summary, then the file
    assert any(s.files for s in sents)
    sents = await driver.say(MEMBER, "/forget")
    target = _tap_target(sents, "rase")
    await driver.tap(MEMBER, target, _label(target, "rase"))
    await driver.say(MEMBER, "/start")  # back again: a fresh profile for the broadcast
    await driver.say(MEMBER, f"Brennecke Labs, call {PHONE} or write to {EMAIL}")
    await driver.say(MEMBER, "/alerts on news")
    await driver.say(OTHER, "/alerts on news")


async def _broadcast(app: App, driver: TelegramDriver, slack_adapter: SlackChannel) -> None:
    sents = await driver.say(STAFF, "/broadcast all | The network meets on 9 Dec.")
    target = _tap_target(sents, "Send")
    await driver.tap(STAFF, target, _label(target, "Send"))
    fake = driver.fake
    fake.block(MEMBER)  # 403: the member blocked the bot
    fake.fail_next("sendMessage", status=429, retry_after=1, times=2)
    worker = DeliveryWorker(
        sessions=app.sessions,
        senders={"telegram": driver.adapter, "slack": slack_adapter},
        settings=DeliverySettings(
            telegram_per_second=1000.0,
            slack_per_second=1000.0,
            backoff_base_s=0.01,
            backoff_max_s=0.05,
        ),
    )
    for _ in range(30):  # past the 429's retry_after of one second
        await worker.run_once()
        await asyncio.sleep(0.1)
    statuses = {call.status for call in fake.calls("sendMessage")}
    assert {200, 403, 429} <= statuses, statuses  # delivered, blocked, rate-limited


async def test_no_token_or_personal_data_in_any_log_record(
    app: App, logs: pytest.LogCaptureFixture
) -> None:
    await _refused_tokens()
    async with (
        running_telegram(app.assistant) as driver,
        running_slack(app.assistant) as slack,
    ):
        await _telegram_session(driver)
        await slack.say("U0OTTILIE", "/start")
        await slack.say("U0OTTILIE", f"{LAST} Biotech, {EMAIL}, {PHONE}")
        await slack.say("U0OTTILIE", SLACK_QUESTION, slash=False)
        await slack.say("U0OTTILIE", "/alerts on news")
        await _broadcast(app, driver, slack.adapter)

    records = logs.records
    assert {r.name.split(".")[0] for r in records} >= {"httpx", "telegram", "bot"}
    leaks = [
        f"{r.name} {r.levelname}: {needle!r} in {text[:300]!r}"
        for r in records
        for text in _texts(r)
        for needle in (*SECRETS, *PERSONAL)
        if needle in text
    ]
    assert not leaks, "\n".join(leaks[:20])
