"""Scouting requests end to end in the core: shortlist, introductions, contacts, contracts.

Contact details travel only through the outbox and only once both sides accepted; every
step is audited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.admin import set_role
from bot.app import App
from bot.cli_scouting import import_demo_portfolio
from bot.errors import UserError
from bot.messages import reply_from_data
from bot.scouting import Opened, describe_request, open_request, parse_one_line, requests
from bot.scouting_intro import (
    ask_introduction,
    close_request,
    counterpart_answer,
    introduce,
    mark_contract,
    record_acceptance,
    set_stage,
)
from knowledge.scouting import ScoutingQuery
from storage.models import AuditEntry, Delivery, Organisation, Person
from storage.people import find_identity, set_subscription
from tests.bot.chat import Chat
from tests.factories import TODAY, make_app

EMAIL = "ingrid@halvorsen-dx.example"
PHONE = "+47 22 555 0102"


@pytest.fixture
async def app(demo_dir: Path) -> AsyncIterator[App]:
    built = await make_app(demo_dir)
    await import_demo_portfolio(built)
    try:
        yield built
    finally:
        await built.close()


async def _person(
    app: App,
    user: str,
    *,
    org: str | None = None,
    name: str | None = None,
    partners: bool = False,
) -> int:
    """Someone who wrote to the bot (so has a private chat), optionally of an organisation,
    who accepts partnering messages when ``partners``."""
    await Chat(app.assistant, user=user, chat=f"chat-{user}").say("/help")
    async with app.sessions.begin() as session:
        identity = await find_identity(session, "test", user)
        assert identity is not None
        person = await session.get_one(Person, identity.person_id)
        person.display_name = name
        if org is not None:
            row = await session.scalar(select(Organisation).where(Organisation.name == org))
            if row is None:
                row = Organisation(name=org, join_code=f"J{user}")
                session.add(row)
                await session.flush()
            person.organisation_id = row.id
        await set_subscription(session, person.id, "partners", active=partners)
        return person.id


async def _open(app: App, person_id: int, technology: str = "sepsis diagnostics") -> Opened:
    async with app.sessions() as session:
        person = await session.get_one(Person, person_id)
    return await open_request(
        app.sessions,
        person_id=person_id,
        organisation_id=person.organisation_id,
        query=ScoutingQuery(technology, region="Nordics"),
        today=TODAY,
        audiences=("public",),
        embedder=app.index.embedder,
    )


async def _texts(app: App, person_id: int) -> list[str]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.person_id == person_id).order_by(Delivery.id)
        )
        return [reply_from_data(r.payload).text for r in rows]


async def _actions(app: App) -> list[str]:
    async with app.sessions() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_one_line_requests_are_checked() -> None:
    query = parse_one_line("organ-on-chip | University | any")
    assert (query.technology, query.partner_type, query.region) == (
        "organ-on-chip",
        "university",
        None,
    )
    with pytest.raises(UserError, match="Say what you seek first"):
        parse_one_line(" | university")
    with pytest.raises(UserError, match="at most three parts"):
        parse_one_line("a | b | c | d")
    with pytest.raises(UserError, match="at most 300 characters"):
        parse_one_line("x" * 301)


async def test_opening_a_request_shortlists_and_tells_staff_through_the_outbox(app: App) -> None:
    staff = await _person(app, "staff1")
    await set_role(app.sessions, "test:staff1", "staff", actor="test")
    sme = await _person(app, "sme1", org="Acme Diagnostics GmbH", name="Ana")
    opened = await _open(app, sme)
    view = opened.request
    assert opened.identified == len(view.candidates) >= 1
    assert view.shortlist[0].title.startswith("Point-of-care sepsis")
    assert all(c.stage == "shortlisted" for c in view.shortlist)
    assert opened.staff_told == 1
    (notice,) = await _texts(app, staff)
    assert f"New scouting request #{view.id} from Ana (Acme Diagnostics GmbH)" in notice
    assert await _texts(app, sme) == []
    assert "scouting.request" in await _actions(app)
    assert EMAIL not in describe_request(view)


async def test_contacts_are_shared_only_after_both_sides_accept(app: App) -> None:
    sme = await _person(app, "sme1", org="Acme Diagnostics GmbH", name="Ana")
    other = await _person(
        app, "hal1", org="Halvorsen Diagnostics AS", name="Ingrid", partners=True
    )
    await _person(app, "hal2", org="Halvorsen Diagnostics AS")  # no consent: not asked
    stranger = await _person(app, "x1")
    candidate = (await _open(app, sme)).request.shortlist[0]

    with pytest.raises(UserError, match="has not asked for an introduction"):
        await introduce(app.sessions, candidate_id=candidate.id, actor="test")
    with pytest.raises(UserError, match="belongs to someone else"):
        await ask_introduction(app.sessions, candidate_id=candidate.id, person_id=stranger)
    step = await ask_introduction(app.sessions, candidate_id=candidate.id, person_id=sme)
    assert step.candidate.requester_accepted
    assert step.candidate.stage == "shortlisted"

    asked = await introduce(app.sessions, candidate_id=candidate.id, actor="staff")
    assert asked.notified == 1  # the asset's organisation, found again by its owner's name
    async with app.sessions() as session:
        ask = await session.scalar(select(Delivery).where(Delivery.person_id == other))
    assert ask is not None
    buttons = [b.label for b in reply_from_data(ask.payload).buttons]
    assert buttons == ["Accept", "Decline"]
    for text in [*await _texts(app, sme), *await _texts(app, other)]:
        assert EMAIL not in text
        assert PHONE not in text
        assert "tg://" not in text

    with pytest.raises(UserError, match="not sent to you"):
        await counterpart_answer(
            app.sessions, candidate_id=candidate.id, person_id=stranger, accept=True
        )
    done = await counterpart_answer(
        app.sessions, candidate_id=candidate.id, person_id=other, accept=True
    )
    assert done.candidate.stage == "introduced"
    (to_sme,) = await _texts(app, sme)
    assert EMAIL in to_sme
    assert PHONE in to_sme
    assert "Ingrid accepted" in to_sme
    to_other = (await _texts(app, other))[-1]
    assert "Name: Ana" in to_other
    assert "Organisation: Acme Diagnostics GmbH" in to_other
    assert "test: sme1" in to_other
    assert EMAIL not in "".join(await _texts(app, stranger))

    contract = await mark_contract(app.sessions, candidate_id=candidate.id, actor="staff")
    assert contract.candidate.stage == "contract"
    with pytest.raises(UserError, match="already has a contract"):
        await mark_contract(app.sessions, candidate_id=candidate.id, actor="staff")
    actions = await _actions(app)
    for action in ("scouting.intro_asked", "scouting.introduce", "scouting.introduced"):
        assert action in actions
    assert actions[-1] == "scouting.contract"


async def test_a_decline_tells_the_requester_without_contacts(app: App) -> None:
    sme = await _person(app, "sme1")
    other = await _person(app, "hal1", org="Halvorsen Diagnostics AS", partners=True)
    candidate = (await _open(app, sme)).request.shortlist[0]
    await ask_introduction(app.sessions, candidate_id=candidate.id, person_id=sme)
    await introduce(app.sessions, candidate_id=candidate.id, actor="staff")
    step = await counterpart_answer(
        app.sessions, candidate_id=candidate.id, person_id=other, accept=False
    )
    assert step.candidate.stage == "declined"
    (told,) = await _texts(app, sme)
    assert "cannot take up an introduction" in told
    assert EMAIL not in told
    with pytest.raises(UserError, match="already settled"):
        await counterpart_answer(
            app.sessions, candidate_id=candidate.id, person_id=other, accept=True
        )


async def test_staff_record_an_offline_acceptance_and_close_the_request(app: App) -> None:
    sme = await _person(app, "sme1")
    opened = await _open(app, sme)
    candidate = opened.request.shortlist[0]
    with pytest.raises(UserError, match="a contract follows an introduction"):
        await mark_contract(app.sessions, candidate_id=candidate.id, actor="cli")
    with pytest.raises(UserError, match="has not asked"):
        await record_acceptance(app.sessions, candidate_id=candidate.id, actor="cli")
    await ask_introduction(app.sessions, candidate_id=candidate.id, person_id=sme)
    nobody = await introduce(app.sessions, candidate_id=candidate.id, actor="cli")
    assert nobody.notified == 0  # nobody of Halvorsen uses the bot: staff ask offline
    step = await set_stage(
        app.sessions, candidate_id=candidate.id, stage="introduced", actor="cli"
    )
    assert step.candidate.stage == "introduced"
    assert step.notified == 1
    assert EMAIL in (await _texts(app, sme))[0]
    with pytest.raises(UserError, match="not a stage"):
        await set_stage(app.sessions, candidate_id=candidate.id, stage="won", actor="cli")

    assert await close_request(app.sessions, request_id=opened.request.id, actor="cli") == 1
    assert "closed your scouting request" in (await _texts(app, sme))[-1]
    with pytest.raises(UserError, match="already closed"):
        await close_request(app.sessions, request_id=opened.request.id, actor="cli")
    with pytest.raises(UserError, match="closed"):
        await ask_introduction(
            app.sessions, candidate_id=opened.request.shortlist[1].id, person_id=sme
        )
    assert await requests(app.sessions) == []
    with pytest.raises(UserError, match="no scouting candidate #999"):
        await introduce(app.sessions, candidate_id=999, actor="cli")


async def test_a_request_with_no_match_is_still_opened_for_staff(app: App) -> None:
    sme = await _person(app, "sme1")
    opened = await _open(app, sme, technology="quantum computing for logistics")
    assert opened.identified == 0
    assert [r.id for r in await requests(app.sessions)] == [opened.request.id]
    with pytest.raises(UserError, match="technology"):
        await _open(app, sme, technology="  ")
