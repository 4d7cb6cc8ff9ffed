"""Small pieces every handler needs: the caller's records, private-chat checks, dates."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.messages import Incoming, Reply
from storage.models import Organisation, Person
from storage.people import create_organisation


async def caller_records(
    session: AsyncSession, ctx: Context
) -> tuple[Person, Organisation | None]:
    """The caller's person row and organisation (if any), in this session."""
    person = await session.get_one(Person, ctx.caller.person_id)
    org = (
        await session.get(Organisation, person.organisation_id) if person.organisation_id else None
    )
    return person, org


async def ensure_organisation(session: AsyncSession, person: Person) -> Organisation:
    """The caller's organisation, created (unnamed) when they have none yet."""
    if person.organisation_id is not None:
        org = await session.get(Organisation, person.organisation_id)
        if org is not None:
            return org
    org = await create_organisation(session, "")
    person.organisation_id = org.id
    await session.flush()
    return org


STAFF_ONLY = "That command is for cluster staff."
PRIVATE_ONLY = "Staff commands work in a private chat with me, not in a shared chat."


def staff_refusal(ctx: Context) -> Reply | None:
    """Why a staff command is refused here, or None when it may run.

    Staff only, and only in a private chat (other people's data must not show in a shared
    one); handlers call it on every message, so a role change counts at once.
    """
    if not ctx.caller.is_staff:
        return Reply(STAFF_ONLY)
    if ctx.caller.chat_type != "private":
        return Reply(PRIVATE_ONLY)
    return None


def private_only(msg: Incoming, what: str) -> Reply | None:
    """A pointer to the private chat when personal data would show in a shared one."""
    if msg.chat_type == "private":
        return None
    return Reply(f"Let's do {what} in a private chat with me, so only you see it.")


MAX_DIGITS = 18  # any number this long fits the database's 64-bit integer columns


def parse_id(text: str) -> int | None:
    """A record number typed or carried by a button, or None when it is not one.

    Only ASCII digits count: ``str.isdigit`` also accepts "²", which ``int`` refuses, and a
    number longer than ``MAX_DIGITS`` would overflow the database's integer columns.
    """
    if not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
        return None
    return int(text)


def days_until(day: date, today: date) -> str:
    """Today, tomorrow or in N days, as words."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    return f"in {delta} days" if delta > 0 else f"{-delta} days ago"


__all__ = [
    "PRIVATE_ONLY",
    "STAFF_ONLY",
    "caller_records",
    "days_until",
    "ensure_organisation",
    "parse_id",
    "private_only",
    "staff_refusal",
]
