"""The injectable clock: answers and alerts depend on today's date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Tells the current time and date."""

    def now(self) -> datetime:
        """The current aware datetime."""
        ...

    def today(self) -> date:
        """Today's date where the cluster is."""
        ...


@dataclass(frozen=True)
class SystemClock:
    """The real clock, with dates taken in the cluster's timezone."""

    timezone: str = "Europe/Berlin"

    def now(self) -> datetime:
        """The current aware datetime."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date in the cluster's timezone."""
        return datetime.now(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped on one day (``--today``, tests, benchmarks)."""

    day: date

    def now(self) -> datetime:
        """Noon UTC on the fixed day."""
        return datetime(self.day.year, self.day.month, self.day.day, 12, tzinfo=UTC)

    def today(self) -> date:
        """The fixed day."""
        return self.day


__all__ = ["Clock", "FixedClock", "SystemClock"]
