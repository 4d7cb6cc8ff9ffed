"""/start: onboarding that builds the company profile in a few short questions.

Every question can be skipped; "Later" pauses, and /start resumes where it stopped. Each
answer is saved as soon as it is given, and the step is kept in the database, so neither a
pause nor a restart loses anything. ``/start CODE`` links this account to an organisation
that a colleague (or the same person on another channel) already set up.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.errors import UserError
from bot.handlers import fields
from bot.handlers.common import caller_records, ensure_organisation, private_only
from bot.messages import Button, Incoming, Reply
from knowledge.profile import CATEGORIES_FOR_INTEREST, FREQUENCIES
from storage.models import Organisation, Person
from storage.people import (
    clear_state,
    get_state,
    organisation_by_code,
    set_state,
    set_subscription,
)

FLOW = "onboarding"
ACTION = "onb"
STEPS = tuple(f.name for f in fields.FIELDS)
CONSENT = "consent"

INTRO = (
    "Welcome! I answer questions about funding calls, incubator offers and network meetings, "
    "and I can tell you about new calls that fit your company.\n\n"
    "A few short questions set up your company profile. Skip any of them, or tap Later and "
    "come back with /start."
)


def _prompt(step: str, org: Organisation | None, lead: str = "") -> Reply:
    if step == CONSENT:
        text = (
            "Last one: shall I message you when new calls and meetings fit this profile? "
            "You can change this any time with /alerts, and /stop ends all messages."
        )
        buttons: tuple[Button, ...] = (
            Button("Yes, as they appear", ACTION, "consent:instant"),
            Button("Weekly digest", ACTION, "consent:weekly"),
            Button("No thanks", ACTION, "consent:no"),
        )
        return Reply(f"{lead}{text}", buttons=buttons)
    field = fields.BY_NAME[step]
    number = STEPS.index(step) + 1
    text = f"{lead}({number}/{len(STEPS)}) {field.prompt}"
    if org is not None and fields.shown(org, step) != "—" and not field.multi:
        text += f"\nNow: {fields.shown(org, step)}"
    buttons = (
        *fields.choice_buttons(field, org, ACTION),
        Button("Skip", ACTION, "skip"),
        Button("Later", ACTION, "later"),
    )
    return Reply(text, buttons=buttons)


def _next(step: str) -> str:
    if step == CONSENT:
        return ""
    index = STEPS.index(step)
    return STEPS[index + 1] if index + 1 < len(STEPS) else CONSENT


async def _advance(
    session: AsyncSession, ctx: Context, step: str, org: Organisation | None
) -> Reply:
    following = _next(step)
    if not following:
        await clear_state(session, ctx.caller.channel, ctx.caller.user_id)
        return _finished(org)
    await set_state(session, ctx.caller.channel, ctx.caller.user_id, flow=FLOW, step=following)
    return _prompt(following, org)


def _finished(org: Organisation | None) -> Reply:
    return Reply(
        "Your profile is set up:\n\n"
        f"{fields.summary(org)}\n\n"
        "Try /calls for open calls that fit you, /events for network meetings, or just ask me "
        "a question. /profile changes any answer."
    )


async def _join(session: AsyncSession, person: Person, code: str) -> Organisation:
    org = await organisation_by_code(session, code)
    if org is None:
        raise UserError(
            f"“{code[:20]}” is not a code I know. The code is shown under /profile of a "
            "colleague's account (like ABCD-2345)."
        )
    person.organisation_id = org.id
    await session.flush()
    return org


async def handle_start(msg: Incoming, ctx: Context) -> Reply:
    """Start or resume onboarding; ``/start CODE`` joins an organisation."""
    if (elsewhere := private_only(msg, "your profile")) is not None:
        return elsewhere
    async with ctx.sessions.begin() as session:
        person, org = await caller_records(session, ctx)
        lead = ""
        if msg.args:
            org = await _join(session, person, msg.args)
            lead = f"You're linked to {org.name or 'your organisation'}.\n\n"
        state = await get_state(session, ctx.caller.channel, ctx.caller.user_id)
        if state is not None and state.flow == FLOW:
            await set_state(
                session, ctx.caller.channel, ctx.caller.user_id, flow=FLOW, step=state.step
            )
            return _prompt(state.step, org, lead or "Welcome back, let's go on.\n\n")
        if org is not None and org.name and lead:
            return Reply(f"{lead}{fields.summary(org)}\n\n/profile changes any answer.")
        first = STEPS[0] if org is None or not org.name else STEPS[1]
        await set_state(session, ctx.caller.channel, ctx.caller.user_id, flow=FLOW, step=first)
        if org is not None and org.name:
            lead = f"{lead}Let's check your profile for {org.name}.\n\n"
        else:
            lead = f"{lead}{INTRO}\n\n"
        return _prompt(first, org, lead)


async def onboarding_text(msg: Incoming, ctx: Context) -> Reply:
    """A typed answer to the current onboarding question."""
    async with ctx.sessions.begin() as session:
        state = await get_state(session, ctx.caller.channel, ctx.caller.user_id)
        if state is None or state.flow != FLOW:
            raise UserError("There is no question open; /start sets up your profile.")
        person, org = await caller_records(session, ctx)
        if state.step == CONSENT:
            return _prompt(CONSENT, org, "Please tap one of the buttons.\n\n")
        org = await ensure_organisation(session, person)
        try:
            fields.apply(org, state.step, msg.text)
        except UserError as exc:
            return _prompt(state.step, org, f"{exc}\n\n")
        return await _advance(session, ctx, state.step, org)


async def onboarding_tap(msg: Incoming, ctx: Context) -> Reply:
    """A button under an onboarding question: a choice, Skip, Later or Done."""
    assert msg.tap is not None
    payload = msg.tap.payload
    if payload == "begin":
        return await handle_start(msg, ctx)
    async with ctx.sessions.begin() as session:
        state = await get_state(session, ctx.caller.channel, ctx.caller.user_id)
        if state is None or state.flow != FLOW:
            return Reply("That question is closed. /start goes through the profile again.")
        person, org = await caller_records(session, ctx)
        step = state.step
        if payload == "later":
            await set_state(
                session, ctx.caller.channel, ctx.caller.user_id, flow=FLOW, step=step, paused=True
            )
            return Reply("Paused. Send /start whenever you want to go on.")
        if payload == "skip":
            return await _advance(session, ctx, step, org)
        verb, _, value = payload.partition(":")
        if step == CONSENT and verb == "consent":
            return await _consent(session, ctx, person, org, value)
        if step == CONSENT:
            return _prompt(CONSENT, org)
        org = await ensure_organisation(session, person)
        field = fields.BY_NAME[step]
        if verb == "toggle" and field.multi:
            fields.toggle(org, value)
            return _prompt(step, org)
        if verb == "done" and field.multi:
            return await _advance(session, ctx, step, org)
        if verb == "set" and not field.multi:
            fields.apply(org, step, dict(field.choices).get(value, value))
            return await _advance(session, ctx, step, org)
        return _prompt(step, org, "That button belongs to another question.\n\n")


async def _consent(
    session: AsyncSession, ctx: Context, person: Person, org: Organisation | None, value: str
) -> Reply:
    await clear_state(session, ctx.caller.channel, ctx.caller.user_id)
    if value not in FREQUENCIES:
        return Reply(
            "Fine: I won't message you unless you ask. /alerts turns alerts on.\n\n"
            f"{_finished(org).text}"
        )
    interests = list(org.looking_for) if org is not None and org.looking_for else ["funding"]
    categories = sorted({c for i in interests for c in CATEGORIES_FOR_INTEREST.get(i, ())})
    for category in categories or ["funding"]:
        await set_subscription(session, person.id, category, active=True)
    person.alert_frequency = value
    person.stopped = False
    return Reply(
        f"Alerts are on, {FREQUENCIES[value]}. /alerts changes what and how often.\n\n"
        f"{_finished(org).text}"
    )


__all__ = ["ACTION", "FLOW", "handle_start", "onboarding_tap", "onboarding_text"]
