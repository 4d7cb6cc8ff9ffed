"""/start: onboarding builds the profile, can be skipped, paused, resumed and survives restarts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import App
from storage.models import Identity, Organisation, Person, Subscription
from tests.bot.chat import Chat, onboard
from tests.factories import make_app


async def _org(app: App) -> Organisation:
    async with app.sessions() as session:
        return (await session.scalars(select(Organisation))).one()


async def test_onboarding_builds_the_profile_and_asks_consent(app: App, chat: Chat) -> None:
    await onboard(chat)
    org = await _org(app)
    assert org.name == "Acme Diagnostics GmbH"
    assert (org.country, org.org_type, org.size) == ("DE", "sme", "10-49")
    assert org.sectors == ["diagnostics", "digital health"]
    assert org.therapeutic_areas == ["sepsis", "oncology"]
    assert org.technologies == ["biomarkers", "point-of-care"]
    assert (org.stage, org.trl) == ("prototype", 5)
    assert org.looking_for == ["funding"]
    assert "Your profile is set up" in chat.last.text  # type: ignore[union-attr]
    async with app.sessions() as session:
        subs = {s.category: s.active for s in await session.scalars(select(Subscription))}
        person = (await session.scalars(select(Person))).one()
    assert subs == {"funding": True}
    assert person.alert_frequency == "instant"


async def test_every_question_can_be_skipped(app: App, chat: Chat) -> None:
    await chat.say("/start")
    for _ in range(9):
        await chat.tap("Skip")
    assert "shall I message you" in chat.last.text  # type: ignore[union-attr]
    await chat.tap("No thanks")
    assert "won't message you" in chat.last.text  # type: ignore[union-attr]
    async with app.sessions() as session:
        assert list(await session.scalars(select(Subscription))) == []


async def test_bad_answers_are_named_and_the_question_stays(chat: Chat) -> None:
    await chat.say("/start")
    await chat.say("Acme")
    reply = await chat.say("Atlantis")
    assert "I don't know the country “Atlantis”" in reply.text
    reply = await chat.say("DE")
    assert "What kind of organisation" in reply.text
    await chat.tap("SME")
    reply = await chat.say("a thousand")
    assert "is not one of" in reply.text
    await chat.tap("1-9")
    await chat.say("biotech")
    await chat.say("oncology")
    await chat.say("mRNA")
    reply = await chat.say("12")
    assert "TRL is a whole number from 1 to 9" in reply.text


async def test_later_pauses_and_start_resumes_where_it_stopped(chat: Chat) -> None:
    await chat.say("/start")
    await chat.say("Acme")
    await chat.tap("Later")
    reply = await chat.say("What does the incubator offer?")
    assert reply.sources, "a paused flow must not swallow questions"
    reply = await chat.say("/start")
    assert "Welcome back" in reply.text
    assert "(2/9)" in reply.text


async def test_a_command_in_the_middle_pauses_the_flow(chat: Chat) -> None:
    await chat.say("/start")
    await chat.say("Acme")
    await chat.say("/help")
    reply = await chat.say("Which voucher pays for a feasibility study?")
    assert reply.sources
    assert "(2/9)" in (await chat.say("/start")).text


async def test_the_step_survives_a_restart(demo_dir: Path) -> None:
    first = await make_app(demo_dir)
    try:
        chat = Chat(first.assistant)
        await chat.say("/start")
        await chat.say("Acme")
        await chat.say("Spain")
    finally:
        await first.close()
    again = await make_app(demo_dir)
    try:
        chat = Chat(again.assistant)
        reply = await chat.tap("Start-up", chat.last or (await chat.say("/start")))
        assert "How many people" in reply.text
        org = await _org(again)
        assert (org.name, org.country, org.org_type) == ("Acme", "ES", "start-up")
    finally:
        await again.close()


async def test_a_join_code_links_an_account_on_another_channel(app: App, chat: Chat) -> None:
    await onboard(chat)
    code = (await _org(app)).join_code
    slack = Chat(app.assistant, user="U1", chat="D1", channel="slack")
    reply = await slack.say(f"/start {code.lower()}")
    assert "You're linked to Acme Diagnostics GmbH" in reply.text
    async with app.sessions() as session:
        people = {i.channel: i.person_id for i in await session.scalars(select(Identity))}
        orgs = {p.organisation_id for p in await session.scalars(select(Person))}
    assert set(people) == {"test", "slack"}
    assert len(orgs) == 1
    wrong = await Chat(app.assistant, user="U2", channel="slack").say("/start ZZZZ-9999")
    assert "is not a code I know" in wrong.text


async def test_profile_questions_are_not_asked_in_a_group(chat: Chat) -> None:
    chat.chat_type = "group"
    reply = await chat.say("/start")
    assert "private chat" in reply.text
