"""/services lists the cluster's offers; /profile shows and edits the profile."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from storage.models import Organisation
from tests.bot.chat import Chat, onboard


async def test_services_list_the_offers_with_a_line_each(chat: Chat) -> None:
    reply = await chat.say("/services")
    ids = [s.record_id for s in reply.sources]
    assert ids[:3] == ["KBR-LAUNCHPAD-2027", "KBR-EUDESK", "KBR-SCOUT"]
    assert "twelve-month incubator programme" in reply.text


async def test_profile_without_one_points_to_start(chat: Chat) -> None:
    reply = await chat.say("/profile")
    assert "/start" in reply.text


async def test_profile_field_is_edited_by_tap_then_text(app: App, chat: Chat) -> None:
    await onboard(chat)
    reply = await chat.say("/profile")
    assert "Membership: not confirmed yet" in reply.text
    assert "/start " in reply.text  # the join code for another channel
    await chat.tap("Therapeutic areas")
    reply = await chat.say("neurology")
    assert "Saved." in reply.text
    assert "Therapeutic areas: neurology" in reply.text
    await chat.tap("Country")
    reply = await chat.say("Narnia")
    assert "I don't know the country" in reply.text
    assert "Cancel" in chat.labels()
    reply = await chat.tap("Cancel")
    assert "Nothing changed" in reply.text
    await chat.tap("Type")
    reply = await chat.tap("University")
    assert "Type: University" in reply.text
    async with app.sessions() as session:
        org = (await session.scalars(select(Organisation))).one()
    assert (org.therapeutic_areas, org.country, org.org_type) == (
        ["neurology"],
        "DE",
        "university",
    )
