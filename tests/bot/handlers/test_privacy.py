"""/mydata exports what is held; /forget erases it after a confirmation."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.app import App
from storage.models import Feedback, Identity, Organisation, Person, Question
from tests.bot.chat import Chat, onboard


async def _count(app: App, model: type) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_mydata_exports_profile_settings_and_questions(chat: Chat) -> None:
    await onboard(chat)
    await chat.say("Which voucher pays for a feasibility study?")
    await chat.tap("👍")
    await chat.say("/scout liver-on-chip toxicity testing | university | Europe")
    reply = await chat.say("/mydata")
    (file,) = reply.attachments
    data = json.loads(file.content)
    assert data["organisation"]["name"] == "Acme Diagnostics GmbH"
    assert data["identities"][0]["channel"] == "test"
    assert [q["text"] for q in data["questions"]] == [
        "Which voucher pays for a feasibility study?"
    ]
    assert data["feedback"][0]["value"] == "up"
    assert {s["category"] for s in data["subscriptions"]} == {"funding"}
    (request,) = data["scouting_requests"]
    assert (request["technology"], request["partner_type"]) == (
        "liver-on-chip toxicity testing",
        "university",
    )
    assert data["broadcast_buttons_pressed"] == []


async def test_forget_asks_first_and_cancel_keeps_everything(app: App, chat: Chat) -> None:
    await onboard(chat)
    reply = await chat.say("/forget")
    assert "cannot be undone" in reply.text
    assert "Nothing was erased" in (await chat.tap("Cancel")).text
    assert await _count(app, Person) == 1


async def test_forget_erases_person_questions_and_lone_organisation(app: App, chat: Chat) -> None:
    await onboard(chat)
    await chat.say("Which voucher pays for a feasibility study?")
    await chat.tap("👎")
    other = Chat(app.assistant, user="u2", chat="c2")
    await other.say("What does the incubator offer?")
    await chat.say("/forget")
    reply = await chat.tap("Yes, erase everything")
    assert "erased" in reply.text
    assert await _count(app, Organisation) == 0
    assert await _count(app, Feedback) == 0
    async with app.sessions() as session:
        left = [q.text for q in await session.scalars(select(Question))]
        identities = [i.external_id for i in await session.scalars(select(Identity))]
    assert left == ["What does the incubator offer?"]
    assert identities == ["u2"]


async def test_forget_keeps_an_organisation_that_has_other_people(app: App, chat: Chat) -> None:
    await onboard(chat)
    async with app.sessions() as session:
        code = (await session.scalars(select(Organisation))).one().join_code
    await Chat(app.assistant, user="U9", channel="slack").say(f"/start {code}")
    await chat.say("/forget")
    await chat.tap("Yes, erase everything")
    assert await _count(app, Organisation) == 1
    assert await _count(app, Person) == 1
