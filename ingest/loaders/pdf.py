"""PDF documents (pypdf): one item per file, one section per page headed "p. N"."""

from __future__ import annotations

import logging
import re
import struct
import zlib
from collections import Counter
from io import BytesIO

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from ingest.errors import CorruptInput, EmptyInput, EncryptedInput
from ingest.loaders.limits import Limits
from ingest.loaders.text import clean_text, display_name
from ingest.types import ParsedItem, Section

__all__ = ["load_pdf"]

logger = logging.getLogger(__name__)

# What pypdf may raise on damaged input besides its own errors; caught around pypdf calls only.
_PDF_ERRORS = (
    PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, AssertionError,
    RecursionError, OverflowError, ZeroDivisionError, zlib.error, struct.error,
)  # fmt: skip
_EDGE = 3  # lines at the top and bottom of a page that may be running headers or footers
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$", re.I)
_DIGITS = re.compile(r"\d+")
_PAGE_LABEL = re.compile(r"\bpage\b|\bp\.\s*\d|\d+\s*(?:/|of)\s*\d+|^\W*\d+\W*$")
_JUNK_TITLE = re.compile(r"^(?:untitled|microsoft word - .*|.*\.(?:docx?|pdf|indd|tex))$", re.I)
_LETTERS = re.compile(r"[^\W\d_]")


def load_pdf(name: str, data: bytes, limits: Limits) -> list[ParsedItem]:
    """Read a PDF into one item whose sections are its pages.

    Running headers and footers (lines repeated at the top or bottom of most pages, page
    numbers ignored) and bare page numbers are removed. The title is the metadata title,
    else the first meaningful line, else the file name.

    Raises:
        EncryptedInput: The PDF needs a password.
        CorruptInput: pypdf cannot read it.
        EmptyInput: No page has extractable text (a scan, for instance).
    """
    reader = _open(data)
    pages = _page_texts(reader)
    if not any(pages):
        raise EmptyInput("the PDF has no extractable text (scanned images?)")
    header = _running_header(pages)
    pages = _strip_running_lines(pages)
    sections = tuple(
        Section(heading=f"p. {number}", text=text)
        for number, text in enumerate(pages, start=1)
        if text
    )
    title = _metadata_title(reader) or header or _first_line(pages) or display_name(name)
    return [
        ParsedItem(
            external_id="document",
            title=title,
            sections=sections,
            metadata={"pages": str(len(pages))},
        )
    ]


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedInput("the PDF is password-protected")
        _ = len(reader.pages)
    except (FileNotDecryptedError, DependencyError):
        raise EncryptedInput("the PDF is encrypted and cannot be decrypted") from None
    except _PDF_ERRORS as exc:
        raise CorruptInput(f"damaged PDF ({_reason(exc)})") from None
    return reader


def _page_texts(reader: PdfReader) -> list[str]:
    texts: list[str] = []
    failures = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            raw = page.extract_text()
        except (FileNotDecryptedError, DependencyError):
            raise EncryptedInput("the PDF is encrypted and cannot be decrypted") from None
        except _PDF_ERRORS as exc:
            failures += 1
            logger.warning("PDF page %d unreadable: %s", number, _reason(exc))
            raw = ""
        texts.append(clean_text(raw))
    if failures and failures == len(texts):
        raise CorruptInput("damaged PDF: no page could be read")
    return texts


def _strip_running_lines(pages: list[str]) -> list[str]:
    split = [page.split("\n") for page in pages]
    counts: Counter[str] = Counter()
    for lines in split:
        edge = {_key(line) for line in lines[:_EDGE] + lines[-_EDGE:] if line}
        counts.update(edge)
    threshold = max(3, (len(pages) + 1) // 2)
    running = {key for key, count in counts.items() if count >= threshold}
    out = []
    for lines in split:
        out.append(clean_text("\n".join(_trim(lines, running))))
    return out


def _running_header(pages: list[str]) -> str | None:
    """Return the line most often found first on a page (often the document's title)."""
    firsts = Counter(page.split("\n", 1)[0] for page in pages if page)
    if not firsts:
        return None
    line, count = firsts.most_common(1)[0]
    if count < max(3, (len(pages) + 1) // 2) or len(_LETTERS.findall(line)) < 4:
        return None
    return line[:300]


def _trim(lines: list[str], running: set[str]) -> list[str]:
    def drop(line: str) -> bool:
        return not line or _key(line) in running or bool(_PAGE_NUMBER.match(line))

    start, end = 0, len(lines)
    while start < min(end, _EDGE + 2) and drop(lines[start]):
        start += 1
    while end > max(start, len(lines) - _EDGE - 2) and drop(lines[end - 1]):
        end -= 1
    return lines[start:end]


def _key(line: str) -> str:
    """Compare lines exactly, except page labels ("Page 3 of 9"), compared without numbers."""
    text = line.strip().lower()
    return _DIGITS.sub("#", text) if _PAGE_LABEL.search(text) else text


def _metadata_title(reader: PdfReader) -> str | None:
    try:
        meta = reader.metadata
        title = meta.title if meta is not None else None
    except _PDF_ERRORS:
        return None
    text = clean_text(str(title)).replace("\n", " ") if title else ""
    if len(_LETTERS.findall(text)) < 3 or _JUNK_TITLE.match(text):
        return None
    return text[:300]


def _first_line(pages: list[str]) -> str | None:
    for page in pages[:3]:
        for line in page.split("\n"):
            if len(_LETTERS.findall(line)) >= 4 and len(line) <= 200:
                return line
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
