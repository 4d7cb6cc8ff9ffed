"""End-to-end latency of ``clusterbot serve``, update in to reply out over loopback, and the
peak memory of the serve process.

    .venv/bin/python bench/serve.py [--users 50] [--rounds 4] [--store DIR]

The bot runs as it does in production: a ``clusterbot serve`` child process with Telegram
(long polling) and Slack (HTTP Events API) configured, pointed at the fake Bot API and Web API
servers that this script runs on 127.0.0.1. Each round, every one of ``--users`` people sends
one question at the same instant on a channel; latency is from the moment the update is
available to the bot (queued for getUpdates, or the signed event POSTed) until the fake
receives the bot's reply. The default answerer (extractive, no chat model) answers.

Side by side, in the same run, the baseline a user of python-telegram-bot would get without
configuring anything: updates handled one at a time (``concurrent_updates`` off, the PTB
default), against clusterbot's bounded concurrency (16). Without ``--store`` the bot starts on
a fresh data directory with the demo corpus; with ``--store`` (e.g. bench/results/store-shared,
built by bench/quality.py) it serves a copy of that store, with the bench's 105 questions.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, ROOT, machine, percentile
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack, sign
from tests.fakes.telegram_api import FakeTelegram

DEMO_QUESTIONS = [
    "Which voucher pays for a feasibility study?",
    "What does the Launchpad incubator offer start-ups?",
    "When is the Investor Day?",
    "How much does an S1 bench cost per month?",
    "Who can apply for the Digital Health Pilot Grant?",
    "Is the IP Audit Voucher still open?",
    "What does PartnerScout cost?",
    "When does the Green Lab Transition Voucher open?",
    "How does the EU Project Desk help with Horizon Europe proposals?",
    "What is the deadline of the Clinical Translation Voucher?",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Stamper:
    """Notes when each message the bot sends reaches a fake (1 ms resolution)."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.first_reply: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self.last: dict[str, float] = {}
        self._seen = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            sent = self.fake.sent
            now = time.perf_counter()
            for message in sent[self._seen :]:
                chat = str(message.chat_id)
                self.first_reply.setdefault(chat, now)
                self.count[chat] = self.count.get(chat, 0) + 1
                self.last[chat] = now
            self._seen = len(sent)
            await asyncio.sleep(0.001)

    def reset(self) -> None:
        self.first_reply.clear()

    async def wait(self, chats: list[str], within: float = 20.0) -> None:
        deadline = time.perf_counter() + within
        while not all(c in self.first_reply for c in chats):
            if time.perf_counter() > deadline:
                missing = [c for c in chats if c not in self.first_reply]
                got = sorted({str(m.chat_id) for m in self.fake.sent})[:10]
                raise TimeoutError(
                    f"no reply in {within}s for {len(missing)} chats, e.g. {missing[:3]}; "
                    f"replies went to {got}; calls {[c.method for c in self.fake.calls()][-8:]}"
                )
            await asyncio.sleep(0.005)

    async def wait_count(self, chat: str, count: int, within: float = 60.0) -> float:
        """Wait until ``chat`` has ``count`` messages; returns when the last one came."""
        deadline = time.perf_counter() + within
        while self.count.get(chat, 0) < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no reply in {within}s in chat {chat}")
            await asyncio.sleep(0.002)
        return self.last[chat]

    def stop(self) -> None:
        if self._task:
            self._task.cancel()


def _telegram_update(user: int, text: str, message_id: int) -> dict[str, Any]:
    person = {"id": user, "is_bot": False, "first_name": f"User{user}"}
    return {
        "message": {
            "message_id": message_id,
            "from": person,
            "chat": {"id": user, "type": "private", "first_name": person["first_name"]},
            "date": int(time.time()),
            "text": text,
        }
    }


def _slack_event(user: str, text: str, n: int) -> bytes:
    ts = f"{int(time.time())}.{n:06d}"
    event = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel": f"D{user}",
    }
    body = {
        "type": "event_callback",
        "team_id": "T0FAKE",
        "api_app_id": "A0FAKE",
        "event": event,
        "event_id": f"EvBench{n:08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0FAKE", "user_id": "U0BOT", "is_bot": True}],
    }
    return json.dumps(body).encode()


async def _telegram_round(
    fake: FakeTelegram, stamper: Stamper, users: int, questions: list[str], offset: int
) -> list[float]:
    stamper.reset()
    started: dict[str, float] = {}
    for i in range(users):
        user = 700000 + i
        update = _telegram_update(user, questions[(offset + i) % len(questions)], offset + i + 1)
        started[str(user)] = time.perf_counter()
        fake.enqueue_update(update)
    await stamper.wait(list(started))
    return [(stamper.first_reply[c] - t0) * 1000 for c, t0 in started.items()]


async def _slack_round(
    http: aiohttp.ClientSession,
    url: str,
    stamper: Stamper,
    users: int,
    questions: list[str],
    offset: int,
) -> list[float]:
    stamper.reset()
    started: dict[str, float] = {}

    async def post(i: int) -> None:
        user = f"UB{i:05d}"
        body = _slack_event(user, questions[(offset + i) % len(questions)], offset * 1000 + i)
        headers = {"Content-Type": "application/json", **sign(body, SIGNING_SECRET)}
        started[f"D{user}"] = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200, await resp.text()

    await asyncio.gather(*(post(i) for i in range(users)))
    await stamper.wait(list(started))
    return [(stamper.first_reply[c] - t0) * 1000 for c, t0 in started.items()]


async def _chatting(
    chat_of: Callable[[int], str],
    send: Callable[[int, str], Awaitable[None]],
    stamper: Stamper,
    users: int,
    seconds: float,
    questions: list[str],
) -> list[float]:
    """``users`` people chatting at once: ask, read the answer, think 2-8 s, ask again."""
    rng = random.Random(7)
    latencies: list[float] = []
    end = time.perf_counter() + seconds

    async def person(i: int) -> None:
        await asyncio.sleep(rng.uniform(0, 5))  # people do not start in step
        n = 0
        while time.perf_counter() < end:
            chat = chat_of(i)
            seen = stamper.count.get(chat, 0)
            started = time.perf_counter()
            await send(i, questions[(i * 7 + n) % len(questions)])
            done = await stamper.wait_count(chat, seen + 1)
            latencies.append((done - started) * 1000)
            n += 1
            await asyncio.sleep(rng.uniform(2, 8))

    await asyncio.gather(*(person(i) for i in range(users)))
    return latencies


async def _run_config(
    name: str,
    concurrency: int,
    data_dir: Path,
    questions: list[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    async with FakeTelegram() as telegram, FakeSlack() as slack:
        port = _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CLUSTERBOT_")},
            "ANONYMIZED_TELEMETRY": "False",
            "CLUSTERBOT_DATA_DIR": str(data_dir),
            "CLUSTERBOT_TELEGRAM_TOKEN": telegram.token,
            "CLUSTERBOT_TELEGRAM_API_URL": telegram.base_url,
            "CLUSTERBOT_TELEGRAM_CONCURRENT_UPDATES": str(concurrency),
            "CLUSTERBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
            "CLUSTERBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "CLUSTERBOT_SLACK_API_URL": slack.api_url,
            "CLUSTERBOT_SLACK_MODE": "http",
            "CLUSTERBOT_HTTP_PORT": str(port),
        }
        exe = Path(sys.executable).parent / "clusterbot"
        RESULTS.mkdir(parents=True, exist_ok=True)
        log = RESULTS / f"serve-{concurrency}.log"
        with log.open("wb") as err:
            child = await asyncio.create_subprocess_exec(
                str(exe), "serve", env=env, stdout=subprocess.DEVNULL, stderr=err
            )
        base = f"http://127.0.0.1:{port}"
        tg_stamp, sl_stamp = Stamper(telegram), Stamper(slack)
        tg_stamp.start()
        sl_stamp.start()
        try:
            async with aiohttp.ClientSession() as http:
                started = time.perf_counter()
                while True:
                    if child.returncode is not None:
                        raise RuntimeError(f"serve exited: {log.read_text()[-2000:]}")
                    try:
                        async with http.get(f"{base}/healthz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    if time.perf_counter() - started > 600:
                        raise TimeoutError("serve did not become healthy")
                    await asyncio.sleep(0.2)
                startup = time.perf_counter() - started
                # Warm up both paths (model sessions, caches) before measuring.
                await _telegram_round(telegram, tg_stamp, 5, questions, 10_000)
                await _slack_round(http, f"{base}/slack/events", sl_stamp, 5, questions, 10_000)
                tg: list[float] = []
                sl: list[float] = []
                for r in range(args.rounds):
                    tg += await _telegram_round(
                        telegram, tg_stamp, args.users, questions, r * args.users
                    )
                    sl += await _slack_round(
                        http,
                        f"{base}/slack/events",
                        sl_stamp,
                        args.users,
                        questions,
                        r * args.users,
                    )
                ids = itertools.count(1_000_000)

                async def tg_send(i: int, text: str) -> None:
                    telegram.enqueue_update(_telegram_update(710000 + i, text, next(ids)))

                async def sl_send(i: int, text: str) -> None:
                    body = _slack_event(f"UC{i:05d}", text, next(ids))
                    headers = {"Content-Type": "application/json", **sign(body, SIGNING_SECRET)}
                    async with http.post(f"{base}/slack/events", data=body, headers=headers) as r:
                        assert r.status == 200, await r.text()

                tg_chat = await _chatting(
                    lambda i: str(710000 + i),
                    tg_send,
                    tg_stamp,
                    args.users,
                    args.seconds,
                    questions,
                )
                sl_chat = await _chatting(
                    lambda i: f"DUC{i:05d}", sl_send, sl_stamp, args.users, args.seconds, questions
                )
                rss = _peak_rss_mb(child.pid)
        finally:
            tg_stamp.stop()
            sl_stamp.stop()
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(child.wait(), 60)
                except TimeoutError:
                    child.kill()
    return {
        "config": name,
        "telegram_concurrent_updates": concurrency,
        "startup_s": round(startup, 1),
        "peak_rss_mb": round(rss, 1),
        "telegram": _summary(tg),
        "slack": _summary(sl),
        "telegram_chatting": _summary(tg_chat),
        "slack_chatting": _summary(sl_chat),
    }


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "max_ms": round(max(values), 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the chatting phase")
    parser.add_argument("--store", type=Path, help="serve a copy of this data directory")
    args = parser.parse_args()
    if args.store:
        questions = [
            json.loads(line)["question"]
            for line in (ROOT / "bench" / "questions.jsonl").read_text().splitlines()
            if line.strip()
        ]
    else:
        questions = DEMO_QUESTIONS
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed"
        if args.store:
            shutil.copytree(args.store, seed)
        else:  # the same demo store for both runs, ingested once and outside the timings
            exe = Path(sys.executable).parent / "clusterbot"
            ingest = await asyncio.create_subprocess_exec(
                str(exe),
                "ingest",
                "--data-dir",
                str(seed),
                str(ROOT / "bot" / "demo"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
            if await ingest.wait() != 0:
                raise RuntimeError("ingesting the demo corpus failed")
        for name, concurrency in (
            ("clusterbot (16 at once)", 16),
            ("PTB default (1 at a time)", 1),
        ):
            data_dir = Path(tmp) / f"run-{concurrency}"
            shutil.copytree(seed, data_dir)
            results.append(await _run_config(name, concurrency, data_dir, questions, args))
    corpus = f"store {args.store}" if args.store else "demo corpus"
    lines = [
        f"serve end-to-end latency, {corpus}; {machine()}",
        f"burst: {args.users} users send at the same instant, x {args.rounds} rounds per channel; "
        f"chatting: {args.users} users per channel for {args.seconds:.0f} s, each asking, "
        "reading the answer and thinking 2-8 s before asking again",
        f"{'config':<28}{'load':<16}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'peak RSS MB':>13}",
    ]
    for result in results:
        for key in ("telegram_chatting", "slack_chatting", "telegram", "slack"):
            s = result[key]
            label = key.replace("_chatting", " chat") if "chatting" in key else f"{key} burst"
            lines.append(
                f"{result['config']:<28}{label:<16}{s['n']:>5}{s['p50_ms']:>9}{s['p95_ms']:>9}"
                f"{s['max_ms']:>9}{result['peak_rss_mb']:>13}"
            )
    ours, base = results
    for key in ("telegram_chatting", "telegram"):
        ratio = base[key]["p95_ms"] / ours[key]["p95_ms"]
        lines.append(f"{key} p95: PTB default / clusterbot = {ratio:.2f}x")
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-store" if args.store else ""
    (RESULTS / f"serve{suffix}.json").write_text(json.dumps(results, indent=2))
    (RESULTS / f"serve{suffix}.txt").write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
