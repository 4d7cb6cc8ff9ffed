"""Partner scouting requests: what an SME seeks, the candidates found, and how they read.

Opening a request matches it against the portfolio and live opportunities
(:mod:`knowledge.scouting`), stores every candidate as ``identified`` and the best few as
``shortlisted`` (the shortlist the SME sees), tells staff through the outbox, and writes an
audit entry, all in one transaction. Introductions, contracts and closing are in
:mod:`bot.scouting_intro`. Nothing here shows contact details: they leave the asset table
only in :mod:`bot.scouting_intro` once both sides accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.messages import Reply, reply_to_data
from knowledge.countries import COUNTRIES
from knowledge.embeddings import TextEmbedder
from knowledge.scouting import ScoutingQuery, partner_type_key, partner_type_label, scout
from storage.engine import SessionFactory
from storage.models import (
    Asset,
    Opportunity,
    Organisation,
    Person,
    ScoutingCandidate,
    ScoutingRequest,
    utcnow,
)
from storage.outbox import enqueue
from storage.people import audit
from storage.scouting import (
    add_candidate,
    candidates_of,
    create_request,
    list_requests,
    private_chat,
    staff_people,
)

#: How many candidates the SME sees; the rest stay ``identified`` for staff.
SHORTLIST = 5
MAX_TECHNOLOGY_CHARS = 300


@dataclass(frozen=True)
class CandidateView:
    """A candidate as people may see it: never with contact details."""

    id: int
    request_id: int
    stage: str
    score: float
    reasons: tuple[str, ...]
    title: str
    owner: str | None
    partner_type: str | None
    country: str | None
    url: str | None
    is_asset: bool
    requester_accepted: bool
    counterpart_accepted: bool


@dataclass(frozen=True)
class RequestView:
    """A request with who asked and its candidates (best first)."""

    id: int
    status: str
    technology: str
    partner_type: str | None
    region: str | None
    created_at: datetime
    person_id: int
    requester: str
    organisation: str | None
    candidates: tuple[CandidateView, ...]

    @property
    def shortlist(self) -> tuple[CandidateView, ...]:
        """The candidates the SME was shown (or that went further)."""
        return tuple(c for c in self.candidates if c.stage != "identified")


@dataclass(frozen=True)
class Opened:
    """What opening a request did."""

    request: RequestView
    identified: int
    staff_told: int


def parse_one_line(text: str) -> ScoutingQuery:
    """``TECHNOLOGY | PARTNER TYPE | REGION`` (the last two optional, "any" for none).

    Raises:
        UserError: no technology, or one too long.
    """
    parts = [p.strip() for p in text.split("|")]
    technology = parts[0] if parts else ""
    if not technology:
        raise UserError("Say what you seek first, e.g. /scout organ-on-chip | university | DACH")
    if len(technology) > MAX_TECHNOLOGY_CHARS:
        raise UserError(f"Please describe it in at most {MAX_TECHNOLOGY_CHARS} characters.")
    if len(parts) > 3:
        raise UserError("Use at most three parts: technology | partner type | region.")
    kind = parts[1] if len(parts) > 1 and parts[1].lower() not in ("", "any", "-") else None
    region = parts[2] if len(parts) > 2 and parts[2].lower() not in ("", "any", "-") else None
    return ScoutingQuery(
        technology=technology,
        partner_type=partner_type_key(kind) if kind else None,
        region=region,
    )


def _candidate_view(
    c: ScoutingCandidate, asset: Asset | None, opp: Opportunity | None
) -> CandidateView:
    return CandidateView(
        id=c.id,
        request_id=c.request_id,
        stage=c.stage,
        score=c.score,
        reasons=tuple(str(r) for r in c.reasons),
        title=asset.name if asset else opp.title if opp else "(no longer on record)",
        owner=asset.owner_name if asset else None,
        partner_type=asset.partner_type if asset else None,
        country=asset.country if asset else None,
        url=asset.url if asset else opp.url if opp else None,
        is_asset=asset is not None,
        requester_accepted=c.requester_accepted,
        counterpart_accepted=c.counterpart_accepted,
    )


async def candidate_view(session: AsyncSession, c: ScoutingCandidate) -> CandidateView:
    """One candidate with its asset's or opportunity's public fields."""
    asset = await session.get(Asset, c.asset_id) if c.asset_id else None
    opp = await session.get(Opportunity, c.opportunity_id) if c.opportunity_id else None
    return _candidate_view(c, asset, opp)


async def request_view(session: AsyncSession, request: ScoutingRequest) -> RequestView:
    """A request with its requester and candidates."""
    person = await session.get(Person, request.person_id)
    org = (
        await session.get(Organisation, request.organisation_id)
        if request.organisation_id
        else None
    )
    candidates = [
        await candidate_view(session, c) for c in await candidates_of(session, request.id)
    ]
    return RequestView(
        id=request.id,
        status=request.status,
        technology=request.technology,
        partner_type=request.partner_type,
        region=request.region,
        created_at=request.created_at,
        person_id=request.person_id,
        requester=(person.display_name if person and person.display_name else "a member"),
        organisation=org.name if org and org.name else None,
        candidates=tuple(candidates),
    )


async def get_request(sessions: SessionFactory, request_id: int) -> RequestView:
    """One request by id.

    Raises:
        UserError: no such request.
    """
    async with sessions() as session:
        request = await session.get(ScoutingRequest, request_id)
        if request is None:
            raise UserError(f"There is no scouting request #{request_id}.")
        return await request_view(session, request)


async def requests(
    sessions: SessionFactory,
    *,
    status: str | None = "open",
    person_id: int | None = None,
    limit: int = 20,
) -> list[RequestView]:
    """Requests (open ones by default), newest first, with their candidates."""
    async with sessions() as session:
        rows = await list_requests(session, status=status, person_id=person_id, limit=limit)
        return [await request_view(session, r) for r in rows]


async def open_request(
    sessions: SessionFactory,
    *,
    person_id: int,
    organisation_id: int | None,
    query: ScoutingQuery,
    today: date,
    audiences: tuple[str, ...],
    embedder: TextEmbedder | None,
    shortlist: int = SHORTLIST,
) -> Opened:
    """Match a request, store its candidates, tell staff, audit it; one transaction.

    Raises:
        UserError: the request names no technology.
    """
    if not query.technology.strip():
        raise UserError("Say what technology or expertise you seek.")
    found = await scout(sessions, query=query, today=today, audiences=audiences, embedder=embedder)
    now = utcnow()
    async with sessions.begin() as session:
        request = await create_request(
            session,
            person_id=person_id,
            organisation_id=organisation_id,
            technology=query.technology,
            partner_type=query.partner_type,
            region=query.region,
            text=" | ".join(
                [query.technology, query.partner_type or "any", query.region or "any"]
            ),
        )
        for n, item in enumerate(found):
            await add_candidate(
                session,
                request_id=request.id,
                asset_id=item.asset_id,
                opportunity_id=item.opportunity_id,
                score=item.score,
                reasons=list(item.reasons),
                shortlisted_at=now if n < shortlist else None,
            )
        view = await request_view(session, request)
        told = await tell_staff(
            session,
            item_key=f"scouting:{request.id}",
            text=(
                f"New scouting request #{request.id} from {view.requester}"
                f"{f' ({view.organisation})' if view.organisation else ''}: "
                f"{describe_query(view)}. {len(found)} candidates found, "
                f"{len(view.shortlist)} shortlisted. /requests shows it."
            ),
        )
        await audit(
            session,
            actor=f"person:{person_id}",
            action="scouting.request",
            subject=f"scouting:{request.id}",
            detail={"identified": len(found), "shortlisted": len(view.shortlist)},
        )
    return Opened(request=view, identified=len(found), staff_told=told)


async def tell_staff(session: AsyncSession, *, item_key: str, text: str) -> int:
    """Queue a notice to every staff member with a private chat; returns how many."""
    told = 0
    for person in await staff_people(session):
        identity = await private_chat(session, person.id)
        if identity is None or identity.chat_id is None:
            continue
        told += await enqueue(
            session,
            person_id=person.id,
            channel=identity.channel,
            chat_id=identity.chat_id,
            kind="notice",
            item_key=item_key,
            category=None,
            payload=reply_to_data(Reply(text)),
        )
    return told


def describe_query(view: RequestView) -> str:
    """What was sought, in a few words."""
    text = view.technology
    if view.partner_type:
        text += f", {partner_type_label(view.partner_type)}"
    if view.region:
        text += f", in {view.region}"
    return text


def describe_candidate(c: CandidateView, n: int | None = None) -> str:
    """A candidate in two or three lines, without contact details."""
    head = f"{n}. " if n is not None else f"Candidate #{c.id}: "
    where = COUNTRIES.get(c.country, c.country) if c.country else None
    about = ", ".join(
        x
        for x in (c.owner, partner_type_label(c.partner_type) if c.partner_type else None, where)
        if x
    )
    lines = [f"{head}{c.title}" + (f" ({about})" if about else "")]
    if c.reasons:
        lines.append("   Why: " + "; ".join(c.reasons[:4]))
    if not c.is_asset and c.url:
        lines.append(f"   {c.url}")
    return "\n".join(lines)


_STAGE_WORDS = {
    "identified": "identified",
    "shortlisted": "shortlisted",
    "introduced": "introduced",
    "contract": "contract signed",
    "declined": "declined",
}


def candidate_status(c: CandidateView) -> str:
    """Where a candidate stands, for staff."""
    word = _STAGE_WORDS.get(c.stage, c.stage)
    if c.stage == "shortlisted":
        if c.requester_accepted and c.counterpart_accepted:
            return "both accepted"
        if c.requester_accepted:
            return "introduction asked"
    return word


def describe_request(view: RequestView, *, shown: int = 5) -> str:
    """A request for staff: who, what, and the candidates that matter most."""
    who = view.requester + (f" ({view.organisation})" if view.organisation else "")
    lines = [
        f"Request #{view.id} ({view.created_at:%Y-%m-%d}, {view.status}) from {who}",
        f"Seeks: {describe_query(view)}",
    ]
    ranked = sorted(view.candidates, key=lambda c: (not c.requester_accepted, -c.score))
    for c in ranked[:shown]:
        lines.append(f"{describe_candidate(c)}\n   Status: {candidate_status(c)}")
    rest = len(view.candidates) - min(shown, len(view.candidates))
    if rest:
        lines.append(f"(+{rest} more candidates)")
    if not view.candidates:
        lines.append("No candidates found yet.")
    return "\n".join(lines)


__all__ = [
    "MAX_TECHNOLOGY_CHARS",
    "SHORTLIST",
    "CandidateView",
    "Opened",
    "RequestView",
    "candidate_status",
    "candidate_view",
    "describe_candidate",
    "describe_query",
    "describe_request",
    "get_request",
    "open_request",
    "parse_one_line",
    "request_view",
    "requests",
    "tell_staff",
]
