"""An opportunity prepared for matching: its dates, the text that speaks for it, its vectors.

The text of a call is split in two zones: the *title zone* (title and keywords: what the call
is about) and the *topic zone* (its own description, expected outcome and scope). Boilerplate
repeated across many calls (chunks marked ``shared``: destination texts, general conditions)
and the conditions and support sections are left out of both, so a call does not "mention
cancer" because its destination's introduction does. The sentences are kept to cite.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from knowledge.match.filters import deadlines_of
from knowledge.match.terms import AREA_KEYS, count, normalise, vocabulary_counts
from knowledge.text import sentences
from storage.models import Opportunity

#: Sections that hold rules and help rather than what the call is about.
_NOT_TOPIC = ("conditions", "support information", "call")
_TRL = re.compile(
    r"\b(?:TRLs?|technology readiness levels?(?:\s*\(TRL\))?)\s*(?:of\s*|at\s*least\s*)?"
    r"([1-9])(?:\s*(?:-|–|to|and)\s*(?:TRL\s*)?([1-9]))?",
    re.I,
)


# Calls open to any subject: thematic terms cannot miss them (nor pick them out).
_OPEN = re.compile(
    r"\b(?:open to )?proposals in any field\b|\bany field of (?:science|technology)", re.I
)
KEYWORD_HIT = 0.7
_URL = re.compile(r"https?://\S+|www\.\S+")
_OPEN_TITLE = re.compile(r"\bEurostars\b|\bEIC Accelerator\b|\bInnowwide\b", re.I)


@dataclass(frozen=True)
class ChunkRow:
    """What matching reads of a chunk."""

    id: str
    document_id: int
    ordinal: int
    section: str | None
    text: str
    shared: bool
    vector_id: str


PASSAGE_CHARS = 300


def clip(text: str, limit: int = PASSAGE_CHARS) -> str:
    """A passage cut at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True)
class Sentence:
    """A sentence of an opportunity, normalised for lookup, with the chunk it comes from."""

    text: str
    norm: str
    chunk_id: str | None

    @cached_property
    def passage(self) -> str:
        """The sentence as cited (at most :data:`PASSAGE_CHARS`)."""
        return clip(self.text)


@dataclass(frozen=True)
class DocText:
    """What matching keeps of a document's chunks (cached: chunk ids change with the text)."""

    topic_zone: str
    sentences: tuple[Sentence, ...]
    trl: tuple[int, int] | None
    vector_ids: tuple[str, ...]
    chunk_ids: tuple[str, ...]
    chunk_texts: tuple[str, ...]
    open_topic: bool = False
    names_area: bool = False  # the call's own text names a therapeutic area
    topic_counts: dict[str, int] = field(default_factory=dict)  # vocabulary phrase counts


EMPTY_DOC = DocText("", (), None, (), (), ())


@dataclass
class Candidate:
    """One opportunity (all records of one topic merged) as matching sees it."""

    opportunity: Opportunity
    source: str
    ids: tuple[int, ...]
    status: str
    deadlines: tuple[date, ...]
    sme_only: bool | None
    opening_date: date | None
    title_zone: str
    keyword_zone: str
    doc: DocText
    funding: frozenset[str] | None = None  # set by scoring.funding_labels
    _found: dict[str, Sentence | None] = field(default_factory=dict, repr=False)
    _counts: tuple[dict[str, int], dict[str, int]] | None = field(default=None, repr=False)

    def _zone_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        if self._counts is None:
            self._counts = (
                vocabulary_counts(self.title_zone),
                vocabulary_counts(self.keyword_zone),
            )
        return self._counts

    @property
    def names_area(self) -> bool:
        """Whether the call is about some therapeutic area (any, named anywhere in it)."""
        if self.doc.names_area:
            return True
        zones = self.title_zone + self.keyword_zone
        return any(key in zones for key in AREA_KEYS)

    @property
    def open_topic(self) -> bool:
        """Whether the call is open to proposals on any subject (EIC Accelerator, Eurostars)."""
        return self.doc.open_topic or bool(_OPEN_TITLE.search(self.opportunity.title))

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        """The sentences to cite: header lines and the call's own text, in order."""
        return self.doc.sentences or self._fallback()

    def _fallback(self) -> tuple[Sentence, ...]:
        opp = self.opportunity
        lines = [opp.title] + ([f"Keywords: {', '.join(opp.keywords)}"] if opp.keywords else [])
        return tuple(Sentence(line, normalise(line), None) for line in lines)

    def strength(self, key: str) -> float:
        """How strongly the call is about a phrase (0 to 1).

        1 in the title, 0.7 in the keywords, in the call's own text 0.3 for one mention up
        to 0.8 for five or more.
        """
        title, keywords = self._zone_counts()
        if count(self.title_zone, key, title):
            return 1.0
        if count(self.keyword_zone, key, keywords):
            return KEYWORD_HIT
        found = count(self.doc.topic_zone, key, self.doc.topic_counts)
        return 0.0 if not found else min(0.8, 0.15 + 0.15 * found)

    def sentence_with(self, key: str) -> Sentence | None:
        """The first sentence holding a phrase (header lines first), to cite."""
        if key not in self._found:
            self._found[key] = next((s for s in self.sentences if key in s.norm), None)
        return self._found[key]

    def sentence_matching(self, pattern: re.Pattern[str]) -> Sentence | None:
        """The first sentence matching a pattern."""
        key = "\x00" + pattern.pattern
        if key not in self._found:
            self._found[key] = next((s for s in self.sentences if pattern.search(s.text)), None)
        return self._found[key]


def is_topic(*, section: str | None, shared: bool) -> bool:
    """Whether a chunk speaks for its call (not boilerplate, conditions or help)."""
    key = (section or "").strip().lower()
    return not shared and not any(key.startswith(s) for s in _NOT_TOPIC)


def _trl(text: str) -> tuple[int, int] | None:
    levels = [int(n) for m in _TRL.finditer(text) for n in m.groups() if n]
    if not levels or max(levels) - min(levels) > 4:
        return None  # no level stated, or the scale explained rather than a level required
    return min(levels), max(levels)


def _sentences(chunks: Sequence[ChunkRow]) -> list[Sentence]:
    found: list[Sentence] = []
    for chunk in chunks:
        text = chunk.text if chunk.ordinal == 0 else _URL.sub(" ", chunk.text)
        pieces = text.splitlines() if chunk.ordinal == 0 else sentences(text)
        found.extend(Sentence(p, normalise(p), chunk.id) for p in pieces if p.strip())
    return found


def doc_text(chunks: Sequence[ChunkRow]) -> DocText:
    """Zones, sentences, stated TRL and topic vectors of one document's chunks (in order)."""
    if not chunks:
        return EMPTY_DOC
    topic = [c for c in chunks if is_topic(section=c.section, shared=c.shared)]
    cited = _sentences([c for c in chunks if c.ordinal == 0 or not c.shared])
    topic_zone = "".join(normalise(_URL.sub(" ", c.text)) for c in topic if c.ordinal > 0)
    return DocText(
        topic_zone=topic_zone,
        sentences=tuple(cited),
        trl=_trl(" ".join(c.text for c in topic)),
        vector_ids=tuple(c.vector_id for c in topic),
        chunk_ids=tuple(c.id for c in topic),
        chunk_texts=tuple(c.text for c in topic),
        open_topic=any(_OPEN.search(c.text) for c in topic),
        names_area=any(k in zone for zone in (topic_zone,) for k in AREA_KEYS),
        topic_counts=vocabulary_counts(topic_zone),
    )


def build_candidate(
    group: Sequence[tuple[Opportunity, str]], doc: DocText, *, status: str
) -> Candidate:
    """Merge the records of one topic (the first is shown) with its document's text."""
    opp, source = group[0]
    keywords = dict.fromkeys(k for o, _ in group for k in (o.keywords or ()))
    sme_values = [o.sme_only for o, _ in group if o.sme_only is not None]
    return Candidate(
        opportunity=opp,
        source=source,
        ids=tuple(o.id for o, _ in group),
        status=status,
        deadlines=deadlines_of(opp),
        sme_only=any(sme_values) if sme_values else None,
        opening_date=next((o.opening_date for o, _ in group if o.opening_date), None),
        title_zone=normalise(opp.title),
        keyword_zone="".join(normalise(k) for k in keywords),
        doc=doc,
    )


__all__ = [
    "EMPTY_DOC",
    "KEYWORD_HIT",
    "PASSAGE_CHARS",
    "Candidate",
    "ChunkRow",
    "DocText",
    "Sentence",
    "build_candidate",
    "clip",
    "doc_text",
    "is_topic",
]
