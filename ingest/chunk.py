"""Split a parsed item into passages small enough to embed and precise enough to cite."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.types import ParsedItem
from storage.documents import NewChunk

_SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]


def chunk_id(source_uri: str, external_id: str, ordinal: int, text: str) -> str:
    """A deterministic id: the same text at the same place always gets the same id."""
    digest = hashlib.sha256(
        f"{source_uri}\x00{external_id}\x00{ordinal}\x00{text}".encode()
    ).hexdigest()
    return digest[:32]


class Chunker:
    """Splits each section on paragraph, line and sentence boundaries, never across sections."""

    def __init__(self, *, chunk_chars: int = 900, overlap: int = 120) -> None:
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_chars,
            chunk_overlap=min(overlap, chunk_chars // 2),
            separators=_SEPARATORS,
            keep_separator="end",
            strip_whitespace=True,
        )

    def _pieces(self, item: ParsedItem) -> Iterator[tuple[str | None, str]]:
        for section in item.sections:
            body = section.text.strip()
            if not body:
                continue
            for piece in self._splitter.split_text(body):
                if piece.strip():
                    yield section.heading, piece.strip()

    def chunks(self, item: ParsedItem, *, source_uri: str) -> list[NewChunk]:
        """The item's chunks, numbered in reading order."""
        return [
            NewChunk(
                id=chunk_id(source_uri, item.external_id, ordinal, text),
                ordinal=ordinal,
                section=heading,
                text=text,
            )
            for ordinal, (heading, text) in enumerate(self._pieces(item))
        ]


def mark_shared(chunked: Sequence[list[NewChunk]], *, at_least: int = 3) -> list[list[NewChunk]]:
    """Mark chunks that at least ``at_least`` items of one source repeat word for word.

    Such boilerplate (the general conditions every EU topic carries) is embedded without the
    title, so all copies share one vector and it is computed once.
    """
    counts = Counter((c.section, c.text) for chunks in chunked for c in set(chunks))
    return [
        [replace(c, shared=True) if counts[(c.section, c.text)] >= at_least else c for c in chunks]
        for chunks in chunked
    ]


def embedding_text(title: str | None, section: str | None, text: str) -> str:
    """What is embedded for a chunk: its text with the document title and section as context.

    Shared boilerplate is embedded without the title (pass None), so that identical copies
    get identical vectors and are embedded once.
    """
    head = " — ".join(part for part in (title, section) if part)
    return f"{head}\n{text}" if head else text


__all__ = ["Chunker", "chunk_id", "embedding_text", "mark_shared"]
