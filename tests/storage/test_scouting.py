"""Scouting queries on the real schema: asset upserts, candidates, requests and the funnel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import SessionFactory
from storage.models import Document, Opportunity, Organisation, Person, Source
from storage.outbox import enqueue
from storage.scouting import (
    add_candidate,
    candidates_of,
    create_request,
    list_requests,
    organisation_named,
    people_of,
    scoutable_opportunities,
    scouting_funnel,
    upsert_asset,
    was_asked,
)


async def test_upsert_adds_then_leaves_alone_then_updates(sessions: SessionFactory) -> None:
    fields = {"name": "Liver chip", "technologies": ["organ-on-chip"], "contact": {}}
    outcomes = []
    async with sessions.begin() as session:
        for digest, name in (("h1", "Liver chip"), ("h1", "ignored"), ("h2", "Liver chip 2")):
            outcomes.append(
                await upsert_asset(
                    session,
                    source="crm.csv",
                    external_id="A1",
                    fields=fields | {"name": name},
                    content_hash=digest,
                )
            )
        other = await upsert_asset(
            session, source="other.csv", external_id="A1", fields=fields, content_hash="h1"
        )
    assert outcomes == ["added", "unchanged", "updated"]
    assert other == "added"  # the same id in another source is another asset


async def _person(sessions: SessionFactory, org_name: str | None = None) -> tuple[int, int | None]:
    async with sessions.begin() as session:
        org = None
        if org_name is not None:
            org = Organisation(name=org_name, join_code=f"J-{org_name}"[:32])
            session.add(org)
            await session.flush()
        person = Person(organisation_id=org.id if org else None)
        session.add(person)
        await session.flush()
        return person.id, org.id if org else None


async def test_candidates_come_best_first_and_by_stage(sessions: SessionFactory) -> None:
    person_id, _ = await _person(sessions)
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        request = await create_request(
            session,
            person_id=person_id,
            organisation_id=None,
            technology="organ-on-chip",
            partner_type=None,
            region=None,
        )
        for score, listed in ((0.4, None), (0.9, now), (0.6, now)):
            await add_candidate(
                session,
                request_id=request.id,
                asset_id=None,
                opportunity_id=None,
                score=score,
                reasons=["why"],
                shortlisted_at=listed,
            )
    async with sessions() as session:
        every = await candidates_of(session, request.id)
        short = await candidates_of(session, request.id, stages=["shortlisted"])
        mine = await list_requests(session, person_id=person_id)
        closed = await list_requests(session, status="closed")
    assert [c.score for c in every] == [0.9, 0.6, 0.4]
    assert [c.stage for c in every] == ["shortlisted", "shortlisted", "identified"]
    assert [c.score for c in short] == [0.9, 0.6]
    assert [r.id for r in mine] == [request.id]
    assert closed == []


async def test_the_funnel_counts_each_stage_by_when_it_was_reached(
    sessions: SessionFactory,
) -> None:
    person_id, _ = await _person(sessions)
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        request = await create_request(
            session,
            person_id=person_id,
            organisation_id=None,
            technology="x",
            partner_type=None,
            region=None,
        )
        a = await add_candidate(
            session, request_id=request.id, asset_id=None, opportunity_id=None, score=1, reasons=[]
        )
        b = await add_candidate(
            session,
            request_id=request.id,
            asset_id=None,
            opportunity_id=None,
            score=1,
            reasons=[],
            shortlisted_at=now,
        )
        b.introduced_at = b.contract_at = now
        a.stage = "identified"
    async with sessions() as session:
        inside = await scouting_funnel(session, now - timedelta(days=1), now + timedelta(days=1))
        later = await scouting_funnel(session, now + timedelta(days=1), now + timedelta(days=2))
    assert (inside.requests, inside.identified, inside.shortlisted) == (1, 2, 1)
    assert (inside.introduced, inside.contracts) == (1, 1)
    assert (later.requests, later.identified, later.contracts) == (0, 0, 0)


async def test_organisation_names_match_case_insensitively_and_only_when_unique(
    sessions: SessionFactory,
) -> None:
    await _person(sessions, "Nordfill ApS")
    assert (await _named(sessions, "nordfill aps")) is not None
    await _person(sessions, "NORDFILL APS")
    assert (await _named(sessions, "Nordfill ApS")) is None
    assert (await _named(sessions, "Unknown")) is None


async def _named(sessions: SessionFactory, name: str) -> Organisation | None:
    async with sessions() as session:
        return await organisation_named(session, name)


async def test_people_of_skip_stopped_and_was_asked_reads_the_outbox(
    sessions: SessionFactory,
) -> None:
    person_id, org_id = await _person(sessions, "Halvorsen")
    assert org_id is not None
    async with sessions.begin() as session:
        session.add(Person(organisation_id=org_id, stopped=True))
        session.add(Person(organisation_id=org_id, unreachable=True))
        await enqueue(
            session,
            person_id=person_id,
            channel="test",
            chat_id="c1",
            kind="notice",
            item_key="scouting-ask:5",
            category=None,
            payload={"text": "hi"},
        )
    async with sessions() as session:
        assert [p.id for p in await people_of(session, org_id)] == [person_id]
        assert await was_asked(session, person_id=person_id, item_key="scouting-ask:5")
        assert not await was_asked(session, person_id=person_id, item_key="scouting-ask:6")


async def test_scoutable_opportunities_respect_kind_and_audience(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        for n, (kind, audience) in enumerate(
            (("partnering", "public"), ("partnering", "staff"), ("funding_call", "public"))
        ):
            source = Source(uri=f"s{n}", audience=audience)
            session.add(source)
            await session.flush()
            doc = Document(
                source_id=source.id,
                external_id=f"d{n}",
                title=f"T{n}",
                audience=audience,
                content_hash="h",
            )
            session.add(doc)
            await session.flush()
            session.add(
                Opportunity(
                    source_id=source.id,
                    document_id=doc.id,
                    external_id=f"o{n}",
                    kind=kind,
                    title=f"T{n}",
                )
            )
    async with sessions() as session:
        public = await scoutable_opportunities(session, kinds=["partnering"], audiences=["public"])
        staff = await scoutable_opportunities(
            session, kinds=["partnering"], audiences=["public", "staff"]
        )
    assert [o.external_id for o in public] == ["o0"]
    assert [o.external_id for o in staff] == ["o0", "o1"]
