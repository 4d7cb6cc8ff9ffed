"""Queries on people, their identities, organisations and consent."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.documents import delete_document, documents_of, referenced_vector_ids
from storage.models import (
    AuditEntry,
    BroadcastPress,
    ConversationState,
    Delivery,
    Feedback,
    Handoff,
    Identity,
    Organisation,
    Person,
    Question,
    Rsvp,
    ScoutingCandidate,
    ScoutingRequest,
    Source,
    Subscription,
    utcnow,
)
from storage.upsert import insert_new, upsert

_ACCOUNT = ("channel", "external_id")  # an identity's unique key


def new_join_code() -> str:
    """A short code people of one organisation share to link their accounts."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


async def find_identity(session: AsyncSession, channel: str, external_id: str) -> Identity | None:
    """The identity of an account on a channel, or None when it never wrote."""
    return await session.scalar(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    )


async def person_for(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    chat_id: str | None,
    display_name: str | None,
    now: datetime | None = None,
) -> Person:
    """The person behind an account, created on first contact.

    ``chat_id`` is remembered only for private chats (where proactive messages go).
    """
    identity = await find_identity(session, channel, external_id)
    now = now or utcnow()
    if identity is None:
        person = Person(display_name=display_name, last_seen_at=now)
        session.add(person)
        await session.flush()
        account = {"channel": channel, "external_id": external_id, "chat_id": chat_id}
        if await insert_new(session, Identity, {**account, "person_id": person.id}, keys=_ACCOUNT):
            return person
        # Another process added this account meanwhile (its transaction has committed).
        await session.delete(person)
        identity = await find_identity(session, channel, external_id)
        if identity is None:
            raise LookupError(f"the {channel} account was added and removed at once")
    person = await session.get_one(Person, identity.person_id)
    # Written at most once a minute: a write per message costs a commit for nothing.
    last = person.last_seen_at
    if last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if (now - last).total_seconds() > 60:
        person.last_seen_at = now
    if display_name and person.display_name != display_name:
        person.display_name = display_name
    if chat_id and identity.chat_id != chat_id:
        identity.chat_id = chat_id
    return person


async def create_organisation(session: AsyncSession, name: str) -> Organisation:
    """A new organisation with a fresh join code."""
    org = Organisation(name=name, join_code=new_join_code())
    session.add(org)
    await session.flush()
    return org


async def organisation_by_code(session: AsyncSession, code: str) -> Organisation | None:
    """The organisation a join code belongs to (case and dashes don't matter)."""
    clean = code.strip().upper().replace("-", "").replace(" ", "")
    if len(clean) != 8:
        return None
    return await session.scalar(
        select(Organisation).where(Organisation.join_code == f"{clean[:4]}-{clean[4:]}")
    )


async def find_organisations(session: AsyncSession, name_or_id: str) -> list[Organisation]:
    """Organisations whose id or name (case-insensitive) is this."""
    if name_or_id.isdigit():
        org = await session.get(Organisation, int(name_or_id))
        return [org] if org else []
    rows = await session.scalars(
        select(Organisation).where(func.lower(Organisation.name) == name_or_id.strip().lower())
    )
    return list(rows)


async def list_organisations(session: AsyncSession) -> list[tuple[Organisation, int]]:
    """Every organisation with its number of people."""
    rows = await session.execute(
        select(Organisation, func.count(Person.id))
        .outerjoin(Person, Person.organisation_id == Organisation.id)
        .group_by(Organisation.id)
        .order_by(Organisation.name)
    )
    return [(org, count) for org, count in rows]


async def get_state(session: AsyncSession, channel: str, user_id: str) -> ConversationState | None:
    """The flow a person is in, if any."""
    return await session.get(ConversationState, (channel, user_id))


async def set_state(
    session: AsyncSession,
    channel: str,
    user_id: str,
    *,
    flow: str,
    step: str,
    data: dict[str, Any] | None = None,
    paused: bool = False,
) -> ConversationState:
    """Put a person at a step of a flow (replacing any other flow).

    One upsert, so a state another message of the same person just deleted or created (on
    another process) is written over rather than failing the update.
    """
    values = {
        "channel": channel,
        "user_id": user_id,
        "flow": flow,
        "step": step,
        "paused": paused,
        "data": dict(data or {}),
        "updated_at": utcnow(),
    }
    await upsert(session, ConversationState, values, keys=("channel", "user_id"))
    return await session.get_one(ConversationState, (channel, user_id), populate_existing=True)


async def clear_state(session: AsyncSession, channel: str, user_id: str) -> None:
    """Leave any flow."""
    await session.execute(
        delete(ConversationState).where(
            ConversationState.channel == channel, ConversationState.user_id == user_id
        )
    )


async def subscriptions(session: AsyncSession, person_id: int) -> dict[str, bool]:
    """Consent per category, as recorded."""
    rows = await session.scalars(select(Subscription).where(Subscription.person_id == person_id))
    return {row.category: row.active for row in rows}


async def set_subscription(
    session: AsyncSession, person_id: int, category: str, *, active: bool
) -> None:
    """Give or withdraw consent for one category."""
    row = await session.scalar(
        select(Subscription).where(
            Subscription.person_id == person_id, Subscription.category == category
        )
    )
    if row is None:
        session.add(Subscription(person_id=person_id, category=category, active=active))
    else:
        row.active, row.updated_at = active, utcnow()
    await session.flush()


async def stop_everything(session: AsyncSession, person_id: int) -> None:
    """/stop: withdraw every consent and mark the person as not to be contacted."""
    await session.execute(
        update(Subscription)
        .where(Subscription.person_id == person_id)
        .values(active=False, updated_at=utcnow())
    )
    person = await session.get_one(Person, person_id)
    person.stopped = True


async def audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append to the audit log (who did what to whom)."""
    session.add(AuditEntry(actor=actor, action=action, subject=subject, detail=detail or {}))
    await session.flush()


def _row(obj: Any, *fields: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


async def export_person(
    session: AsyncSession, person_id: int, user_refs: list[str]
) -> dict[str, Any]:
    """Everything held about a person, as plain data (for /mydata)."""
    person = await session.get_one(Person, person_id)
    identities = await session.scalars(select(Identity).where(Identity.person_id == person_id))
    org = (
        await session.get(Organisation, person.organisation_id) if person.organisation_id else None
    )
    subs = await session.scalars(select(Subscription).where(Subscription.person_id == person_id))
    questions = await session.scalars(
        select(Question).where(Question.user_ref.in_(user_refs)).order_by(Question.id)
    )
    feedback = await session.scalars(select(Feedback).where(Feedback.person_id == person_id))
    handoffs = await session.scalars(select(Handoff).where(Handoff.person_id == person_id))
    rsvps = await session.scalars(select(Rsvp).where(Rsvp.person_id == person_id))
    scouting = await session.scalars(
        select(ScoutingRequest)
        .where(ScoutingRequest.person_id == person_id)
        .order_by(ScoutingRequest.id)
    )
    presses = await session.scalars(
        select(BroadcastPress).where(BroadcastPress.person_id == person_id)
    )
    return {
        "person": _row(
            person, "id", "role", "display_name", "stopped", "alert_frequency", "created_at"
        ),
        "identities": [
            _row(i, "channel", "external_id", "chat_id", "created_at") for i in identities
        ],
        "organisation": _row(
            org,
            "name",
            "is_member",
            "country",
            "org_type",
            "size",
            "description",
            "sectors",
            "therapeutic_areas",
            "technologies",
            "stage",
            "trl",
            "looking_for",
        )
        if org
        else None,
        "subscriptions": [_row(s, "category", "active", "updated_at") for s in subs],
        "questions": [
            _row(q, "asked_at", "channel", "text", "answer", "abstained") for q in questions
        ],
        "feedback": [_row(f, "question_id", "value", "created_at") for f in feedback],
        "handoffs": [_row(h, "text", "status", "created_at") for h in handoffs],
        "rsvps": [_row(r, "opportunity_id", "status", "created_at") for r in rsvps],
        "scouting_requests": [
            _row(r, "id", "technology", "partner_type", "region", "text", "status", "created_at")
            for r in scouting
        ],
        "broadcast_buttons_pressed": [_row(b, "broadcast_id", "button", "at") for b in presses],
    }


async def questions_of(session: AsyncSession, user_refs: Sequence[str]) -> list[int]:
    """The ids of the questions asked under these pseudonyms."""
    if not user_refs:
        return []
    rows = await session.scalars(select(Question.id).where(Question.user_ref.in_(list(user_refs))))
    return list(rows)


async def scouting_of(session: AsyncSession, person_id: int) -> tuple[list[int], list[int]]:
    """The ids of a person's scouting requests and of their candidates.

    Messages to staff and counterparts about them name the person, so erasure needs them.
    """
    requests = list(
        await session.scalars(
            select(ScoutingRequest.id).where(ScoutingRequest.person_id == person_id)
        )
    )
    if not requests:
        return [], []
    candidates = await session.scalars(
        select(ScoutingCandidate.id).where(ScoutingCandidate.request_id.in_(requests))
    )
    return requests, list(candidates)


@dataclass(frozen=True)
class Erasure:
    """What erasing a person removed; ``vector_ids`` must leave the vector store too."""

    questions: int
    curated_answers: int
    vector_ids: frozenset[str]


async def erase_person(
    session: AsyncSession,
    person_id: int,
    user_refs: Sequence[str],
    *,
    derived_sources: Sequence[str] = (),
    derived_item_keys: Sequence[str] = (),
) -> Erasure:
    """Erase a person with their accounts, the questions they asked and what quotes them.

    Besides the rows that belong to the person (removed with them by the database), this
    removes: their questions; other people's hand-offs of those questions (a colleague in a
    group chat can hand one over); ``derived_sources``, the sources built from their words
    (a curated answer titled with their question) with documents, chunks and lexical rows;
    and outbox rows under ``derived_item_keys`` (notices that quote a question). Their
    organisation goes too when they were its last person.

    Returns:
        What was removed, with the vector ids no chunk uses any more.
    """
    person = await session.get_one(Person, person_id)
    org_id = person.organisation_id
    for identity in await session.scalars(select(Identity).where(Identity.person_id == person_id)):
        await clear_state(session, identity.channel, identity.external_id)
    asked = await questions_of(session, user_refs)
    released: set[str] = set()
    curated = 0
    for uri in derived_sources:
        source = await session.scalar(select(Source).where(Source.uri == uri))
        if source is None:
            continue
        for document in (await documents_of(session, source.id)).values():
            released |= await delete_document(session, document)
            curated += 1
        await session.delete(source)
    if derived_item_keys:
        await session.execute(
            delete(Delivery).where(Delivery.item_key.in_(list(derived_item_keys)))
        )
    if asked:
        await session.execute(delete(Handoff).where(Handoff.question_id.in_(asked)))
        await session.execute(delete(Question).where(Question.id.in_(asked)))
    await session.delete(person)
    await session.flush()
    if org_id is not None:
        others = await session.scalar(
            select(func.count(Person.id)).where(Person.organisation_id == org_id)
        )
        if not others:
            await session.execute(delete(Organisation).where(Organisation.id == org_id))
    stale = released - await referenced_vector_ids(session, sorted(released))
    return Erasure(len(asked), curated, frozenset(stale))


__all__ = [
    "Erasure",
    "audit",
    "clear_state",
    "create_organisation",
    "erase_person",
    "export_person",
    "find_identity",
    "find_organisations",
    "get_state",
    "list_organisations",
    "new_join_code",
    "organisation_by_code",
    "person_for",
    "questions_of",
    "scouting_of",
    "set_state",
    "set_subscription",
    "stop_everything",
    "subscriptions",
]
