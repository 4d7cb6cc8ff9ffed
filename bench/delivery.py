"""Delivery throughput: 10,000 messages to 10,000 Telegram chats under the real limit.

    .venv/bin/python bench/delivery.py [--messages 10000] [--ceiling-messages 10000]
                                       [--skip-baseline]

Three runs, each against a fresh FakeTelegram that this script serves on 127.0.0.1:

1. clusterbot at the real limit: ``clusterbot deliver`` as a child process (as an operator
   runs it) drains an outbox of ``--messages`` rows, one per chat, while the fake enforces
   Telegram's limits (30 messages in any second overall, 1/s per chat, 20/min per group) and
   answers 429 beyond them. Reported: achieved rate (first to last accepted message), 429s,
   lost rows (not sent) and duplicates (a chat that got two).
2. clusterbot's own ceiling: the same with the limits lifted (the fake does not limit, the
   worker's limits set very high), so the engine itself is what is measured.
3. The baseline a python-telegram-bot user would otherwise pick: ``AIORateLimiter()`` (its
   defaults: 30/s overall, 20/min per group, no retries) and ``bot.send_message`` for every
   chat at once with ``asyncio.gather``, in a child process. A message refused with 429 is
   lost unless the caller retries it; the script counts them.

Results go to bench/results/delivery.txt and delivery.json. The rate at the limit is bounded
by the limit: 10,000 messages take about six minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from bench.common import RESULTS, ROOT, machine
from bot.config import Settings
from bot.messages import Reply, reply_to_data
from storage import create_engine, session_factory, upgrade
from storage.models import Delivery, Identity, Person, Subscription, utcnow
from storage.outbox import counts
from tests.fakes.telegram_api import FakeTelegram

HERE = Path(__file__).resolve()
FIRST_CHAT = 100_000_000
TEXT = "New call matching your profile: Digital Health Pilot Grant (deadline 2027-02-15)."


def chats(n: int) -> list[str]:
    return [str(FIRST_CHAT + i) for i in range(n)]


async def plan(data_dir: Path, n: int) -> None:
    """An outbox of n rows, one per person and chat, all due now."""
    engine = create_engine(Settings(data_dir=data_dir).resolved_database_url)
    await upgrade(engine)
    now = utcnow()
    payload = reply_to_data(Reply(TEXT))
    try:
        async with session_factory(engine).begin() as session:
            ids = list(range(1, n + 1))
            await session.execute(
                insert(Person),
                [{"id": i, "display_name": f"member {i}", "created_at": now} for i in ids],
            )
            await session.execute(
                insert(Identity),
                [
                    {"person_id": i, "channel": "telegram", "external_id": c, "chat_id": c}
                    for i, c in zip(ids, chats(n), strict=True)
                ],
            )
            await session.execute(
                insert(Subscription), [{"person_id": i, "category": "alerts"} for i in ids]
            )
            await session.execute(
                insert(Delivery),
                [
                    {
                        "person_id": i,
                        "channel": "telegram",
                        "chat_id": c,
                        "kind": "alert",
                        "item_key": f"opp:{i}",
                        "category": "alerts",
                        "payload": payload,
                        "status": "pending",
                        "due_at": now,
                        "attempts": 0,
                    }
                    for i, c in zip(ids, chats(n), strict=True)
                ],
            )
    finally:
        await engine.dispose()


async def outbox_counts(data_dir: Path) -> dict[str, int]:
    engine = create_engine(Settings(data_dir=data_dir).resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            return await counts(session)
    finally:
        await engine.dispose()


def rate(times: list[float]) -> float:
    if len(times) < 2:
        return float("nan")
    ordered = sorted(times)
    return (len(ordered) - 1) / (ordered[-1] - ordered[0])


def most_in_a_second(times: list[float]) -> int:
    ordered, best, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def summary(name: str, fake: FakeTelegram, n: int, extra: dict[str, Any]) -> dict[str, Any]:
    per_chat = Counter(s.chat_id for s in fake.sent)
    times = [s.at for s in fake.sent]
    return {
        "config": name,
        "messages": n,
        "delivered": len(per_chat),
        "lost": n - len(set(per_chat) & set(chats(n))),
        "duplicates": sum(c - 1 for c in per_chat.values()),
        "rate_per_s": round(rate(times), 2),
        "max_in_any_second": most_in_a_second(times),
        "http_429": sum(1 for c in fake.calls() if c.status == 429),
        **extra,
    }


async def run_engine(n: int, *, limited: bool) -> dict[str, Any]:
    name = "clusterbot deliver" if limited else "clusterbot deliver, limits lifted"
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        data_dir = Path(tmp)
        await plan(data_dir, n)
        async with FakeTelegram() as fake:
            if limited:
                fake.enforce_limits(per_second=30, chat_interval_s=1.0, group_per_minute=20)
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "ANONYMIZED_TELEMETRY": "False",
                "CLUSTERBOT_DATA_DIR": str(data_dir),
                "CLUSTERBOT_TELEGRAM_TOKEN": fake.token,
                "CLUSTERBOT_TELEGRAM_API_URL": fake.base_url,
            }
            if not limited:
                env |= {
                    "CLUSTERBOT_DELIVERY__TELEGRAM_PER_SECOND": "1000000",
                    "CLUSTERBOT_DELIVERY__TELEGRAM_CHAT_INTERVAL_S": "0",
                    "CLUSTERBOT_DELIVERY__TELEGRAM_GROUP_PER_MINUTE": "1000000",
                    "CLUSTERBOT_DELIVERY__BATCH": "1000",
                }
            started = time.monotonic()
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from bot.cli import main; main()",
                "deliver",
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                await fake.wait_for_sent(n, within=n / 20 + 120)
                while True:  # until every outcome is recorded
                    found = await outbox_counts(data_dir)
                    if not found.get("pending") and not found.get("sending"):
                        break
                    await asyncio.sleep(0.5)
            finally:
                child.send_signal(signal.SIGTERM)
                _, err = await child.communicate()
            wall = time.monotonic() - started
            if child.returncode != 0:
                print(err.decode()[-3000:], file=sys.stderr)
            result = summary(name, fake, n, {"outbox": found, "wall_s_incl_start": round(wall, 1)})
            result["lost"] = max(result["lost"], n - found.get("sent", 0))
            return result


async def run_baseline(n: int) -> dict[str, Any]:
    async with FakeTelegram() as fake:
        fake.enforce_limits(per_second=30, chat_interval_s=1.0, group_per_minute=20)
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE),
            "--baseline-child",
            fake.base_url,
            fake.token,
            str(n),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await child.communicate()
        if child.returncode != 0:
            print(err.decode()[-3000:], file=sys.stderr)
        report = json.loads(out.decode().strip().splitlines()[-1])
        return summary("PTB AIORateLimiter() + gather", fake, n, {"errors": report["errors"]})


async def baseline_child(api_url: str, token: str, n: int) -> None:
    """What a python-telegram-bot user writes: the rate limiter, then send to everyone."""
    from telegram.error import TelegramError
    from telegram.ext import AIORateLimiter, ApplicationBuilder

    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(api_url)
        .rate_limiter(AIORateLimiter())
        .updater(None)
        .build()
    )
    await app.initialize()
    try:
        results = await asyncio.gather(
            *(app.bot.send_message(chat_id=int(c), text=TEXT) for c in chats(n)),
            return_exceptions=True,
        )
    finally:
        await app.shutdown()
    errors = Counter(type(r).__name__ for r in results if isinstance(r, TelegramError | Exception))
    print(json.dumps({"errors": dict(errors)}))


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'config':36} {'messages':>8} {'rate/s':>7} {'max/1s':>6} {'429s':>5} {'lost':>5} {'dupes':>5}"
    lines = [head]
    for r in rows:
        lines.append(
            f"{r['config']:36} {r['messages']:>8} {r['rate_per_s']:>7} {r['max_in_any_second']:>6} "
            f"{r['http_429']:>5} {r['lost']:>5} {r['duplicates']:>5}"
        )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    # The fake's arrival times must not carry this process's own GC pauses.
    gc.freeze()
    rows = []
    print(f"clusterbot deliver at Telegram's limit: {args.messages} messages ...", flush=True)
    rows.append(await run_engine(args.messages, limited=True))
    print(table(rows[-1:]), flush=True)
    print(f"clusterbot deliver, limits lifted: {args.ceiling_messages} messages ...", flush=True)
    rows.append(await run_engine(args.ceiling_messages, limited=False))
    print(table(rows[-1:]), flush=True)
    if not args.skip_baseline:
        try:
            import aiolimiter  # noqa: F401
        except ImportError:
            print(
                "aiolimiter is not installed: no baseline (pip install "
                "'python-telegram-bot[rate-limiter]')"
            )
        else:
            print(f"PTB AIORateLimiter baseline: {args.messages} messages ...", flush=True)
            rows.append(await run_baseline(args.messages))
            print(table(rows[-1:]), flush=True)
    header = (
        f"delivery throughput; {machine()}\n"
        "one message per chat, FakeTelegram on 127.0.0.1 enforcing 30/s overall, 1/s per chat, "
        "20/min per group (429 beyond), except for 'limits lifted'; rate from the first to the "
        "last message the fake accepted"
    )
    text = f"{header}\n{table(rows)}\n"
    for r in rows:
        if r.get("errors"):
            text += f"{r['config']}: errors raised to the caller: {r['errors']}\n"
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "delivery.txt").write_text(text)
    (RESULTS / "delivery.json").write_text(
        json.dumps({"machine": machine(), "runs": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--baseline-child":
        asyncio.run(baseline_child(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--ceiling-messages", type=int, default=10_000)
    parser.add_argument("--skip-baseline", action="store_true")
    asyncio.run(main(parser.parse_args()))
