"""Matching a profile to opportunities: hard filters first, then a score with reasons."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from knowledge.countries import country_code
from knowledge.match import match
from knowledge.match.feedback import LOWER, RAISE, Judged, adjust
from knowledge.match.filters import eligibility, eligible_codes
from knowledge.match.reasons import clip
from knowledge.match.scoring import semantic_scale
from knowledge.match.terms import normalise, plan
from knowledge.profile import Profile, admitted
from storage.models import Opportunity

TODAY = date(2026, 11, 28)


def _opp(external_id: str, title: str, **fields: object) -> tuple[Opportunity, str]:
    values: dict[str, object] = {
        "id": abs(hash(external_id)) % 10_000,
        "kind": "funding_call",
        "deadlines": ["2027-03-01"],
        "opening_date": date(2026, 10, 1),
        "two_stage": False,
        "countries": [],
        "org_types": [],
        "keywords": [],
        "sme_only": None,
        "status": None,
    }
    values.update(fields)
    return Opportunity(external_id=external_id, title=title, **values), "calls.csv"


DIAGNOSTICS = Profile(
    name="Acme",
    sectors=("diagnostics",),
    therapeutic_areas=("sepsis",),
    technologies=("biomarkers",),
    country="DE",
    org_type="sme",
)


def test_fit_is_scored_and_explained() -> None:
    rows = [
        _opp("A", "Point-of-care sepsis biomarkers", keywords=["diagnostics"]),
        _opp("B", "Diagnostics for everyone"),
        _opp("C", "Marine biology fellowship"),
    ]
    found = match(DIAGNOSTICS, rows, today=TODAY)
    assert [m.opportunity.external_id for m in found] == ["A", "B"]
    assert found[0].score > found[1].score
    texts = [r.text for r in found[0].reasons]
    assert "therapeutic area: sepsis" in texts
    assert "technology: biomarkers" in texts
    assert "deadline 2027-03-01, 93 days left" in texts
    cited = next(r for r in found[0].reasons if r.text == "therapeutic area: sepsis")
    assert cited.passage == "Point-of-care sepsis biomarkers"
    assert all(0.0 <= m.score <= 1.0 for m in found)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"deadlines": ["2026-11-27"]}, "closed yesterday"),
        ({"countries": ["FR", "ES"]}, "other countries only"),
        ({"countries": ["Kenya", "Ghana"]}, "named countries, none of ours"),
        ({"org_types": ["university", "research organisation"]}, "not for companies"),
        ({"kind": "event"}, "not a call"),
        ({"deadlines": [], "opening_date": None, "status": None}, "status unknown"),
        ({"deadlines": ["2026-11-20", "2027-05-01"], "two_stage": True}, "stage 1 passed"),
    ],
)
def test_hard_filters_remove_what_cannot_be_applied_to(
    fields: dict[str, object], why: str
) -> None:
    rows = [_opp("X", "Sepsis diagnostics biomarkers", **fields)]
    assert match(DIAGNOSTICS, rows, today=TODAY) == [], why


def test_country_groups_and_names_admit_their_members() -> None:
    rows = [
        _opp("EU", "Sepsis diagnostics", countries=["EU Member States", "Associated Countries"])
    ]
    assert match(DIAGNOSTICS, rows, today=TODAY)
    norway = Profile(therapeutic_areas=("sepsis",), country="NO", org_type="sme")
    assert match(norway, rows, today=TODAY)  # an associated country
    usa = Profile(therapeutic_areas=("sepsis",), country="US", org_type="sme")
    assert match(usa, rows, today=TODAY) == []
    assert eligible_codes(["Germany", "Kosovo"]) == {"DE", "XK"}
    assert eligible_codes([]) is None
    verdict = eligibility(rows[0][0], country="DE", org_type="sme")
    assert verdict.country == "open to applicants in Germany"


def test_sme_only_calls_exclude_large_companies_and_say_so() -> None:
    rows = [_opp("S", "Sepsis diagnostics", sme_only=True)]
    large = Profile(therapeutic_areas=("sepsis",), org_type="large")
    assert match(large, rows, today=TODAY) == []
    (found,) = match(DIAGNOSTICS, rows, today=TODAY)
    assert "for SMEs only" in [r.text for r in found.reasons]
    rows = [_opp("O", "Sepsis diagnostics", org_types=["SME", "start-up"])]
    (found,) = match(DIAGNOSTICS, rows, today=TODAY)
    assert "SMEs eligible" in [r.text for r in found.reasons]


def test_forthcoming_calls_say_when_they_open() -> None:
    rows = [_opp("F", "Sepsis biomarkers", opening_date=date(2027, 1, 15))]
    (found,) = match(DIAGNOSTICS, rows, today=TODAY)
    assert found.status_today == "forthcoming"
    assert "opens 2027-01-15" in [r.text for r in found.reasons]
    assert found.next_deadline == date(2027, 3, 1)


def test_two_stage_calls_name_the_stage_and_keep_stage_order() -> None:
    rows = [_opp("T", "Sepsis biomarkers", deadlines=["2027-02-26", "2027-06-18"], two_stage=True)]
    (found,) = match(DIAGNOSTICS, rows, today=TODAY)
    assert found.deadlines == (date(2027, 2, 26), date(2027, 6, 18))
    assert "deadline 2027-02-26 (stage 1), 90 days left" in [r.text for r in found.reasons]


def test_a_deadline_today_closes_today() -> None:
    rows = [_opp("D", "Sepsis biomarkers", deadlines=["2026-11-28"])]
    (found,) = match(DIAGNOSTICS, rows, today=TODAY)
    assert "deadline 2026-11-28, closes today" in [r.text for r in found.reasons]


def test_an_empty_profile_gets_everything_live_soonest_first() -> None:
    rows = [
        _opp("LATE", "Anything", deadlines=["2027-06-01"]),
        _opp("SOON", "Something", deadlines=["2026-12-10"]),
    ]
    found = match(Profile(), rows, today=TODAY)
    assert [m.opportunity.external_id for m in found] == ["SOON", "LATE"]


def test_the_same_topic_from_two_sources_is_offered_once() -> None:
    rows = [_opp("HLTH-1", "Sepsis biomarkers"), _opp("hlth-1", "Sepsis biomarkers")]
    assert len(match(DIAGNOSTICS, rows, today=TODAY)) == 1


def test_funding_interest_and_readiness_adjust_the_score() -> None:
    rows = [
        _opp("RIA", "Sepsis biomarkers", type_of_action="RIA"),
        _opp("EQ", "Sepsis biomarkers too", type_of_action="EIC"),
    ]
    investor = Profile(therapeutic_areas=("sepsis",), funding_interest=("equity",))
    found = {m.opportunity.external_id: m for m in match(investor, rows, today=TODAY)}
    assert found["EQ"].score > found["RIA"].score
    assert "type of action EIC fits your interest in equity" in [
        r.text for r in found["EQ"].reasons
    ]
    assert "type of action RIA is not among your funding interests" in [
        r.text for r in found["RIA"].reasons
    ]


def test_profile_terms_find_their_concepts_and_parts() -> None:
    named = plan("Infectious diseases")
    assert " pathogen " in named.exact  # a concept's name brings all its phrases
    member = plan("dengue")
    assert member.exact == (" dengue ",)
    assert " virus " in member.broad  # a narrower term: its concept counts less
    free = plan("AI-based imaging")
    assert len(free.parts) == 2  # artificial intelligence and medical imaging
    assert plan("   ").exact == ()
    assert (
        normalise("Point-of-care Diagnostics; therapies") == " point of care diagnostic therapy "
    )


def test_semantic_scale_maps_cosine_onto_zero_to_one() -> None:
    scaled = semantic_scale(np.array([0.0, 0.3, 0.475, 0.65, 0.9], dtype=np.float32))
    assert scaled.tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0])


def test_feedback_moves_similar_calls_modestly_and_says_why() -> None:
    relevant = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    unwanted = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    near = np.array([0.9, 0.0, 0.4359], dtype=np.float32)  # cosine 0.9 with "relevant"
    far = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    candidates = np.vstack([relevant, unwanted, near, far, np.zeros(3, dtype=np.float32)])
    judged = {1: Judged(relevant, "“Sepsis” (A)"), 2: Judged(unwanted, "“Marine” (B)")}
    change, notes = adjust(candidates, {1: "relevant", 2: "not_for_us", 3: "bogus"}, judged)
    assert change[0] == pytest.approx(RAISE)
    assert change[1] == pytest.approx(-LOWER)
    assert 0 < change[2] < RAISE
    assert change[3] == 0
    assert change[4] == 0
    assert notes[1] == ("similar to “Marine” (B), which you marked not for us",)
    assert notes[2] == ("similar to “Sepsis” (A), which you marked relevant",)
    knew, _ = adjust(candidates, {1: "already_knew"}, judged)
    assert knew[0] == pytest.approx(RAISE / 2)


def test_passages_are_clipped_at_a_word() -> None:
    assert clip("short") == "short"
    long = "word " * 100
    assert len(clip(long, 30)) <= 30
    assert clip(long, 30).endswith("…")


def test_profile_from_json_names_the_bad_field() -> None:
    with pytest.raises(ValueError, match="'trl' must be a whole number"):
        Profile.from_json({"trl": 12})
    with pytest.raises(ValueError, match="'sectors' must be a list"):
        Profile.from_json({"sectors": [1, 2]})
    with pytest.raises(ValueError, match="'country': unknown country 'Atlantis'"):
        Profile.from_json({"country": "Atlantis"})
    with pytest.raises(ValueError, match="'stage' must be one of idea, prototype"):
        Profile.from_json({"stage": "growth"})
    with pytest.raises(ValueError, match="must be a JSON object"):
        Profile.from_json(["not", "an", "object"])
    profile = Profile.from_json(
        {
            "sectors": "biotech, medtech",
            "country": "de",
            "org_type": "Start-up",
            "stage": "clinical",
        }
    )
    assert profile.sectors == ("biotech", "medtech")
    assert (profile.country, profile.org_type) == ("DE", "start-up")
    assert profile.readiness == 7
    assert "Sectors: biotech, medtech." in profile.text


def test_org_type_admission_and_country_names() -> None:
    assert admitted("start-up", ["SME", "start-up"]) is True
    assert admitted("university", ["SME"]) is False
    assert admitted("sme", []) is None
    assert country_code("Germany") == country_code("de") == "DE"
    assert country_code("Catalonia") == "ES"
    assert country_code("Atlantis") is None
