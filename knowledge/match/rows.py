"""Matching without the vector store: the structured rows alone, for /calls.

Same hard filters, field overlap and reasons as :class:`knowledge.match.Matcher`, on the
title and keywords of each opportunity (no chunk text, no semantic similarity), so scores
are lower and coarser. An empty profile gets every live opportunity, soonest deadline first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from knowledge.match.candidates import EMPTY_DOC, Candidate, build_candidate
from knowledge.match.filters import LIVE, eligibility, status_today
from knowledge.match.reasons import Evidence, build_reasons
from knowledge.match.scoring import FIELD_WEIGHTS, combine, term_table
from knowledge.match.terms import plan
from knowledge.match.types import Match
from knowledge.profile import Profile
from storage.models import Opportunity


def match(
    profile: Profile,
    rows: Iterable[tuple[Opportunity, str]],
    *,
    today: date,
    kinds: Sequence[str] = ("funding_call",),
    limit: int | None = 5,
    require_fit: bool = True,
) -> list[Match]:
    """Opportunities of these kinds, open or forthcoming on ``today``, that fit the profile.

    With ``require_fit`` and a non-empty profile, only opportunities holding at least one
    profile term are returned.
    """
    seen: set[str] = set()
    cands: list[Candidate] = []
    for opp, source in rows:
        key = opp.external_id.strip().upper()
        if opp.kind not in kinds or key in seen:
            continue
        status = status_today(opp, today)
        if status not in LIVE:
            continue
        seen.add(key)
        cands.append(build_candidate([(opp, source)], EMPTY_DOC, status=status))
    table = term_table([profile], cands, {})
    scores, fields = combine([profile], cands, semantic=None, has_vector=[False], table=table)
    found: list[Match] = []
    for i, cand in enumerate(cands):
        verdict = eligibility(cand.opportunity, country=profile.country, org_type=profile.org_type)
        if not verdict.ok:
            continue
        if require_fit and not profile.is_empty and fields[0, i] <= 0:
            continue
        hits = {
            plan(t).key: float(table.hits[i, table.index[plan(t).key]])
            for name in FIELD_WEIGHTS
            for t in getattr(profile, name)
            if plan(t).key in table.index
        }
        evidence = Evidence(term_hits=hits, cosine=None, best=None, eligibility=verdict)
        found.append(
            Match(
                opportunity=cand.opportunity,
                source=cand.source,
                score=round(float(scores[0, i]), 3),
                status_today=cand.status,
                deadlines=cand.deadlines,
                reasons=build_reasons(profile, cand, evidence, today=today),
                as_of=today,
            )
        )
    found.sort(key=lambda m: (-m.score, m.next_deadline or date.max, m.opportunity.title))
    return found if limit is None else found[:limit]


__all__ = ["match"]
