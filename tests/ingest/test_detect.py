import pytest

from ingest.detect import detect_format, name_suffix
from ingest.errors import EncryptedInput, UnsupportedFormat


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("whatever.bin", b"%PDF-1.7\n", "pdf"),
        ("report", b"PK\x03\x04rest", "docx"),
        ("data.json.gz", b"\x1f\x8b\x08\x00", "gzip"),
        ("cal.txt", b"BEGIN:VCALENDAR\r\nVERSION:2.0", "ics"),
        ("feed", b'<?xml version="1.0"?><rss version="2.0">', "feed"),
        ("atom.xml", b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">', "feed"),
        ("page", b"<!DOCTYPE html><html><body>x</body></html>", "html"),
        ("records", b'\xef\xbb\xbf[{"id": 1}]', "json"),
        ("records", b'{"id": 1}', "json"),
        ("notes.md", b"[link](https://example.org) first", "markdown"),
        ("notes.txt", b"{not json}", "text"),
        ("list.csv", b"id,title\n", "csv"),
        ("page.HTM", b"hello", "html"),
        ("https://example.org/news", b"just words", "text"),
    ],
)
def test_detects_by_content_then_suffix(name: str, head: bytes, expected: str) -> None:
    assert detect_format(name, head) == expected


def test_content_type_helps_when_name_and_content_do_not() -> None:
    assert detect_format("https://example.org/x", b"a,b\n1,2", "text/csv; charset=utf-8") == "csv"


def test_url_with_a_script_suffix_is_text() -> None:
    assert detect_format("https://example.org/page.php?id=3", b"Some words") == "text"


def test_unknown_suffix_is_unsupported() -> None:
    with pytest.raises(UnsupportedFormat, match=r"'\.png'"):
        detect_format("image.png", b"\x89PNG\r\n")


def test_binary_without_suffix_is_unsupported() -> None:
    with pytest.raises(UnsupportedFormat):
        detect_format("blob", b"\x00\x01\x02\xff")


def test_encrypted_office_file() -> None:
    with pytest.raises(EncryptedInput):
        detect_format("secret.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8)


def test_name_suffix_of_url_ignores_query() -> None:
    assert name_suffix("https://example.org/a/feed.rss?x=1") == ".rss"
    assert name_suffix("C:\\data\\file.PDF") == ".pdf"
