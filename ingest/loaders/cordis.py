"""Flat call-topic records as normalised by the CordisData project, one item per topic.

Text fields of the original snapshot carry mojibake (UTF-8 read as cp1252), repaired run by
run, and HTML stripped without spacing, re-spaced by :func:`~ingest.loaders.text.unglue`.
``callStatus`` is kept as recorded (it may be stale). ``stage`` is "two-stage" on every
record of the snapshot whatever the topic, so two-stage is read from ``deadlineModel``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from ingest.errors import EmptyInput, InvalidRecords
from ingest.loaders.describe import opportunity_item
from ingest.loaders.eligibility import eligibility
from ingest.loaders.eu_portal import programme_name, status_label, type_of_action_code
from ingest.loaders.fields import parse_amount, parse_date, split_list, to_str
from ingest.loaders.text import display_name, plain, repair_mojibake, unglue
from ingest.types import Opportunity, ParsedItem

__all__ = ["is_cordis_record", "load_cordis"]

logger = logging.getLogger(__name__)

_LABEL = re.compile(r"^(Expected Outcomes?|Expected Impact|Scope|Objectives?):\s*", re.M)
_LEADING_ATTR = re.compile(r'^\s*"?\s*>')


def is_cordis_record(record: object) -> bool:
    """Tell whether a JSON object is a CordisData call-topic record."""
    return isinstance(record, Mapping) and "topicId" in record and "callStatus" in record


def _text(record: Mapping[str, object], key: str, *, spaced: bool = True) -> str:
    raw = record.get(key)
    if not isinstance(raw, str):
        raw = to_str(raw)
        if raw is None:
            return ""
    value = repair_mojibake(raw)  # before stripping: "Â\xa0" must stay whole
    value = _LEADING_ATTR.sub("", value)
    return plain(unglue(value) if spaced else value)


def _description(text: str) -> list[tuple[str | None, str]]:
    marks = list(_LABEL.finditer(text))
    if not marks:
        return [("Description", text)]
    parts: list[tuple[str | None, str]] = []
    if text[: marks[0].start()].strip():
        parts.append(("Description", text[: marks[0].start()]))
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(text)
        parts.append((mark.group(1), text[mark.end() : end]))
    return parts


def _keywords(text: str, topic: str) -> tuple[str, ...]:
    return tuple(k for k in split_list(text, separators=",") if k.lower() != topic.lower())


def load_cordis(name: str, records: Iterable[object]) -> list[ParsedItem]:
    """Turn CordisData records into funding-call items (first record wins on a repeated id).

    Raises:
        EmptyInput: There are no records.
        InvalidRecords: No record has a topic id and a title.
    """
    items: list[ParsedItem] = []
    seen: set[str] = set()
    total = 0
    for number, record in enumerate(records, start=1):
        total += 1
        if not isinstance(record, Mapping):
            logger.warning("%s record %d skipped: not an object", display_name(name), number)
            continue
        item = _item(record)
        if item is None:
            logger.warning("%s record %d skipped: no topicId or title", display_name(name), number)
        elif item.external_id in seen:
            logger.warning("%s record %d skipped: repeats a topic", display_name(name), number)
        else:
            seen.add(item.external_id)
            items.append(item)
    if total == 0:
        raise EmptyInput("no records found")
    if not items:
        raise InvalidRecords(f"none of the {total} records has a topic id and a title")
    return items


def _item(record: Mapping[str, object]) -> ParsedItem | None:
    topic = to_str(record.get("topicId"))
    title = _text(record, "title", spaced=False).replace("\n", " ")
    if topic is None or not title:
        return None
    conditions = _text(record, "topicConditions")
    rules = eligibility(conditions)
    model = (to_str(record.get("deadlineModel")) or "").lower()
    deadline = parse_date(record.get("deadline"))
    action = to_str(record.get("actionType"))
    opp = Opportunity(
        id=topic,
        kind="funding_call",
        title=title,
        programme=to_str(record.get("programme")) or programme_name(topic),
        type_of_action=type_of_action_code(to_str(record.get("typesOfAction")), action),
        status=status_label(to_str(record.get("callStatus"))),
        deadlines=(deadline,) if deadline else (),
        two_stage=model == "two-stage",
        budget_min_eur=parse_amount(record.get("budgetMin")) or None,
        budget_max_eur=parse_amount(record.get("budgetMax")) or None,
        countries=rules.countries,
        org_types=rules.org_types,
        url=to_str(record.get("portalUrl")),
        sme_only=rules.sme_only,
        keywords=_keywords(_text(record, "keywords", spaced=False), topic),
    )
    call_title = _text(record, "callTitle", spaced=False)
    call_id = to_str(record.get("callIdentifier")) or ""
    call = f"{call_title} ({call_id})" if call_title and call_id != call_title else call_id
    body: list[tuple[str | None, str]] = [
        ("Call", call),
        *_description(_text(record, "description")),
        ("Objectives", _text(record, "objectives")),
        ("Conditions", conditions),
        ("Support information", _text(record, "supportInfo")),
    ]
    metadata = {
        "source_format": "cordisdata",
        "reference": to_str(record.get("reference")) or "",
        "call_identifier": call_id,
        "deadline_model": model,
        "expected_grants": str(parse_amount(record.get("expectedGrants")) or ""),
    }
    return opportunity_item(opp, body, metadata={k: v for k, v in metadata.items() if v})
