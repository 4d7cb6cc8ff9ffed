"""/profile: see the company profile, change one answer at a time, link another account."""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.handlers import fields
from bot.handlers.common import caller_records, ensure_organisation, private_only
from bot.messages import Button, Incoming, Reply
from storage.models import Organisation
from storage.people import clear_state, get_state, set_state

FLOW = "profile"
EDIT = "prof"
SET = "profset"


def _view(org: Organisation | None, lead: str = "") -> Reply:
    if org is None:
        return Reply(
            f"{lead}You have no company profile yet. /start sets it up in a few questions.",
            buttons=(Button("Set up my profile", "onb", "begin"),),
        )
    member = "confirmed" if org.is_member else "not confirmed yet (the cluster team confirms it)"
    text = (
        f"{lead}Your company profile:\n\n{fields.summary(org)}\nMembership: {member}\n\n"
        f"To use me on another channel as {org.name or 'this organisation'}, send "
        f"/start {org.join_code} there. Tap a field to change it."
    )
    buttons = tuple(Button(f.label, EDIT, f.name) for f in fields.FIELDS)
    return Reply(text, buttons=buttons)


async def handle_profile(msg: Incoming, ctx: Context) -> Reply:
    """Show the profile with a button per field."""
    if (elsewhere := private_only(msg, "your profile")) is not None:
        return elsewhere
    async with ctx.sessions() as session:
        _, org = await caller_records(session, ctx)
    return _view(org)


async def profile_edit_tap(msg: Incoming, ctx: Context) -> Reply:
    """Ask for a new value of the tapped field."""
    assert msg.tap is not None
    field = fields.BY_NAME.get(msg.tap.payload)
    if field is None:
        return Reply("That field no longer exists; /profile shows the current ones.")
    async with ctx.sessions.begin() as session:
        _, org = await caller_records(session, ctx)
        await set_state(
            session, ctx.caller.channel, ctx.caller.user_id, flow=FLOW, step=field.name
        )
    return _ask(field, org)


def _ask(field: fields.Field, org: Organisation | None, lead: str = "") -> Reply:
    now = fields.shown(org, field.name)
    buttons = (*fields.choice_buttons(field, org, SET), Button("Cancel", SET, "cancel"))
    return Reply(f"{lead}{field.prompt}\nNow: {now}", buttons=buttons)


async def profile_text(msg: Incoming, ctx: Context) -> Reply:
    """The new value of the field being edited."""
    async with ctx.sessions.begin() as session:
        state = await get_state(session, ctx.caller.channel, ctx.caller.user_id)
        if state is None or state.flow != FLOW:
            raise UserError("No field is being edited; /profile shows your profile.")
        person, _ = await caller_records(session, ctx)
        org = await ensure_organisation(session, person)
        try:
            fields.apply(org, state.step, msg.text)
        except UserError as exc:
            return _ask(fields.BY_NAME[state.step], org, f"{exc}\n\n")
        await clear_state(session, ctx.caller.channel, ctx.caller.user_id)
        return _view(org, "Saved.\n\n")


async def profile_set_tap(msg: Incoming, ctx: Context) -> Reply:
    """A choice button (or Cancel / Done) under a field being edited."""
    assert msg.tap is not None
    verb, _, value = msg.tap.payload.partition(":")
    async with ctx.sessions.begin() as session:
        state = await get_state(session, ctx.caller.channel, ctx.caller.user_id)
        person, org = await caller_records(session, ctx)
        if state is None or state.flow != FLOW or verb == "cancel":
            await clear_state(session, ctx.caller.channel, ctx.caller.user_id)
            return _view(org, "Nothing changed.\n\n" if verb == "cancel" else "")
        field = fields.BY_NAME[state.step]
        org = await ensure_organisation(session, person)
        if verb == "toggle" and field.multi:
            fields.toggle(org, value)
            return _ask(field, org)
        if verb == "set" and not field.multi:
            fields.apply(org, field.name, dict(field.choices).get(value, value))
        await clear_state(session, ctx.caller.channel, ctx.caller.user_id)
        return _view(org, "Saved.\n\n")


__all__ = [
    "EDIT",
    "FLOW",
    "SET",
    "handle_profile",
    "profile_edit_tap",
    "profile_set_tap",
    "profile_text",
]
