"""Reasons a person can check: each names one fact and cites the passage that shows it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from knowledge.match.candidates import PASSAGE_CHARS, Candidate, Sentence, clip
from knowledge.match.filters import Eligibility
from knowledge.match.scoring import FIELD_LABELS, funding_labels, funding_wants
from knowledge.match.terms import TermPlan, plan
from knowledge.match.types import Reason
from knowledge.profile import Profile

_DEADLINE = re.compile(r"^Deadlines?:", re.I)
_OPENS = re.compile(r"^Opens:", re.I)
_TYPE = re.compile(r"^Type of action:", re.I)
_COUNTRIES = re.compile(r"^Eligible countries:|Member States|associated countr", re.I)
_SMES = re.compile(r"\bSMEs?\b|start-?ups?", re.I)
_TRL = re.compile(r"\bTRL|technology readiness", re.I)


def _cite(text: str, sentence: Sentence | None) -> Reason:
    if sentence is None:
        return Reason(text)
    return Reason(text, sentence.passage, sentence.chunk_id)


@dataclass(frozen=True)
class Evidence:
    """What the score of one (profile, opportunity) pair rested on."""

    term_hits: dict[str, float]  # profile term key -> strength in the call
    cosine: float | None  # best-chunk similarity, when vectors were used
    best: int | None  # which of the call's topic chunks was closest
    eligibility: Eligibility
    feedback: tuple[str, ...] = ()


def _term_reason(label: str, term: TermPlan, cand: Candidate) -> Reason:
    """The term, and the passage where it (or what stands for it) was found."""
    for key in term.exact:
        if sentence := cand.sentence_with(key):
            return _cite(f"{label}: {term.label}", sentence)
    for key in (*term.broad, *(k for group in term.parts for k in group)):
        if sentence := cand.sentence_with(key):
            return _cite(f"{label}: {term.label} (as “{key.strip()}”)", sentence)
    return Reason(f"{label}: {term.label}")


def field_reasons(profile: Profile, cand: Candidate, hits: dict[str, float]) -> list[Reason]:
    """One reason per profile term found in the call, strongest first."""
    found: list[tuple[float, Reason]] = []
    seen: set[str] = set()
    for name, label in FIELD_LABELS.items():
        for term in getattr(profile, name):
            term_plan = plan(term)
            strength = hits.get(term_plan.key, 0.0)
            if strength <= 0 or term_plan.key in seen:
                continue
            seen.add(term_plan.key)
            found.append((strength, _term_reason(label, term_plan, cand)))
    found.sort(key=lambda pair: -pair[0])
    return [reason for _, reason in found]


def semantic_reason(cand: Candidate, cosine: float | None, best: int | None) -> Reason | None:
    """How close the call's closest passage is to the profile text."""
    if cosine is None or best is None or cosine < 0.3:
        return None
    return Reason(
        f"close to your profile (similarity {cosine:.2f})",
        clip(cand.doc.chunk_texts[best]),
        cand.doc.chunk_ids[best],
    )


def readiness_reason(profile: Profile, cand: Candidate) -> Reason | None:
    """The company's TRL against the range the call states."""
    trl = profile.readiness
    if trl is None or cand.doc.trl is None:
        return None
    low, high = cand.doc.trl
    wanted = f"TRL {low}" if low == high else f"TRL {low}-{high}"
    sentence = cand.sentence_matching(_TRL)
    if low <= trl <= high:
        return _cite(f"your TRL {trl} is within the call's {wanted}", sentence)
    if trl < low - 1:
        return _cite(f"your TRL {trl} is below the call's {wanted}", sentence)
    return None


def funding_reason(profile: Profile, cand: Candidate) -> Reason | None:
    """The type of action against the funding the company looks for."""
    wanted = funding_wants(profile)
    got = funding_labels(cand)
    if not wanted or not got:
        return None
    kind = cand.opportunity.type_of_action or cand.opportunity.programme or "this funding"
    line = cand.sentence_matching(_TYPE)
    if wanted & got:
        interests = ", ".join(profile.funding_interest)
        return _cite(f"type of action {kind} fits your interest in {interests}", line)
    return _cite(f"type of action {kind} is not among your funding interests", line)


def eligibility_reasons(cand: Candidate, eligibility: Eligibility) -> list[Reason]:
    """Who may apply, as the record states it."""
    reasons = []
    if eligibility.org:
        reasons.append(_cite(eligibility.org, cand.sentence_matching(_SMES)))
    if eligibility.country:
        reasons.append(_cite(eligibility.country, cand.sentence_matching(_COUNTRIES)))
    return reasons


def date_reasons(cand: Candidate, today: date) -> list[Reason]:
    """When it opens and the next deadline, with the days left."""
    reasons = []
    opp = cand.opportunity
    if cand.status == "forthcoming":
        opening = cand.opening_date
        opens = opening.isoformat() if opening else "soon (date not stated)"
        reasons.append(_cite(f"opens {opens}", cand.sentence_matching(_OPENS)))
    ahead = [d for d in cand.deadlines if d >= today]
    if ahead:
        days = (ahead[0] - today).days
        left = "closes today" if days == 0 else f"{days} day{'s' if days != 1 else ''} left"
        stage = " (stage 1)" if opp.two_stage and ahead[0] == cand.deadlines[0] else ""
        text = f"deadline {ahead[0].isoformat()}{stage}, {left}"
        reasons.append(_cite(text, cand.sentence_matching(_DEADLINE)))
    return reasons


def build_reasons(
    profile: Profile, cand: Candidate, evidence: Evidence, *, today: date
) -> tuple[Reason, ...]:
    """Every reason for one match, in the order a person reads them."""
    reasons: list[Reason] = field_reasons(profile, cand, evidence.term_hits)
    optional: Sequence[Reason | None] = (
        semantic_reason(cand, evidence.cosine, evidence.best),
        readiness_reason(profile, cand),
        funding_reason(profile, cand),
    )
    reasons.extend(r for r in optional if r is not None)
    reasons.extend(eligibility_reasons(cand, evidence.eligibility))
    reasons.extend(date_reasons(cand, today))
    reasons.extend(Reason(text) for text in evidence.feedback)
    return tuple(reasons)


__all__ = [
    "PASSAGE_CHARS",
    "Evidence",
    "build_reasons",
    "clip",
    "date_reasons",
    "eligibility_reasons",
    "field_reasons",
    "funding_reason",
    "readiness_reason",
    "semantic_reason",
]
