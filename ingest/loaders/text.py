"""Text hygiene shared by all loaders: decoding, whitespace, stray markup, mojibake, glued text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from ingest.types import Section

__all__ = [
    "clean_text",
    "decode_text",
    "display_name",
    "make_sections",
    "plain",
    "repair_mojibake",
    "unglue",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TAG = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>", re.S
)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# A run of characters that may be UTF-8 bytes misread as cp1252 (or latin-1 for the holes).
_MOJIBAKE_RUN = re.compile(
    r"[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    r"\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022"
    r"\u2026\u2030\u2039\u203a\u20ac\u2122]{2,}"
)


def decode_text(data: bytes) -> str:
    """Decode bytes: UTF-16 by BOM, else UTF-8 (BOM allowed), else cp1252, else UTF-8 lossy."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def clean_text(text: str) -> str:
    """Normalise text: no control characters, one space between words, paragraphs kept.

    Line breaks are kept; runs of blank lines become one blank line; lines are stripped.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def plain(text: str) -> str:
    """Return clean text from a string that may hold stray tags or HTML entities."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    return clean_text(text)


def _cp1252_bytes(run: str) -> bytes:
    out = bytearray()
    for char in run:
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            out.append(ord(char))  # the five bytes cp1252 leaves undefined map to themselves
    return bytes(out)


def _repair_run(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return _cp1252_bytes(run).decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return run


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as cp1252 ("â€™" back to "’").

    Each run of suspicious characters is re-encoded as cp1252 and decoded as UTF-8; a run is
    replaced only when that round trip succeeds, so correct accented text is left alone.
    """
    if not text or text.isascii():
        return text
    return _MOJIBAKE_RUN.sub(_repair_run, text)


_LABELS = (
    "Expected Outcome",
    "Expected Outcomes",
    "Expected Impact",
    "Scope",
    "Objective",
    "Objectives",
    "Background",
    "Themes and priorities",
    "Description",
)
_LABEL_GLUE = re.compile(r"(?<=\S)\s*(?=(?:" + "|".join(_LABELS) + r"):)")
_SENTENCE_GLUE = re.compile(r"(?<=[a-z0-9\)\]%][.;:!?])(?=[A-Z][a-z])")
_NUMBERED_GLUE = re.compile(r"(?<=[a-z\)])(?=\d{1,2}\. [A-Z])|(?<=[A-Za-z]\.)(?=\d{1,2}\. [A-Z])")


def unglue(text: str) -> str:
    """Re-space text whose HTML was stripped without spacing.

    "research.Scope:Size of" becomes "research." and "Scope: Size of" on a new line: known
    labels start a new line; a space goes after sentence ends and colons followed by a
    capitalised word; a numbered heading glued to a word ("conditions1. Admissibility")
    starts a new line.
    """
    text = _LABEL_GLUE.sub("\n", text)
    text = _SENTENCE_GLUE.sub(" ", text)
    return _NUMBERED_GLUE.sub("\n", text)


def display_name(name: str) -> str:
    """Return the last path segment of a file name or URL (the host when the path is empty)."""
    parts = urlsplit(name)
    if parts.scheme in ("http", "https"):
        segment = PurePosixPath(unquote(parts.path)).name
        return segment or parts.netloc or name
    return PurePosixPath(name.replace("\\", "/")).name or name


def make_sections(parts: Iterable[tuple[str | None, str]]) -> tuple[Section, ...]:
    """Build sections from ``(heading, text)`` pairs, cleaning both and dropping empty texts."""
    sections = []
    for heading, text in parts:
        body = clean_text(text)
        if body:
            title = clean_text(heading).replace("\n", " ") if heading else None
            sections.append(Section(heading=title or None, text=body))
    return tuple(sections)
