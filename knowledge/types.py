"""Values that cross the knowledge layer: retrieved passages, citations and answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with what is needed to cite it.

    ``record_id`` is the opportunity identifier when the chunk comes from an opportunity
    record; ``status_today`` and ``deadlines`` describe that opportunity on the asking day.
    """

    chunk_id: str
    document_id: int
    text: str
    title: str
    source: str
    section: str | None = None
    url: str | None = None
    record_id: str | None = None
    kind: str | None = None
    audience: str = "public"
    status_today: str | None = None
    opening_date: date | None = None
    deadlines: tuple[date, ...] = ()
    two_stage: bool = False
    score: float = 0.0
    dense_score: float | None = None
    lexical_rank: int | None = None
    dense_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered source under an answer."""

    n: int
    passage: Passage
    text: str


@dataclass(frozen=True)
class Answer:
    """What the assistant says to a question, with the sources it used."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    confidence: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)
    # The id of the recorded question (feedback and hand-offs refer to it); None if unrecorded.
    question_id: int | None = None


__all__ = ["Answer", "Citation", "Passage"]
