"""Matching quality on the judged profiles and matching speed at planner scale.

    .venv/bin/python bench/match.py [--data-dir DIR] [--reingest] [--profiles N] [--opportunities N]

Quality: every profile of tests/data/profiles against the whole of ../shared (the shared
store, built when missing: ~6 minutes), on each profile's day. Recall@10 of the topics judged
relevant; false-alert rate on look-alikes (share that would be sent: score >= min_score and
in the top 10); closed calls returned (must be 0); and the same numbers for a baseline of
plain embedding similarity (profile text against each opportunity's chunk vectors, best
chunk, no filters), and for each way of turning chunk similarities into one.

Speed: N synthetic profiles (from the vocabulary) against M live opportunities (the real
ones, repeated to reach M), scored with numpy as the alert planner calls it (limit 10).
Profile texts are embedded first and timed apart: the matcher keeps their vectors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, SettableClock, machine, shared_store
from bot.config import AlertSettings
from knowledge.countries import COUNTRIES
from knowledge.dates import status_on
from knowledge.match import Match, Matcher
from knowledge.match.matcher import _Corpus
from knowledge.match.semantic import OpportunityVectors
from knowledge.match.vocabulary import CONCEPTS, FUNDING_TYPES
from knowledge.profile import Profile
from storage.models import Chunk, Opportunity

PROFILES = Path(__file__).resolve().parents[1] / "tests" / "data" / "profiles"
MODES = ("max", "top2", "mean", "head")


def _cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(PROFILES.glob("*.json")):
        data = json.loads(path.read_text())
        data["file"] = path.stem
        cases.append(data)
    return cases


def _quality(
    cases: list[dict[str, Any]], ranked: dict[str, list[tuple[str, float, str]]], min_score: float
) -> dict[str, float]:
    """ranked: profile -> [(external id, score, status on the day)], best first."""
    wanted = hits = looks = sent = closed = excluded = 0
    ranks: list[int] = []
    for case in cases:
        rows = ranked[case["file"]]
        top = [r[0] for r in rows[:10]]
        ids = [r[0] for r in rows]
        for topic in case["relevant"]:
            wanted += 1
            hits += topic in top
            ranks.append(ids.index(topic) + 1 if topic in ids else 999)
        alerted = {r[0] for r in rows[:10] if r[1] >= min_score}
        looks += len(case["lookalike"])
        sent += len(alerted & set(case["lookalike"]))
        closed += sum(1 for r in rows[:10] if r[2] == "closed")
        excluded += len(set(case.get("excluded", {})) & set(top))
    return {
        "recall@10": hits / wanted,
        "median_rank_relevant": float(np.median(ranks)),
        "false_alert_rate": sent / looks,
        "closed_in_top10": closed,
        "ineligible_in_top10": excluded,
        "relevant": wanted,
        "lookalikes": looks,
    }


def _status(opp: Opportunity, day: date) -> str:
    return status_on(
        day,
        opening_date=opp.opening_date,
        deadlines=[date.fromisoformat(d) for d in opp.deadlines],
        two_stage=opp.two_stage,
        recorded=opp.status,
    )


async def _baseline(app: Any, cases: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Plain embedding similarity: best chunk of every opportunity, no filters at all."""
    from sqlalchemy import select

    async with app.sessions() as session:
        opps = list(await session.scalars(select(Opportunity).order_by(Opportunity.id)))
        rows = await session.execute(select(Chunk.document_id, Chunk.vector_id))
        by_doc: dict[int, list[str]] = {}
        for doc_id, vector_id in rows:
            by_doc.setdefault(doc_id, []).append(vector_id)
    stored = app.index.vectors()
    vectors = OpportunityVectors.build(
        [by_doc.get(o.document_id, []) for o in opps], stored, app.index.embedder.dimension
    )
    texts = [Profile.from_json(c["profile"]).text for c in cases]
    queries = app.index.embedder.embed_array(texts, query=True)
    from knowledge.match.semantic import similarity

    sims = similarity(queries, vectors, mode="max")
    ranked = {}
    for row, case in enumerate(cases):
        day = date.fromisoformat(case["today"])
        order = np.argsort(-sims[row])
        ranked[case["file"]] = [
            (opps[i].external_id, float(sims[row, i]), _status(opps[i], day)) for i in order
        ]
    return ranked


def _ranked(matches: list[Match]) -> list[tuple[str, float, str]]:
    return [(m.opportunity.external_id, m.score, m.status_today) for m in matches]


async def quality(app: Any, min_score: float) -> dict[str, Any]:
    cases = _cases()
    out: dict[str, Any] = {"profiles": len(cases), "min_score": min_score, "modes": {}}
    for mode in MODES:
        matcher = Matcher(sessions=app.sessions, index=app.index, semantic=mode)
        ranked: dict[str, list[tuple[str, float, str]]] = {}
        for day in sorted({c["today"] for c in cases}):
            group = [c for c in cases if c["today"] == day]
            results = await matcher.match_many(
                [Profile.from_json(c["profile"]) for c in group],
                today=date.fromisoformat(day),
                limit=None,
            )
            ranked.update({c["file"]: _ranked(r) for c, r in zip(group, results, strict=True)})
        out["modes"][mode] = _quality(cases, ranked, min_score)
        if mode == "mean":  # the default
            relevant_scores = [
                next((s for i, s, _ in ranked[c["file"]] if i == t), 0.0)
                for c in cases
                for t in c["relevant"]
            ]
            out["relevant_scores"] = {
                "min": min(relevant_scores),
                "median": float(np.median(relevant_scores)),
                "instant_share": float(np.mean([s >= 0.6 for s in relevant_scores])),
            }
    base = await _baseline(app, cases)
    out["baseline"] = _quality(cases, base, min_score=-1.0)
    return out


def _synthetic(n: int, seed: int = 7) -> list[Profile]:
    rng = random.Random(seed)
    areas = [c for c in CONCEPTS if c.kind == "therapeutic area"]
    techs = [c for c in CONCEPTS if c.kind == "technology"]
    sectors = [c for c in CONCEPTS if c.kind == "sector"]
    countries = list(COUNTRIES)
    interests = list(FUNDING_TYPES)
    profiles = []
    for i in range(n):
        a = [rng.choice(rng.choice(areas).phrases) for _ in range(rng.randint(0, 3))]
        t = [rng.choice(rng.choice(techs).phrases) for _ in range(rng.randint(1, 3))]
        s = [rng.choice(sectors).name for _ in range(rng.randint(0, 2))]
        desc = f"Company {i} develops {' and '.join(t)}" + (f" for {', '.join(a)}." if a else ".")
        profiles.append(
            Profile(
                name=f"Company {i}",
                description=desc,
                therapeutic_areas=tuple(dict.fromkeys(a)),
                technologies=tuple(dict.fromkeys(t)),
                sectors=tuple(dict.fromkeys(s)),
                trl=rng.randint(1, 9),
                country=rng.choice(countries),
                org_type=rng.choice(["sme", "sme", "start-up", "research", "university", "large"]),
                funding_interest=(rng.choice(interests),),
            )
        )
    return profiles


async def speed(app: Any, n_profiles: int, n_opps: int) -> dict[str, Any]:
    today = date(2026, 3, 1)
    matcher = Matcher(sessions=app.sessions, index=app.index)
    started = time.perf_counter()
    corpus = await matcher._corpus(
        today=today, kinds=("funding_call",), audiences=("public",), only=None
    )
    cold = time.perf_counter() - started
    started = time.perf_counter()
    corpus = await matcher._corpus(
        today=today, kinds=("funding_call",), audiences=("public",), only=None
    )
    warm = time.perf_counter() - started
    live = len(corpus.candidates)
    cands = [replace(c, _found={}) for c in (corpus.candidates * (n_opps // live + 1))[:n_opps]]
    vectors = await matcher._opportunity_vectors([c.doc.vector_ids for c in cands])
    big = _Corpus(cands, vectors, {})
    profiles = _synthetic(n_profiles)
    started = time.perf_counter()
    vecs = await matcher.profile_vectors(profiles)
    embed = time.perf_counter() - started
    started = time.perf_counter()
    results = matcher._rank(
        profiles,
        vecs,
        big,
        today=today,
        limit=10,
        feedback=[None] * n_profiles,
        judged={},
        min_score=0.0,
    )
    rank = time.perf_counter() - started
    return {
        "profiles": n_profiles,
        "opportunities": len(cands),
        "live_real": live,
        "chunk_vectors": int(vectors.chunks.shape[0]),
        "load_cold_s": round(cold, 2),
        "load_warm_s": round(warm, 2),
        "embed_profiles_s": round(embed, 1),
        "match_s": round(rank, 2),
        "matches": sum(len(r) for r in results),
    }


def _report(q: dict[str, Any], s: dict[str, Any]) -> list[str]:
    lines = [f"matching on {machine()}", ""]
    lines.append(
        f"quality: {q['profiles']} judged profiles, min_score {q['min_score']}, "
        f"{q['modes']['max']['relevant']} relevant topics, {q['modes']['max']['lookalikes']} "
        "look-alikes"
    )
    lines.append(
        f"{'ranker':<26}{'recall@10':>10}{'med.rank':>9}{'false-alert':>12}{'closed':>8}"
        f"{'ineligible':>11}"
    )
    rows = [(f"matcher (semantic={m})", v) for m, v in q["modes"].items()]
    rows.append(("baseline (embedding only)", q["baseline"]))
    for name, v in rows:
        lines.append(
            f"{name:<26}{v['recall@10']:>10.2f}{v['median_rank_relevant']:>9.0f}"
            f"{v['false_alert_rate']:>12.2f}{v['closed_in_top10']:>8}{v['ineligible_in_top10']:>11}"
        )
    r = q["relevant_scores"]
    lines.append(
        f"relevant topics' scores: min {r['min']:.2f}, median {r['median']:.2f}, "
        f"{r['instant_share']:.0%} >= 0.6 (instant)"
    )
    lines.append("")
    lines.append(
        f"speed: {s['profiles']:,} profiles x {s['opportunities']:,} opportunities "
        f"({s['live_real']} live real ones repeated; {s['chunk_vectors']:,} chunk vectors)"
    )
    lines.append(
        f"  match (filters, scores, top 10, reasons): {s['match_s']:.2f} s; "
        f"loading the live opportunities: {s['load_cold_s']:.2f} s cold, "
        f"{s['load_warm_s']:.2f} s warm; embedding the profile texts once: "
        f"{s['embed_profiles_s']:.1f} s"
    )
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "store-shared")
    parser.add_argument("--reingest", action="store_true")
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--opportunities", type=int, default=1_000)
    args = parser.parse_args()
    app = await shared_store(
        args.data_dir, SettableClock(date(2026, 11, 28)), reingest=args.reingest
    )
    try:
        q = await quality(app, AlertSettings().min_score)
        s = await speed(app, args.profiles, args.opportunities)
    finally:
        await app.close()
    lines = _report(q, s)
    print("\n".join(lines))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "match.txt").write_text("\n".join(lines) + "\n")
    (RESULTS / "match.json").write_text(
        json.dumps({"machine": machine(), "quality": q, "speed": s}, indent=2) + "\n"
    )


if __name__ == "__main__":
    asyncio.run(main())
