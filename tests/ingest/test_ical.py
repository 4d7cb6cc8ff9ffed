from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ingest.errors import CorruptInput, EmptyInput
from ingest.loaders.ical import load_ics
from ingest.loaders.limits import Limits
from tests.ingest.builders import DATA


def test_events() -> None:
    timed, all_day, floating = load_ics("events.ics", (DATA / "events.ics").read_bytes(), Limits())
    opp = timed.opportunity
    assert opp is not None
    assert (timed.external_id, opp.id, opp.kind) == ("evt-1@example.org",) * 2 + ("event",)
    assert opp.title == "Partnering day"
    assert opp.starts_at == datetime(2026, 5, 12, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    assert opp.ends_at == datetime(2026, 5, 12, 17, tzinfo=ZoneInfo("Europe/Berlin"))
    assert opp.deadlines == (date(2026, 5, 12),)
    assert opp.location == "Munich, Germany"
    assert opp.url == timed.url == "https://example.org/events/partnering"
    assert timed.metadata == {"recurrence": "FREQ=YEARLY"}
    assert "Meet pharma partners.\nBring a pitch deck." in timed.text
    assert "Munich, Germany" in timed.text

    assert all_day.opportunity is not None
    assert all_day.opportunity.starts_at == datetime(2026, 6, 1, tzinfo=UTC)
    assert all_day.opportunity.ends_at == datetime(2026, 6, 2, tzinfo=UTC)

    assert floating.external_id.startswith("event-")
    assert floating.opportunity is not None
    assert floating.opportunity.starts_at == datetime(2026, 7, 1, 14, tzinfo=UTC)
    assert floating.opportunity.ends_at == datetime(2026, 7, 1, 15, tzinfo=UTC)


def test_ids_are_stable_without_uid() -> None:
    data = (DATA / "events.ics").read_bytes()
    assert (
        load_ics("a.ics", data, Limits())[2].external_id
        == load_ics("b.ics", data, Limits())[2].external_id
    )


def test_calendar_without_events() -> None:
    with pytest.raises(EmptyInput):
        load_ics("e.ics", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", Limits())


def test_broken_calendar() -> None:
    with pytest.raises(CorruptInput):
        load_ics("e.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nnonsense\r\n", Limits())
