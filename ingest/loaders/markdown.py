"""Markdown and plain text: optional front matter, sections split at Markdown headings."""

from __future__ import annotations

import logging
import re

from ingest.errors import EmptyInput
from ingest.loaders.describe import opportunity_item
from ingest.loaders.fields import parse_kind, split_list
from ingest.loaders.limits import Limits
from ingest.loaders.schema import RecordError, opportunity_from
from ingest.loaders.text import clean_text, decode_text, display_name, make_sections, plain
from ingest.types import ParsedItem

__all__ = ["load_markdown", "split_front_matter"]

logger = logging.getLogger(__name__)

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+\s*)?$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_KEY_VALUE = re.compile(r"^([A-Za-z_][\w -]*?)\s*:\s*(.*)$")
_LIST_ITEM = re.compile(r"^\s+-\s+(.*)$")
_LIST_KEYS = {"countries", "org_types", "keywords", "deadlines"}


def split_front_matter(text: str) -> tuple[dict[str, str | list[str]], str]:
    """Split a leading ``---`` block of ``key: value`` lines from the text.

    Values are strings; a key followed by indented ``- item`` lines gets a list. Returns an
    empty mapping and the text unchanged when there is no such block.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    fields: dict[str, str | list[str]] = {}
    last_key: str | None = None
    for index, line in enumerate(lines[1:201], start=1):
        if line.strip() in ("---", "..."):
            return (fields, "\n".join(lines[index + 1 :])) if fields else ({}, text)
        item = _LIST_ITEM.match(line)
        pair = _KEY_VALUE.match(line)
        if item and last_key is not None:
            current = fields.get(last_key)
            values = current if isinstance(current, list) else []
            values.append(item.group(1).strip().strip("\"'"))
            fields[last_key] = values
        elif pair:
            last_key = pair.group(1).strip().lower().replace(" ", "_").replace("-", "_")
            fields[last_key] = pair.group(2).strip().strip("\"'")
        elif line.strip() and not line.lstrip().startswith("#"):
            return {}, text  # not a front matter block
    return {}, text


def _sections(body: str) -> list[tuple[str | None, str]]:
    parts: list[tuple[str | None, str]] = []
    heading: str | None = None
    lines: list[str] = []
    in_fence = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            lines.append(line)
            continue
        atx = None if in_fence else _ATX.match(line)
        setext = None if in_fence else _SETEXT.match(line)
        if atx:
            parts.append((heading, "\n".join(lines)))
            heading, lines = atx.group(2).strip() or None, []
        elif setext and len(line.strip()) >= 3 and lines and lines[-1].strip():
            new_heading = lines.pop().strip()
            parts.append((heading, "\n".join(lines)))
            heading, lines = new_heading, []
        else:
            lines.append(line)
    parts.append((heading, "\n".join(lines)))
    return [(plain(h) if h else None, plain(t)) for h, t in parts]


def _spaced_sections(body: str, *, blank_lines: int = 3) -> list[tuple[str | None, str]]:
    """Sections of plain text that marks its headings by space alone.

    Reports exported from word processors set a title apart with several blank lines before
    it; a short line after at least ``blank_lines`` blank lines is taken as a heading.
    """
    parts: list[tuple[str | None, str]] = []
    heading: str | None = None
    lines: list[str] = []
    blanks = 0
    for line in body.split("\n"):
        stripped = line.strip()
        if not stripped:
            blanks += 1
            lines.append(line)
            continue
        is_heading = blanks >= blank_lines and len(stripped) <= 140 and "\t" not in stripped
        if is_heading and not (heading is not None and not "".join(lines).strip()):
            parts.append((heading, "\n".join(lines)))
            heading, lines = stripped, []
        elif is_heading:
            lines.append(stripped)  # a sub-heading right under a heading stays in its text
        else:
            lines.append(line)
        blanks = 0
    parts.append((heading, "\n".join(lines)))
    return [(plain(h) if h else None, plain(t)) for h, t in parts if t.strip() or h]


def load_markdown(name: str, data: bytes, limits: Limits) -> list[ParsedItem]:
    """Read Markdown or plain text into one item.

    Front matter keys become metadata. When front matter holds a valid ``kind`` and an
    ``id``, the item also carries an opportunity built from the same keys as the generic
    schema (lists comma- or semicolon-separated). Title: front matter, else the first
    heading, else the file name.

    Raises:
        EmptyInput: There is no text.
    """
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    fields, body = split_front_matter(text)
    parts = _sections(body)
    if all(heading is None for heading, _ in parts):
        parts = _spaced_sections(body)
    sections = make_sections(parts)
    first_heading = next((h for h, _ in parts if h), None)
    first_line = next((ln.strip() for ln in body.split("\n") if ln.strip()), "")
    # A short first line that is not a sentence reads as the title of a plain text.
    is_title = len(first_line) <= 120 and not first_line.endswith((".", "!", "?", ";", ":", ","))
    short_first_line = first_line if is_title else None
    title = _scalar(fields.get("title")) or first_heading or short_first_line or display_name(name)
    title = clean_text(title).replace("\n", " ")
    url = _scalar(fields.get("url"))
    metadata = {
        key: "; ".join(value) if isinstance(value, list) else value
        for key, value in fields.items()
        if value
    }
    if fields.get("id") and parse_kind(fields.get("kind")) is not None:
        record: dict[str, object] = {**fields, "title": title}
        for key in _LIST_KEYS & fields.keys():
            record[key] = list(split_list(fields[key], separators=";,"))
        try:
            opp = opportunity_from(record, where=f"{display_name(name)} front matter")
        except RecordError:
            opp = None
        if opp is not None:
            body_parts = [(s.heading, s.text) for s in sections]
            return [opportunity_item(opp, body_parts, metadata=metadata)]
    if not sections:
        raise EmptyInput("the document has no text")
    return [
        ParsedItem(
            external_id=_scalar(fields.get("id")) or "document",
            title=title,
            sections=sections,
            url=url,
            metadata=metadata,
        )
    ]


def _scalar(value: str | list[str] | None) -> str | None:
    if isinstance(value, list):
        return value[0] if value else None
    if not value:
        return None
    return value.strip() or None
