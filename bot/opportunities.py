"""The structured opportunities as the stable JSON records tools read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.messages import SourceRef
from knowledge.dates import status_on
from storage.engine import SessionFactory
from storage.models import Opportunity
from storage.opportunities import list_opportunities


async def opportunity_json(
    sessions: SessionFactory, *, today: date, kinds: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Every opportunity with its status on ``today`` (see DESIGN.md, Stable interfaces)."""
    async with sessions() as session:
        rows = await list_opportunities(session, kinds=kinds)
    records = []
    for opp, source in rows:
        deadlines = [date.fromisoformat(d) for d in opp.deadlines]
        per_project = None
        if opp.budget_min_eur is not None or opp.budget_max_eur is not None:
            per_project = {
                "min": opp.budget_min_eur
                if opp.budget_min_eur is not None
                else opp.budget_max_eur,
                "max": opp.budget_max_eur
                if opp.budget_max_eur is not None
                else opp.budget_min_eur,
            }
        records.append(
            {
                "id": opp.external_id,
                "kind": opp.kind,
                "title": opp.title,
                "programme": opp.programme,
                "type_of_action": opp.type_of_action,
                "status": opp.status,
                "status_today": status_on(
                    today,
                    opening_date=opp.opening_date,
                    deadlines=deadlines,
                    two_stage=opp.two_stage,
                    recorded=opp.status,
                ),
                "opening_date": opp.opening_date.isoformat() if opp.opening_date else None,
                "deadlines": [d.isoformat() for d in deadlines],
                "two_stage": opp.two_stage,
                "budget_total_eur": opp.budget_total_eur,
                "budget_per_project_eur": per_project,
                "countries": list(opp.countries),
                "org_types": list(opp.org_types),
                "url": opp.url,
                "source": source,
                "sme_only": opp.sme_only,
                "keywords": list(opp.keywords),
                "starts_at": opp.starts_at.isoformat() if opp.starts_at else None,
                "location": opp.location,
            }
        )
    return records


def opportunity_ref(
    n: int,
    opp: Opportunity,
    *,
    source: str,
    status_today: str | None,
    deadlines: Sequence[date],
) -> SourceRef:
    """An opportunity as a numbered source under a reply."""
    return SourceRef(
        n=n,
        title=opp.title,
        source=source,
        url=opp.url,
        record_id=opp.external_id,
        status_today=status_today,
        deadlines=tuple(d.isoformat() for d in deadlines),
    )


__all__ = ["opportunity_json", "opportunity_ref"]
