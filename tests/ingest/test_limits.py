from pathlib import Path

import pytest

from ingest.errors import CorruptInput, EmptyInput, TooLarge, UnreadableInput
from ingest.loaders.limits import Limits, gunzip, read_file
from tests.ingest.builders import gzip_bytes


def test_read_file_checks_size_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(TooLarge, match="limit"):
        read_file(path, Limits(max_file_bytes=1024))


def test_read_file_errors(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInput):
        read_file(tmp_path / "missing.txt", Limits())
    with pytest.raises(UnreadableInput, match="directory"):
        read_file(tmp_path, Limits())
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(EmptyInput):
        read_file(tmp_path / "empty.txt", Limits())


def test_gunzip_round_trip() -> None:
    assert gunzip(gzip_bytes(b"hello"), Limits()) == b"hello"


def test_gzip_bomb_stops_at_the_limit() -> None:
    bomb = gzip_bytes(b"\0" * (8 * 1024 * 1024))  # 8 MB of zeros, ~8 KB compressed
    assert len(bomb) < 20_000
    with pytest.raises(TooLarge, match="unpacks"):
        gunzip(bomb, Limits(max_unpacked_bytes=64 * 1024))


def test_truncated_gzip_is_corrupt() -> None:
    data = gzip_bytes(b"some text " * 1000)
    with pytest.raises(CorruptInput, match="gzip"):
        gunzip(data[: len(data) // 2], Limits())
    with pytest.raises(CorruptInput):
        gunzip(b"\x1f\x8bnot really gzip", Limits())


def test_empty_gzip_is_empty() -> None:
    with pytest.raises(EmptyInput):
        gunzip(gzip_bytes(b""), Limits())
