"""Our own generic opportunity schema: a flat mapping of fields to an :class:`Opportunity`.

Used by CSV, JSON and JSONL opportunity lists and by Markdown front matter. Keys are matched
case-insensitively: ``id``, ``kind``, ``title``, ``programme``, ``type_of_action``,
``status``, ``opening_date``, ``deadlines`` (or a single ``deadline``), ``two_stage``,
``budget_total_eur``, ``budget_min_eur``, ``budget_max_eur``, ``countries``, ``org_types``,
``keywords``, ``url``, ``sme_only``, ``description``, ``starts_at``, ``ends_at``,
``location``. A missing or unknown ``kind`` gives ``"other"``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

from ingest.loaders.fields import (
    parse_amount,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_kind,
    split_list,
    to_str,
)
from ingest.loaders.text import plain
from ingest.types import Opportunity

__all__ = ["SCHEMA_FIELDS", "RecordError", "extra_metadata", "lower_keys", "opportunity_from"]

logger = logging.getLogger(__name__)

SCHEMA_FIELDS = frozenset(
    ("id", "kind", "title", "programme", "type_of_action", "status", "opening_date",
     "deadlines", "deadline", "two_stage", "budget_total_eur", "budget_min_eur",
     "budget_max_eur", "countries", "org_types", "keywords", "url", "sme_only", "description",
     "starts_at", "ends_at", "location")
)  # fmt: skip


class RecordError(ValueError):
    """A record that cannot become an opportunity (the message names the missing field)."""


def lower_keys(record: Mapping[str, object]) -> dict[str, object]:
    """Return the record with stripped, lower-case keys (spaces and dashes as underscores)."""
    out: dict[str, object] = {}
    for key, value in record.items():
        norm = str(key).strip().lower().replace(" ", "_").replace("-", "_")
        if norm and norm not in out:
            out[norm] = value
    return out


def _dates(fields: Mapping[str, object], where: str) -> tuple[date, ...]:
    raw = fields.get("deadlines")
    values = split_list(raw, separators=";\n") if raw not in (None, "") else ()
    if not values and fields.get("deadline") not in (None, ""):
        values = split_list(fields.get("deadline"), separators=";\n")
    out: list[date] = []
    for value in values:
        day = parse_date(value)
        if day is None:
            logger.warning("%s: unreadable deadline ignored", where)
        elif day not in out:
            out.append(day)
    return tuple(out)


def opportunity_from(fields: Mapping[str, object], *, where: str = "record") -> Opportunity:
    """Build an opportunity from a record with lower-cased keys (see :func:`lower_keys`).

    Args:
        fields: The record.
        where: Names the record in warnings (e.g. ``"data.csv row 4"``), never its content.

    Raises:
        RecordError: The record has no ``id`` or no ``title``.
    """
    ident = to_str(fields.get("id"))
    title = to_str(fields.get("title"))
    if ident is None or title is None:
        missing = " and ".join(n for n, v in (("id", ident), ("title", title)) if v is None)
        raise RecordError(f"no {missing}")
    opening_raw = fields.get("opening_date")
    opening = parse_date(opening_raw)
    if opening is None and to_str(opening_raw):
        logger.warning("%s: unreadable opening_date ignored", where)
    location = to_str(fields.get("location"))
    return Opportunity(
        id=ident,
        kind=parse_kind(fields.get("kind")) or "other",
        title=plain(title).replace("\n", " "),
        programme=to_str(fields.get("programme")),
        type_of_action=to_str(fields.get("type_of_action")),
        status=to_str(fields.get("status")),
        opening_date=opening,
        deadlines=_dates(fields, where),
        two_stage=bool(parse_bool(fields.get("two_stage"))),
        budget_total_eur=parse_amount(fields.get("budget_total_eur")),
        budget_min_eur=parse_amount(fields.get("budget_min_eur")),
        budget_max_eur=parse_amount(fields.get("budget_max_eur")),
        countries=split_list(fields.get("countries")),
        org_types=split_list(fields.get("org_types")),
        url=to_str(fields.get("url")),
        sme_only=parse_bool(fields.get("sme_only")),
        keywords=split_list(fields.get("keywords")),
        starts_at=parse_datetime(fields.get("starts_at")),
        ends_at=parse_datetime(fields.get("ends_at")),
        location=plain(location) if location else None,
    )


def extra_metadata(fields: Mapping[str, object]) -> dict[str, str]:
    """Return the record's fields outside the schema as short strings (scalars only)."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        text = to_str(value)
        if key not in SCHEMA_FIELDS and text is not None and len(text) <= 500:
            out[key] = text
    return out
