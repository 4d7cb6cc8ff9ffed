"""What operators and staff change from the command line: membership and roles.

Each change is written to the audit log with who made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import ROLES
from bot.errors import UserError
from storage.engine import SessionFactory
from storage.models import Organisation, Person
from storage.outbox import withdraw_restricted
from storage.people import audit, find_identity, find_organisations, list_organisations


@dataclass(frozen=True)
class OrganisationRow:
    """One line of ``clusterbot org list``."""

    id: int
    name: str
    is_member: bool
    people: int
    country: str | None


async def organisations(sessions: SessionFactory) -> list[OrganisationRow]:
    """Every organisation, with its number of people."""
    async with sessions() as session:
        rows = await list_organisations(session)
    return [OrganisationRow(o.id, o.name, o.is_member, n, o.country) for o, n in rows]


async def _one_organisation(session: AsyncSession, name_or_id: str) -> Organisation:
    """The one organisation going by this name or id; a clear error for none or several."""
    found = await find_organisations(session, name_or_id)
    if not found:
        raise UserError(f"no organisation is called {name_or_id!r} (see 'clusterbot org list')")
    if len(found) > 1:
        ids = ", ".join(str(o.id) for o in found)
        raise UserError(f"several organisations are called {name_or_id!r}; use an id: {ids}")
    return found[0]


async def confirm_membership(
    sessions: SessionFactory, name_or_id: str, *, member: bool, actor: str
) -> OrganisationRow:
    """Mark an organisation as a member (its people then see member documents), or undo it.

    Raises:
        UserError: no organisation, or several, go by that name.
    """
    async with sessions.begin() as session:
        org = await _one_organisation(session, name_or_id)
        org.is_member = member
        withdrawn = 0
        if not member:
            # Queued alerts and reminders about member-only calls go with the membership.
            withdrawn = await withdraw_restricted(
                session, organisation_id=org.id, visible=("public",)
            )
        await audit(
            session,
            actor=actor,
            action="membership_confirmed" if member else "membership_revoked",
            subject=f"organisation:{org.id}",
            detail={"withdrawn": withdrawn} if withdrawn else None,
        )
        return OrganisationRow(org.id, org.name, org.is_member, 0, org.country)


async def set_segments(
    sessions: SessionFactory,
    name_or_id: str,
    *,
    tier: str | None,
    networks: Sequence[str] | None,
    actor: str,
) -> OrganisationRow:
    """Set an organisation's membership tier and thematic networks (broadcast segments).

    ``None`` leaves a field as it is; an empty tier clears it, as does an empty list of
    networks.

    Raises:
        UserError: no organisation, or several, go by that name; a value is too long.
    """
    clean_tier = tier.strip().lower() if tier is not None else None
    if clean_tier is not None and len(clean_tier) > 32:
        raise UserError(f"the tier {tier!r} is too long (at most 32 characters)")
    clean_networks = None
    if networks is not None:
        clean_networks = list(dict.fromkeys(n.strip() for n in networks if n.strip()))
        if any(len(n) > 80 for n in clean_networks):
            raise UserError("a network name is too long (at most 80 characters)")
    async with sessions.begin() as session:
        org = await _one_organisation(session, name_or_id)
        detail: dict[str, object] = {}
        if clean_tier is not None:
            org.membership_tier = clean_tier or None
            detail["membership_tier"] = org.membership_tier
        if clean_networks is not None:
            org.networks = clean_networks
            detail["networks"] = clean_networks
        await audit(
            session,
            actor=actor,
            action="organisation_segments_set",
            subject=f"organisation:{org.id}",
            detail=detail,
        )
        return OrganisationRow(org.id, org.name, org.is_member, 0, org.country)


async def set_role(sessions: SessionFactory, person: str, role: str, *, actor: str) -> None:
    """Give a person (``telegram:123``, ``slack:U0AB``) a role: member, staff or admin.

    Raises:
        UserError: the person never wrote to the bot, or the role is unknown.
    """
    if role not in ROLES:
        raise UserError(f"{role!r} is not a role; use one of {', '.join(ROLES)}")
    channel, _, user = person.partition(":")
    if not user:
        raise UserError(f"{person!r} is not a person like telegram:123456 or slack:U0123ABC")
    async with sessions.begin() as session:
        identity = await find_identity(session, channel, user)
        if identity is None:
            raise UserError(f"{person} has not written to the bot yet; ask them to send /start")
        row = await session.get_one(Person, identity.person_id)
        row.role = role
        await audit(
            session,
            actor=actor,
            action="role_set",
            subject=f"person:{row.id}",
            detail={"role": role},
        )


__all__ = ["OrganisationRow", "confirm_membership", "organisations", "set_role", "set_segments"]
