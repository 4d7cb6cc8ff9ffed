"""What staff type for a meeting: parsed in the cluster's timezone, each wrong part named."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserError
from bot.event_draft import draft_from_line, make_draft, parse_moment, parse_when

TZ = "Europe/Berlin"
TODAY = date(2026, 11, 28)
BERLIN = ZoneInfo(TZ)


def test_a_line_becomes_a_draft_in_local_time() -> None:
    draft = draft_from_line(
        "  Biobank   Breakfast | 2026-12-03 8.30 to 10:00 | Hall 2 | Coffee | and pitches ",
        tz=TZ,
        today=TODAY,
    )
    assert draft.title == "Biobank Breakfast"
    assert draft.starts_at == datetime(2026, 12, 3, 8, 30, tzinfo=BERLIN)
    assert draft.ends_at == datetime(2026, 12, 3, 10, 0, tzinfo=BERLIN)
    assert draft.description == "Coffee | and pitches"
    assert draft.audience == "public"
    assert draft.when() == "2026-12-03 08:30–10:00"


def test_the_end_is_optional_and_may_be_another_day_on_the_command_line() -> None:
    start, end = parse_when("2026-12-03 18:00", TZ)
    assert end is None
    late = parse_moment("2026-12-04 01:00", TZ, what="end", day=start.date())
    draft = make_draft(
        title="Night lab tour", starts_at=start, ends_at=late, location="Lab", today=TODAY
    )
    assert draft.when() == "2026-12-03 18:00 – 2026-12-04 01:00"
    assert parse_moment("20:00", TZ, what="end", day=start.date()).hour == 20


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"location": " "}, "The location is missing"),
        ({"location": "x" * 301}, "The location is too long (301 characters, at most 300)"),
        ({"description": "x" * 4001}, "The description is too long"),
        ({"audience": "everyone"}, "'everyone' is not an audience"),
    ],
)
def test_each_wrong_part_is_named(kwargs: dict[str, str], message: str) -> None:
    args = {"title": "Meeting", "location": "Hall", "description": "", "audience": "public"}
    args.update(kwargs)
    start = datetime(2026, 12, 3, 9, 0, tzinfo=BERLIN)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_draft(starts_at=start, ends_at=None, today=TODAY, **args)


def test_a_time_without_a_start_day_needs_a_date() -> None:
    with pytest.raises(UserError, match="The start “9:00” should look like 2026-12-10 14:00"):
        parse_moment("9:00", TZ, what="start")
