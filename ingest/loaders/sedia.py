"""EU Funding & Tenders Portal topic records from the SEDIA search API, one item per topic.

Input: ``{"source", "count", "results": [...]}`` where each result has ``metadata`` whose
values are all lists. A non-English copy of a topic is skipped when an English record with
the same identifier is in the file. Budgets: see :mod:`ingest.loaders.sedia_budget`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import date

from ingest.errors import EmptyInput, InvalidRecords
from ingest.loaders.describe import opportunity_item
from ingest.loaders.eligibility import eligibility
from ingest.loaders.eu_portal import (
    portal_topic_url,
    programme_name,
    status_label,
    type_of_action_code,
)
from ingest.loaders.fields import parse_date, split_list
from ingest.loaders.htmltext import blocks_to_sections, html_blocks, html_text, parse_html
from ingest.loaders.sedia_budget import topic_budget
from ingest.loaders.text import display_name, plain
from ingest.types import Opportunity, ParsedItem

__all__ = ["is_sedia", "load_sedia"]

logger = logging.getLogger(__name__)

Record = Mapping[str, object]


def is_sedia(doc: object) -> bool:
    """Tell whether a JSON document is a wrapped SEDIA search response."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("results"), list):
        return False
    return any(isinstance(r, Mapping) and isinstance(r.get("metadata"), Mapping)
               for r in doc["results"][:5])  # fmt: skip


def load_sedia(name: str, doc: Mapping[str, object]) -> list[ParsedItem]:
    """Turn a SEDIA response into one funding-call item per topic.

    Raises:
        EmptyInput: There are no results.
        InvalidRecords: No result has an identifier.
    """
    raw = doc.get("results")
    results = [r for r in raw if isinstance(r, Mapping)] if isinstance(raw, list) else []
    if not results:
        raise EmptyInput("no SEDIA results")
    chosen = _pick_languages(name, results)
    items = [_item(record, identifier) for identifier, record in chosen]
    if not items:
        raise InvalidRecords("no SEDIA result has a topic identifier")
    return items


def _values(metadata: Mapping[str, object], key: str) -> list[str]:
    value = metadata.get(key)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v is not None and str(v).strip()]


def _first(metadata: Mapping[str, object], key: str) -> str | None:
    values = _values(metadata, key)
    return values[0].strip() if values else None


def _metadata(record: Record) -> Mapping[str, object]:
    meta = record.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _pick_languages(name: str, results: Sequence[Record]) -> list[tuple[str, Record]]:
    by_id: dict[str, list[Record]] = {}
    for index, record in enumerate(results, start=1):
        identifier = _first(_metadata(record), "identifier")
        if identifier is None:
            logger.warning("%s: result %d has no identifier; skipped", display_name(name), index)
            continue
        by_id.setdefault(identifier, []).append(record)
    chosen = []
    for identifier, records in by_id.items():
        english = [r for r in records if _language(r) == "en"]
        chosen.append((identifier, (english or records)[0]))
    return chosen


def _language(record: Record) -> str:
    lang = record.get("language") or _first(_metadata(record), "language") or ""
    return str(lang).lower()


def _action_code(metadata: Mapping[str, object]) -> str | None:
    raw = _first(metadata, "actions")
    try:
        actions = json.loads(raw) if raw else None
        text = str(actions[0]["types"][0]["typeOfAction"])  # type: ignore[index]
    except (ValueError, LookupError, TypeError):
        return None
    return text.split(" ", 1)[0] or None


def _dates(values: list[str]) -> tuple[date, ...]:
    out: list[date] = []
    for value in values:
        day = parse_date(value)
        if day is not None and day not in out:
            out.append(day)
    return tuple(out)


def _description_sections(html: str | None) -> list[tuple[str | None, str]]:
    if not html:
        return []
    soup = parse_html(html)
    for span in soup.find_all("span", class_="topicdescriptionkind"):
        heading = soup.new_tag("h1")
        heading.string = span.get_text(" ").strip().rstrip(":").strip()
        span.replace_with(heading)
    sections = blocks_to_sections(html_blocks(soup), max_level=1, first_heading="Description")
    return [(s.heading, s.text) for s in sections]


def _item(record: Record, identifier: str) -> ParsedItem:
    meta = _metadata(record)
    deadlines = _dates(_values(meta, "deadlineDate"))
    model = (_first(meta, "deadlineModel") or "").lower()
    two_stage = "two-stage" in model or (
        len(deadlines) == 2 and model not in ("single-stage", "multiple cut-off")
    )
    budget = topic_budget(_first(meta, "budgetOverview"), identifier)
    conditions = html_text(_first(meta, "topicConditions") or "")
    rules = eligibility(conditions)
    skip = {identifier.lower(), (_first(meta, "callIdentifier") or "").lower()}
    keywords = tuple(
        k for k in split_list([*_values(meta, "keywords"), *_values(meta, "tags")])
        if k.lower() not in skip
    )  # fmt: skip
    title = plain(_first(meta, "title") or str(record.get("summary") or identifier))
    opp = Opportunity(
        id=identifier,
        kind="funding_call",
        title=title.replace("\n", " "),
        programme=programme_name(identifier),
        type_of_action=type_of_action_code(_first(meta, "typesOfAction"), _action_code(meta)),
        status=status_label(_first(meta, "status")),
        opening_date=parse_date(_first(meta, "startDate")),
        deadlines=deadlines,
        two_stage=two_stage,
        budget_total_eur=budget.total_eur,
        budget_min_eur=budget.min_eur,
        budget_max_eur=budget.max_eur,
        countries=rules.countries,
        org_types=rules.org_types,
        url=portal_topic_url(identifier),
        sme_only=rules.sme_only,
        keywords=keywords,
    )
    call_title = plain(_first(meta, "callTitle") or "")
    call_id = _first(meta, "callIdentifier")
    call = f"{call_title} ({call_id})" if call_title and call_id else call_title or call_id or ""
    body: list[tuple[str | None, str]] = [
        ("Call", call),
        ("Destination", plain(_first(meta, "destinationDescription") or "")),
        *_description_sections(_first(meta, "descriptionByte")),
        ("Conditions", conditions),
        ("Support information", html_text(_first(meta, "supportInfo") or "")),
    ]
    metadata = {
        "source_format": "sedia",
        "language": _language(record),
        "reference": str(record.get("reference") or ""),
        "call_identifier": call_id or "",
        "call_title": call_title,
        "deadline_model": model,
        "expected_grants": str(budget.expected_grants or ""),
        "budget_blocks": ", ".join(budget.blocks),
        "budget_shared_with": ", ".join(budget.shared_with),
    }
    note = f"shared with {', '.join(budget.shared_with)}" if budget.shared_with else None
    return opportunity_item(
        opp, body, metadata={k: v for k, v in metadata.items() if v}, budget_note=note
    )
