"""A readable header for an opportunity, and the parsed item that carries one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from ingest.loaders.text import make_sections
from ingest.types import Opportunity, ParsedItem

__all__ = ["format_date", "format_eur", "header_text", "opportunity_item"]

_KIND_LABELS = {
    "funding_call": "Funding call",
    "event": "Event",
    "incubator_offer": "Incubator offer",
    "partnering": "Partnering opportunity",
    "other": "Opportunity",
}


def format_date(day: date) -> str:
    """Return ``16 April 2026 (2026-04-16)``: readable, and searchable in both forms."""
    return f"{day.day} {day:%B %Y} ({day.isoformat()})"


def format_eur(amount: int) -> str:
    """Return ``EUR 2,500,000``."""
    return f"EUR {amount:,}"


def _when(moment: datetime) -> str:
    if moment.hour == moment.minute == 0 and moment.utcoffset() in (None, timedelta(0)):
        return format_date(moment.date())
    return f"{format_date(moment.date())} {moment:%H:%M %Z}".strip()


def _deadlines(opp: Opportunity) -> str | None:
    if not opp.deadlines:
        return None
    if opp.two_stage and len(opp.deadlines) == 2:
        first, second = opp.deadlines
        return f"Deadlines: {format_date(first)} (stage 1), {format_date(second)} (stage 2)"
    label = "Deadline" if len(opp.deadlines) == 1 else "Deadlines"
    return f"{label}: " + ", ".join(format_date(d) for d in opp.deadlines)


def _budget(opp: Opportunity, note: str | None) -> str | None:
    parts = []
    if opp.budget_total_eur is not None:
        total = f"{format_eur(opp.budget_total_eur)} in total"
        parts.append(f"{total} ({note})" if note else total)
    low, high = opp.budget_min_eur, opp.budget_max_eur
    if low is not None and high is not None and low != high:
        parts.append(f"{format_eur(low)} to {format_eur(high)} per grant")
    elif high is not None or low is not None:
        parts.append(f"{format_eur(high if high is not None else low or 0)} per grant")
    return "Budget: " + "; ".join(parts) if parts else None


def header_text(opp: Opportunity, *, budget_note: str | None = None) -> str:
    """Return the opportunity's key facts, one per line, for reading and for retrieval."""
    lines: list[str | None] = [
        opp.title,
        f"{_KIND_LABELS[opp.kind]}: {opp.id}",
        f"Programme: {opp.programme}" if opp.programme else None,
        f"Type of action: {opp.type_of_action}" if opp.type_of_action else None,
        f"Status: {opp.status}" if opp.status else None,
        f"Opens: {format_date(opp.opening_date)}" if opp.opening_date else None,
        _deadlines(opp) if opp.kind != "event" else None,
        "Two-stage submission" if opp.two_stage else None,
        _budget(opp, budget_note),
        f"Starts: {_when(opp.starts_at)}" if opp.starts_at else None,
        f"Ends: {_when(opp.ends_at)}" if opp.ends_at else None,
        f"Location: {opp.location}" if opp.location else None,
        f"Eligible countries: {', '.join(opp.countries)}" if opp.countries else None,
        f"Eligible organisations: {', '.join(opp.org_types)}" if opp.org_types else None,
        "Only SMEs may apply" if opp.sme_only else None,
        f"Keywords: {', '.join(opp.keywords[:20])}" if opp.keywords else None,
        f"Link: {opp.url}" if opp.url else None,
    ]
    return "\n".join(line for line in lines if line)


def opportunity_item(
    opp: Opportunity,
    body: Iterable[tuple[str | None, str]] = (),
    *,
    metadata: dict[str, str] | None = None,
    budget_note: str | None = None,
) -> ParsedItem:
    """Build the parsed item of an opportunity: its header section, then ``body`` sections."""
    sections = make_sections([(None, header_text(opp, budget_note=budget_note)), *body])
    return ParsedItem(
        external_id=opp.id,
        title=opp.title,
        sections=sections,
        url=opp.url,
        opportunity=opp,
        metadata=dict(metadata or {}),
    )
