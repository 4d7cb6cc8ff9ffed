"""How staff write a broadcast: ``SEGMENT | text | Label=https://link``, checked with clear errors.

A segment is ``field=value`` pairs (``sector=diagnostics country=DE,DK``) or ``all``; values
may contain spaces, commas separate several, and ``at=2026-12-01T09:00`` (the cluster's time)
schedules it. Every error names the bad field or value and says what would be accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.errors import UserError
from knowledge.countries import country_code
from knowledge.profile import ORG_TYPES, normalise_org_type
from storage.broadcasts import CHANNELS
from storage.models import utcnow

MAX_TEXT = 3500
MAX_BUTTONS = 3
MAX_LABEL = 30
#: What staff may type -> the segment field it sets.
FIELDS: dict[str, str] = {
    "sector": "sectors",
    "sectors": "sectors",
    "area": "therapeutic_areas",
    "areas": "therapeutic_areas",
    "therapeutic_area": "therapeutic_areas",
    "therapeutic_areas": "therapeutic_areas",
    "country": "country",
    "countries": "country",
    "type": "org_type",
    "org_type": "org_type",
    "network": "networks",
    "networks": "networks",
    "tier": "membership_tier",
    "membership_tier": "membership_tier",
    "channel": "channel",
    "channels": "channel",
}
#: The spelling shown back to staff, per segment field (also the order shown).
SHOWN: dict[str, str] = {
    "sectors": "sector",
    "therapeutic_areas": "area",
    "country": "country",
    "org_type": "type",
    "networks": "network",
    "membership_tier": "tier",
    "channel": "channel",
}
VALID_FIELDS = "sector, area, country, type, network, tier, channel"
EVERYONE = "all"
_KEY = re.compile(r"(?:^|\s)([A-Za-z_]+)\s*=")

Segment = dict[str, list[str]]


@dataclass(frozen=True)
class Request:
    """A broadcast as staff wrote it, checked and normalised."""

    segment: Segment
    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    send_at: datetime | None = None


# -- parsing ------------------------------------------------------------------------------------


def parse_segment(spec: str, *, timezone: str) -> tuple[Segment, datetime | None]:
    """A segment like ``sector=diagnostics country=DE,DK`` (or ``all``) and an optional ``at=``.

    Values may contain spaces (``sector=digital health``); commas separate several.

    Raises:
        UserError: empty, an unknown field or value (named, with the valid ones), or a bad time.
    """
    spec = spec.strip()
    first, _, rest = spec.partition(" ")
    everyone = first.lower() == EVERYONE
    if everyone:
        spec = rest.strip()
        if not spec:
            return {}, None
    if not spec:
        raise UserError(
            f"Say who gets it: e.g. sector=diagnostics country=DE, or {EVERYONE} for everyone "
            f"subscribed to announcements. Fields: {VALID_FIELDS}."
        )
    keys = list(_KEY.finditer(spec))
    if not keys or spec[: keys[0].start()].strip():
        head = spec[: keys[0].start()].strip() if keys else spec
        raise UserError(
            f"I don't understand {head!r} in the segment. Write field=value pairs, e.g. "
            f"sector=diagnostics country=DE; fields: {VALID_FIELDS} (or {EVERYONE})."
        )
    segment: Segment = {}
    send_at: datetime | None = None
    for n, key in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(spec)
        name, raw = key.group(1).lower(), spec[key.end() : end].strip()
        if name == "at":
            send_at = parse_time(raw, timezone=timezone)
            continue
        field = FIELDS.get(name)
        if field is None:
            raise UserError(f"{name!r} is not a segment field. Use: {VALID_FIELDS}.")
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if not values:
            raise UserError(f"{name}= has no value; e.g. {name}=something.")
        known = segment.setdefault(field, [])
        for value in values:
            clean = _value(field, name, value)
            if clean not in known:
                known.append(clean)
    if everyone and segment:
        raise UserError(f"{EVERYONE} means everyone; leave it out to pick by fields.")
    if not everyone and not segment:
        raise UserError(
            f"Say who gets it besides when: e.g. sector=diagnostics, or {EVERYONE} for everyone "
            "subscribed to announcements."
        )
    return segment, send_at


def _value(field: str, name: str, value: str) -> str:
    if field == "country":
        code = country_code(value)
        if code is None:
            raise UserError(f"{value!r} is not a country I know; use a name or a code like DE.")
        return code
    if field == "org_type":
        kind = normalise_org_type(value)
        if kind is None or (kind == "other" and value.strip().lower() != "other"):
            raise UserError(f"{value!r} is not an organisation type; use {', '.join(ORG_TYPES)}.")
        return kind
    if field == "channel":
        if value.lower() not in CHANNELS:
            raise UserError(f"{value!r} is not a channel; use {' or '.join(CHANNELS)}.")
        return value.lower()
    if len(value) > 80:
        raise UserError(f"The {name} value {value[:20]!r}… is too long.")
    return value.lower()


def parse_time(text: str, *, timezone: str) -> datetime:
    """``2026-12-01T09:00`` (or with a space) in the cluster's timezone, as UTC; future only.

    Raises:
        UserError: not such a time, or not in the future.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"at={text} is not a time like 2026-12-01T09:00.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    moment = moment.astimezone(UTC)
    if moment <= utcnow():
        raise UserError(f"at={text} is in the past; give a time to come.")
    return moment


def parse_buttons(parts: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Link buttons ``Label=https://...``, at most three, labels distinct and short.

    Raises:
        UserError: naming the part that is not a button.
    """
    buttons: list[tuple[str, str]] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        label, sep, url = part.partition("=")
        label, url = label.strip(), url.strip()
        if not sep or not label or not url.startswith(("https://", "http://")) or " " in url:
            raise UserError(f"{part!r} is not a button; write Label=https://link.")
        if len(label) > MAX_LABEL:
            raise UserError(f"The button label {label!r} is too long (at most {MAX_LABEL}).")
        if any(label.lower() == known.lower() for known, _ in buttons):
            raise UserError(f"Two buttons are called {label!r}; give each its own label.")
        buttons.append((label, url))
    if len(buttons) > MAX_BUTTONS:
        raise UserError(f"At most {MAX_BUTTONS} buttons, please.")
    return tuple(buttons)


def check_text(text: str) -> str:
    """The message text, trimmed and within limits.

    Raises:
        UserError: empty or too long.
    """
    text = text.strip()
    if not text:
        raise UserError("The message is empty: write it after the | sign.")
    if len(text) > MAX_TEXT:
        raise UserError(f"The message is too long ({len(text)} characters, at most {MAX_TEXT}).")
    return text


def parse_request(args: str, *, timezone: str) -> Request:
    """``SEGMENT | text | Label=https://... | ...`` as a checked request.

    Raises:
        UserError: any part is wrong (the message names it).
    """
    spec, sep, rest = args.partition("|")
    segment, send_at = parse_segment(spec, timezone=timezone)
    if not sep:
        raise UserError("Put the message after a | sign: /broadcast sector=diagnostics | Hello!")
    text, *buttons = rest.split("|")
    return Request(segment, check_text(text), parse_buttons(buttons), send_at)


def describe_segment(segment: Mapping[str, Sequence[str]]) -> str:
    """A segment as staff would type it (``everyone subscribed`` for an empty one)."""
    parts = [f"{SHOWN[f]}={','.join(segment[f])}" for f in SHOWN if segment.get(f)]
    return " ".join(parts) if parts else "everyone subscribed to announcements"


__all__ = [
    "EVERYONE",
    "FIELDS",
    "MAX_TEXT",
    "VALID_FIELDS",
    "Request",
    "Segment",
    "check_text",
    "describe_segment",
    "parse_buttons",
    "parse_request",
    "parse_segment",
    "parse_time",
]
