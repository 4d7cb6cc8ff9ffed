"""The match score: semantic similarity and field overlap, on a documented 0-1 scale.

For every (profile, opportunity) pair, as numpy arrays over all pairs at once:

``semantic``
    cosine of the profile text's vector and the mean of the opportunity's own chunk vectors
    (other ways: :data:`SEMANTIC_MODES`, compared by bench/match.py), mapped linearly from
    [``SEM_FLOOR``, ``SEM_CEIL``] to [0, 1]: with the bundled MiniLM model nine calls in
    ten sit below 0.3 for a given profile, calls on the company's subject above 0.55.
``fields``
    for each field of the profile (therapeutic areas, technologies, sectors), how well its
    terms are found in the call: a term found in the title or keywords counts 1, in the
    call's own text 0.5 to 0.8 (by how often); several terms combine as independent
    evidence, ``1 - prod(1 - 0.85 * hit)``; fields are averaged with weights
    :data:`FIELD_WEIGHTS` over the fields the profile fills.
``adjustments``
    small, each with its reason: TRL inside the call's stated range (+0.05) or far below it
    (-0.15); a stated funding interest met by the type of action (+0.05) or not (-0.05); an
    SME profile and a call for SMEs (+0.03); feedback on similar calls (-0.15..+0.10).

The score is ``W_SEMANTIC * semantic + (1 - W_SEMANTIC) * fields + adjustments``, clipped
to [0, 1]; a profile without a description weighs its terms more (``W_TERMS_ONLY`` for the
semantic part), and one without terms that apply to the call uses the semantic part alone.
On the judged profiles of tests/data/profiles the scale reads: >= 0.6 a call written for
this kind of company (sent at once by default), 0.3-0.6 related and worth a digest, < 0.3
not for them (never sent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from knowledge.match.candidates import Candidate
from knowledge.match.terms import BROAD, ONE_PART, PARTS, TermPlan, plan
from knowledge.match.vocabulary import FUNDING_ALIASES, FUNDING_TYPES
from knowledge.profile import Profile

Matrix = npt.NDArray[np.float32]

SEM_FLOOR = 0.3
SEM_CEIL = 0.65
W_SEMANTIC = 0.5
W_TERMS_ONLY = 0.25
FIELD_WEIGHTS: dict[str, float] = {
    "therapeutic_areas": 0.4,
    "technologies": 0.4,
    "sectors": 0.2,
}
FIELD_LABELS: dict[str, str] = {
    "therapeutic_areas": "therapeutic area",
    "technologies": "technology",
    "sectors": "sector",
}
TERM_EVIDENCE = 0.85
TRL_FIT = 0.05
TRL_TOO_EARLY = -0.15
FUNDING_FIT = 0.05
FUNDING_SPECIFIC_FIT = 0.10
OPEN_TOPIC = 0.4
_GENERIC_INTERESTS = frozenset({"grant", "research grant", "collaborative research"})
FUNDING_MISS = -0.05
SME_FIT = 0.03
#: How an opportunity's chunk similarities become one (knowledge.match.semantic).
SEMANTIC_MODES = ("max", "mean", "head", "top2")


def semantic_scale(cosine: Matrix) -> Matrix:
    """Cosine similarity mapped onto [0, 1] (see the module docstring)."""
    scaled = (cosine - SEM_FLOOR) / (SEM_CEIL - SEM_FLOOR)
    return np.asarray(np.clip(scaled, 0.0, 1.0), dtype=np.float32)


@dataclass
class TermTable:
    """Every profile term in play and how strongly each candidate holds it."""

    plans: list[TermPlan]
    index: dict[str, int]
    hits: Matrix  # candidates x terms, in [0, 1]


def _key_column(cands: Sequence[Candidate], key: str, cache: dict[str, Matrix]) -> Matrix:
    if key not in cache:
        cache[key] = np.array([c.strength(key) for c in cands], dtype=np.float32)
    return cache[key]


def _best(cands: Sequence[Candidate], keys: Sequence[str], cache: dict[str, Matrix]) -> Matrix:
    if not keys:
        return np.zeros(len(cands), dtype=np.float32)
    return np.asarray(
        np.max(np.vstack([_key_column(cands, k, cache) for k in keys]), axis=0),
        dtype=np.float32,
    )


def _column(cands: Sequence[Candidate], term: TermPlan, cache: dict[str, Matrix]) -> Matrix:
    hits = _best(cands, term.exact, cache)
    if term.broad:
        hits = np.maximum(hits, BROAD * _best(cands, term.broad, cache))
    if term.parts:
        found = np.vstack([_best(cands, group, cache) for group in term.parts]).min(axis=0)
        hits = np.maximum(hits, (PARTS if len(term.parts) > 1 else ONE_PART) * found)
    return np.asarray(hits, dtype=np.float32)


def term_table(
    profiles: Sequence[Profile], cands: Sequence[Candidate], cache: dict[str, Matrix]
) -> TermTable:
    """Hit strengths of every term of these profiles in every candidate.

    ``cache`` holds phrase and term columns already computed for this same list of
    candidates (phrase keys start with a space, term keys with "=").
    """
    plans: list[TermPlan] = []
    index: dict[str, int] = {}
    for profile in profiles:
        for name in FIELD_WEIGHTS:
            for term in getattr(profile, name):
                p = plan(term)
                if p.exact and p.key not in index:
                    index[p.key] = len(plans)
                    plans.append(p)
    hits = np.zeros((len(cands), len(plans)), dtype=np.float32)
    for k, p in enumerate(plans):
        slot = "=" + p.key
        if slot not in cache:
            cache[slot] = _column(cands, p, cache)
        hits[:, k] = cache[slot]
    return TermTable(plans, index, hits)


def field_scores(
    profiles: Sequence[Profile], table: TermTable, cands: Sequence[Candidate] | None = None
) -> tuple[Matrix, Matrix]:
    """Weighted field overlap and where it applies (both profiles x candidates).

    It applies where the profile has terms in a field that concerns the call (therapeutic
    areas concern only calls that name some area).

    A call open to any subject scores at least :data:`OPEN_TOPIC` for a profile with terms.
    """
    n_prof, n_cand = len(profiles), table.hits.shape[0]
    evidence = np.log1p(-TERM_EVIDENCE * table.hits).T  # terms x candidates, <= 0
    total = np.zeros((n_prof, n_cand), dtype=np.float32)
    weight = np.zeros((n_prof, n_cand), dtype=np.float32)
    names_area = np.array(
        [c.names_area for c in cands] if cands is not None else [True] * n_cand, dtype=bool
    )
    for name, w in FIELD_WEIGHTS.items():
        chosen = np.zeros((n_prof, len(table.plans)), dtype=np.float32)
        for row, profile in enumerate(profiles):
            for term in getattr(profile, name):
                key = plan(term).key
                if key in table.index:
                    chosen[row, table.index[key]] = 1.0
        has = np.asarray(chosen.any(axis=1), dtype=bool)
        if not has.any():
            continue
        # A call about no disease in particular neither fits nor misses therapeutic areas.
        applies = names_area if name == "therapeutic_areas" else np.ones(n_cand, dtype=bool)
        mask = (has[:, None] & applies[None, :]).astype(np.float32)
        total += w * (1.0 - np.exp(chosen @ evidence)) * mask
        weight += w * mask
    applicable = weight > 0
    total = np.divide(total, weight, out=np.zeros_like(total), where=applicable)
    if cands is not None:
        open_topic = np.array([c.open_topic for c in cands], dtype=bool)
        terms = weight.max(axis=1, initial=0.0) > 0
        rows, cols = np.ix_(terms, open_topic)
        total[rows, cols] = np.maximum(total[rows, cols], OPEN_TOPIC)
        applicable[rows, cols] = True
    return total.astype(np.float32), applicable.astype(np.float32)


def _trl_adjustment(profiles: Sequence[Profile], cands: Sequence[Candidate]) -> Matrix:
    trl = np.array([p.readiness or 0 for p in profiles], dtype=np.float32)[:, None]
    low = np.array([c.doc.trl[0] if c.doc.trl else 0 for c in cands], dtype=np.float32)[None, :]
    high = np.array([c.doc.trl[1] if c.doc.trl else 0 for c in cands], dtype=np.float32)[None, :]
    known = (trl > 0) & (low > 0)
    inside = known & (trl >= low) & (trl <= high)
    early = known & (trl < low - 1)
    return (inside * TRL_FIT + early * TRL_TOO_EARLY).astype(np.float32)


def funding_wants(profile: Profile, *, specific: bool = False) -> frozenset[str]:
    """The opportunity labels a profile's funding interests point to (empty: no preference).

    With ``specific``, only interests narrower than "a grant" (equity, vouchers, prizes...).
    """
    return _wants(profile.funding_interest, specific)


@cache
def _wants(interests: tuple[str, ...], specific: bool) -> frozenset[str]:
    wanted: set[str] = set()
    for interest in interests:
        key = " ".join(interest.lower().split())
        key = FUNDING_ALIASES.get(key, key)
        if specific and key in _GENERIC_INTERESTS:
            continue
        wanted.update(label.lower() for label in FUNDING_TYPES.get(key, ()))
    return frozenset(wanted)


def funding_labels(cand: Candidate) -> frozenset[str]:
    """What kind of funding an opportunity is, in the labels of the vocabulary."""
    if cand.funding is None:
        opp = cand.opportunity
        labels = {(opp.type_of_action or "").lower(), (opp.programme or "").lower()}
        if "cascade" in cand.source.lower():
            labels.add("cascade")
        labels.update(w for w in ("fellowship", "mobility") if f" {w} " in cand.title_zone)
        cand.funding = frozenset(label for label in labels if label)
    return cand.funding


def _funding_adjustment(profiles: Sequence[Profile], cands: Sequence[Candidate]) -> Matrix:
    adjust = np.zeros((len(profiles), len(cands)), dtype=np.float32)
    labels = [funding_labels(c) for c in cands]
    known = np.array([bool(got) for got in labels])
    rows: dict[tuple[str, ...], Matrix] = {}
    for row, profile in enumerate(profiles):
        interests = profile.funding_interest
        if interests not in rows:
            wanted = funding_wants(profile)
            narrow = funding_wants(profile, specific=True)
            fits = np.array([bool(wanted & got) for got in labels])
            sharp = np.array([bool(narrow & got) for got in labels])
            rows[interests] = np.where(
                sharp,
                FUNDING_SPECIFIC_FIT,
                np.where(fits, FUNDING_FIT, np.where(known, FUNDING_MISS, 0.0)),
            ).astype(np.float32)
            if not wanted:
                rows[interests][:] = 0.0
        adjust[row] = rows[interests]
    return adjust


def _sme_adjustment(profiles: Sequence[Profile], cands: Sequence[Candidate]) -> Matrix:
    sme = np.array([p.org_type in ("sme", "start-up") for p in profiles], dtype=np.float32)
    for_smes = np.array(
        [
            bool(c.sme_only) or any("sme" in t.lower() for t in c.opportunity.org_types or ())
            for c in cands
        ],
        dtype=np.float32,
    )
    return (SME_FIT * sme[:, None] * for_smes[None, :]).astype(np.float32)


def combine(
    profiles: Sequence[Profile],
    cands: Sequence[Candidate],
    *,
    semantic: Matrix | None,
    has_vector: Sequence[bool],
    table: TermTable,
) -> tuple[Matrix, Matrix]:
    """Scores before feedback (profiles x candidates) and the field part, for reasons.

    ``semantic`` is the scaled similarity (or None when no vectors are available);
    ``has_vector`` says per profile whether its text could be embedded.
    """
    fields, applicable = field_scores(profiles, table, cands)
    if semantic is not None:
        # A call open to any subject is described in general words: no profile text is
        # close to it, none far from it.
        open_topic = np.array([c.open_topic for c in cands], dtype=bool)
        semantic = semantic.copy()
        semantic[:, open_topic] = OPEN_TOPIC
    if semantic is None:
        base = fields
    else:
        vec = np.asarray(has_vector, dtype=np.float32)[:, None]
        # A bare list of terms embeds poorly: without a description the terms weigh more.
        w = np.array(
            [W_SEMANTIC if p.description.strip() else W_TERMS_ONLY for p in profiles],
            dtype=np.float32,
        )[:, None]
        both = w * semantic + (1.0 - w) * fields
        base = np.where(
            applicable > 0, np.where(vec > 0, both, fields), np.where(vec > 0, semantic, 0)
        )
    adjust = (
        _trl_adjustment(profiles, cands)
        + _funding_adjustment(profiles, cands)
        + _sme_adjustment(profiles, cands)
    )
    return np.clip(base + adjust, 0.0, 1.0).astype(np.float32), fields


__all__ = [
    "FIELD_LABELS",
    "FIELD_WEIGHTS",
    "SEMANTIC_MODES",
    "SEM_CEIL",
    "SEM_FLOOR",
    "W_SEMANTIC",
    "TermTable",
    "combine",
    "field_scores",
    "funding_labels",
    "funding_wants",
    "semantic_scale",
    "term_table",
]
