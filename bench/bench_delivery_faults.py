"""Several delivery workers: the cost of shared limits, and the fault battery at full size.

    .venv/bin/python bench/bench_delivery_faults.py [--recipients 10000] [--skip-battery]
                                                   [--reservations 400] [--skip-reservations]
                                                   [--only crash|no-crash]

1. Shared limits, measured for the decision database vs Redis (docs/benchmarks.md, "Several
   delivery workers"): the latency of one ``reserve`` (a wave of 8 sends) on a throwaway
   PostgreSQL (fsync off, as the test server) and on SQLite, one caller and two callers at
   once; the in-process ``Lane`` for comparison. At Telegram's 30/s a worker reserves about
   4 waves a second.
2. The fault battery of tests/reliability/battery.py at full size: ``--recipients`` (10,000)
   through FakeTelegram injecting 5 % 429 (retry_after 1 s), 1 % 5xx, 0.5 % timeouts (an
   11 s stall against the 10 s send timeout) and 2 % blocked; two ``clusterbot deliver``
   processes at Telegram's 30 messages/s with shared limits; the first SIGKILLed at 35 %
   and restarted (lease 30 s); then the same without a crash. About 15 minutes per run at
   10,000 (the 429 pauses alone take 500 s).

Results go to bench/results/delivery_faults.txt and delivery_faults.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, machine, percentile
from bot.config import DeliverySettings
from bot.limits import Lane, Limits
from bot.shared_limits import DatabaseLimits, Want
from storage import create_engine, session_factory, upgrade
from tests import pg
from tests.fakes.telegram_api import FaultPlan
from tests.reliability.battery import Scale, run

WAVE = 8


async def reservation_latency(url: str, n: int, callers: int) -> dict[str, float]:
    """Milliseconds per reservation of a wave of 8 sends, ``callers`` reserving at once."""
    engine = create_engine(url)
    await upgrade(engine)
    limits = DatabaseLimits(sessions=session_factory(engine))
    times: list[float] = []

    async def caller(k: int) -> None:
        for i in range(n):
            wants = [Want(f"{k}-{i}-{j}", 1.04) for j in range(WAVE)]
            started = time.perf_counter()
            await limits.reserve(
                "telegram", wants, interval=1 / 30, earliest=time.time(), horizon=3600.0
            )
            times.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(caller(k) for k in range(callers)))
    wall = time.perf_counter() - started
    await engine.dispose()
    return {
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(percentile(times, 95), 3),
        "reservations_per_s": round(len(times) / wall, 1),
        "sends_per_s_ceiling": round(len(times) * WAVE / wall, 1),
    }


def lane_latency(n: int) -> dict[str, float]:
    """Microseconds per ``Lane.pop`` in one process (today's limits), for comparison.

    ``n`` stays under the lane's ``PRUNE_AT`` (chats remembered before idle ones go).
    """
    lane: Lane[int] = Lane(limits=Limits.telegram(DeliverySettings(telegram_per_second=1e9)))
    for i in range(n):
        lane.add(str(i), i, now=0.0)
    started = time.perf_counter()
    while lane.pop(0.0, until=1e9):
        pass
    return {"per_pop_us": round((time.perf_counter() - started) / n * 1e6, 2)}


async def battery(url: str, recipients: int, crash: bool) -> dict[str, Any]:
    scale = Scale(
        per_second=30.0,
        chat_interval_s=1.0,
        retry_after_s=1.0,
        send_timeout_s=10.0,
        lease_s=30.0,
        batch=200,
        pause_grace_s=0.5,
    )
    plan = FaultPlan(seed=6, retry_after=1.0, stall_s=11.0)
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        report = await run(
            recipients=recipients,
            scale=scale,
            plan_faults=plan,
            data_dir=Path(tmp),
            database_url=url,
            kill_after=0.35 if crash else None,
            within=recipients * 0.2 + 300,
        )
    print(("crash: " if crash else "no crash: ") + report.line(), flush=True)
    return {
        "config": "one worker SIGKILLed at 35 %, restarted" if crash else "two workers, no crash",
        "recipients": report.recipients,
        "blocked": report.blocked,
        "outbox": report.outbox,
        "lost": len(report.lost),
        "duplicates": report.duplicates,
        "in_flight_at_kill": len(report.in_flight),
        "most_in_any_second": report.most_in_a_second,
        "sends_in_retry_after": len(report.sends_in_pauses),
        "sends_in_grace": report.sends_in_grace,
        "latest_in_grace_s": round(report.latest_in_grace, 3),
        "chat_gap_breaks": report.chat_gap_breaks,
        "faults": dict(report.faults),
        "sent_by": dict(sorted(report.sent_by.items())),
        "exit_codes": report.exit_codes,
        "rate_per_s": round(report.rate_per_s, 2),
        "wall_s": round(report.wall_s, 1),
    }


async def main(args: argparse.Namespace) -> None:
    cluster = pg.start()
    results: dict[str, Any] = {"machine": machine()}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-limits-") as tmp:
            for name in () if args.skip_reservations else ("postgresql", "sqlite"):
                for callers in (1, 2):
                    url = (
                        cluster.url(cluster.create())
                        if name == "postgresql"
                        else f"sqlite+aiosqlite:///{tmp}/{name}{callers}.db"
                    )
                    found = await reservation_latency(url, args.reservations, callers)
                    results[f"reserve_{name}_{callers}"] = found
                    print(f"reserve, {name}, {callers} caller(s): {found}", flush=True)
        if not args.skip_reservations:
            results["lane"] = lane_latency(4000)
            print(f"in-process lane: {results['lane']}", flush=True)
        if not args.skip_battery:
            runs = {"crash": (True,), "no-crash": (False,)}.get(args.only, (True, False))
            results["battery"] = [
                await battery(cluster.url(cluster.create()), args.recipients, crash)
                for crash in runs
            ]
    finally:
        pg.stop(cluster)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "delivery_faults.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"{key}: {value}" for key, value in results.items()]
    (RESULTS / "delivery_faults.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--reservations", type=int, default=400)
    parser.add_argument("--skip-battery", action="store_true")
    parser.add_argument("--skip-reservations", action="store_true")
    parser.add_argument("--only", choices=("crash", "no-crash"), help="one battery run")
    # SIGTERM unwinds like Ctrl-C, so the throwaway PostgreSQL is stopped either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    asyncio.run(main(parser.parse_args()))
