"""/broadcast in a chat: staff draft, preview, send and follow; recipients' buttons count."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.admin import set_role
from bot.app import App
from bot.broadcasts import FOOTER, set_approval
from bot.messages import Incoming, reply_from_data
from storage.models import AuditEntry, Delivery
from storage.people import find_identity, set_subscription
from tests.bot.chat import Chat, onboard


def telegram_chat(app: App, user: str) -> Chat:
    return Chat(app.assistant, user=user, chat=f"c-{user}", channel="telegram")


async def member(app: App, user: str, *, country: str = "Germany") -> Chat:
    """An onboarded member on Telegram who agreed to announcements."""
    chat = telegram_chat(app, user)
    await onboard(chat, country=country)
    async with app.sessions.begin() as session:
        identity = await find_identity(session, "telegram", user)
        assert identity is not None
        await set_subscription(session, identity.person_id, "news", active=True)
    return chat


async def staff(app: App, user: str = "boss") -> Chat:
    chat = telegram_chat(app, user)
    await chat.say("/help")
    await set_role(app.sessions, f"telegram:{user}", "staff", actor="test")
    return chat


async def queued(app: App) -> list[Delivery]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.kind == "broadcast").order_by(Delivery.id)
        )
        return list(rows)


async def test_members_and_shared_chats_cannot_broadcast(app: App) -> None:
    someone = await member(app, "m1")
    reply = await someone.say("/broadcast all | Hello everyone")
    assert reply.text == "That command is for cluster staff."
    boss = await staff(app)
    group = Chat(app.assistant, user="boss", chat="g1", channel="telegram", chat_type="group")
    reply = await group.say("/broadcast all | Hello everyone")
    assert "private chat" in reply.text
    assert await queued(app) == []
    assert "/broadcast" in (await boss.say("/help")).text
    assert "/broadcast" not in (await someone.say("/help")).text


async def test_staff_draft_preview_send_and_see_figures(app: App) -> None:
    await member(app, "m1")
    await member(app, "m2")
    await member(app, "m3", country="France")
    boss = await staff(app)
    reply = await boss.say(
        "/broadcast sector=diagnostics country=DE | The network meets on 9 December. "
        "| Register=https://example.org/r"
    )
    assert reply.text.startswith("Draft #1 reaches 2 people (telegram 2).")
    assert "To: sector=diagnostics country=DE" in reply.text
    assert "The network meets on 9 December." + FOOTER in reply.text
    assert "[Register] → https://example.org/r" in reply.text
    assert boss.labels() == ["Send to 2", "Cancel"]
    assert await queued(app) == []

    reply = await boss.tap("Send to 2")
    assert "Broadcast #1 is queued for 2 people" in reply.text
    rows = await queued(app)
    assert len(rows) == 2
    sample = reply_from_data(rows[0].payload)
    assert sample.text.startswith("The network meets")

    # A recipient presses the button twice: counted once, answered with the link.
    press = Incoming.pressed(
        channel="telegram",
        user_id="m1",
        chat_id="c-m1",
        action=sample.buttons[0].action,
        payload=sample.buttons[0].payload,
    )
    for _ in range(2):
        answer = await app.assistant.respond(press)
        assert answer is not None
        assert answer.text == "Register: https://example.org/r"
        assert answer.buttons[0].url == "https://example.org/r"

    async with app.sessions.begin() as session:
        await session.execute(
            update(Delivery).where(Delivery.id == rows[0].id).values(status="sent")
        )
    reply = await boss.say("/broadcast status 1")
    assert "Broadcast #1: queued" in reply.text
    assert "Queued 2 · sent 1 · pending 1" in reply.text
    assert "Buttons pressed: Register 1 (total 1)" in reply.text
    reply = await boss.tap("Cancel")
    assert reply.text == "Broadcast #1 is cancelled. Messages not sent yet: 1, now stopped."
    listing = await boss.say("/broadcast list")
    assert "#1 cancelled · 2 ·" in listing.text
    async with app.sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("broadcast.%"))
            )
        )
    assert actions == ["broadcast.create", "broadcast.confirm", "broadcast.cancel"]


async def test_bad_input_gets_a_clear_answer_and_writes_nothing(app: App) -> None:
    boss = await staff(app)
    reply = await boss.say("/broadcast")
    assert "Segment fields: sector, area, country" in reply.text
    reply = await boss.say("/broadcast colour=blue | Hi")
    assert "'colour' is not a segment field" in reply.text
    reply = await boss.say("/broadcast country=Atlantis | Hi")
    assert "'Atlantis' is not a country I know" in reply.text
    reply = await boss.say("/broadcast status")
    assert "Give the broadcast's number" in reply.text
    reply = await boss.say("/broadcast status 42")
    assert "There is no broadcast #42" in reply.text
    reply = await boss.say("/broadcast list")
    assert reply.text.startswith("No broadcasts yet.")
    reply = await boss.say("/broadcast country=FR | Nobody is there")
    assert "Nobody matches this segment now" in reply.text
    assert boss.labels() == ["Cancel"]
    assert await queued(app) == []


async def test_approval_by_a_second_staff_member(app: App) -> None:
    await member(app, "m1")
    await set_approval(app.sessions, required=True, actor="test")
    author = await staff(app, "boss")
    other = await staff(app, "deputy")
    reply = await author.say("/broadcast all | Hello")
    assert "A second staff member approves it" in reply.text
    reply = await author.tap("Send for approval")
    assert "waits for a second staff member" in reply.text
    assert await queued(app) == []
    reply = await author.say("/broadcast approve 1")
    assert "someone else on the team has to approve it" in reply.text
    reply = await other.say("/broadcast approve 1")
    assert "Broadcast #1 is queued for 1 person" in reply.text
    assert len(await queued(app)) == 1


async def test_a_scheduled_broadcast_says_when_it_goes(app: App) -> None:
    await member(app, "m1")
    boss = await staff(app)
    reply = await boss.say("/broadcast all at=2030-12-01T09:00 | Later")
    assert "Goes out at 2030-12-01 09:00 (Europe/Berlin)." in reply.text
    reply = await boss.tap("Send to 1")
    assert "goes out at 2030-12-01 09:00 (Europe/Berlin)" in reply.text
    reply = await boss.tap("Figures")
    assert "pending 1" in reply.text


async def test_an_unknown_broadcast_button_no_longer_works(app: App) -> None:
    await member(app, "m1")
    msg = Incoming.pressed(
        channel="telegram", user_id="m1", chat_id="c-m1", action="bcpress", payload="9:0"
    )
    answer = await app.assistant.respond(msg)
    assert answer is not None
    assert answer.text == "That button no longer works."
