"""Quiet hours, digest times and reminder days, in the person's own timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.schedule import (
    digest_period,
    in_quiet_hours,
    next_allowed,
    next_digest,
    reminder_times,
)

BERLIN = "Europe/Berlin"


def test_quiet_hours_span_midnight_in_local_time() -> None:
    late = datetime(2026, 11, 28, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
    assert in_quiet_hours(late, tz=BERLIN, quiet="21:00-08:00")
    assert next_allowed(late, tz=BERLIN, quiet="21:00-08:00") == datetime(
        2026, 11, 29, 7, 0, tzinfo=UTC
    )
    early = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
    assert next_allowed(early, tz=BERLIN, quiet="21:00-08:00") == datetime(
        2026, 11, 29, 7, 0, tzinfo=UTC
    )
    noon = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    assert next_allowed(noon, tz=BERLIN, quiet="21:00-08:00") == noon
    # The same instant is daytime in New York.
    assert not in_quiet_hours(late, tz="America/New_York", quiet="21:00-08:00")


def test_a_window_within_one_day_and_an_empty_one() -> None:
    lunch = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)  # 12:30 in Berlin (summer time)
    assert in_quiet_hours(lunch, tz=BERLIN, quiet="12:00-13:00")
    assert next_allowed(lunch, tz=BERLIN, quiet="12:00-13:00") == datetime(
        2026, 7, 1, 11, 0, tzinfo=UTC
    )
    assert not in_quiet_hours(lunch, tz=BERLIN, quiet="08:00-08:00")


def test_digest_times_daily_and_weekly() -> None:
    saturday_noon = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    daily = next_digest(saturday_noon, tz=BERLIN, frequency="daily", hour=9, weekday=0)
    assert daily == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    weekly = next_digest(saturday_noon, tz=BERLIN, frequency="weekly", hour=9, weekday=0)
    assert weekly == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 Berlin
    assert digest_period(weekly, tz=BERLIN, frequency="weekly") == "2026-W49"
    assert digest_period(daily, tz=BERLIN, frequency="daily") == "2026-11-29"


def test_reminders_only_for_days_still_ahead() -> None:
    now = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    times = reminder_times(date(2026, 12, 10), [14, 7, 2], now=now, tz=BERLIN, hour=9)
    assert [lead for lead, _ in times] == [7, 2]
    assert times[0][1] == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
