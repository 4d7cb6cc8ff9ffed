"""Hard filters: what a company cannot apply to is never offered, whatever its score.

An opportunity passes when it is open or forthcoming on the day (never closed, never of
unknown status), and, where its record states them, when the company's country is among the
eligible ones, its kind of organisation is admitted, and an SME-only call meets an SME.
What a record does not state does not exclude anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from knowledge.countries import COUNTRIES, country_code
from knowledge.dates import status_on
from knowledge.profile import ORG_TYPES, admitted
from storage.models import Opportunity

LIVE = ("open", "forthcoming")


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


EU_MEMBER_STATES = _codes(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
)
# Countries associated to Horizon Europe (2026), as named in topic conditions.
ASSOCIATED_COUNTRIES = _codes("AL AM BA CA FO GE IS IL XK MD ME NZ MK NO RS CH TN TR UA GB KR")
_NAMED: dict[str, str] = {
    "albania": "AL",
    "armenia": "AM",
    "bosnia and herzegovina": "BA",
    "canada": "CA",
    "faroe islands": "FO",
    "georgia": "GE",
    "kosovo": "XK",
    "moldova": "MD",
    "montenegro": "ME",
    "new zealand": "NZ",
    "north macedonia": "MK",
    "tunisia": "TN",
    "korea": "KR",
    "türkiye": "TR",
}
_GROUPS: dict[str, frozenset[str]] = {
    "eu member states": EU_MEMBER_STATES,
    "member states": EU_MEMBER_STATES,
    "associated countries": ASSOCIATED_COUNTRIES,
}
_NOT_SME = frozenset({"large", "research", "university", "hospital"})


def deadlines_of(opp: Opportunity) -> tuple[date, ...]:
    """The deadlines in stage order, as recorded."""
    return tuple(date.fromisoformat(d) for d in opp.deadlines)


def status_today(opp: Opportunity, today: date) -> str:
    """Open, forthcoming, closed or unknown on ``today``, from the dates first."""
    return status_on(
        today,
        opening_date=opp.opening_date,
        deadlines=deadlines_of(opp),
        two_stage=opp.two_stage,
        recorded=opp.status,
    )


def eligible_codes(countries: list[str] | tuple[str, ...]) -> frozenset[str] | None:
    """The country codes a list of names, codes and groups admits (None: not stated)."""
    codes: set[str] = set()
    for entry in countries:
        key = entry.strip().lower()
        if not key:
            continue
        if key in _GROUPS:
            codes |= _GROUPS[key]
            continue
        code = country_code(entry) or _NAMED.get(key)
        codes.add(code or f"?{key}")  # unknown names still make the list a restriction
    return frozenset(codes) if codes else None


@dataclass(frozen=True)
class Eligibility:
    """Whether a company may apply, and what the record said that shows it."""

    ok: bool
    country: str | None = None  # "open to applicants in Germany"
    org: str | None = None  # "SMEs eligible", "for SMEs only"


def eligibility(
    opp: Opportunity, *, country: str | None, org_type: str | None, sme_only: bool | None = None
) -> Eligibility:
    """Check a company's country and kind against an opportunity's stated rules.

    Args:
        opp: The opportunity.
        country: The company's country code (None: unknown, never excluded for it).
        org_type: One of :data:`knowledge.profile.ORG_TYPES` (None: unknown).
        sme_only: Overrides ``opp.sme_only`` (duplicates of a topic merged by the caller).
    """
    country_note = None
    codes = eligible_codes(opp.countries or ())
    if codes is not None and country:
        if country.upper() not in codes:
            return Eligibility(False)
        country_note = f"open to applicants in {COUNTRIES.get(country.upper(), country.upper())}"
    only_smes = opp.sme_only if sme_only is None else sme_only
    verdict = admitted(org_type, list(opp.org_types or ()))
    if verdict is False:
        return Eligibility(False)
    if only_smes and org_type in _NOT_SME:
        return Eligibility(False)
    org_note = None
    if only_smes and org_type in ("sme", "start-up"):
        org_note = "for SMEs only"
    elif verdict and org_type:
        label = ORG_TYPES.get(org_type, org_type)
        org_note = "SMEs eligible" if org_type == "sme" else f"{label.lower()}s eligible"
    return Eligibility(True, country_note, org_note)


__all__ = [
    "ASSOCIATED_COUNTRIES",
    "EU_MEMBER_STATES",
    "LIVE",
    "Eligibility",
    "deadlines_of",
    "eligibility",
    "eligible_codes",
    "status_today",
]
