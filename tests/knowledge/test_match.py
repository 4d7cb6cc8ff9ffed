"""Matching a profile to opportunities: hard filters first, then a score with reasons."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.countries import country_code
from knowledge.match import match
from knowledge.profile import Profile, admitted
from storage.models import Opportunity

TODAY = date(2026, 11, 28)


def _opp(external_id: str, title: str, **fields: object) -> tuple[Opportunity, str]:
    values: dict[str, object] = {
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
    assert "therapeutic area: sepsis" in found[0].reasons
    assert "technology: biomarkers" in found[0].reasons
    assert any(r.startswith("deadline 2027-03-01 (in 93 days)") for r in found[0].reasons)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"deadlines": ["2026-11-27"]}, "closed yesterday"),
        ({"countries": ["FR", "ES"]}, "other countries only"),
        ({"org_types": ["university", "research organisation"]}, "not for companies"),
        ({"kind": "event"}, "not a call"),
    ],
)
def test_hard_filters_remove_what_cannot_be_applied_to(
    fields: dict[str, object], why: str
) -> None:
    rows = [_opp("X", "Sepsis diagnostics biomarkers", **fields)]
    assert match(DIAGNOSTICS, rows, today=TODAY) == [], why


def test_sme_only_calls_exclude_large_companies() -> None:
    rows = [_opp("S", "Sepsis diagnostics", sme_only=True)]
    large = Profile(therapeutic_areas=("sepsis",), org_type="large")
    assert match(large, rows, today=TODAY) == []
    assert match(DIAGNOSTICS, rows, today=TODAY)


def test_forthcoming_calls_say_when_they_open() -> None:
    rows = [_opp("F", "Sepsis biomarkers", opening_date=date(2027, 1, 15))]
    (found,) = match(DIAGNOSTICS, rows, today=TODAY)
    assert found.status_today == "forthcoming"
    assert "opens 2027-01-15" in found.reasons


def test_an_empty_profile_gets_everything_live_soonest_first() -> None:
    rows = [
        _opp("LATE", "Anything", deadlines=["2027-06-01"]),
        _opp("SOON", "Something", deadlines=["2026-12-10"]),
    ]
    found = match(Profile(), rows, today=TODAY)
    assert [m.opportunity.external_id for m in found] == ["SOON", "LATE"]


def test_profile_from_json_names_the_bad_field() -> None:
    with pytest.raises(ValueError, match="'trl' must be a whole number"):
        Profile.from_json({"trl": 12})
    with pytest.raises(ValueError, match="'sectors' must be a list"):
        Profile.from_json({"sectors": [1, 2]})
    profile = Profile.from_json(
        {"sectors": "biotech, medtech", "country": "de", "org_type": "Start-up"}
    )
    assert profile.sectors == ("biotech", "medtech")
    assert (profile.country, profile.org_type) == ("DE", "start-up")


def test_org_type_admission_and_country_names() -> None:
    assert admitted("start-up", ["SME", "start-up"]) is True
    assert admitted("university", ["SME"]) is False
    assert admitted("sme", []) is None
    assert country_code("Germany") == country_code("de") == "DE"
    assert country_code("Catalonia") == "ES"
    assert country_code("Atlantis") is None
