"""Cascade-funding and other calls listed on the EU Funding & Tenders Portal (``grants``).

Each record is an open call run under a parent EU topic. Its own ``id`` is unique and becomes
the opportunity id; the parent topic's ``identifier`` and title go into keywords and
metadata. The title is the call's own name (``summary``/``callTitle``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from ingest.errors import EmptyInput, InvalidRecords
from ingest.loaders.describe import opportunity_item
from ingest.loaders.eu_portal import programme_name
from ingest.loaders.fields import parse_amount, parse_date, to_str
from ingest.loaders.htmltext import html_text
from ingest.loaders.text import display_name, plain
from ingest.types import Opportunity, ParsedItem

__all__ = ["is_cascade", "load_cascade"]

logger = logging.getLogger(__name__)

_CODE_SUFFIX = re.compile(r"\s*\([A-Z0-9+ -]+\)\s*$")


def is_cascade(doc: object) -> bool:
    """Tell whether a JSON document is a ``{"grants": [...]}`` portal listing."""
    return isinstance(doc, Mapping) and isinstance(doc.get("grants"), list)


def _label(value: object) -> str | None:
    if isinstance(value, Mapping):
        return to_str(value.get("label"))
    return to_str(value)


def load_cascade(name: str, doc: Mapping[str, object]) -> list[ParsedItem]:
    """Turn the listing into one funding-call item per record.

    Raises:
        EmptyInput: The listing is empty.
        InvalidRecords: No record has an id and a title.
    """
    raw = doc.get("grants")
    records: list[object] = raw if isinstance(raw, list) else []
    items: list[ParsedItem] = []
    seen: set[str] = set()
    for number, record in enumerate(records, start=1):
        item = _item(record) if isinstance(record, Mapping) else None
        if item is None or item.external_id in seen:
            logger.warning("%s record %d skipped: no id or title, or a repeated id",
                           display_name(name), number)  # fmt: skip
            continue
        seen.add(item.external_id)
        items.append(item)
    if not records:
        raise EmptyInput("the listing has no calls")
    if not items:
        raise InvalidRecords("no call in the listing has an id and a title")
    return items


def _item(record: Mapping[str, object]) -> ParsedItem | None:
    ident = to_str(record.get("id"))
    raw_title = next(
        (t for t in (to_str(record.get(k)) for k in ("summary", "callTitle", "title")) if t), None
    )
    if ident is None or raw_title is None:
        return None
    parent = to_str(record.get("identifier"))
    parent_title = plain(to_str(record.get("title")) or "")
    programmes = record.get("frameworkProgrammes")
    first = programmes[0] if isinstance(programmes, list) and programmes else None
    programme = _label(first)
    programme = _CODE_SUFFIX.sub("", programme) if programme else None
    deadline = parse_date(record.get("deadlineDate"))
    budget = record.get("budget")
    kind_label = _label(record.get("kind")) or ""
    opp = Opportunity(
        id=ident,
        kind="funding_call",
        title=plain(raw_title).replace("\n", " "),
        programme=programme or (programme_name(parent) if parent else None),
        status=_label(record.get("status")),
        opening_date=parse_date(record.get("startDate")),
        deadlines=(deadline,) if deadline else (),
        budget_total_eur=parse_amount(budget) if not isinstance(budget, Mapping) else None,
        url=to_str(record.get("url")),
        keywords=tuple(k for k in (parent, kind_label) if k),
    )
    parent_line = f"{parent_title} ({parent})" if parent_title and parent else parent or ""
    body: list[tuple[str | None, str]] = [
        ("Call type", kind_label),
        ("Parent EU topic", parent_line),
        ("Summary", html_text(to_str(record.get("abstract")) or "")),
    ]
    metadata = {
        "source_format": "ft-grants-feed",
        "call_type": kind_label,
        "parent_topic": parent or "",
        "parent_title": parent_title,
    }
    return opportunity_item(opp, body, metadata={k: v for k, v in metadata.items() if v})
