"""Builders for binary test inputs (PDF, DOCX, gzip) made on the fly."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import docx
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(
    pages: list[list[str]], *, title: str | None = None, password: str | None = None
) -> bytes:
    """A PDF whose pages hold the given lines (Helvetica, latin-1 text)."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
        ops += [f"({_escape(line)}) Tj T*" for line in lines]
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        page.replace_contents(stream)  # type: ignore[arg-type]
    if title:
        writer.add_metadata({"/Title": title})
    if password:
        writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(*, title: str | None = None) -> bytes:
    """A Word document with a title, two headings, a list, and a table."""
    document = docx.Document()
    if title:
        document.core_properties.title = title
    document.add_paragraph("Cluster handbook", style="Title")
    document.add_paragraph("Opening words before any heading.")
    document.add_heading("Membership", level=1)
    document.add_paragraph("Members   get partnering support.")
    document.add_paragraph("Access to labs", style="List Bullet")
    document.add_heading("Fees", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Size"
    table.cell(0, 1).text = "Fee"
    table.cell(1, 0).text = "SME"
    table.cell(1, 1).text = "EUR 500"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
