"""When a proactive message may go out: quiet hours, digest times, reminder days.

All arithmetic happens in the person's local time and the result is an aware UTC datetime,
so summer time and people in other timezones come out right.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _parse(spec: str) -> tuple[time, time]:
    start, _, end = spec.partition("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def in_quiet_hours(at: datetime, *, tz: str, quiet: str) -> bool:
    """Whether ``at`` falls in the quiet window (which may span midnight)."""
    start, end = _parse(quiet)
    local = at.astimezone(ZoneInfo(tz)).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(at: datetime, *, tz: str, quiet: str) -> datetime:
    """``at``, or the end of the quiet window it falls in."""
    if not in_quiet_hours(at, tz=tz, quiet=quiet):
        return at
    _, end = _parse(quiet)
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    candidate = datetime.combine(local.date(), end, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return candidate.astimezone(UTC)


def local_time(day: date, hour: int, *, tz: str) -> datetime:
    """``hour`` o'clock on ``day`` in ``tz``, as UTC."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def next_digest(now: datetime, *, tz: str, frequency: str, hour: int, weekday: int) -> datetime:
    """The next digest time after ``now``: daily at ``hour``, or weekly on ``weekday``."""
    local_day = now.astimezone(ZoneInfo(tz)).date()
    for offset in range(8):
        day = local_day + timedelta(days=offset)
        if frequency != "daily" and day.weekday() != weekday:
            continue
        at = local_time(day, hour, tz=tz)
        if at > now:
            return at
    raise AssertionError("a digest day always comes within 8 days")


def digest_period(at: datetime, *, tz: str, frequency: str) -> str:
    """A name for the digest a message goes into: ``2026-11-28`` or ``2026-W48``."""
    day = at.astimezone(ZoneInfo(tz)).date()
    if frequency == "daily":
        return day.isoformat()
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def reminder_times(
    deadline: date, days: list[int], *, now: datetime, tz: str, hour: int
) -> list[tuple[int, datetime]]:
    """(days before, when) for each reminder of a deadline that is still ahead."""
    found = []
    for lead in sorted(set(days), reverse=True):
        at = local_time(deadline - timedelta(days=lead), hour, tz=tz)
        if at > now:
            found.append((lead, at))
    return found


__all__ = [
    "digest_period",
    "in_quiet_hours",
    "local_time",
    "next_allowed",
    "next_digest",
    "reminder_times",
]
