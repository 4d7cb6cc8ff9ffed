"""Values that ingestion produces: parsed items and the structured opportunities inside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

OpportunityKind = Literal["funding_call", "event", "incubator_offer", "partnering", "other"]
Audience = Literal["public", "members", "staff"]

OPPORTUNITY_KINDS: tuple[str, ...] = (
    "funding_call",
    "event",
    "incubator_offer",
    "partnering",
    "other",
)
AUDIENCES: tuple[str, ...] = ("public", "members", "staff")


@dataclass(frozen=True)
class Opportunity:
    """A funding call, event, incubator offer or partnering offer, as the source states it.

    Dates are calendar dates; budgets are whole euros (None when the source does not say).
    ``status`` is the status *as recorded* in the source, which may be stale: the status on a
    given day is computed from the dates by :mod:`knowledge.dates`.
    """

    id: str
    kind: OpportunityKind
    title: str
    programme: str | None = None
    type_of_action: str | None = None
    status: str | None = None
    opening_date: date | None = None
    deadlines: tuple[date, ...] = ()
    two_stage: bool = False
    budget_total_eur: int | None = None
    budget_min_eur: int | None = None
    budget_max_eur: int | None = None
    countries: tuple[str, ...] = ()
    org_types: tuple[str, ...] = ()
    url: str | None = None
    sme_only: bool | None = None
    keywords: tuple[str, ...] = ()
    # Events only: when and where.
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: str | None = None


@dataclass(frozen=True)
class Section:
    """A titled part of a document's clean text (a page, a heading, a topic field)."""

    heading: str | None
    text: str


@dataclass(frozen=True)
class ParsedItem:
    """One document found in a file: clean text in sections, and an opportunity if it is one.

    ``external_id`` is stable across re-ingests of the same file (a topic identifier, an
    event UID, a feed entry id, or a fixed value such as ``"document"`` for single-document
    files), so that an unchanged item can be recognised and a changed one replaced.
    """

    external_id: str
    title: str
    sections: tuple[Section, ...]
    url: str | None = None
    opportunity: Opportunity | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The whole clean text, sections separated by blank lines."""
        parts = []
        for section in self.sections:
            parts.append(f"{section.heading}\n{section.text}" if section.heading else section.text)
        return "\n\n".join(parts)


__all__ = [
    "AUDIENCES",
    "OPPORTUNITY_KINDS",
    "Audience",
    "Opportunity",
    "OpportunityKind",
    "ParsedItem",
    "Section",
]
