"""Staff commands and buttons check the caller's role on every call, and only in private.

Every command in ``STAFF_COMMANDS`` is tried as a member, as staff in a shared chat, as
staff in private, and again right after the role was taken away in the database.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from bot.admin import confirm_membership, set_role
from bot.app import App
from bot.handlers import (
    COMMANDS,
    STAFF_COMMANDS,
    broadcast,
    scouting,
    staff_events,
    unanswered,
)
from bot.handlers.help import STAFF_HELP
from bot.handlers.unanswered import PRIVATE_ONLY, STAFF_ONLY
from bot.messages import ChatType, Incoming, Reply
from storage.models import AuditEntry, Organisation
from tests.bot.chat import Chat

REFUSALS = (STAFF_ONLY, PRIVATE_ONLY)
# Buttons that act for staff: (action, payload) as the staff replies carry them.
STAFF_TAPS = [
    (unanswered.ANSWER, "1"),
    (staff_events.CANCEL, "ask:1"),
    (staff_events.CANCEL, "yes:1"),
    (broadcast.SEND, "999"),
    (broadcast.APPROVE, "999"),
    (broadcast.CANCEL, "999"),
    (broadcast.STATUS, "999"),
    (scouting.STAFF, "x:999"),
]
_events = itertools.count(1)


def test_every_staff_command_is_a_command() -> None:
    assert set(COMMANDS) >= STAFF_COMMANDS
    assert "newevent" in STAFF_COMMANDS


async def _press(app: App, action: str, payload: str, *, chat_type: ChatType) -> Reply:
    reply = await app.assistant.respond(
        Incoming.pressed(
            channel="test",
            user_id="u1",
            chat_id="c1" if chat_type == "private" else "g1",
            action=action,
            payload=payload,
            chat_type=chat_type,
            event_id=f"tap-{next(_events)}",
        )
    )
    assert reply is not None
    return reply


@pytest.mark.parametrize("command", sorted(STAFF_COMMANDS))
async def test_staff_commands_check_the_role_on_every_call(app: App, command: str) -> None:
    member = Chat(app.assistant, user="u1", chat="c1")
    assert (await member.say(f"/{command}")).text == STAFF_ONLY

    await set_role(app.sessions, "test:u1", "staff", actor="test")
    group = Chat(app.assistant, user="u1", chat="g1", chat_type="group")
    assert (await group.say(f"/{command}")).text == PRIVATE_ONLY
    allowed = await member.say(f"/{command}")
    assert allowed.text not in REFUSALS

    # Taken away in the database: the very next message is refused.
    await set_role(app.sessions, "test:u1", "member", actor="test")
    assert (await member.say(f"/{command}")).text == STAFF_ONLY


@pytest.mark.parametrize(("action", "payload"), STAFF_TAPS)
async def test_staff_buttons_refuse_members_and_shared_chats(
    app: App, action: str, payload: str
) -> None:
    assert (await _press(app, action, payload, chat_type="private")).text == STAFF_ONLY
    await set_role(app.sessions, "test:u1", "staff", actor="test")
    assert (await _press(app, action, payload, chat_type="group")).text == PRIVATE_ONLY
    assert (await _press(app, action, payload, chat_type="private")).text not in REFUSALS


async def test_members_see_no_staff_help_and_admins_count_as_staff(app: App) -> None:
    member = Chat(app.assistant, user="u1", chat="c1")
    assert STAFF_HELP.strip() not in (await member.say("/help")).text
    await set_role(app.sessions, "test:u1", "admin", actor="test")
    assert STAFF_HELP.strip() in (await member.say("/help")).text
    assert (await member.say("/unanswered")).text not in REFUSALS


async def test_role_and_membership_changes_are_audited(app: App) -> None:
    await Chat(app.assistant, user="u1", chat="c1").say("/help")
    async with app.sessions.begin() as session:
        org = Organisation(name="Audit Bio GmbH", join_code="AUDT-0001")
        session.add(org)
    await set_role(app.sessions, "test:u1", "staff", actor="cli")
    await confirm_membership(app.sessions, "Audit Bio GmbH", member=True, actor="cli")
    await confirm_membership(app.sessions, "Audit Bio GmbH", member=False, actor="cli")
    async with app.sessions() as session:
        entries = [
            (e.actor, e.action, e.subject, e.detail)
            for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert entries[-3][:2] == ("cli", "role_set")
    assert entries[-3][3] == {"role": "staff"}
    assert [e[1] for e in entries[-2:]] == ["membership_confirmed", "membership_revoked"]
    assert entries[-1][2] == f"organisation:{org.id}"
