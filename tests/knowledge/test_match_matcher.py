"""The Matcher over a real store (the demo corpus): vectors, filters, reasons, feedback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.app import App
from knowledge.match import Matcher
from knowledge.profile import Profile
from storage.opportunities import list_opportunities
from tests.factories import make_app

TODAY = date(2026, 11, 28)
DIGITAL = Profile(
    name="CarePilot",
    description="We build a telemedicine app that lets care homes monitor residents remotely.",
    therapeutic_areas=("healthy ageing",),
    technologies=("telemedicine",),
    sectors=("digital health",),
    country="DE",
    org_type="sme",
)


@pytest.fixture
async def app(demo_dir: Path) -> AsyncIterator[App]:
    app = await make_app(demo_dir)
    yield app
    await app.close()


@pytest.fixture
def matcher(app: App) -> Matcher:
    return Matcher(sessions=app.sessions, index=app.index)


async def _ids_by_external(app: App) -> dict[str, int]:
    async with app.sessions() as session:
        rows = await list_opportunities(session)
    return {opp.external_id: opp.id for opp, _ in rows}


async def test_a_digital_health_profile_finds_the_pilot_grant_with_cited_reasons(
    matcher: Matcher,
) -> None:
    found = await matcher.match(DIGITAL, today=TODAY)
    assert found[0].opportunity.external_id == "KBR-DHP-2027"
    assert found[0].score >= 0.6
    reasons = {r.text: r for r in found[0].reasons}
    assert "technology: telemedicine" in reasons
    assert "telemedicine" in (reasons["technology: telemedicine"].passage or "")
    assert reasons["technology: telemedicine"].chunk_id
    assert any(t.startswith("close to your profile (similarity") for t in reasons)
    assert "deadline 2027-04-30, 153 days left" in reasons
    assert "open to applicants in Germany" in reasons
    scores = [m.score for m in found]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)


async def test_a_description_alone_is_matched_semantically(matcher: Matcher) -> None:
    profile = Profile(
        description="We need money to pay part of a postdoctoral researcher's salary.",
        country="DE",
        org_type="sme",
    )
    (first, *_) = await matcher.match(profile, today=TODAY)
    assert first.opportunity.external_id == "KBR-TALENT-2027"


async def test_never_closed_and_forthcoming_says_when_it_opens(matcher: Matcher) -> None:
    profile = Profile(description="laboratory energy efficiency, green lab", org_type="sme")
    found = await matcher.match(profile, today=TODAY, limit=None)
    ids = [m.opportunity.external_id for m in found]
    assert "KBR-IPV-2026" not in ids  # closed on 2026-10-15
    green = next(m for m in found if m.opportunity.external_id == "KBR-GREEN-2027")
    assert green.status_today == "forthcoming"
    assert "opens 2027-03-01" in [r.text for r in green.reasons]
    assert all(m.status_today in ("open", "forthcoming") for m in found)


async def test_hard_filters_country_and_organisation(matcher: Matcher) -> None:
    norwegian = Profile(description=DIGITAL.description, country="NO", org_type="sme")
    ids = [m.opportunity.external_id for m in await matcher.match(norwegian, today=TODAY)]
    assert not [i for i in ids if i.startswith("KBR-")]  # all regional calls are DE-only
    university = Profile(
        description="postdoc salary co-funding", country="DE", org_type="university"
    )
    ids = [m.opportunity.external_id for m in await matcher.match(university, today=TODAY)]
    assert "KBR-TALENT-2027" not in ids  # SMEs only


async def test_kinds_min_score_limit_and_ids(app: App, matcher: Matcher) -> None:
    events = await matcher.match(DIGITAL, today=TODAY, kinds=("event",), limit=None)
    assert events
    assert {m.opportunity.kind for m in events} == {"event"}
    strong = await matcher.match(DIGITAL, today=TODAY, min_score=0.6, limit=None)
    assert strong
    assert all(m.score >= 0.6 for m in strong)
    assert len(await matcher.match(DIGITAL, today=TODAY, limit=2)) == 2
    ids = await _ids_by_external(app)
    only = await matcher.match(DIGITAL, today=TODAY, opportunity_ids=[ids["KBR-TALENT-2027"]])
    assert [m.opportunity.external_id for m in only] == ["KBR-TALENT-2027"]
    assert await matcher.match(DIGITAL, today=TODAY, opportunity_ids=[]) == []


async def test_match_many_agrees_with_match(matcher: Matcher) -> None:
    other = Profile(description="contract research feasibility study voucher", org_type="sme")
    many = await matcher.match_many([DIGITAL, other, Profile()], today=TODAY)
    assert [m.opportunity.external_id for m in many[0]] == [
        m.opportunity.external_id for m in await matcher.match(DIGITAL, today=TODAY)
    ]
    assert many[1][0].opportunity.external_id == "KBR-FV-2027"
    assert await matcher.match_many([], today=TODAY) == []
    with pytest.raises(ValueError, match="one entry"):
        await matcher.match_many([DIGITAL], today=TODAY, feedback=[None, None])


async def test_feedback_lowers_what_was_not_for_us_and_says_why(
    app: App, matcher: Matcher
) -> None:
    ids = await _ids_by_external(app)
    before = {m.opportunity.external_id: m for m in await matcher.match(DIGITAL, today=TODAY)}
    after = {
        m.opportunity.external_id: m
        for m in await matcher.match(
            DIGITAL, today=TODAY, feedback={ids["KBR-DHP-2027"]: "not_for_us"}
        )
    }
    assert after["KBR-DHP-2027"].score < before["KBR-DHP-2027"].score
    assert before["KBR-DHP-2027"].score - after["KBR-DHP-2027"].score <= 0.15 + 1e-6
    assert any(
        r.text.startswith("similar to “Digital Health Pilot Grant 2027” (KBR-DHP-2027)")
        and r.text.endswith("which you marked not for us")
        for r in after["KBR-DHP-2027"].reasons
    )
    raised = await matcher.match(
        DIGITAL, today=TODAY, feedback={ids["KBR-TALENT-2027"]: "relevant"}, limit=None
    )
    talent = next(m for m in raised if m.opportunity.external_id == "KBR-TALENT-2027")
    plain = await matcher.match(DIGITAL, today=TODAY, limit=None)
    talent_before = next(m for m in plain if m.opportunity.external_id == "KBR-TALENT-2027")
    assert talent.score > talent_before.score


async def test_a_profile_of_terms_alone_is_matched(matcher: Matcher) -> None:
    profile = Profile(technologies=("telemedicine",), country="DE", org_type="sme")
    (first, *_) = await matcher.match(profile, today=TODAY)
    assert first.opportunity.external_id == "KBR-DHP-2027"
    assert "technology: telemedicine" in [r.text for r in first.reasons]


async def test_a_profile_with_nothing_to_embed_still_gets_live_calls(matcher: Matcher) -> None:
    profile = Profile(funding_interest=("voucher",), country="DE", org_type="sme")
    found = await matcher.match(profile, today=TODAY, limit=None)
    assert found
    assert found[0].opportunity.type_of_action == "Voucher"
    assert not any(r.text.startswith("close to") for m in found for r in m.reasons)
