import io
import zipfile

import pytest

from ingest.errors import CorruptInput, EmptyInput, TooLarge, UnsupportedFormat
from ingest.loaders.limits import Limits
from ingest.loaders.word import load_docx
from tests.ingest.builders import make_docx


def test_headings_become_sections_and_tables_rows() -> None:
    [item] = load_docx("handbook.docx", make_docx(), Limits())
    assert item.external_id == "document"
    assert item.title == "Cluster handbook"
    assert [(s.heading, s.text) for s in item.sections] == [
        (None, "Opening words before any heading."),
        ("Membership", "Members get partnering support.\n- Access to labs"),
        ("Fees", "Size | Fee\nSME | EUR 500"),
    ]


def test_core_title_wins() -> None:
    [item] = load_docx("h.docx", make_docx(title="Official title"), Limits())
    assert item.title == "Official title"


def test_zip_bomb_is_refused_before_unpacking() -> None:
    data = make_docx()
    with pytest.raises(TooLarge, match="unpacks"):
        load_docx("bomb.docx", data, Limits(max_unpacked_bytes=10_000))


def test_zip_that_is_not_a_word_document() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UnsupportedFormat, match="not a Word document"):
        load_docx("sheet.docx", buffer.getvalue(), Limits())


def test_damaged_archive() -> None:
    with pytest.raises(CorruptInput):
        load_docx("bad.docx", b"PK\x03\x04" + b"\x00" * 50, Limits())


def test_damaged_document_xml() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_docx())) as source, zipfile.ZipFile(buffer, "w") as out:
        for info in source.infolist():
            payload = source.read(info)
            out.writestr(info, b"<w:document" if info.filename == "word/document.xml" else payload)
    with pytest.raises(CorruptInput, match="Word"):
        load_docx("bad.docx", buffer.getvalue(), Limits())


def test_document_without_text() -> None:
    import docx

    out = io.BytesIO()
    docx.Document().save(out)
    with pytest.raises(EmptyInput):
        load_docx("blank.docx", out.getvalue(), Limits())
