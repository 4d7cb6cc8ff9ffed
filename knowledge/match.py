"""Match a company profile against opportunities: hard filters first, then a scored fit.

Hard filters remove what the company cannot apply to (closed, wrong country, wrong kind of
organisation, SME-only). What remains is scored by the profile terms found in the
opportunity's title, keywords and programme; each hit becomes a reason shown to the person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from knowledge.dates import status_on
from knowledge.profile import ORG_TYPES, Profile, admitted
from knowledge.text import content_terms, stem
from storage.models import Opportunity

# How much a hit in each profile field counts.
_WEIGHTS = (
    ("therapeutic_areas", "therapeutic area", 3.0),
    ("technologies", "technology", 3.0),
    ("sectors", "sector", 2.0),
)
_DESCRIPTION_WEIGHT = 0.5
_DESCRIPTION_CAP = 3.0
_LIVE = ("open", "forthcoming")
_NOT_SME = {"large", "research", "university", "hospital"}


@dataclass(frozen=True)
class Match:
    """An opportunity that fits a profile, with the reasons it fits."""

    opportunity: Opportunity
    source: str
    score: float
    status_today: str
    deadlines: tuple[date, ...]
    reasons: tuple[str, ...]

    @property
    def next_deadline(self) -> date | None:
        """The next deadline still ahead (or the last one)."""
        return self.deadlines[0] if self.deadlines else None


def _stems(text: str) -> set[str]:
    return {stem(t) for t in content_terms(text)}


def _bag(opp: Opportunity) -> set[str]:
    parts: Iterable[str] = (
        opp.title,
        " ".join(opp.keywords or ()),
        opp.programme or "",
        opp.type_of_action or "",
    )
    return _stems(" ".join(parts))


def _term_hits(terms: Sequence[str], bag: set[str]) -> list[tuple[str, float]]:
    hits = []
    for term in terms:
        wanted = _stems(term)
        if not wanted:
            continue
        found = len(wanted & bag) / len(wanted)
        if found >= 0.5:
            hits.append((term, found))
    return hits


def _eligible(profile: Profile, opp: Opportunity) -> tuple[bool, list[str]]:
    reasons = []
    if profile.country and opp.countries:
        codes = {c.strip().upper() for c in opp.countries}
        if profile.country.upper() not in codes:
            return False, []
        reasons.append(f"open to applicants in {profile.country.upper()}")
    verdict = admitted(profile.org_type, list(opp.org_types or ()))
    if verdict is False:
        return False, []
    if opp.sme_only and profile.org_type in _NOT_SME:
        return False, []
    if verdict and profile.org_type:
        label = ORG_TYPES.get(profile.org_type, profile.org_type)
        reasons.append(f"open to {label if label == 'SME' else label.lower()}s")
    elif opp.sme_only and profile.org_type in {"sme", "start-up"}:
        reasons.append("for SMEs only")
    return True, reasons


def match(
    profile: Profile,
    rows: Iterable[tuple[Opportunity, str]],
    *,
    today: date,
    kinds: Sequence[str] = ("funding_call",),
    limit: int | None = 5,
    require_fit: bool = True,
) -> list[Match]:
    """Opportunities of these kinds that are open or forthcoming and fit the profile.

    With ``require_fit`` and a non-empty profile, only opportunities with at least one
    profile term in them are returned; an empty profile gets everything live, soonest first.
    """
    found: list[Match] = []
    for opp, source in rows:
        if opp.kind not in kinds:
            continue
        deadlines = tuple(sorted(date.fromisoformat(d) for d in opp.deadlines))
        status = status_on(
            today,
            opening_date=opp.opening_date,
            deadlines=deadlines
            if not opp.two_stage
            else tuple(date.fromisoformat(d) for d in opp.deadlines),
            two_stage=opp.two_stage,
            recorded=opp.status,
        )
        if status not in _LIVE:
            continue
        ok, reasons = _eligible(profile, opp)
        if not ok:
            continue
        bag = _bag(opp)
        score = 0.0
        term_reasons = []
        for name, label, weight in _WEIGHTS:
            for term, found_share in _term_hits(getattr(profile, name), bag):
                score += weight * found_share
                term_reasons.append(f"{label}: {term}")
        if profile.description:
            desc_hits = _stems(profile.description) & bag
            score += min(_DESCRIPTION_CAP, _DESCRIPTION_WEIGHT * len(desc_hits))
        if require_fit and not profile.is_empty and score <= 0:
            continue
        upcoming = tuple(d for d in deadlines if d >= today) or deadlines[-1:]
        if status == "open":
            score += 0.25
        if upcoming:
            days = (upcoming[0] - today).days
            when = "today" if days == 0 else f"in {days} days"
            term_reasons.append(f"deadline {upcoming[0].isoformat()} ({when})")
        if status == "forthcoming":
            opens = opp.opening_date.isoformat() if opp.opening_date else "soon"
            term_reasons.append(f"opens {opens}")
        found.append(
            Match(opp, source, round(score, 3), status, upcoming, tuple(term_reasons + reasons))
        )
    found.sort(key=lambda m: (-m.score, m.next_deadline or date.max, m.opportunity.title))
    return found if limit is None else found[:limit]


__all__ = ["Match", "match"]
