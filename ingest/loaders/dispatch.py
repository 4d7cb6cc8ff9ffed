"""Entry points: detect an input's format and hand it to the matching loader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ingest.detect import SUFFIX_FORMATS, Format, detect_format, name_suffix
from ingest.errors import EmptyInput, TooLarge, UnsupportedFormat
from ingest.loaders.feed import load_feed
from ingest.loaders.ical import load_ics
from ingest.loaders.jsondoc import load_json
from ingest.loaders.limits import DEFAULT_LIMITS, Limits, gunzip, read_file
from ingest.loaders.markdown import load_markdown
from ingest.loaders.pdf import load_pdf
from ingest.loaders.records import load_csv
from ingest.loaders.webpage import load_html
from ingest.loaders.word import load_docx
from ingest.types import ParsedItem

__all__ = ["parse_bytes", "parse_file", "supported_suffixes"]

Loader = Callable[[str, bytes, Limits], list[ParsedItem]]

_LOADERS: dict[Format, Loader] = {
    "pdf": load_pdf,
    "docx": load_docx,
    "ics": load_ics,
    "feed": load_feed,
    "json": load_json,
    "csv": load_csv,
    "html": load_html,
    "markdown": load_markdown,
    "text": load_markdown,
}
_HEAD = 8192


def supported_suffixes() -> frozenset[str]:
    """Return the file suffixes a folder walk should pick up (lower case, with the dot)."""
    return frozenset(SUFFIX_FORMATS)


def parse_file(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> list[ParsedItem]:
    """Parse a file into items.

    Args:
        path: The file.
        limits: Size limits; the file size is checked before reading.

    Returns:
        The items found, at least one.

    Raises:
        IngestError: One of its subclasses, with a one-line message, for any bad input.
    """
    data = read_file(path, limits)
    return _parse(path.name, data, limits, None)


def parse_bytes(
    name: str, data: bytes, *, limits: Limits = DEFAULT_LIMITS, content_type: str | None = None
) -> list[ParsedItem]:
    """Parse fetched content (a URL's body, an upload) into items.

    Args:
        name: The URL or file name; its suffix helps detection and it is the last-resort title.
        data: The content.
        limits: Size limits.
        content_type: The HTTP ``Content-Type``, if known.

    Returns:
        The items found, at least one.

    Raises:
        IngestError: One of its subclasses, with a one-line message, for any bad input.
    """
    if len(data) > limits.max_file_bytes:
        limit = limits.max_file_bytes
        raise TooLarge(f"content too large: {len(data)} bytes, the limit is {limit}")
    return _parse(name, data, limits, content_type)


def _parse(name: str, data: bytes, limits: Limits, content_type: str | None) -> list[ParsedItem]:
    if not data.strip():
        raise EmptyInput("the file is empty")
    fmt = detect_format(name, data[:_HEAD], content_type)
    if fmt == "gzip":
        data = gunzip(data, limits)
        inner = name[: -len(".gz")] if name_suffix(name) == ".gz" else name
        fmt = detect_format(inner, data[:_HEAD], None)
        if fmt == "gzip":
            raise UnsupportedFormat("unsupported format: gzip inside gzip")
        name = inner
    items = _LOADERS[fmt](name, data, limits)
    if not items:
        raise EmptyInput("nothing found to ingest")
    return items
