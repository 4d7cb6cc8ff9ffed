"""Tell an input's format from its first bytes, then from its name, then from a content type."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

from ingest.errors import EncryptedInput, UnsupportedFormat

__all__ = ["SUFFIX_FORMATS", "Format", "detect_format", "name_suffix"]

Format = Literal["pdf", "docx", "gzip", "ics", "feed", "json", "csv", "html", "markdown", "text"]

SUFFIX_FORMATS: dict[str, Format] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".gz": "gzip",
    ".ics": "ics",
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "feed",
    ".json": "json",
    ".jsonl": "json",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
}

_CONTENT_TYPES: dict[str, Format] = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/gzip": "gzip",
    "application/x-gzip": "gzip",
    "text/calendar": "ics",
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
    "application/json": "json",
    "application/x-ndjson": "json",
    "application/jsonl": "json",
    "text/csv": "csv",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/plain": "text",
}

# Suffixes whose files are free text: a leading "{" or "[" there is prose, not JSON.
_PROSE: frozenset[Format] = frozenset({"markdown", "text", "csv"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def name_suffix(name: str) -> str:
    """Return the lower-case suffix of a file name or of a URL's path (``""`` when none)."""
    parts = urlsplit(name)
    path = parts.path if parts.scheme in ("http", "https", "file") else name
    return PurePosixPath(path.replace("\\", "/")).suffix.lower()


def detect_format(name: str, head: bytes, content_type: str | None = None) -> Format:
    """Return the format of an input.

    Cheap content signatures win (``%PDF``, ``PK``, gzip magic, ``BEGIN:VCALENDAR``, a feed
    or HTML root element, a leading ``{`` or ``[``), then the name's suffix, then the
    content type. Text under a name without a known suffix is read as plain text when the
    name is a URL or has no suffix at all.

    Args:
        name: File name or URL; only its suffix is used.
        head: The first bytes of the input (a few kilobytes are enough).
        content_type: An HTTP ``Content-Type``, if the input came from a URL.

    Returns:
        The format name.

    Raises:
        UnsupportedFormat: The format is not one we read.
        EncryptedInput: A password-protected Office document.
    """
    suffix = name_suffix(name)
    by_suffix = SUFFIX_FORMATS.get(suffix)
    by_content = _sniff(head, by_suffix)
    if by_content is not None:
        return by_content
    if by_suffix is not None:
        return by_suffix
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _CONTENT_TYPES:
        return _CONTENT_TYPES[mime]
    if mime.endswith(("+xml", "/xml")) and _looks_like_text(head):
        return "feed"
    is_url = urlsplit(name).scheme in ("http", "https")
    if (not suffix or is_url) and _looks_like_text(head):
        return "text"  # a URL's ".php" or ".aspx" says nothing about the content
    what = f"'{suffix}' files" if suffix else "this content"
    raise UnsupportedFormat(f"unsupported format: cannot read {what}")


def _sniff(head: bytes, by_suffix: Format | None) -> Format | None:
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(_OLE_MAGIC):
        if by_suffix == "docx":
            raise EncryptedInput("the document is password-protected (encrypted Office file)")
        raise UnsupportedFormat("unsupported format: legacy Office (OLE) files are not read")
    text = head[:4096].decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    lower = text.lower()
    if lower.startswith("begin:vcalendar"):
        return "ics"
    if lower.startswith("<"):
        if "<rss" in lower or "<feed" in lower or "<rdf:rdf" in lower:
            return "feed"
        if lower.startswith(("<!doctype html", "<html")) or "<html" in lower[:1024]:
            return "html"
    if lower.startswith(("{", "[")) and by_suffix not in _PROSE:
        return "json"
    return None


def _looks_like_text(head: bytes) -> bool:
    sample = head[:4096]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(sample) - 3
    return True
