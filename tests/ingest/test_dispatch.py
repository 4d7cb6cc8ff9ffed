from pathlib import Path

import pytest

from ingest.errors import (
    CorruptInput,
    EmptyInput,
    EncryptedInput,
    IngestError,
    TooLarge,
    UnsupportedFormat,
)
from ingest.loaders import Limits, parse_bytes, parse_file, supported_suffixes
from tests.ingest.builders import DATA, gzip_bytes, make_docx, make_pdf
from tests.ingest.checks import assert_clean

EXPECTED_COUNTS = {
    "calls.cascade.json": 2,
    "calls.cordis.jsonl": 2,
    "changelog_2026-08-11.json": 1,
    "events.ics": 3,
    "feed.atom": 1,
    "feed.rss": 2,
    "funding_call.md": 1,
    "guide.md": 1,
    "notes.txt": 1,
    "opportunities.csv": 2,
    "opportunities.json": 2,
    "opportunities.jsonl": 2,
    "page.html": 1,
    "semicolon.csv": 2,
    "topics.sedia.json": 4,
}


def test_supported_suffixes() -> None:
    assert supported_suffixes() == {
        ".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt", ".rss", ".atom", ".xml",
        ".ics", ".csv", ".json", ".jsonl", ".gz",
    }  # fmt: skip


def test_every_test_file_is_covered() -> None:
    assert sorted(p.name for p in DATA.iterdir()) == sorted(EXPECTED_COUNTS)


@pytest.mark.parametrize(("name", "count"), sorted(EXPECTED_COUNTS.items()))
def test_parse_file(name: str, count: int) -> None:
    items = parse_file(DATA / name)
    assert len(items) == count
    assert_clean(items)


def test_generated_binaries_are_clean() -> None:
    assert_clean(parse_bytes("r.pdf", make_pdf([["Some text"], ["More text"]])))
    assert_clean(parse_bytes("h.docx", make_docx()))


def test_gzipped_file(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl.gz"
    path.write_bytes(gzip_bytes((DATA / "opportunities.jsonl").read_bytes()))
    assert [i.external_id for i in parse_file(path)] == ["L-1", "L-2"]


def test_gzip_bomb() -> None:
    bomb = gzip_bytes(b"[" + b" " * (16 * 1024 * 1024) + b"]")
    with pytest.raises(TooLarge):
        parse_bytes("bomb.json.gz", bomb, limits=Limits(max_unpacked_bytes=1024 * 1024))


def test_gzip_in_gzip() -> None:
    with pytest.raises(UnsupportedFormat, match="gzip inside gzip"):
        parse_bytes("x.gz", gzip_bytes(gzip_bytes(b"hello")))


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 1000)
    with pytest.raises(TooLarge):
        parse_file(path, limits=Limits(max_file_bytes=100))
    with pytest.raises(TooLarge):
        parse_bytes("big.txt", b"word " * 1000, limits=Limits(max_file_bytes=100))


@pytest.mark.parametrize("content", [b"", b"  \n\t  "])
def test_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(content)
    with pytest.raises(EmptyInput):
        parse_file(path)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(UnsupportedFormat):
        parse_file(path)


def test_encrypted_and_corrupt_pdf() -> None:
    with pytest.raises(EncryptedInput):
        parse_bytes("s.pdf", make_pdf([["x"]], password="pw"))
    data = make_pdf([["x"], ["y"]])
    with pytest.raises(CorruptInput):
        parse_bytes("c.pdf", data[: len(data) // 3])


def test_url_with_content_type() -> None:
    html = b"<html><head><title>News</title></head><body><p>Hello</p><script>x()</script></body>"
    [item] = parse_bytes("https://example.org/news", html, content_type="text/html")
    assert (item.title, item.text) == ("News", "Hello")


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\x01binary", b"%PDF-1.4 junk", b"PK\x03\x04junk", b"\x1f\x8bjunk", b"[1, 2"],
)
def test_errors_are_one_line_ingest_errors(data: bytes) -> None:
    with pytest.raises(IngestError) as info:
        parse_bytes("input", data)
    message = str(info.value)
    assert message
    assert "\n" not in message
