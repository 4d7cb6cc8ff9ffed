from datetime import date

import pytest

from knowledge.dates import describe, status_on

D = date.fromisoformat


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-01-10", "forthcoming"),
        ("2026-02-10", "open"),
        ("2026-04-16", "open"),
        ("2026-04-17", "closed"),
    ],
)
def test_single_stage_status_follows_dates(today: str, expected: str) -> None:
    assert (
        status_on(
            D(today), opening_date=D("2026-02-10"), deadlines=[D("2026-04-16")], recorded="Open"
        )
        == expected
    )


def test_stale_recorded_status_never_reopens_a_passed_deadline() -> None:
    assert (
        status_on(
            D("2026-11-28"), opening_date=None, deadlines=[D("2026-09-01")], recorded="31094502"
        )
        == "closed"
    )


def test_two_stage_closes_to_newcomers_after_stage_one() -> None:
    deadlines = [D("2027-02-10"), D("2027-09-15")]
    assert (
        status_on(D("2027-01-01"), opening_date=None, deadlines=deadlines, two_stage=True)
        == "open"
    )
    assert (
        status_on(D("2027-03-01"), opening_date=None, deadlines=deadlines, two_stage=True)
        == "closed"
    )
    facts = describe(
        D("2027-03-01"),
        kind="funding_call",
        opening_date=None,
        deadlines=deadlines,
        two_stage=True,
    )
    assert "2027-02-10" in facts.sentence
    assert "2027-09-15" in facts.sentence
    assert "invited" in facts.sentence


def test_cut_offs_stay_open_until_the_last() -> None:
    cutoffs = [D("2026-03-04"), D("2026-10-07"), D("2027-01-13")]
    assert status_on(D("2026-11-28"), opening_date=None, deadlines=cutoffs) == "open"
    facts = describe(
        D("2026-11-28"), kind="funding_call", opening_date=None, deadlines=cutoffs, two_stage=False
    )
    assert "next 2027-01-13" in facts.sentence


def test_forthcoming_says_when_it_opens() -> None:
    facts = describe(
        D("2026-11-28"),
        kind="funding_call",
        opening_date=D("2027-01-15"),
        deadlines=[D("2027-04-01")],
        two_stage=False,
    )
    assert facts.status == "forthcoming"
    assert "opens 2027-01-15" in facts.sentence


def test_no_dates_fall_back_to_recorded_status() -> None:
    assert (
        status_on(D("2026-11-28"), opening_date=None, deadlines=[], recorded="Closed") == "closed"
    )
    assert status_on(D("2026-11-28"), opening_date=None, deadlines=[], recorded=None) == "unknown"


def test_events_are_past_or_upcoming() -> None:
    past = describe(
        D("2026-11-28"),
        kind="event",
        opening_date=None,
        deadlines=[D("2026-10-01")],
        two_stage=False,
    )
    assert past.status == "closed"
    assert "took place" in past.sentence


def test_recorded_forthcoming_without_opening_date_is_not_called_open() -> None:
    assert (
        status_on(
            D("2027-01-15"), opening_date=None, deadlines=[D("2027-04-13")], recorded="Forthcoming"
        )
        == "forthcoming"
    )
    assert (
        status_on(
            D("2027-05-01"), opening_date=None, deadlines=[D("2027-04-13")], recorded="Forthcoming"
        )
        == "closed"
    )
