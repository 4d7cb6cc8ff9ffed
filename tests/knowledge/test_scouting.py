"""Scouting matches on the demo corpus and portfolio: meaning, terms, type and region fit, dates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.cli_scouting import import_demo_portfolio
from knowledge.scouting import (
    Found,
    ScoutingQuery,
    parse_region,
    partner_type_key,
    scout,
)
from storage.models import Opportunity
from tests.factories import TODAY, make_app


@pytest.fixture
async def app(demo_dir: Path) -> AsyncIterator[App]:
    built = await make_app(demo_dir)
    await import_demo_portfolio(built)
    try:
        yield built
    finally:
        await built.close()


async def _scout(
    app: App, query: ScoutingQuery, *, today: date = TODAY, semantic: bool = True
) -> list[Found]:
    return await scout(
        app.sessions,
        query=query,
        today=today,
        audiences=("public",),
        embedder=app.index.embedder if semantic else None,
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("University", "university"),
        ("SMEs", "sme"),
        ("Research institute", "research"),
        ("contract manufacturer", "cdmo"),
        ("CRO", "cro"),
        ("startup", "start-up"),
        ("Hospital or care provider", "hospital"),
        ("Patent attorney", "patent-attorney"),
    ],
)
def test_partner_types_are_understood_in_plain_words(text: str, key: str) -> None:
    assert partner_type_key(text) == key


def test_regions_are_countries_groups_or_places() -> None:
    nordics = parse_region("Nordics")
    assert nordics is not None
    assert nordics.codes is not None
    assert "NO" in nordics.codes
    mixed = parse_region("Germany, NL and Rhine-Neckar")
    assert mixed is not None
    assert mixed.codes == frozenset({"DE", "NL"})
    assert mixed.places == ("Rhine-Neckar",)
    assert parse_region("anywhere") is None
    assert parse_region(None) is None


async def test_the_asset_that_fits_comes_first_with_reasons(app: App) -> None:
    found = await _scout(app, ScoutingQuery("organ-on-chip"))
    assert found[0].title.startswith("Liver-on-chip")
    assert found[0].asset_id is not None
    assert "about organ-on-chip" in found[0].reasons
    assert all(f.reasons for f in found)
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)


async def test_a_region_leaves_out_candidates_known_to_be_elsewhere(app: App) -> None:
    nordic = await _scout(app, ScoutingQuery("sepsis diagnostics", region="Nordics"))
    assert nordic[0].title.startswith("Point-of-care sepsis")
    assert "in Norway (Nordics)" in nordic[0].reasons
    dach = await _scout(app, ScoutingQuery("sepsis diagnostics", region="DACH"))
    assert not any(f.title.startswith("Point-of-care sepsis") for f in dach)


async def test_the_asked_partner_type_ranks_higher_but_others_still_show(app: App) -> None:
    asked = await _scout(app, ScoutingQuery("AI pathology", partner_type="start-up"))
    other = await _scout(app, ScoutingQuery("AI pathology", partner_type="university"))
    (mine,) = [f for f in asked if f.title.startswith("AI-based digital pathology")]
    (theirs,) = [f for f in other if f.title.startswith("AI-based digital pathology")]
    assert "Start-up, as asked" in mine.reasons
    assert "Start-up, not university" in theirs.reasons
    assert mine.score > theirs.score


async def test_closed_opportunities_are_never_offered(app: App) -> None:
    async with app.sessions() as session:
        offer = await session.scalar(
            select(Opportunity).where(Opportunity.external_id == "KBR-ASSET-2026-011")
        )
    assert offer is not None
    query = ScoutingQuery("liver-on-chip licensing")
    today = {f.opportunity_id for f in await _scout(app, query)}
    assert offer.id in today
    after = {f.opportunity_id for f in await _scout(app, query, today=date(2027, 2, 1))}
    assert offer.id not in after
    opened = [f for f in await _scout(app, query) if f.opportunity_id == offer.id]
    assert any("days left" in r for r in opened[0].reasons)


async def test_terms_alone_work_without_an_embedder(app: App) -> None:
    found = await _scout(app, ScoutingQuery("fill-finish"), semantic=False)
    assert found[0].title.startswith("Sterile fill-finish")


async def test_nothing_relevant_gives_an_empty_list(app: App) -> None:
    assert await _scout(app, ScoutingQuery("quantum computing for logistics")) == []
    assert await _scout(app, ScoutingQuery("   ")) == []
