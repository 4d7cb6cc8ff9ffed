"""Size limits, and reading files and gzip streams without ever exceeding them."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from ingest.errors import CorruptInput, EmptyInput, TooLarge, UnreadableInput

__all__ = ["DEFAULT_LIMITS", "Limits", "gunzip", "read_file"]

_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much one input may weigh, on disk and unpacked (gzip, DOCX members)."""

    max_file_bytes: int = 50 * _MB
    max_unpacked_bytes: int = 200 * _MB


DEFAULT_LIMITS = Limits()


def read_file(path: Path, limits: Limits) -> bytes:
    """Read a whole file, checking its size before reading it.

    Raises:
        UnreadableInput: The file is missing, a directory, or not readable.
        TooLarge: The file exceeds ``limits.max_file_bytes``.
        EmptyInput: The file is empty.
    """
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise TooLarge(_too_large("file", size, limits.max_file_bytes))
        with path.open("rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)
    except IsADirectoryError:
        raise UnreadableInput("cannot read: it is a directory") from None
    except OSError as exc:
        raise UnreadableInput(f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > limits.max_file_bytes:  # grew while we looked
        raise TooLarge(_too_large("file", len(data), limits.max_file_bytes))
    if not data:
        raise EmptyInput("the file is empty")
    return data


def gunzip(data: bytes, limits: Limits) -> bytes:
    """Decompress gzip data, reading at most ``limits.max_unpacked_bytes`` + 1 bytes.

    A gzip bomb stops at the limit: memory stays bounded by the limit, whatever the ratio.

    Raises:
        TooLarge: The content unpacks past the limit.
        CorruptInput: Not valid gzip data, or truncated.
        EmptyInput: The archive holds nothing.
    """
    limit = limits.max_unpacked_bytes
    try:
        with gzip.GzipFile(fileobj=BytesIO(data), mode="rb") as stream:
            out = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptInput(f"damaged gzip data ({_reason(exc)})") from None
    if len(out) > limit:
        raise TooLarge(f"gzip content unpacks to more than the limit of {_human(limit)}")
    if not out.strip():
        raise EmptyInput("the gzip archive is empty")
    return out


def _too_large(what: str, size: int, limit: int) -> str:
    return f"{what} too large: {_human(size)}, the limit is {_human(limit)}"


def _human(size: int) -> str:
    if size >= _MB:
        return f"{size / _MB:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
