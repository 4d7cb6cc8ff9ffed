"""Partner scouting: match what an SME seeks against the asset portfolio and open opportunities.

A request names a technology (free words), and optionally a partner type and a region. Each
asset and each live opportunity gets a *relevance* from two signals: closeness in meaning
(the app's embedder, query against the candidate's name, technologies and description) and
the request's terms found in the candidate (exact phrases, their vocabulary relatives, or
their words). Fit then reorders: the asked partner type (the same one first, a related one
next, another one last but still shown, since the technology matters most) and the region
(a candidate known to be elsewhere is left out: geography is usually a hard constraint).
Opportunities are checked against the day: a closed one is never offered. Every candidate
carries a few short reasons a person can read.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from knowledge.countries import COUNTRIES, country_code
from knowledge.embeddings import TextEmbedder
from knowledge.match.filters import EU_MEMBER_STATES, LIVE, deadlines_of, status_today
from knowledge.match.terms import BROAD, PARTS, count, normalise, phrase_key, plan
from knowledge.profile import ORG_TYPES
from knowledge.text import STOPWORDS
from storage.engine import SessionFactory
from storage.models import Asset, Opportunity
from storage.opportunities import opening_passages
from storage.scouting import list_assets, scoutable_opportunities

#: Partner types a request or an asset can name (the profile's kinds, plus service firms).
PARTNER_TYPES: dict[str, str] = {
    **ORG_TYPES,
    "cro": "Contract research organisation",
    "cdmo": "Contract manufacturer (CDMO)",
    "investor": "Investor",
}
_TYPE_ALIASES: dict[str, str] = {
    "startup": "start-up",
    "start up": "start-up",
    "spin-off": "start-up",
    "spinoff": "start-up",
    "small company": "sme",
    "company": "sme",
    "industry": "large",
    "industrial": "large",
    "corporate": "large",
    "pharma": "large",
    "large company": "large",
    "research organisation": "research",
    "research organization": "research",
    "research institute": "research",
    "institute": "research",
    "academia": "research",
    "academic": "research",
    "university": "university",
    "hospital": "hospital",
    "clinic": "hospital",
    "clinical site": "hospital",
    "care provider": "hospital",
    "contract research": "cro",
    "cmo": "cdmo",
    "contract manufacturer": "cdmo",
    "manufacturer": "cdmo",
    "venture capital": "investor",
    "vc": "investor",
}
_RELATED = {
    frozenset({"sme", "start-up"}),
    frozenset({"research", "university"}),
    frozenset({"research", "hospital"}),
    frozenset({"university", "hospital"}),
    frozenset({"cro", "sme"}),
    frozenset({"cdmo", "sme"}),
}
_ANYWHERE = frozenset({"", "any", "anywhere", "everywhere", "worldwide", "global", "-", "none"})
_EUROPE = EU_MEMBER_STATES | frozenset({"NO", "IS", "LI", "CH", "GB"})
REGION_GROUPS: dict[str, frozenset[str]] = {
    "europe": _EUROPE,
    "eu": EU_MEMBER_STATES,
    "nordics": frozenset({"DK", "SE", "NO", "FI", "IS"}),
    "nordic countries": frozenset({"DK", "SE", "NO", "FI", "IS"}),
    "scandinavia": frozenset({"DK", "SE", "NO"}),
    "dach": frozenset({"DE", "AT", "CH"}),
    "benelux": frozenset({"BE", "NL", "LU"}),
    "baltics": frozenset({"EE", "LV", "LT"}),
}
#: Opportunity kinds a scouting request can turn up.
SCOUTED_KINDS: tuple[str, ...] = ("partnering", "incubator_offer", "other")
#: Below this relevance (0..1) a candidate is not worth a person's time.
MIN_RELEVANCE = 0.3
_CACHE_SIZE = 20_000
Vector = npt.NDArray[np.float32]


def partner_type_key(text: str) -> str:
    """A partner type as a short key: a known one ("University" -> ``university``) or a slug."""
    key = " ".join(text.strip().lower().replace("_", " ").split())
    if key in PARTNER_TYPES:
        return key
    for name, label in PARTNER_TYPES.items():
        if key == label.lower() or key.rstrip("s") == label.lower():
            return name
    if key in _TYPE_ALIASES or key.rstrip("s") in _TYPE_ALIASES:
        return _TYPE_ALIASES.get(key) or _TYPE_ALIASES[key.rstrip("s")]
    for alias, name in sorted(_TYPE_ALIASES.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{re.escape(alias)}\b", key):
            return name
    return re.sub(r"[^a-z0-9]+", "-", key).strip("-")[:32]


def partner_type_label(key: str | None) -> str:
    """How a partner type key reads in a message."""
    if not key:
        return "any partner"
    return PARTNER_TYPES.get(key, key.replace("-", " "))


@dataclass(frozen=True)
class Region:
    """Where partners are sought: country codes (None: no country named) and place names."""

    label: str
    codes: frozenset[str] | None
    places: tuple[str, ...] = ()


def parse_region(text: str | None) -> Region | None:
    """A region from words like "Nordics", "Germany, NL" or "Rhine-Neckar"; None: anywhere."""
    label = " ".join((text or "").split())
    if label.lower() in _ANYWHERE:
        return None
    codes: set[str] = set()
    places: list[str] = []
    for part in re.split(r"[,;/]|\band\b|\bor\b", label, flags=re.I):
        part = part.strip()
        if not part:
            continue
        group = REGION_GROUPS.get(part.lower())
        code = country_code(part)
        if group is not None:
            codes |= group
        elif code is not None:
            codes.add(code)
        else:
            places.append(part)
    return Region(label, frozenset(codes) if codes else None, tuple(places))


@dataclass(frozen=True)
class ScoutingQuery:
    """What an SME seeks."""

    technology: str
    partner_type: str | None = None
    region: str | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        """The technology split into the things asked for."""
        parts = re.split(r"[,;/+]|\band\b", self.technology, flags=re.I)
        found = tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))
        return found or (self.technology.strip(),)


@dataclass(frozen=True)
class Found:
    """A candidate for a request: an asset or an opportunity, with its score and reasons."""

    score: float
    reasons: tuple[str, ...]
    asset_id: int | None = None
    opportunity_id: int | None = None
    title: str = ""


@dataclass(frozen=True)
class _Item:
    asset: Asset | None
    opp: Opportunity | None
    title: str
    text: str  # what is embedded
    terms_text: str  # normalised text the request's terms are looked for in
    partner_type: str | None
    country: str | None
    place: str
    extra: tuple[str, ...]  # reasons that do not depend on the request (dates, TRL)
    key: str  # cache key of the embedded text


_VECTORS: OrderedDict[tuple[str, str], Vector] = OrderedDict()


async def _vectors(embedder: TextEmbedder, items: Sequence[_Item]) -> list[Vector]:
    """Document vectors of the items, cached by model and text (assets rarely change)."""
    missing = [i for i in items if (embedder.model_id, i.key) not in _VECTORS]
    if missing:
        rows = await embedder.aembed_array([i.text for i in missing])
        for item, row in zip(missing, rows, strict=True):
            _VECTORS[(embedder.model_id, item.key)] = row
        while len(_VECTORS) > _CACHE_SIZE:
            _VECTORS.popitem(last=False)
    return [_VECTORS[(embedder.model_id, i.key)] for i in items]


def _asset_item(asset: Asset) -> _Item:
    topics = ", ".join([*asset.technologies, *asset.sectors, *asset.therapeutic_areas])
    text = f"{asset.name}. {topics}. {asset.description}"[:2000]
    owner = asset.owner_name or ""
    return _Item(
        asset=asset,
        opp=None,
        title=f"{asset.name} ({owner})" if owner else asset.name,
        text=text,
        terms_text=normalise(text),
        partner_type=asset.partner_type,
        country=asset.country,
        place=f"{asset.region or ''} {owner}",
        extra=(f"TRL {asset.trl}",) if asset.trl else (),
        key=f"asset:{asset.content_hash}",
    )


def _opportunity_item(opp: Opportunity, passage: str, status: str, today: date) -> _Item:
    text = f"{opp.title}. {', '.join(opp.keywords)}. {passage}"[:2000]
    ahead = [d for d in deadlines_of(opp) if d >= today]
    if status == "forthcoming" and opp.opening_date:
        when = f"opens {opp.opening_date.isoformat()}"
    elif ahead:
        days = (ahead[0] - today).days
        when = f"open, {days} day{'s' if days != 1 else ''} left"
    else:
        when = "open, no deadline"
    return _Item(
        asset=None,
        opp=opp,
        title=opp.title,
        text=text,
        terms_text=normalise(text),
        partner_type=None,
        country=None,
        place=opp.location or "",
        extra=(when,),
        key="opp:" + hashlib.sha256(text.encode()).hexdigest(),
    )


def _term_hits(terms: Sequence[str], item: _Item) -> tuple[float, list[str]]:
    """How well the request's terms are found (0..1), and the ones found."""
    scores: list[float] = []
    found: list[str] = []
    for term in terms:
        p = plan(term)
        if any(count(item.terms_text, k) for k in p.exact):
            scores.append(1.0)
            found.append(p.label)
        elif any(count(item.terms_text, k) for k in p.broad):
            scores.append(BROAD)
            found.append(f"{p.label} (related)")
        else:
            words = [
                w
                for w in term.split()
                if len(normalise(w).strip()) > 2 and w.lower() not in STOPWORDS
            ]
            hit = [w for w in words if count(item.terms_text, phrase_key(w))]
            if words and len(hit) == len(words):
                scores.append(PARTS)
            else:
                scores.append(0.5 * len(hit) / len(words) if words else 0.0)
            found.extend(hit)
    return (sum(scores) / len(scores) if scores else 0.0), list(dict.fromkeys(found))


def _type_fit(asked: str | None, item: _Item) -> tuple[float, str | None]:
    """How well the candidate's kind of partner fits the one asked for, and why."""
    if not asked:
        return 0.5, None
    if not item.partner_type:
        return 0.25, None
    if item.partner_type == asked:
        return 1.0, f"{partner_type_label(asked)}, as asked"
    if frozenset({asked, item.partner_type}) in _RELATED:
        return 0.6, f"{partner_type_label(item.partner_type)} (close to what you asked)"
    return 0.0, f"{partner_type_label(item.partner_type)}, not {partner_type_label(asked).lower()}"


def _region_fit(region: Region | None, item: _Item) -> tuple[float | None, str | None]:
    """None when the candidate is known to be outside the region; else fit and reason."""
    if region is None:
        return 0.5, None
    place = item.place.lower()
    for name in region.places:
        if name.lower() in place:
            return 1.0, f"in {name}"
    if region.codes is not None and item.country:
        if item.country in region.codes:
            where = COUNTRIES.get(item.country, item.country)
            return 1.0, f"in {where}" + (f" ({region.label})" if len(region.codes) > 1 else "")
        return None, None
    return 0.25, None


async def scout(
    sessions: SessionFactory,
    *,
    query: ScoutingQuery,
    today: date,
    audiences: Sequence[str],
    embedder: TextEmbedder | None,
    kinds: Sequence[str] = SCOUTED_KINDS,
    limit: int = 30,
) -> list[Found]:
    """The best candidates for a request, best first (at most ``limit``).

    Args:
        sessions: The store (read only).
        query: What is sought.
        today: The day opportunities' statuses are computed for (closed ones are left out).
        audiences: Whose opportunities the requester may see.
        embedder: The app's embedder; without one, only the terms count.
        kinds: Opportunity kinds to consider.
        limit: How many to return.
    """
    async with sessions() as session:
        assets = await list_assets(session)
        opps = [
            (o, s)
            for o in await scoutable_opportunities(session, kinds=kinds, audiences=audiences)
            if (s := status_today(o, today)) in LIVE
        ]
        passages = await opening_passages(session, [o.document_id for o, _ in opps])
    items = [_asset_item(a) for a in assets] + [
        _opportunity_item(o, passages.get(o.document_id, ""), s, today) for o, s in opps
    ]
    if not items or not query.technology.strip():
        return []
    semantic: list[float] = [0.0] * len(items)
    if embedder is not None:
        asked = (await embedder.aembed_array([query.technology], query=True))[0]
        vectors = await _vectors(embedder, items)
        semantic = [float(np.clip((float(v @ asked) - 0.15) / 0.45, 0.0, 1.0)) for v in vectors]
    region = parse_region(query.region)
    asked_type = partner_type_key(query.partner_type) if query.partner_type else None
    found: list[Found] = []
    for item, close in zip(items, semantic, strict=True):
        term_score, hits = _term_hits(query.terms, item)
        relevance = 0.6 * close + 0.4 * term_score if embedder is not None else term_score
        type_fit, type_reason = _type_fit(asked_type, item)
        region_fit, region_reason = _region_fit(region, item)
        if relevance < MIN_RELEVANCE or region_fit is None:
            continue
        reasons = [f"about {', '.join(hits)}" if hits else "close in meaning to what you seek"]
        reasons += [r for r in (type_reason, region_reason) if r] + list(item.extra)
        found.append(
            Found(
                score=round(relevance * (0.7 + 0.2 * type_fit + 0.1 * region_fit), 4),
                reasons=tuple(reasons),
                asset_id=item.asset.id if item.asset else None,
                opportunity_id=item.opp.id if item.opp else None,
                title=item.title,
            )
        )
    found.sort(key=lambda f: (-f.score, f.title))
    return found[:limit]


def embedder_of(index: object) -> TextEmbedder | None:
    """The embedder of a vector index, when there is one."""
    embedder = getattr(index, "embedder", None)
    return embedder if isinstance(embedder, TextEmbedder) else None


__all__ = [
    "MIN_RELEVANCE",
    "PARTNER_TYPES",
    "REGION_GROUPS",
    "SCOUTED_KINDS",
    "Found",
    "Region",
    "ScoutingQuery",
    "embedder_of",
    "parse_region",
    "partner_type_key",
    "partner_type_label",
    "scout",
]
