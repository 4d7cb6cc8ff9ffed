"""JSON, JSONL and concatenated JSON: decode every value, then route by shape.

Shapes, checked in order: a SEDIA search response (``results`` with ``metadata``), a portal
``grants`` listing, a CordisData change log (``date`` + ``events``), CordisData call records
(objects with ``topicId``, bare or under ``records``), then our generic schema (a list of
objects, or an object with a list under ``opportunities``, ``items`` or ``records``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ingest.errors import CorruptInput, EmptyInput, UnsupportedFormat
from ingest.loaders.cascade import is_cascade, load_cascade
from ingest.loaders.changelog import is_changelog, load_changelog
from ingest.loaders.cordis import is_cordis_record, load_cordis
from ingest.loaders.limits import Limits
from ingest.loaders.records import records_to_items
from ingest.loaders.sedia import is_sedia, load_sedia
from ingest.loaders.text import decode_text
from ingest.types import ParsedItem

__all__ = ["decode_values", "load_json"]

_LIST_KEYS = ("opportunities", "items", "records")
_MAX_DEPTH_ERRORS = (RecursionError,)


def decode_values(text: str) -> list[object]:
    """Decode one JSON value, or many (JSON Lines, or values concatenated without separator).

    Raises:
        CorruptInput: Invalid JSON (the message gives line and column).
    """
    decoder = json.JSONDecoder()
    values: list[object] = []
    index, end = 0, len(text)
    try:
        while True:
            while index < end and text[index] in " \t\r\n\ufeff":
                index += 1
            if index >= end:
                return values
            value, index = decoder.raw_decode(text, index)
            values.append(value)
    except json.JSONDecodeError as exc:
        raise CorruptInput(f"invalid JSON at line {exc.lineno}, column {exc.colno}") from None
    except _MAX_DEPTH_ERRORS:
        raise CorruptInput("invalid JSON: nested too deeply") from None


def load_json(name: str, data: bytes, limits: Limits) -> list[ParsedItem]:
    """Read a JSON document or a stream of JSON values, and route it by its shape.

    Raises:
        CorruptInput: Invalid JSON.
        EmptyInput: No value, or an empty list.
        UnsupportedFormat: JSON of a shape we do not know.
    """
    values = decode_values(decode_text(data))
    if not values:
        raise EmptyInput("the JSON file is empty")
    if len(values) == 1:
        doc = values[0]
        if is_sedia(doc):
            return load_sedia(name, doc)  # type: ignore[arg-type]
        if is_cascade(doc):
            return load_cascade(name, doc)  # type: ignore[arg-type]
        if is_changelog(doc):
            return load_changelog(name, doc)  # type: ignore[arg-type]
        records = _records(doc)
    else:
        records = values
    if records is None:
        raise UnsupportedFormat("unsupported JSON: expected a list of records")
    if not records:
        raise EmptyInput("the JSON holds an empty list")
    if any(is_cordis_record(r) for r in records[:5]):
        return load_cordis(name, records)
    return records_to_items(name, records)  # type: ignore[arg-type]


def _records(doc: object) -> list[object] | None:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, Mapping):
        for key in _LIST_KEYS:
            value = doc.get(key)
            if isinstance(value, list):
                return value
        lowered = {str(k).lower(): v for k, v in doc.items()}
        if "id" in lowered and "title" in lowered:
            return [doc]  # a single record
    return None
