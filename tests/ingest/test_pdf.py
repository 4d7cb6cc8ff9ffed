import pytest

from ingest.errors import CorruptInput, EmptyInput, EncryptedInput
from ingest.loaders.limits import Limits
from ingest.loaders.pdf import load_pdf
from tests.ingest.builders import make_pdf


def _pages(count: int) -> list[list[str]]:
    return [
        ["Cluster Annual Report 2026", f"Body text number {n}.", f"Page {n} of {count}"]
        for n in range(1, count + 1)
    ]


def test_one_item_one_section_per_page() -> None:
    [item] = load_pdf("report.pdf", make_pdf(_pages(4), title="Annual report"), Limits())
    assert item.external_id == "document"
    assert item.title == "Annual report"
    assert [s.heading for s in item.sections] == ["p. 1", "p. 2", "p. 3", "p. 4"]
    assert item.metadata["pages"] == "4"


def test_running_headers_and_page_numbers_are_removed() -> None:
    [item] = load_pdf("report.pdf", make_pdf(_pages(4)), Limits())
    assert [s.text for s in item.sections] == [f"Body text number {n}." for n in range(1, 5)]
    # Without a metadata title, the running header names the document.
    assert item.title == "Cluster Annual Report 2026"


def test_title_falls_back_to_first_line_then_name() -> None:
    [item] = load_pdf("memo.pdf", make_pdf([["Short memo about labs", "text"]]), Limits())
    assert item.title == "Short memo about labs"
    [item] = load_pdf("memo.pdf", make_pdf([["12", "ab"]]), Limits())
    assert item.title == "memo.pdf"


def test_encrypted_pdf() -> None:
    data = make_pdf([["secret"]], password="s3cret")
    with pytest.raises(EncryptedInput, match="password"):
        load_pdf("secret.pdf", data, Limits())


def test_truncated_pdf_is_corrupt() -> None:
    data = make_pdf(_pages(3))
    with pytest.raises(CorruptInput, match="PDF"):
        load_pdf("broken.pdf", data[: len(data) // 3], Limits())


def test_garbage_after_magic_is_corrupt() -> None:
    with pytest.raises(CorruptInput):
        load_pdf("junk.pdf", b"%PDF-1.4\n" + b"\x00garbage" * 20, Limits())


def test_pdf_without_text_is_empty() -> None:
    with pytest.raises(EmptyInput, match="no extractable text"):
        load_pdf("scan.pdf", make_pdf([[], []]), Limits())
