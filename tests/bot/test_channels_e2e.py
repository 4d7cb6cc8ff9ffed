"""Every SME command, end to end, on both channels: the real assistant behind the real
python-telegram-bot Application (polling a fake Bot API) and the real bolt AsyncApp (driven by
signed HTTP requests), over the demo corpus."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.app import App
from tests.factories import make_app
from tests.fakes.slack_api import running_slack
from tests.fakes.telegram_api import running_telegram

_TAG = re.compile(r"<[^>]+>")


class Sent(Protocol):
    chat_id: str
    text: str
    buttons: list[tuple[str, str]]
    files: list[tuple[str, bytes]]


class Driver(Protocol):
    channel: str

    async def say(self, user_id: str, text: str, **kwargs: Any) -> list[Any]: ...

    async def tap(self, user_id: str, sent: Any, label: str, **kwargs: Any) -> list[Any]: ...

    async def redeliver_last(self, **kwargs: Any) -> list[Any]: ...


def plain(sent: Sent) -> str:
    """The text a person reads: Telegram HTML tags and either platform's entities undone."""
    text = sent.text
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2", text)  # Slack links
    text = _TAG.sub("", text)
    return html.unescape(text)


def everything(sents: list[Any]) -> str:
    return "\n".join(plain(s) for s in sents)


def with_button(sents: list[Any], label: str) -> Any:
    for sent in reversed(sents):
        if any(lab == label or lab.endswith(label) for lab, _ in sent.buttons):
            return sent
    raise AssertionError(f"no button {label!r} in {[s.buttons for s in sents]}")


def label_of(sent: Any, label: str) -> str:
    return next(lab for lab, _ in sent.buttons if lab == label or lab.endswith(label))


class Person:
    """One SME user on one channel."""

    def __init__(self, driver: Driver, user: str) -> None:
        self.driver = driver
        self.user = user
        self.last: list[Any] = []

    async def say(self, text: str, *, expect: int = 1) -> str:
        self.last = await self.driver.say(self.user, text, expect=expect)
        assert self.last, f"no reply to {text!r}"
        return everything(self.last)

    async def tap(self, label: str, *, expect: int = 1) -> str:
        sent = with_button(self.last, label)
        self.last = await self.driver.tap(self.user, sent, label_of(sent, label), expect=expect)
        assert self.last, f"no reply to tapping {label!r}"
        return everything(self.last)


def _harness(channel: str, app: App) -> AbstractAsyncContextManager[Any]:
    if channel == "telegram":
        return running_telegram(app.assistant)
    return running_slack(app.assistant)


@pytest.fixture(params=["telegram", "slack"])
async def person(request: pytest.FixtureRequest, demo_dir: Path) -> AsyncIterator[Person]:
    app = await make_app(demo_dir)
    try:
        async with _harness(request.param, app) as driver:
            yield Person(driver, "1001")
    finally:
        await app.close()


async def test_help(person: Person) -> None:
    text = await person.say("/help")
    assert "/calls" in text
    assert "/forget" in text


async def test_a_question_is_answered_with_sources_and_feedback_buttons(person: Person) -> None:
    text = await person.say("Which voucher pays for a feasibility study?")
    assert "Feasibility Voucher 2027" in text
    assert "korvenmark-bio.example/funding/feasibility-voucher-2027" in " ".join(
        s.text for s in person.last
    )
    labels = [lab for s in person.last for lab, _ in s.buttons]
    assert {"👍", "👎", "Ask a person"} <= set(labels)
    assert "glad it helped" in await person.tap("👍")


async def test_ask_a_person(person: Person) -> None:
    await person.say("What is the success rate of the cluster's EU proposals in 2031?")
    assert "passed your question to the cluster team" in await person.tap("Ask a person")


async def test_onboarding_then_calls_that_fit(person: Person) -> None:
    assert "What is your organisation called?" in await person.say("/start")
    assert "In which country" in await person.say("Acme Diagnostics GmbH")
    assert "What kind of organisation" in await person.say("Germany")
    assert "How many people" in await person.tap("SME")
    assert "Which sectors" in await person.tap("10-49")
    assert "therapeutic areas" in await person.say("diagnostics, digital health")
    await person.tap("Skip")
    assert "How far is your main product" in await person.say("biomarkers, point-of-care")
    assert "What are you looking for" in await person.tap("Prototype (TRL 4-6)")
    await person.tap("Funding")
    assert "✅ Funding" in [lab for s in person.last for lab, _ in s.buttons]
    assert "shall I message you" in await person.tap("Done")
    text = await person.tap("Yes, as they appear")
    assert "Your profile is set up" in text
    assert "Country: Germany" in text
    calls = await person.say("/calls")
    assert "fit Acme Diagnostics GmbH" in calls
    assert "KBR-SCALE-2027" in calls
    assert "KBR-IPV-2026" not in calls  # closed


async def test_events_with_rsvp_and_calendar_files(person: Person) -> None:
    await person.say("/events", expect=2)
    files = [f for s in person.last for f in s.files]
    assert [name for name, _ in files] == ["network-meetings.ics"]
    assert files[0][1].startswith(b"BEGIN:VCALENDAR")
    assert "Digital Health Network" in everything(person.last)
    text = await person.tap("RSVP 1", expect=2)
    assert "You're on the list for Digital Health Network" in text
    assert any(name.endswith(".ics") for s in person.last for name, _ in s.files)


async def test_services(person: Person) -> None:
    text = await person.say("/services")
    assert "Launchpad incubator" in text
    assert "PartnerScout" in text


async def test_profile_view_and_edit(person: Person) -> None:
    assert "no company profile yet" in await person.say("/profile")
    await person.say("/start")
    await person.say("Acme")
    await person.tap("Later")
    text = await person.say("/profile")
    assert "Organisation: Acme" in text
    assert "In which country" in await person.tap("Country")
    assert "Country: France" in await person.say("France")


async def test_alerts_and_stop(person: Person) -> None:
    assert "⬜ Funding calls" in await person.say("/alerts")
    assert "✅ Funding calls" in await person.tap("Funding calls")
    assert "daily digest" in await person.tap("Daily")
    assert "won't send you anything" in await person.say("/stop")
    assert "Alerts are back on" in await person.tap("Undo")


async def test_mydata_and_forget(person: Person) -> None:
    await person.say("What does the incubator offer?")
    await person.say("/mydata", expect=2)
    (name, content), *_ = [f for s in person.last for f in s.files]
    assert name == "clusterbot-my-data.json"
    data = json.loads(content)
    assert data["identities"][0]["channel"] == person.driver.channel
    assert [q["text"] for q in data["questions"]] == ["What does the incubator offer?"]
    assert "cannot be undone" in await person.say("/forget")
    assert "everything I held about you is erased" in await person.tap("Yes, erase everything")
    await person.say("/mydata", expect=2)
    data = json.loads(next(f for s in person.last for f in s.files)[1])
    assert data["questions"] == []


async def test_the_same_update_twice_is_answered_once(person: Person) -> None:
    await person.say("/help")
    assert await person.driver.redeliver_last(expect=0) == []


MEMBERS_ONLY = """---
title: Members' price list 2027
---
# Members' price list 2027

Members book the Korvenstad cryo-electron microscope at a members' rate of EUR 410 per
session day, agreed with the imaging core facility.
"""


async def test_slack_uses_member_documents_only_in_direct_messages(
    demo_dir: Path, tmp_path: Path
) -> None:
    from bot.admin import confirm_membership

    app = await make_app(demo_dir)
    doc = tmp_path / "members-prices.md"
    doc.write_text(MEMBERS_ONLY)
    assert (await app.ingester.ingest([str(doc)], audience="members")).failed == 0
    question = "What is the members' rate for the cryo-electron microscope?"
    try:
        async with running_slack(app.assistant) as driver:
            person = Person(driver, "U777")
            await person.say("/start")
            await person.say("Acme Bio")
            await person.tap("Later")
            await confirm_membership(app.sessions, "Acme Bio", member=True, actor="test")
            assert "410" in await person.say(question)
            in_channel = await driver.say("U777", question, group=True)
            assert in_channel[0].thread is not None  # a mention is answered in its thread
            assert "410" not in everything(in_channel)
            assert "Members' price list" not in everything(in_channel)
    finally:
        await app.close()
