"""Where an opportunity stands on a given day, from its dates rather than its recorded status.

Recorded statuses go stale (a snapshot taken in August still says "Open" in November), so
the dates decide: past the last deadline a call is closed, before its opening date it is
forthcoming, in between it is open. Only when a record has no dates at all does the recorded
status count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

StatusToday = Literal["open", "forthcoming", "closed", "unknown"]

_RECORDED: dict[str, StatusToday] = {
    "open": "open",
    "forthcoming": "forthcoming",
    "closed": "closed",
    "31094501": "forthcoming",
    "31094502": "open",
    "31094503": "closed",
}


def status_on(
    day: date,
    *,
    opening_date: date | None,
    deadlines: Sequence[date],
    two_stage: bool = False,
    recorded: str | None = None,
) -> StatusToday:
    """The status of an opportunity on ``day``.

    A deadline day itself still counts as open (calls close in the afternoon). For a
    two-stage call, "open" means the first stage can still be entered: once the first
    deadline has passed, the second stage is only for invited applicants, so the call is
    closed to newcomers. A single-stage call with several cut-offs stays open until the last.
    """
    if deadlines:
        closing = deadlines[0] if two_stage else max(deadlines)
        if day > closing:
            return "closed"
        if opening_date is not None and day < opening_date:
            return "forthcoming"
        if opening_date is None and _RECORDED.get((recorded or "").strip().lower()) == (
            "forthcoming"
        ):
            return "forthcoming"  # no opening date known: trust the record, never say open
        return "open"
    if opening_date is not None and day < opening_date:
        return "forthcoming"
    if recorded:
        mapped = _RECORDED.get(recorded.strip().lower())
        if mapped == "closed" or (mapped and opening_date is None):
            return mapped
        if mapped == "forthcoming" and opening_date is not None:
            return "open"
        if mapped:
            return mapped
    return "unknown"


@dataclass(frozen=True)
class DateFacts:
    """A human sentence about an opportunity's dates on a given day."""

    status: StatusToday
    sentence: str


def describe(
    day: date,
    *,
    kind: str | None,
    opening_date: date | None,
    deadlines: Sequence[date],
    two_stage: bool,
    recorded: str | None = None,
) -> DateFacts:
    """Say where an opportunity stands on ``day``, with its dates, in one sentence."""
    status = status_on(
        day, opening_date=opening_date, deadlines=deadlines, two_stage=two_stage, recorded=recorded
    )
    if kind == "event":
        if not deadlines:
            return DateFacts(status, "Date not stated.")
        when = deadlines[0].isoformat()
        if status == "closed":
            return DateFacts(status, f"This event took place on {when}.")
        return DateFacts(status, f"Upcoming event on {when}.")
    parts: list[str] = []
    if two_stage and len(deadlines) >= 2:
        dl = f"two-stage: stage 1 deadline {deadlines[0]}, stage 2 deadline {deadlines[1]}"
    elif len(deadlines) > 1:
        upcoming = [d for d in deadlines if d >= day]
        dl = "cut-offs " + ", ".join(d.isoformat() for d in deadlines)
        if upcoming:
            dl += f" (next {upcoming[0]})"
    elif deadlines:
        dl = f"deadline {deadlines[0]}"
    else:
        dl = "no deadline stated"
    if status == "closed":
        last = max(deadlines) if deadlines else None
        if two_stage and len(deadlines) >= 2 and day <= deadlines[-1]:
            parts.append(
                f"Closed to new applicants on {day}: the stage-1 deadline {deadlines[0]} has "
                f"passed; stage 2 ({deadlines[1]}) is only for invited applicants"
            )
        elif last:
            parts.append(f"Closed on {day}: the {dl} has passed")
        else:
            parts.append(f"Closed on {day} (as recorded)")
    elif status == "forthcoming":
        opens = f"opens {opening_date}" if opening_date else "not yet open"
        parts.append(f"Forthcoming on {day}: {opens}; {dl}")
    elif status == "open":
        upcoming = [d for d in deadlines if d >= day]
        days_left = (upcoming[0] - day).days if upcoming else None
        left = f" ({days_left} days left)" if days_left is not None else ""
        parts.append(f"Open on {day}: {dl}{left}")
    else:
        parts.append(f"Status on {day} unknown; {dl}")
    return DateFacts(status, parts[0] + ".")


__all__ = ["DateFacts", "StatusToday", "describe", "status_on"]
