"""/alerts and /stop: consent per category, frequency, and one tap to stop everything."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from storage.models import AuditEntry, Person, Subscription
from tests.bot.chat import Chat


async def _state(app: App) -> tuple[dict[str, bool], Person]:
    async with app.sessions() as session:
        subs = {s.category: s.active for s in await session.scalars(select(Subscription))}
        person = (await session.scalars(select(Person))).one()
    return subs, person


async def test_toggles_and_frequency(app: App, chat: Chat) -> None:
    reply = await chat.say("/alerts")
    assert "⬜ Funding calls" in reply.text
    reply = await chat.tap("Funding calls")
    assert "✅ Funding calls" in reply.text
    await chat.tap("Daily")
    reply = await chat.say("/alerts on events")
    assert "✅ Network meetings" in reply.text
    subs, person = await _state(app)
    assert subs == {"funding": True, "events": True}
    assert person.alert_frequency == "daily"
    await chat.say("/alerts off funding")
    await chat.say("/alerts weekly")
    subs, person = await _state(app)
    assert subs == {"funding": False, "events": True}
    assert person.alert_frequency == "weekly"


async def test_unknown_alert_arguments_are_named(chat: Chat) -> None:
    reply = await chat.say("/alerts hourly please")
    assert "I didn't understand “hourly please”" in reply.text


async def test_stop_withdraws_everything_and_undo_restores(app: App, chat: Chat) -> None:
    await chat.say("/alerts on funding")
    await chat.say("/alerts on news")
    reply = await chat.say("/stop")
    assert "won't send you anything" in reply.text
    subs, person = await _state(app)
    assert person.stopped
    assert not any(subs.values())
    reply = await chat.tap("Undo")
    subs, person = await _state(app)
    assert not person.stopped
    assert subs == {"funding": True, "news": True}
    async with app.sessions() as session:
        actions = [a.action for a in await session.scalars(select(AuditEntry))]
    assert "stop" in actions
    assert "resume" in actions


async def test_stop_works_from_the_alerts_screen_and_in_a_group(app: App, chat: Chat) -> None:
    await chat.say("/alerts on funding")
    await chat.tap("Stop everything")
    _, person = await _state(app)
    assert person.stopped
    chat.chat_type = "group"
    assert "private chat" in (await chat.say("/alerts")).text
    assert "won't send you anything" in (await chat.say("/stop")).text
