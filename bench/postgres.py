"""The PostgreSQL path beside SQLite, in one run: answer quality and latency, matching, delivery.

    .venv/bin/python bench/postgres.py [--rounds 3] [--profiles 1000] [--messages 5000]

One store, two databases: the ../shared store (the quality bench's, built if missing) is
copied row for row from its SQLite file into a throwaway PostgreSQL cluster on 127.0.0.1
(tests/pg.py starts it), and both apps read the same Chroma folder, so the only difference
is the database. Quality is the quality bench's ranking measure (recall@1, recall@5, MRR over
the answerable labelled questions), each database ranking with its own lexical search.
Questions and profiles alternate between the two so drift in machine load hits both alike.
Needs PostgreSQL's server programs (Debian: postgresql).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, SettableClock, machine, percentile, shared_store
from bench.delivery import run_engine
from bench.match import _synthetic
from bench.quality import Hit, ranking_metrics
from bot.app import App, build_app
from bot.config import Settings
from knowledge.answer import AnswerOptions, dedupe
from knowledge.match import Matcher
from storage import create_engine, upgrade
from storage.documents import index_for_search
from storage.models import Base
from tests import pg

TODAY = date(2026, 11, 28)


async def copy_store(sqlite_url: str, pg_url: str) -> dict[str, int]:
    """Every model table's rows from SQLite into a freshly migrated PostgreSQL database."""
    source, target = create_engine(sqlite_url), create_engine(pg_url)
    await upgrade(target)
    copied: dict[str, int] = {}
    try:
        async with source.connect() as src, target.begin() as dst:
            for table in Base.metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                rows = [dict(r._mapping) for r in await src.execute(select(table))]
                for start in range(0, len(rows), 2000):
                    await dst.execute(insert(table), rows[start : start + 2000])
                copied[table.name] = len(rows)
                await _advance_sequence(dst, table)
            await index_for_search(dst)  # rows copied in bulk carry no search vector
    finally:
        await source.dispose()
        await target.dispose()
    return copied


async def _advance_sequence(connection: Any, table: Table) -> None:
    """Set an integer primary key's sequence past the copied ids (new rows must not clash)."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or keys[0].type.python_type is not int:
        return
    column = keys[0]
    highest = await connection.scalar(select(func.max(column)))
    if highest is not None:
        await connection.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, :c), :v)"),
            {"t": table.name, "c": column.name, "v": highest},
        )


async def quality(
    apps: dict[str, App], questions: list[dict[str, Any]], clock: SettableClock
) -> dict[str, Any]:
    """Retrieval quality per database, on the day each question is asked."""
    rankings: dict[str, list[tuple[list[Hit], dict[str, Any]]]] = {name: [] for name in apps}
    for q in questions:
        if not q["answerable"]:
            continue
        clock.day = date.fromisoformat(q.get("today", TODAY.isoformat()))
        for name, app in apps.items():
            found = await app.retriever.retrieve(q["question"], today=clock.day, limit=30)
            hits = [
                Hit(p.document_id, p.record_id, p.source, p.text)
                for p in dedupe(found.passages, 10)
            ]
            rankings[name].append((hits, q.get("expect", {})))
    clock.day = TODAY
    return {
        name: {k: round(v, 3) for k, v in ranking_metrics(r).items()} | {"n": len(r)}
        for name, r in rankings.items()
    }


async def latency(apps: dict[str, App], questions: list[str], rounds: int) -> dict[str, Any]:
    """Warm answer latency per database, questions alternating between them."""
    options = AnswerOptions(record=False)
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for app in apps.values():
        await app.answerer.answer(questions[0], options)
    for _ in range(rounds):
        for question in questions:
            for name, app in apps.items():
                started = time.perf_counter()
                await app.answerer.answer(question, options)
                samples[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {
            "p50_ms": round(statistics.median(s), 1),
            "p95_ms": round(percentile(s, 95), 1),
            "n": len(s),
        }
        for name, s in samples.items()
    }


async def matching(apps: dict[str, App], n_profiles: int) -> dict[str, Any]:
    """Corpus loads (cold and warm) and ``match_many`` over synthetic profiles, per database."""
    profiles = _synthetic(n_profiles)
    found: dict[str, Any] = {}
    for name, app in apps.items():
        matcher = Matcher(sessions=app.sessions, index=app.index)
        started = time.perf_counter()
        await matcher.match_many(profiles[:1], today=TODAY)
        cold = time.perf_counter() - started
        warm_runs = []
        for _ in range(3):
            started = time.perf_counter()
            await matcher.match_many(profiles[:1], today=TODAY)
            warm_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        results = await matcher.match_many(profiles, today=TODAY)
        found[name] = {
            "first_match_s": round(cold, 2),
            "one_profile_warm_s": round(statistics.median(warm_runs), 3),
            "profiles": n_profiles,
            "match_many_s": round(time.perf_counter() - started, 2),
            "matches": sum(len(r) for r in results),
        }
    return found


async def delivery(pg_url_for: Any, messages: int) -> dict[str, Any]:
    """The delivery engine's ceiling (limits lifted) with the outbox on each database."""
    found: dict[str, Any] = {}
    for name in ("sqlite", "postgresql"):
        saved = os.environ.pop("CLUSTERBOT_DATABASE_URL", None)
        if name == "postgresql":
            os.environ["CLUSTERBOT_DATABASE_URL"] = pg_url_for()
        try:
            found[name] = await run_engine(messages, limited=False)
        finally:
            os.environ.pop("CLUSTERBOT_DATABASE_URL", None)
            if saved is not None:
                os.environ["CLUSTERBOT_DATABASE_URL"] = saved
    return found


def _ratio(a: float, b: float) -> str:
    return f"{b / a:.2f}" if a else "n/a"


def report(results: dict[str, Any]) -> list[str]:
    lat, match, send = results["latency"], results["matching"], results["delivery"]
    lines = [f"PostgreSQL beside SQLite on {machine()}", ""]
    lines.append("| measure | SQLite | PostgreSQL | PG / SQLite |")
    lines.append("| --- | ---: | ---: | ---: |")
    good = results["quality"]
    for key in ("recall@1", "recall@5", "mrr"):
        a, b = good["sqlite"][key], good["postgresql"][key]
        label = f"{key}, {good['sqlite']['n']} answerable questions" if key == "recall@1" else key
        lines.append(f"| {label} | {a} | {b} | {_ratio(a, b)} |")
    for key, label in (("p50_ms", "answer p50 (ms)"), ("p95_ms", "answer p95 (ms)")):
        a, b = lat["sqlite"][key], lat["postgresql"][key]
        lines.append(f"| {label} | {a} | {b} | {_ratio(a, b)} |")
    for key, label in (
        ("first_match_s", "first match, corpus load cold (s)"),
        ("one_profile_warm_s", "one profile, warm (s)"),
        ("match_many_s", f"match_many, {match['sqlite']['profiles']} profiles (s)"),
    ):
        a, b = match["sqlite"][key], match["postgresql"][key]
        lines.append(f"| {label} | {a} | {b} | {_ratio(a, b)} |")
    a, b = send["sqlite"]["rate_per_s"], send["postgresql"]["rate_per_s"]
    lines.append(
        f"| delivery ceiling, {send['sqlite']['messages']} messages (msg/s) | {a} | {b} | "
        f"{_ratio(a, b)} |"
    )
    lines.append("")
    lines.append(
        "delivery: lost "
        + ", ".join(f"{k} {v['lost']}" for k, v in send.items())
        + "; duplicates "
        + ", ".join(f"{k} {v['duplicates']}" for k, v in send.items())
    )
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "store-shared")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    labelled = [
        json.loads(line)
        for line in (Path(__file__).parent / "questions.jsonl").read_text().splitlines()
        if line.strip()
    ]
    questions = [q["question"] for q in labelled]
    clock = SettableClock(TODAY)
    built = await shared_store(args.data_dir, clock)
    sqlite_url = built.settings.resolved_database_url
    await built.close()
    cluster = pg.start()
    try:
        database = cluster.create()
        started = time.perf_counter()
        copied = await copy_store(sqlite_url, cluster.url(database))
        print(
            f"copied {sum(copied.values())} rows into PostgreSQL in "
            f"{time.perf_counter() - started:.1f}s ({copied.get('chunks', 0)} chunks)"
        )
        apps = {
            "sqlite": await build_app(Settings(data_dir=args.data_dir), clock=clock),
            "postgresql": await build_app(
                Settings(data_dir=args.data_dir, database_url=cluster.url(database)),
                clock=clock,
            ),
        }
        try:
            results: dict[str, Any] = {
                "machine": machine(),
                "quality": await quality(apps, labelled, clock),
                "latency": await latency(apps, questions, args.rounds),
                "matching": await matching(apps, args.profiles),
            }
        finally:
            for app in apps.values():
                await app.close()
        results["delivery"] = await delivery(lambda: cluster.url(cluster.create()), args.messages)
    finally:
        pg.stop(cluster)
    lines = report(results)
    print("\n".join(lines))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "postgres.json").write_text(json.dumps(results, indent=2, default=str))
    (RESULTS / "postgres.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
