"""Ingestion: parse files, folders and URLs into documents and opportunities, then index them."""

from ingest.errors import IngestError
from ingest.loaders import Limits, parse_bytes, parse_file, supported_suffixes
from ingest.types import AUDIENCES, OPPORTUNITY_KINDS, Opportunity, ParsedItem, Section

__all__ = [
    "AUDIENCES",
    "OPPORTUNITY_KINDS",
    "IngestError",
    "Limits",
    "Opportunity",
    "ParsedItem",
    "Section",
    "parse_bytes",
    "parse_file",
    "supported_suffixes",
]
