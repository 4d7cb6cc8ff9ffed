"""Parsing layer of ingestion: files and fetched bytes to :class:`~ingest.types.ParsedItem`.

Pure functions: no database, no embeddings, no network. Every bad input raises a subclass
of :class:`~ingest.errors.IngestError` with a one-line message.
"""

from ingest.loaders.dispatch import parse_bytes, parse_file, supported_suffixes
from ingest.loaders.limits import DEFAULT_LIMITS, Limits

__all__ = ["DEFAULT_LIMITS", "Limits", "parse_bytes", "parse_file", "supported_suffixes"]
