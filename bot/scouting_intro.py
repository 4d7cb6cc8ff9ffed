"""Introductions between a requester and a candidate, contracts, and closing requests.

The order is fixed: the SME asks for an introduction (requester accepted); staff ask the
counterpart, through the bot when the asset's organisation has people in it (an
Accept/Decline message via the outbox) or offline and then record the answer; once both
accepted the candidate is ``introduced`` and both sides get each other's contact details,
through the outbox only. A contract can be recorded after that. Each step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.messages import Button, Reply, reply_to_data
from bot.scouting import CandidateView, candidate_view, tell_staff
from storage.engine import SessionFactory
from storage.models import (
    Asset,
    Identity,
    Opportunity,
    Organisation,
    Person,
    ScoutingCandidate,
    ScoutingRequest,
    utcnow,
)
from storage.outbox import enqueue
from storage.people import audit, subscriptions
from storage.scouting import organisation_named, people_of, private_chat, was_asked

#: Button action for the counterpart's answer (payload ``<candidate id>:yes|no``).
ANSWER = "scans"
_OVER = ("contract", "declined")
#: The consent category of an introduction request to a counterpart.
PARTNERS = "partners"


@dataclass(frozen=True)
class Step:
    """What a step did: the candidate afterwards, and how many people were messaged."""

    candidate: CandidateView
    notified: int = 0


async def _load(
    session: AsyncSession, candidate_id: int
) -> tuple[ScoutingCandidate, ScoutingRequest]:
    candidate = await session.get(ScoutingCandidate, candidate_id)
    if candidate is None:
        raise UserError(f"There is no scouting candidate #{candidate_id}.")
    request = await session.get_one(ScoutingRequest, candidate.request_id)
    return candidate, request


async def _send(
    session: AsyncSession,
    person_id: int,
    item_key: str,
    reply: Reply,
    *,
    category: str | None = None,
) -> int:
    identity = await private_chat(session, person_id)
    if identity is None or identity.chat_id is None:
        return 0
    return int(
        await enqueue(
            session,
            person_id=person_id,
            channel=identity.channel,
            chat_id=identity.chat_id,
            kind="notice",
            item_key=item_key,
            category=category,
            payload=reply_to_data(reply),
        )
    )


async def _counterpart_org(session: AsyncSession, candidate: ScoutingCandidate) -> int | None:
    """The organisation behind an asset, linked by id or found again by its owner's name."""
    asset = await session.get(Asset, candidate.asset_id) if candidate.asset_id else None
    if asset is None:
        return None
    if asset.organisation_id is None and asset.owner_name:
        org = await organisation_named(session, asset.owner_name)
        asset.organisation_id = org.id if org else None
    return asset.organisation_id


async def ask_introduction(sessions: SessionFactory, *, candidate_id: int, person_id: int) -> Step:
    """The requester asks to be introduced to a shortlisted candidate; staff are told.

    Raises:
        UserError: not the requester's candidate, the request is closed, or it is over.
    """
    async with sessions.begin() as session:
        candidate, request = await _load(session, candidate_id)
        if request.person_id != person_id:
            raise UserError("That shortlist belongs to someone else.")
        if request.status != "open":
            raise UserError("That scouting request is closed; /scout starts a new one.")
        if candidate.stage in _OVER or candidate.stage == "introduced":
            raise UserError("That introduction is already settled.")
        told = 0
        if not candidate.requester_accepted:
            candidate.requester_accepted = True
            candidate.updated_at = utcnow()
            if candidate.shortlisted_at is None:
                candidate.stage, candidate.shortlisted_at = "shortlisted", utcnow()
            view = await candidate_view(session, candidate)
            told = await tell_staff(
                session,
                item_key=f"scouting-intro:{candidate.id}",
                text=(
                    f"Scouting request #{request.id}: the requester asks for an introduction "
                    f"to {view.title} (candidate #{candidate.id}). /requests shows it."
                ),
            )
            await audit(
                session,
                actor=f"person:{person_id}",
                action="scouting.intro_asked",
                subject=f"scouting-candidate:{candidate.id}",
            )
        if candidate.counterpart_accepted and candidate.stage != "introduced":
            told += await _share(session, candidate, request, actor=f"person:{person_id}")
        return Step(await candidate_view(session, candidate), told)


async def introduce(sessions: SessionFactory, *, candidate_id: int, actor: str) -> Step:
    """Staff ask the counterpart: its people in the bot get Accept/Decline buttons.

    Only people who accept partnering messages are asked (consent category ``partners``,
    checked again when sending). ``notified`` is 0 when nobody of the counterpart can be
    asked in the bot: staff then ask offline and record the answer with
    :func:`record_acceptance`.

    Raises:
        UserError: the requester has not asked for it, or the candidate is settled.
    """
    async with sessions.begin() as session:
        candidate, request = await _load(session, candidate_id)
        if candidate.stage in _OVER or candidate.stage == "introduced":
            raise UserError(f"Candidate #{candidate_id} is already {candidate.stage}.")
        if not candidate.requester_accepted:
            raise UserError(
                f"The requester has not asked for an introduction to candidate #{candidate_id}."
            )
        view = await candidate_view(session, candidate)
        org_id = await _counterpart_org(session, candidate)
        asked = 0
        if org_id is not None:
            reply = Reply(
                f"The cluster team has a partner request for {view.title}: a member seeks "
                f"{request.technology}. Would you like an introduction? If you accept and "
                "they do too, you both get each other's contact details.",
                buttons=(
                    Button("Accept", ANSWER, f"{candidate.id}:yes"),
                    Button("Decline", ANSWER, f"{candidate.id}:no"),
                ),
            )
            for person in await people_of(session, org_id):
                if not (await subscriptions(session, person.id)).get(PARTNERS):
                    continue  # partnering requests need the person's consent
                asked += await _send(
                    session,
                    person.id,
                    f"scouting-ask:{candidate.id}",
                    reply,
                    category=PARTNERS,
                )
        await audit(
            session,
            actor=actor,
            action="scouting.introduce",
            subject=f"scouting-candidate:{candidate.id}",
            detail={"asked_in_bot": asked},
        )
        return Step(view, asked)


async def record_acceptance(sessions: SessionFactory, *, candidate_id: int, actor: str) -> Step:
    """Staff record that the counterpart accepted (asked offline); shares contacts if due.

    Raises:
        UserError: the candidate is settled, or the requester has not asked for it.
    """
    async with sessions.begin() as session:
        candidate, request = await _load(session, candidate_id)
        if candidate.stage in _OVER or candidate.stage == "introduced":
            raise UserError(f"Candidate #{candidate_id} is already {candidate.stage}.")
        if not candidate.requester_accepted:
            raise UserError(
                f"The requester has not asked for an introduction to candidate #{candidate_id}."
            )
        candidate.counterpart_accepted = True
        sent = await _share(session, candidate, request, actor=actor)
        return Step(await candidate_view(session, candidate), sent)


async def counterpart_answer(
    sessions: SessionFactory, *, candidate_id: int, person_id: int, accept: bool
) -> Step:
    """The counterpart's Accept or Decline (only someone who was asked may answer).

    Raises:
        UserError: this person was not asked, or it is settled.
    """
    async with sessions.begin() as session:
        candidate, request = await _load(session, candidate_id)
        if not await was_asked(
            session, person_id=person_id, item_key=f"scouting-ask:{candidate.id}"
        ):
            raise UserError("That request was not sent to you.")
        if candidate.stage in _OVER or candidate.stage == "introduced":
            raise UserError("Thank you, this introduction is already settled.")
        actor = f"person:{person_id}"
        if accept:
            candidate.counterpart_accepted = True
            sent = await _share(session, candidate, request, actor=actor, accepted_by=person_id)
            return Step(await candidate_view(session, candidate), sent)
        candidate.stage, candidate.updated_at = "declined", utcnow()
        view = await candidate_view(session, candidate)
        sent = await _send(
            session,
            request.person_id,
            f"scouting-declined:{candidate.id}",
            Reply(f"{view.title} cannot take up an introduction right now. /scout shows more."),
        )
        await audit(
            session,
            actor=actor,
            action="scouting.declined",
            subject=f"scouting-candidate:{candidate.id}",
        )
        return Step(view, sent)


def handle(identity: Identity | None) -> str:
    """How to reach a person on their channel."""
    if identity is None:
        return "through the cluster team"
    if identity.channel == "telegram":
        return f"Telegram: tg://user?id={identity.external_id}"
    if identity.channel == "slack":
        return f"Slack: <@{identity.external_id}>"
    return f"{identity.channel}: {identity.external_id}"


async def _share(
    session: AsyncSession,
    candidate: ScoutingCandidate,
    request: ScoutingRequest,
    *,
    actor: str,
    accepted_by: int | None = None,
) -> int:
    """Both accepted: mark introduced and send each side the other's details."""
    if not (candidate.requester_accepted and candidate.counterpart_accepted):
        return 0
    now = utcnow()
    candidate.stage, candidate.introduced_at, candidate.updated_at = "introduced", now, now
    asset = await session.get(Asset, candidate.asset_id) if candidate.asset_id else None
    opp = (
        await session.get(Opportunity, candidate.opportunity_id)
        if candidate.opportunity_id
        else None
    )
    title = asset.name if asset else opp.title if opp else "your candidate"
    lines = [f"Introduction agreed: {title}."]
    if asset is not None:
        contact = asset.contact or {}
        lines += [
            f"{k.capitalize()}: {contact[k]}" for k in ("name", "email", "phone") if k in contact
        ]
        if asset.owner_name:
            lines.append(f"Organisation: {asset.owner_name}")
    if accepted_by is not None:
        person = await session.get(Person, accepted_by)
        name = person.display_name if person and person.display_name else "Their contact"
        lines.append(f"{name} accepted; {handle(await private_chat(session, accepted_by))}")
    url = asset.url if asset else opp.url if opp else None
    if url:
        lines.append(f"Web: {url}")
    sent = await _send(
        session, request.person_id, f"scouting-contact:{candidate.id}", Reply("\n".join(lines))
    )
    requester = await session.get(Person, request.person_id)
    org = (
        await session.get(Organisation, request.organisation_id)
        if request.organisation_id
        else None
    )
    about = [
        f"Introduction agreed for {title}: a member seeks {request.technology}.",
        f"Name: {requester.display_name if requester and requester.display_name else 'not given'}",
    ]
    if org is not None and org.name:
        about.append(f"Organisation: {org.name}")
    about.append(f"Contact: {handle(await private_chat(session, request.person_id))}")
    org_id = await _counterpart_org(session, candidate)
    for person in await people_of(session, org_id) if org_id is not None else []:
        if await was_asked(session, person_id=person.id, item_key=f"scouting-ask:{candidate.id}"):
            sent += await _send(
                session, person.id, f"scouting-contact:{candidate.id}", Reply("\n".join(about))
            )
    await audit(
        session,
        actor=actor,
        action="scouting.introduced",
        subject=f"scouting-candidate:{candidate.id}",
        detail={"notified": sent},
    )
    return sent


async def mark_contract(sessions: SessionFactory, *, candidate_id: int, actor: str) -> Step:
    """Record that an introduction led to a contract.

    Raises:
        UserError: the candidate was not introduced yet, or is settled.
    """
    async with sessions.begin() as session:
        candidate, _ = await _load(session, candidate_id)
        if candidate.stage == "contract":
            raise UserError(f"Candidate #{candidate_id} already has a contract on record.")
        if candidate.stage != "introduced":
            raise UserError(
                f"Candidate #{candidate_id} is {candidate.stage}: a contract follows an "
                "introduction."
            )
        now = utcnow()
        candidate.stage, candidate.contract_at, candidate.updated_at = "contract", now, now
        await audit(
            session,
            actor=actor,
            action="scouting.contract",
            subject=f"scouting-candidate:{candidate.id}",
        )
        return Step(await candidate_view(session, candidate))


async def set_stage(
    sessions: SessionFactory, *, candidate_id: int, stage: str, actor: str
) -> Step:
    """Move a candidate by hand (CLI): shortlisted, introduced, contract or declined.

    ``introduced`` records the counterpart's acceptance (the requester must have asked).

    Raises:
        UserError: an unknown stage, or a move the funnel does not allow.
    """
    if stage == "introduced":
        return await record_acceptance(sessions, candidate_id=candidate_id, actor=actor)
    if stage == "contract":
        return await mark_contract(sessions, candidate_id=candidate_id, actor=actor)
    if stage not in ("shortlisted", "declined"):
        raise UserError(
            f"{stage!r} is not a stage: use shortlisted, introduced, contract or declined."
        )
    async with sessions.begin() as session:
        candidate, _ = await _load(session, candidate_id)
        if candidate.stage in _OVER or candidate.stage == "introduced":
            raise UserError(f"Candidate #{candidate_id} is already {candidate.stage}.")
        now = utcnow()
        candidate.stage, candidate.updated_at = stage, now
        if stage == "shortlisted" and candidate.shortlisted_at is None:
            candidate.shortlisted_at = now
        await audit(
            session,
            actor=actor,
            action=f"scouting.{stage}",
            subject=f"scouting-candidate:{candidate.id}",
        )
        return Step(await candidate_view(session, candidate))


async def close_request(sessions: SessionFactory, *, request_id: int, actor: str) -> int:
    """Close a request; the requester is told. Returns how many were told (0 or 1).

    Raises:
        UserError: no such request, or already closed.
    """
    async with sessions.begin() as session:
        request = await session.get(ScoutingRequest, request_id)
        if request is None:
            raise UserError(f"There is no scouting request #{request_id}.")
        if request.status == "closed":
            raise UserError(f"Scouting request #{request_id} is already closed.")
        request.status, request.handled_by, request.updated_at = "closed", actor, utcnow()
        told = await _send(
            session,
            request.person_id,
            f"scouting-closed:{request.id}",
            Reply(
                f"The cluster team closed your scouting request #{request.id} "
                f"({request.technology}). /scout starts a new one."
            ),
        )
        await audit(
            session, actor=actor, action="scouting.close", subject=f"scouting:{request.id}"
        )
        return told


__all__ = [
    "ANSWER",
    "Step",
    "ask_introduction",
    "close_request",
    "counterpart_answer",
    "handle",
    "introduce",
    "mark_contract",
    "record_acceptance",
    "set_stage",
]
