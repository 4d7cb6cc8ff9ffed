"""The delivery fault battery (issue #6): a broadcast through FakeTelegram injecting 5 % 429,
1 % 5xx, 0.5 % timeouts and 2 % blocked users, drained by two ``clusterbot deliver``
processes on one PostgreSQL database with shared limits; one is SIGKILLed mid-way and
restarted. Everything is checked on the fake's own record of calls (tests/reliability/
battery.py says how messages in flight at the kill are counted).

Scaled down to stay fast: 400 recipients (250 without the crash) at 100 messages/s instead
of Telegram's 30, so the window check is "at most 100 sends in any second"; a 1 s send
timeout (stalls of 1.5 s); Telegram's ``retry_after`` of 1 s and per-chat interval of 1 s are
kept. Sends arriving in the first 0.5 s after a 429 are counted apart (``sends_in_grace``):
they were started, or came due, before the 429 answer had reached the workers, which on a
loaded machine (the suite runs beside others) took up to a quarter of a second; every later
one inside the ``retry_after`` fails the test. bench/bench_delivery_faults.py
runs the full 10,000 at 30/s.

PostgreSQL only (several processes on one database): skipped on the SQLite run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.telegram_api import FaultPlan
from tests.pg import Cluster
from tests.reliability.battery import Report, Scale, run

SCALE = Scale(
    per_second=100.0,
    chat_interval_s=1.0,
    retry_after_s=1.0,
    send_timeout_s=1.0,
    lease_s=8.0,
    batch=50,
    pause_grace_s=0.5,
)
PLAN = FaultPlan(
    seed=6,
    rate_limited=0.05,
    retry_after=SCALE.retry_after_s,
    server_error=0.01,
    timeout=0.005,
    blocked=0.02,
    stall_s=SCALE.send_timeout_s + 0.5,
)


def _check_common(report: Report) -> None:
    print(report.line())
    assert report.exit_codes == [0, 0]
    assert report.lost == []  # every recipient who did not block the bot got it
    sent = report.recipients - report.blocked
    assert report.outbox == {"sent": sent, "failed": report.blocked}  # exact
    assert set(report.accepted) == {c for c in report.accepted if report.accepted[c] >= 1}
    assert len(report.accepted) == sent
    assert report.most_in_a_second <= SCALE.per_second
    assert report.sends_in_pauses == []
    assert report.chat_gap_breaks == 0
    # The plan did inject every kind of fault.
    assert {"rate_limited", "server_error", "timeout", "blocked"} <= set(report.faults)


async def test_a_killed_worker_loses_nothing_and_resends_only_what_was_in_flight(
    pg_cluster: Cluster | None, db_url: str, tmp_path: Path
) -> None:
    if pg_cluster is None:
        pytest.skip("several worker processes need PostgreSQL (run with the PostgreSQL suite)")
    report = await run(
        recipients=400,
        scale=SCALE,
        plan_faults=PLAN,
        data_dir=tmp_path / "data",
        database_url=db_url,
        kill_after=0.35,
        within=150,
    )
    _check_common(report)
    assert report.duplicated <= report.in_flight
    assert report.duplicates <= len(report.in_flight)
    assert report.killed_at_sent < report.recipients - report.blocked  # the kill was mid-way


async def test_two_workers_without_a_crash_send_nothing_twice(
    pg_cluster: Cluster | None, db_url: str, tmp_path: Path
) -> None:
    if pg_cluster is None:
        pytest.skip("several worker processes need PostgreSQL (run with the PostgreSQL suite)")
    report = await run(
        recipients=250,
        scale=SCALE,
        plan_faults=PLAN,
        data_dir=tmp_path / "data",
        database_url=db_url,
        kill_after=None,
        within=150,
    )
    _check_common(report)
    assert report.duplicates == 0
    assert report.sent_by["w1"] > 0  # both workers took their share
    assert report.sent_by["w2"] > 0
