"""Import an innovation-asset portfolio (a CRM export, CSV or JSON list) for partner scouting.

Exports differ in their column names, so columns are mapped by their usual names ("title" or
"name", "company" or "organisation" or "owner", "keywords" or "technologies"...). Every row
is checked first; a row with a problem is reported by its number and column. By default one
bad row stops the whole import, so a file is never half-written; ``skip_invalid`` imports
the good rows and reports the rest. Assets are upserted by ``(source, external_id)`` with a
content hash, so importing the same file again changes nothing.

Contact details are kept on the asset only: they are never chunked, embedded or indexed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import CorruptInput, EmptyInput, InvalidRecords, UnsupportedFormat
from ingest.loaders.text import decode_text
from knowledge.countries import country_code
from knowledge.scouting import partner_type_key
from storage.engine import SessionFactory
from storage.people import audit
from storage.scouting import organisation_named, upsert_asset

#: Asset field -> column names that mean it (compared lower-case, spaces and dashes as ``_``).
COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "external_id", "asset_id", "record_id", "ref", "reference"),
    "name": ("name", "title", "asset", "asset_name", "asset_title"),
    "kind": ("kind", "asset_type", "asset_kind", "category"),
    "owner_name": (
        "owner",
        "owner_name",
        "organisation",
        "organization",
        "company",
        "institution",
        "account",
    ),
    "partner_type": (
        "partner_type",
        "type",
        "org_type",
        "organisation_type",
        "organization_type",
        "owner_type",
    ),
    "technologies": ("technologies", "technology", "keywords", "tags", "expertise"),
    "sectors": ("sectors", "sector"),
    "therapeutic_areas": ("therapeutic_areas", "therapeutic_area", "indications", "indication"),
    "country": ("country", "country_code"),
    "region": ("region", "city", "location"),
    "trl": ("trl", "technology_readiness_level"),
    "description": ("description", "summary", "abstract", "details"),
    "contact_name": ("contact_name", "contact", "contact_person"),
    "contact_email": ("contact_email", "email", "e_mail", "mail"),
    "contact_phone": ("contact_phone", "phone", "telephone", "tel"),
    "url": ("url", "link", "website", "web"),
}
_LISTS = ("technologies", "sectors", "therapeutic_areas")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_ROWS = 20_000


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row: its number (CSV: line in the file; JSON: position)."""

    row: int
    column: str
    message: str

    def line(self) -> str:
        """One line for staff."""
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass(frozen=True)
class AssetRecord:
    """One checked row: the asset's fields, its id in the export, and its content hash."""

    row: int
    external_id: str
    fields: dict[str, Any]

    @property
    def content_hash(self) -> str:
        """Changes whenever any imported field does."""
        body = json.dumps([self.external_id, self.fields], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class ParsedAssets:
    """A parsed export: the good rows and the problems of the others."""

    records: tuple[AssetRecord, ...]
    errors: tuple[RowError, ...]


@dataclass
class ImportSummary:
    """What an import did."""

    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    def line(self) -> str:
        """One line for the terminal."""
        text = (
            f"{self.source}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.errors:
            text += f", {len(self.errors)} rows with errors"
            text += f" ({self.skipped} skipped)" if self.skipped else " (nothing imported)"
        return text


def _key(column: object) -> str:
    return re.sub(r"[\s\-./]+", "_", str(column).strip().lower()).strip("_")


def _mapping(columns: list[str]) -> dict[str, str]:
    """Asset field -> the export's column that holds it (first alias present wins)."""
    by_key = {_key(c): c for c in columns}
    found: dict[str, str] = {}
    for name, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in by_key and by_key[alias] not in found.values():
                found[name] = by_key[alias]
                break
    return found


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return " ".join(str(value).split())


def _split(value: object) -> list[str]:
    if isinstance(value, list):
        parts = [_text(v) for v in value]
    else:
        parts = re.split(r"[;,|\n]", str(value or ""))
    return list(dict.fromkeys(p.strip() for p in parts if p and p.strip()))


def check_row(
    row: Mapping[str, object], mapping: dict[str, str], number: int
) -> AssetRecord | list[RowError]:
    """One export row as an asset record, or every problem it has."""
    raw = {name: row.get(column) for name, column in mapping.items()}
    if isinstance(row.get("contact"), Mapping):  # JSON exports may nest the contact
        nested: Mapping[str, object] = row["contact"]  # type: ignore[assignment]
        raw["contact_name"] = nested.get("name")
        raw["contact_email"] = nested.get("email")
        raw["contact_phone"] = nested.get("phone")
    errors: list[RowError] = []

    def bad(name: str, message: str) -> None:
        errors.append(RowError(number, mapping.get(name, name), message))

    name = _text(raw.get("name"))
    if not name:
        bad("name", "the asset has no name")
    external_id = _text(raw.get("external_id")) or name
    if len(external_id) > 512:
        bad("external_id", "the id is longer than 512 characters")
    country = None
    if given := _text(raw.get("country")):
        country = country_code(given)
        if country is None:
            bad("country", f"{given[:40]!r} is not a country I know (use a name or a code)")
    trl = None
    if given := re.sub(r"(?i)^trl\s*", "", _text(raw.get("trl"))):
        if given.isdigit() and 1 <= int(given) <= 9:
            trl = int(given)
        else:
            bad("trl", f"{given[:20]!r} is not a TRL from 1 to 9")
    email = _text(raw.get("contact_email"))
    if email and not _EMAIL.match(email):
        bad("contact_email", f"{email[:60]!r} is not an e-mail address")
    url = _text(raw.get("url")) or None
    if url and not url.lower().startswith(("http://", "https://")):
        bad("url", "the link does not start with http:// or https://")
    kind = _text(raw.get("kind")).lower() or "technology"
    if len(kind) > 32:
        bad("kind", "the asset type is longer than 32 characters")
    if errors:
        return errors
    type_text = _text(raw.get("partner_type"))
    contact = {
        key: value
        for key in ("name", "email", "phone")
        if (value := _text(raw.get(f"contact_{key}")))
    }
    fields: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "owner_name": _text(raw.get("owner_name")) or None,
        "partner_type": partner_type_key(type_text) if type_text else None,
        "description": _text(raw.get("description")),
        "country": country,
        "region": _text(raw.get("region")) or None,
        "trl": trl,
        "contact": contact,
        "url": url,
    }
    for name_ in _LISTS:
        fields[name_] = _split(raw.get(name_))
    return AssetRecord(row=number, external_id=external_id, fields=fields)


def _rows(name: str, data: bytes) -> tuple[list[Mapping[str, object]], list[str], int]:
    """The rows of an export, its column names, and the number of its first row."""
    suffix = Path(name).suffix.lower()
    text = decode_text(data)
    if not text.strip():
        raise EmptyInput("the file is empty")
    if suffix == ".json":
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CorruptInput(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
        if isinstance(loaded, dict):
            loaded = next((v for v in loaded.values() if isinstance(v, list)), None)
        if not isinstance(loaded, list):
            raise InvalidRecords("the JSON holds no list of assets")
        records = [r if isinstance(r, Mapping) else {} for r in loaded]
        columns = list(dict.fromkeys(str(k) for r in records for k in r))
        return records, columns, 1
    if suffix not in (".csv", ".tsv", ".txt"):
        raise UnsupportedFormat(f"{suffix or 'no suffix'}: import a .csv or .json export")
    try:
        delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ";" if text[:8192].count(";") > text[:8192].count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = [str(c) for c in reader.fieldnames or []]
        rows: list[Mapping[str, object]] = [
            {k: v for k, v in r.items() if k is not None} for r in reader
        ]
    except csv.Error as exc:
        raise CorruptInput(f"unreadable CSV at line {reader.line_num} ({exc})") from None
    return rows, columns, 2


def parse_assets(name: str, data: bytes) -> ParsedAssets:
    """Check every row of an export (pure: nothing is stored).

    Raises:
        EmptyInput: the file or its list is empty.
        UnsupportedFormat: not a .csv or .json file.
        CorruptInput: the CSV or JSON cannot be read.
        InvalidRecords: no column holds the assets' names, or there are too many rows.
    """
    rows, columns, first = _rows(name, data)
    if not rows:
        raise EmptyInput("the export has no rows")
    if len(rows) > _MAX_ROWS:
        raise InvalidRecords(f"the export has {len(rows)} rows, at most {_MAX_ROWS} are read")
    mapping = _mapping(columns)
    if "name" not in mapping:
        raise InvalidRecords("no column holds the assets' names (name or title)")
    records: list[AssetRecord] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=first):
        checked = check_row(row, mapping, number)
        if isinstance(checked, list):
            errors.extend(checked)
            continue
        if checked.external_id in seen:
            column = mapping.get("external_id", mapping["name"])
            errors.append(
                RowError(number, column, f"the same id as row {seen[checked.external_id]}")
            )
            continue
        seen[checked.external_id] = number
        records.append(checked)
    return ParsedAssets(tuple(records), tuple(errors))


async def import_assets(
    sessions: SessionFactory,
    *,
    name: str,
    data: bytes,
    source: str | None = None,
    actor: str = "cli",
    skip_invalid: bool = False,
) -> ImportSummary:
    """Check an export, then upsert its assets in one transaction, with an audit entry.

    Args:
        sessions: The store.
        name: The file name (its suffix picks CSV or JSON).
        data: The file's bytes.
        source: What the assets are keyed under (default: the file name).
        actor: Who imports, for the audit log.
        skip_invalid: Import the good rows when some have errors (default: import nothing).

    Raises:
        IngestError: the file as a whole cannot be read (see :func:`parse_assets`).
    """
    parsed = parse_assets(name, data)
    summary = ImportSummary(source=source or Path(name).name, errors=list(parsed.errors))
    if parsed.errors and not skip_invalid:
        return summary
    summary.skipped = len({e.row for e in parsed.errors})
    async with sessions.begin() as session:
        for record in parsed.records:
            fields = dict(record.fields)
            owner = fields.get("owner_name")
            org = await organisation_named(session, owner) if owner else None
            fields["organisation_id"] = org.id if org else None
            outcome = await upsert_asset(
                session,
                source=summary.source,
                external_id=record.external_id,
                fields=fields,
                content_hash=record.content_hash,
            )
            setattr(summary, outcome, getattr(summary, outcome) + 1)
        await audit(
            session,
            actor=actor,
            action="assets.import",
            subject=f"assets:{summary.source}"[:128],
            detail={
                "added": summary.added,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "skipped": summary.skipped,
            },
        )
    return summary


__all__ = [
    "COLUMNS",
    "AssetRecord",
    "ImportSummary",
    "ParsedAssets",
    "RowError",
    "check_row",
    "import_assets",
    "parse_assets",
]
