from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ingest.loaders.fields import (
    parse_amount,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_kind,
    split_list,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-04-16", date(2026, 4, 16)),
        ("2026-04-16T00:00:00.000+0000", date(2026, 4, 16)),
        ("2027-03-04T14:00:00.000Z", date(2027, 3, 4)),
        ("2026-04-16T23:30:00-05:00", date(2026, 4, 16)),  # the date as stated, no shift
        ("16.04.2026", date(2026, 4, 16)),
        ("16/04/2026", date(2026, 4, 16)),
        ("16 April 2026", date(2026, 4, 16)),
        ("April 16, 2026", date(2026, 4, 16)),
        ("20260416", date(2026, 4, 16)),
        (datetime(2026, 4, 16, 12, tzinfo=UTC), date(2026, 4, 16)),
        ("2026-02-30", None),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_date(raw: object, expected: date | None) -> None:
    assert parse_date(raw) == expected


def test_parse_datetime_is_always_aware() -> None:
    assert parse_datetime("2026-09-10T09:00:00+02:00") == datetime(
        2026, 9, 10, 9, tzinfo=timezone(timedelta(hours=2))
    )
    assert parse_datetime("2026-09-10 09:00") == datetime(2026, 9, 10, 9, tzinfo=UTC)
    assert parse_datetime("2026-09-11") == datetime(2026, 9, 11, tzinfo=UTC)
    assert parse_datetime("later") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,500,000", 1_500_000),
        ("1.500.000", 1_500_000),
        ("€ 2.5 million", 2_500_000),
        ("2,5 Mio", 2_500_000),
        ("EUR 3 000 000", 3_000_000),
        ("1 500 000 €", 1_500_000),
        ("750k", 750_000),
        ("1.5bn", 1_500_000_000),
        ("2.500", 2_500),
        (60000, 60_000),
        (2.4, 2),
        ("-5", None),
        (True, None),
        ("n/a", None),
    ],
)
def test_parse_amount(raw: object, expected: int | None) -> None:
    assert parse_amount(raw) == expected


def test_parse_bool() -> None:
    assert parse_bool("Yes") is True
    assert parse_bool("0") is False
    assert parse_bool("maybe") is None
    assert parse_bool(None) is None


def test_split_list() -> None:
    assert split_list("a; b, c") == ("a", "b, c")
    assert split_list("DE, FR, de") == ("DE", "FR")
    assert split_list('["x", "y"]') == ("x", "y")
    assert split_list(["x", None, " "]) == ("x",)
    assert split_list(None) == ()


def test_parse_kind() -> None:
    assert parse_kind("Funding call") == "funding_call"
    assert parse_kind("incubator-offer") == "incubator_offer"
    assert parse_kind("grant") == "funding_call"
    assert parse_kind("banana") is None
