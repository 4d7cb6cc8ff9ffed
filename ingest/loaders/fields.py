"""Lenient readers for the values found in records: dates, amounts, booleans, lists, kinds."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from ingest.types import OPPORTUNITY_KINDS, OpportunityKind

__all__ = [
    "parse_amount",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_kind",
    "split_list",
    "to_str",
]

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[t ]\d)")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:$|t)")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for name in names
}  # fmt: skip
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})$")
_MONTH_DAY_YEAR = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")

_SCALES = (
    (re.compile(r"(?<![a-z])(?:billions?|bn|mrd|milliard[s]?|milliarden|b)(?![a-z])"), 10**9),
    (re.compile(r"(?<![a-z])(?:millions?|millionen|mio|mn|mln|m)(?![a-z])"), 10**6),
    (re.compile(r"(?<![a-z])(?:thousands?|tsd|k)(?![a-z])"), 10**3),
)
_CURRENCY = re.compile(r"€|\beur(?:os?)?\b|\beuro\b")
_NUMBER = re.compile(r"\d[\d\s.,'’]*")
_TRUE = {"true", "yes", "y", "1", "x", "ja", "oui", "si", "sí", "✓", "t"}
_FALSE = {"false", "no", "n", "0", "nein", "non", "f", "-"}
_KIND_SYNONYMS: dict[str, OpportunityKind] = {
    "funding": "funding_call",
    "call": "funding_call",
    "grant": "funding_call",
    "cascade_funding": "funding_call",
    "call_for_proposals": "funding_call",
    "incubator": "incubator_offer",
    "accelerator": "incubator_offer",
    "partner_search": "partnering",
    "partnering_offer": "partnering",
    "partnership": "partnering",
}


def to_str(value: object) -> str | None:
    """Return a stripped string for a scalar value, ``None`` for empty or non-scalar values."""
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    text = str(value).strip()
    return text or None


def parse_date(value: object) -> date | None:
    """Read a calendar date; a timestamp gives the date part as written (no zone shift).

    Accepts ``2026-04-16``, ``2026-04-16T00:00:00.000+0000``, ``20260416``,
    ``16.04.2026`` / ``16/04/2026`` (day first), ``16 April 2026`` and ``April 16, 2026``.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = to_str(value)
    if text is None:
        return None
    text = text.lower()
    for pattern, order in (
        (_ISO_DATE, (1, 2, 3)),
        (_COMPACT_DATE, (1, 2, 3)),
        (_DMY, (3, 2, 1)),
    ):
        match = pattern.match(text)
        if match:
            return _make_date(*(match.group(i) for i in order))
    match = _DAY_MONTH_YEAR.match(text)
    if match and match.group(2) in _MONTHS:
        return _make_date(match.group(3), _MONTHS[match.group(2)], match.group(1))
    match = _MONTH_DAY_YEAR.match(text)
    if match and match.group(1) in _MONTHS:
        return _make_date(match.group(3), _MONTHS[match.group(1)], match.group(2))
    return None


def _make_date(year: str | int, month: str | int, day: str | int) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_datetime(value: object) -> datetime | None:
    """Read a timezone-aware datetime; naive times and bare dates are taken as UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    text = to_str(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        day = parse_date(text)
        return datetime.combine(day, time(0), tzinfo=UTC) if day else None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_amount(value: object) -> int | None:
    """Read an amount in whole euros.

    Accepts numbers and strings such as ``"1,500,000"``, ``"1.500.000"``, ``"EUR 3 000 000"``,
    ``"€ 2.5 million"``, ``"2,5 Mio"``, ``"750k"``. Negative or unreadable amounts give ``None``.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return round(value) if value >= 0 else None
    text = to_str(value)
    if text is None:
        return None
    text = _CURRENCY.sub(" ", text.lower().replace("\u00a0", " ").replace("\u202f", " "))
    if text.strip().startswith("-"):
        return None
    scale = Decimal(1)
    for pattern, factor in _SCALES:
        if pattern.search(text):
            scale = Decimal(factor)
            break
    match = _NUMBER.search(text)
    if match is None:
        return None
    number = _decimal(match.group(0), scaled=scale != 1)
    if number is None:
        return None
    return int((number * scale).to_integral_value())


def _decimal(raw: str, *, scaled: bool) -> Decimal | None:
    digits = re.sub(r"[\s'’]", "", raw).rstrip(".,")
    commas, dots = digits.count(","), digits.count(".")
    if commas and dots:
        decimal_sep = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        digits = digits.replace(thousands, "").replace(decimal_sep, ".")
    elif commas or dots:
        sep = "," if commas else "."
        head, _, tail = digits.rpartition(sep)
        is_thousands = (commas + dots) > 1 or (len(tail) == 3 and not scaled)
        digits = digits.replace(sep, "") if is_thousands else f"{head.replace(sep, '')}.{tail}"
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def parse_bool(value: object) -> bool | None:
    """Read a yes/no value (``true``, ``yes``, ``1``, ``x`` ... / ``false``, ``no``, ``0`` ...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    text = to_str(value)
    if text is None:
        return None
    text = text.lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def split_list(value: object, *, separators: str = ";,") -> tuple[str, ...]:
    """Read a list: a JSON array (or its text), or a string split at the first separator found.

    With the default separators a string is split at ``;`` when it has one, else at ``,``.
    Items are stripped; empty items and case-insensitive duplicates are dropped.
    """
    items: list[object]
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        text = to_str(value)
        if text is None:
            return ()
        if text.startswith("[") and text.endswith("]"):
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = None
            if isinstance(loaded, list):
                return split_list(loaded, separators=separators)
            text = text[1:-1]
        sep = next((s for s in separators if s in text), None)
        items = list(text.split(sep)) if sep else [text]
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        text_item = to_str(item)
        if text_item is None:
            continue
        text_item = text_item.strip("\"'").strip()
        if text_item and text_item.lower() not in seen:
            seen.add(text_item.lower())
            out.append(text_item)
    return tuple(out)


def parse_kind(value: object) -> OpportunityKind | None:
    """Read an opportunity kind (``funding_call``, ``event`` ...); a few synonyms are accepted."""
    text = to_str(value)
    if text is None:
        return None
    key = re.sub(r"[\s\-]+", "_", text.lower())
    for kind in OPPORTUNITY_KINDS:
        if key == kind:
            return kind  # type: ignore[return-value]
    return _KIND_SYNONYMS.get(key)
