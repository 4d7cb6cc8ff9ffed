"""Generic opportunity lists: CSV rows or JSON objects in our own schema, one item per record."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Mapping

from ingest.errors import CorruptInput, EmptyInput, InvalidRecords
from ingest.loaders.describe import opportunity_item
from ingest.loaders.fields import to_str
from ingest.loaders.htmltext import html_text
from ingest.loaders.limits import Limits
from ingest.loaders.schema import RecordError, extra_metadata, lower_keys, opportunity_from
from ingest.loaders.text import decode_text, display_name
from ingest.types import ParsedItem

__all__ = ["load_csv", "records_to_items"]

logger = logging.getLogger(__name__)


def load_csv(name: str, data: bytes, limits: Limits) -> list[ParsedItem]:
    """Read a CSV opportunity list (delimiter ``,``, ``;`` or tab, sniffed; UTF-8 BOM allowed).

    Raises:
        CorruptInput: The CSV cannot be parsed.
        InvalidRecords: There is no ``id`` or ``title`` column, or no usable row.
        EmptyInput: There are no rows.
    """
    text = decode_text(data)
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = {str(key).strip().lower() for key in reader.fieldnames or []}
        rows = list(reader)
    except csv.Error as exc:
        raise CorruptInput(f"unreadable CSV at line {reader.line_num} ({exc})") from None
    missing = [field for field in ("id", "title") if field not in header]
    if missing:
        raise InvalidRecords(f"the CSV has no {' or '.join(missing)} column")
    cleaned = [{k: v for k, v in row.items() if k is not None} for row in rows]
    return records_to_items(name, cleaned, first_number=2, unit="row")


def records_to_items(
    name: str,
    records: Iterable[Mapping[str, object]],
    *,
    first_number: int = 1,
    unit: str = "record",
) -> list[ParsedItem]:
    """Turn schema records into items; a record without id or title is skipped and logged.

    The warning names the file and the record number only, never record content.

    Raises:
        EmptyInput: There are no records.
        InvalidRecords: No record is usable.
    """
    items: list[ParsedItem] = []
    seen: set[str] = set()
    total = 0
    where_file = display_name(name)
    for number, record in enumerate(records, start=first_number):
        total += 1
        where = f"{where_file} {unit} {number}"
        if not isinstance(record, Mapping):
            logger.warning("%s skipped: not an object", where)
            continue
        fields = lower_keys(record)
        try:
            opp = opportunity_from(fields, where=where)
        except RecordError as exc:
            logger.warning("%s skipped: %s", where, exc)
            continue
        if opp.id in seen:
            logger.warning("%s skipped: repeats an earlier id", where)
            continue
        seen.add(opp.id)
        description = to_str(fields.get("description")) or ""
        body = [("Description", html_text(description))] if description else []
        items.append(opportunity_item(opp, body, metadata=extra_metadata(fields)))
    if total == 0:
        raise EmptyInput(f"no {unit}s found")
    if not items:
        raise InvalidRecords(f"none of the {total} {unit}s has both an id and a title")
    return items
