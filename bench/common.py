"""Shared helpers of the benchmark scripts: paths, a settable clock, the shared store."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from bot.app import App, build_app
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
SHARED_TARGETS = [str(SHARED / "seed"), str(SHARED / "data")]


@dataclass
class SettableClock:
    """A clock the bench moves from question to question."""

    day: date

    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 12, tzinfo=UTC)

    def today(self) -> date:
        return self.day


async def shared_store(data_dir: Path, clock: SettableClock, *, reingest: bool = False) -> App:
    """An app over ../shared (seed and data), ingesting it when the store is empty."""
    app = await build_app(Settings(data_dir=data_dir), clock=clock)
    if reingest or await app.is_empty():
        started = time.perf_counter()
        summary = await app.ingester.ingest(SHARED_TARGETS, audience="public")
        print(f"ingested ../shared in {time.perf_counter() - started:.1f}s: {summary.line()}")
    return app


def machine() -> str:
    """One line about the machine the numbers come from."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]
