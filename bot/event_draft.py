"""What staff type to create a network meeting, checked part by part.

Parsing is kept apart from storing (:mod:`bot.staff_events`) so the chat command and the
command line share one set of rules and one set of error messages, each naming the part
that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.errors import UserError

USAGE = (
    "Use /newevent Title | 2026-12-10 14:00-16:00 | Location | optional description "
    "(times in {tz})."
)
MAX_TITLE = 200
MAX_LOCATION = 300
MAX_DESCRIPTION = 4000
AUDIENCES = ("public", "members", "staff")
_DAY = r"(\d{4}-\d{2}-\d{2})"
_CLOCK = r"(\d{1,2}[:.]\d{2})"
_WHEN = re.compile(rf"^{_DAY}[ T]+{_CLOCK}(?:\s*(?:-|–|to)\s*{_CLOCK})?$")


@dataclass(frozen=True)
class EventDraft:
    """A meeting as staff described it; times are aware, in the cluster's timezone."""

    title: str
    starts_at: datetime
    ends_at: datetime | None
    location: str
    description: str = ""
    audience: str = "public"

    def when(self) -> str:
        """The date and time as people read them: 2026-12-10 14:00–16:00."""
        text = self.starts_at.strftime("%Y-%m-%d %H:%M")
        if self.ends_at is not None:
            same_day = self.ends_at.date() == self.starts_at.date()
            text += self.ends_at.strftime("–%H:%M" if same_day else " – %Y-%m-%d %H:%M")
        return text


def _clock(text: str, what: str) -> time:
    hours, minutes = (int(part) for part in re.split(r"[:.]", text))
    if hours > 23 or minutes > 59:
        raise UserError(f"The {what} time {text} is not a time of day like 14:00.")
    return time(hours, minutes)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text} is not a real date; write it like 2026-12-10.") from None


def parse_when(text: str, tz: str) -> tuple[datetime, datetime | None]:
    """Start and end from ``2026-12-10 14:00-16:00`` (the end is optional), in ``tz``.

    Raises:
        UserError: the text is not a date and time, or the meeting ends before it starts.
    """
    found = _WHEN.match(text.strip())
    if found is None:
        raise UserError(
            f"The date and time “{text.strip()}” should look like 2026-12-10 14:00-16:00."
        )
    zone = ZoneInfo(tz)
    day = _day(found.group(1))
    start = datetime.combine(day, _clock(found.group(2), "start"), tzinfo=zone)
    end = None
    if found.group(3):
        end = datetime.combine(day, _clock(found.group(3), "end"), tzinfo=zone)
        if end <= start:
            raise UserError(
                f"The meeting ends ({end:%H:%M}) before it starts ({start:%H:%M}); "
                "meetings past midnight need the command line."
            )
    return start, end


def parse_moment(text: str, tz: str, *, what: str, day: date | None = None) -> datetime:
    """A moment from ``2026-12-10 14:00``, or from ``16:00`` on ``day`` when one is given.

    Raises:
        UserError: the text is neither, naming ``what`` it was meant to be.
    """
    text = text.strip()
    if day is not None and re.fullmatch(_CLOCK, text):
        return datetime.combine(day, _clock(text, what), tzinfo=ZoneInfo(tz))
    found = re.fullmatch(rf"{_DAY}[ T]+{_CLOCK}", text)
    if found is None:
        raise UserError(f"The {what} “{text}” should look like 2026-12-10 14:00.")
    return datetime.combine(
        _day(found.group(1)), _clock(found.group(2), what), tzinfo=ZoneInfo(tz)
    )


def make_draft(
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None,
    location: str,
    description: str = "",
    audience: str = "public",
    today: date,
) -> EventDraft:
    """Check a meeting's parts and put them together.

    Raises:
        UserError: a part is missing, too long, or in the past; the message names it.
    """
    title, location, description = (" ".join(title.split()), location.strip(), description)
    if not title:
        raise UserError("The title is missing.")
    if len(title) > MAX_TITLE:
        raise UserError(f"The title is too long ({len(title)} characters, at most {MAX_TITLE}).")
    if not location:
        raise UserError("The location is missing (an address, a room, or “online”).")
    if len(location) > MAX_LOCATION:
        raise UserError(
            f"The location is too long ({len(location)} characters, at most {MAX_LOCATION})."
        )
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise UserError(
            f"The description is too long ({len(description)} characters, "
            f"at most {MAX_DESCRIPTION})."
        )
    if starts_at.date() < today:
        raise UserError(f"The date {starts_at.date().isoformat()} is in the past.")
    if ends_at is not None and ends_at <= starts_at:
        raise UserError("The end is not after the start.")
    if audience not in AUDIENCES:
        raise UserError(f"{audience!r} is not an audience; use one of {', '.join(AUDIENCES)}.")
    return EventDraft(title, starts_at, ends_at, location, description, audience)


def draft_from_line(line: str, *, tz: str, today: date) -> EventDraft:
    """A draft from ``Title | 2026-12-10 14:00-16:00 | Location | optional description``.

    Raises:
        UserError: a part is missing or wrong; the message names it and shows the format.
    """
    parts = [part.strip() for part in line.split("|", 3)]
    usage = USAGE.format(tz=tz)
    if not parts[0]:
        raise UserError(f"The title is missing. {usage}")
    if len(parts) < 2 or not parts[1]:
        raise UserError(f"The date and time are missing. {usage}")
    if len(parts) < 3 or not parts[2]:
        raise UserError(f"The location is missing. {usage}")
    start, end = parse_when(parts[1], tz)
    return make_draft(
        title=parts[0],
        starts_at=start,
        ends_at=end,
        location=parts[2],
        description=parts[3] if len(parts) > 3 else "",
        today=today,
    )


__all__ = [
    "AUDIENCES",
    "MAX_DESCRIPTION",
    "MAX_LOCATION",
    "MAX_TITLE",
    "USAGE",
    "EventDraft",
    "draft_from_line",
    "make_draft",
    "parse_moment",
    "parse_when",
]
