"""Word documents (python-docx): headings become sections, tables become rows of text."""

from __future__ import annotations

import re
import zipfile
import zlib
from io import BytesIO

import docx
from docx.opc.exceptions import OpcError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.etree import LxmlError  # type: ignore[import-untyped]

from ingest.errors import CorruptInput, EmptyInput, EncryptedInput, TooLarge, UnsupportedFormat
from ingest.loaders.limits import Limits
from ingest.loaders.text import clean_text, display_name, make_sections
from ingest.types import ParsedItem

__all__ = ["load_docx"]

_MAX_MEMBERS = 10_000
_HEADING = re.compile(r"^heading\s*(\d)$", re.I)
_DOCX_ERRORS = (OpcError, LxmlError, KeyError, ValueError, AttributeError, TypeError, zlib.error)


def load_docx(name: str, data: bytes, limits: Limits) -> list[ParsedItem]:
    """Read a DOCX file into one item; each heading starts a section.

    The ZIP directory is checked first: the declared sizes of all members must stay under
    ``limits.max_unpacked_bytes`` (zipfile never inflates a member past its declared size,
    so this bounds memory), else nothing is unpacked.

    Raises:
        TooLarge: The document unpacks past the limit (a zip bomb).
        UnsupportedFormat: A ZIP archive that is not a Word document.
        CorruptInput: A damaged archive or document.
        EmptyInput: The document has no text.
    """
    _check_archive(data, limits)
    try:
        document = docx.Document(BytesIO(data))
        blocks = list(document.iter_inner_content())
        core_title = document.core_properties.title
    except _DOCX_ERRORS as exc:
        raise CorruptInput(f"damaged Word document ({type(exc).__name__})") from None
    title_style: str | None = None
    parts: list[tuple[str | None, str]] = []
    heading: str | None = None
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            lines.extend(_table_rows(block))
            continue
        text = clean_text(block.text).replace("\n", " ")
        if not text:
            continue
        style = _style_name(block)
        if style == "title" and title_style is None:
            title_style = text
            continue
        if _HEADING.match(style):
            parts.append((heading, "\n".join(lines)))
            heading, lines = text, []
        elif "list" in style:
            lines.append(f"- {text}")
        else:
            lines.append(text)
    parts.append((heading, "\n".join(lines)))
    sections = make_sections(parts)
    if not sections:
        raise EmptyInput("the Word document has no text")
    first_heading = next((s.heading for s in sections if s.heading), None)
    title = clean_text(core_title or "") or title_style or first_heading or display_name(name)
    return [ParsedItem(external_id="document", title=title, sections=sections)]


def _check_archive(data: bytes, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise CorruptInput("damaged ZIP archive (not a readable DOCX file)") from None
    if len(infos) > _MAX_MEMBERS:
        raise TooLarge(f"the archive has more than {_MAX_MEMBERS} members")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.max_unpacked_bytes:
        raise TooLarge(
            f"the document unpacks to {unpacked} bytes, "
            f"over the limit of {limits.max_unpacked_bytes}"
        )
    names = {info.filename for info in infos}
    if "EncryptedPackage" in names:
        raise EncryptedInput("the document is password-protected")
    if "word/document.xml" not in names:
        raise UnsupportedFormat("unsupported format: a ZIP archive that is not a Word document")


def _style_name(paragraph: Paragraph) -> str:
    try:
        style = paragraph.style
    except _DOCX_ERRORS:
        return ""
    return (style.name or "").strip().lower() if style is not None else ""


def _table_rows(table: Table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = clean_text(cell.text).replace("\n", " ")
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows
