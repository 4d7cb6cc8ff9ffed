"""Errors raised when an input cannot be turned into parsed items.

Every error's ``str()`` is a one-line human message saying what was wrong; the caller
prefixes the file name or URL::

    IngestError                 any input that cannot be ingested
     ├── UnsupportedFormat      not a format we read (or a container without one inside)
     ├── EmptyInput             nothing to ingest: empty file, no text, no entries
     ├── TooLarge               the file, or what it unpacks to, exceeds a limit
     ├── EncryptedInput         password-protected
     ├── UnreadableInput        the file itself cannot be read (missing, a directory, ...)
     └── CorruptInput           damaged, truncated, or not what its format claims
          └── InvalidRecords    a records file in which not one record is usable
"""

from __future__ import annotations

__all__ = [
    "CorruptInput",
    "EmptyInput",
    "EncryptedInput",
    "IngestError",
    "InvalidRecords",
    "TooLarge",
    "UnreadableInput",
    "UnsupportedFormat",
]


class IngestError(Exception):
    """An input that cannot be ingested; the message is one line, safe to show to staff."""


class UnsupportedFormat(IngestError):
    """The input is not in a format we read."""


class EmptyInput(IngestError):
    """The input holds nothing to ingest."""


class TooLarge(IngestError):
    """The input, or what it unpacks to, exceeds a configured limit."""


class EncryptedInput(IngestError):
    """The input is password-protected."""


class UnreadableInput(IngestError):
    """The file itself cannot be read."""


class CorruptInput(IngestError):
    """The input is damaged or does not follow its format."""


class InvalidRecords(CorruptInput):
    """A records file (CSV, JSON) in which no record is usable."""
