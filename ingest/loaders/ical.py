"""iCalendar files (icalendar): one event opportunity per VEVENT."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from icalendar import Calendar

from ingest.errors import CorruptInput, EmptyInput
from ingest.loaders.describe import opportunity_item
from ingest.loaders.htmltext import html_text
from ingest.loaders.limits import Limits
from ingest.loaders.text import clean_text, decode_text
from ingest.types import Opportunity, ParsedItem

__all__ = ["load_ics"]

logger = logging.getLogger(__name__)

_ICS_ERRORS = (ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError)


def load_ics(name: str, data: bytes, limits: Limits) -> list[ParsedItem]:
    """Read a calendar into one item per event, each an opportunity of kind ``event``.

    ``id`` is the UID (a hash of summary and start when missing). Times are timezone-aware:
    a floating time is taken as UTC, an all-day event starts at midnight UTC of its date.
    The deadline is the start date. Recurring events are not expanded: DTSTART is used.

    Raises:
        CorruptInput: Not a readable calendar.
        EmptyInput: The calendar has no events.
    """
    try:
        calendar = Calendar.from_ical(decode_text(data))
        events = list(calendar.walk("VEVENT"))
    except _ICS_ERRORS as exc:
        raise CorruptInput(f"damaged calendar ({type(exc).__name__})") from None
    if not events:
        raise EmptyInput("the calendar has no events")
    items: list[ParsedItem] = []
    seen: set[str] = set()
    for index, event in enumerate(events, start=1):
        try:
            item = _event_item(event)
        except _ICS_ERRORS as exc:
            reason = type(exc).__name__
            logger.warning("%s: event %d unreadable (%s); skipped", name, index, reason)
            continue
        if item.external_id in seen:
            logger.warning("%s: event %d repeats a UID; skipped", name, index)
            continue
        seen.add(item.external_id)
        items.append(item)
    if not items:
        raise CorruptInput("no event in the calendar could be read")
    return items


def _event_item(event: Any) -> ParsedItem:
    summary = clean_text(str(event.get("SUMMARY", ""))).replace("\n", " ")
    description = html_text(str(event.get("DESCRIPTION", "")))
    location = clean_text(str(event.get("LOCATION", ""))).replace("\n", ", ") or None
    url = str(event.get("URL", "")).strip() or None
    start = _moment(event.get("DTSTART"))
    end = _moment(event.get("DTEND"))
    if end is None and start is not None and event.get("DURATION") is not None:
        duration = event.decoded("DURATION")
        if isinstance(duration, timedelta):
            end = start + duration
    uid = str(event.get("UID", "")).strip()
    if not uid:
        seed = f"{summary}\n{start.isoformat() if start else ''}"
        uid = "event-" + hashlib.sha256(seed.encode()).hexdigest()[:16]
    opp = Opportunity(
        id=uid,
        kind="event",
        title=summary or "Untitled event",
        deadlines=(start.date(),) if start else (),
        url=url,
        starts_at=start,
        ends_at=end,
        location=location,
    )
    metadata = {}
    if event.get("RRULE") is not None:
        metadata["recurrence"] = event["RRULE"].to_ical().decode("utf-8", errors="replace")
    return opportunity_item(opp, [("Description", description)], metadata=metadata)


def _moment(prop: Any) -> datetime | None:
    if prop is None:
        return None
    value = getattr(prop, "dt", prop)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    return None
