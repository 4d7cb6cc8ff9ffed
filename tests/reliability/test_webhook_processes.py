"""Telegram webhook mode behind several processes: two ``clusterbot serve`` processes on one
PostgreSQL database, as behind a load balancer. Updates go alternately to either process,
and each one is delivered a second time, with the same ``update_id``, to the other (Telegram
redelivers when an answer is slow); some of those arrive at both at once. Every update is
answered exactly once: the first process to claim its ``update_id`` answers it.

The test plays Telegram's side of the webhook itself (posting with the secret header);
FakeTelegram takes the bots' replies. PostgreSQL only: skipped on the SQLite run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.telegram import SECRET_HEADER, WEBHOOK_PATH
from tests.fakes.telegram_api import FakeTelegram
from tests.pg import Cluster

ROOT = Path(__file__).resolve().parents[2]
SECRET = "webhook-secret_for-two-processes"
UPDATES = 24
SETTLE_S = 1.0  # after the last expected answer, time for a wrong second one to show up


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _serve(
    fake: FakeTelegram, via: str, data_dir: Path, port: int, public_url: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ANONYMIZED_TELEMETRY": "False",
        "CLUSTERBOT_DATA_DIR": str(data_dir),  # a process's own vectors; the database is shared
        "CLUSTERBOT_TELEGRAM_TOKEN": fake.token,
        "CLUSTERBOT_TELEGRAM_API_URL": fake.base_url_for(via),  # tells who answered
        "CLUSTERBOT_TELEGRAM_MODE": "webhook",
        "CLUSTERBOT_TELEGRAM_WEBHOOK_URL": public_url,
        "CLUSTERBOT_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "CLUSTERBOT_HTTP_HOST": "127.0.0.1",
        "CLUSTERBOT_HTTP_PORT": str(port),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "serve",
        "--no-demo",  # the demo corpus is for a first start on a laptop, not for a fleet
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _until_healthy(http: aiohttp.ClientSession, port: int, child: Any) -> None:
    async with asyncio.timeout(90):
        while True:
            if child.returncode is not None:
                err = (await child.stderr.read()).decode()[-1200:]
                raise AssertionError(f"serve exited with {child.returncode}: {err}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


def _update(update_id: int) -> dict[str, Any]:
    user = 880_000 + update_id
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": user, "is_bot": False, "first_name": f"User{user}"},
            "chat": {"id": user, "type": "private", "first_name": f"User{user}"},
            "date": int(time.time()),
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


async def _post(http: aiohttp.ClientSession, port: int, update: dict[str, Any]) -> int:
    async with http.post(
        f"http://127.0.0.1:{port}{WEBHOOK_PATH}", json=update, headers={SECRET_HEADER: SECRET}
    ) as response:
        return response.status


async def test_two_serve_processes_answer_each_update_once(
    pg_cluster: Cluster | None, tmp_path: Path
) -> None:
    if pg_cluster is None:
        pytest.skip("several serve processes need PostgreSQL (run with the PostgreSQL suite)")
    ports = [_free_port(), _free_port()]
    public_url = f"http://127.0.0.1:{ports[0]}{WEBHOOK_PATH}"  # the balancer's address
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        children = [
            await _serve(fake, f"p{n}", tmp_path / f"serve{n}", port, public_url)
            for n, port in enumerate(ports)
        ]
        try:
            started = time.monotonic()
            for child, port in zip(children, ports, strict=True):
                await _until_healthy(http, port, child)
            print(f"both healthy after {time.monotonic() - started:.1f}s")
            statuses: list[int] = []
            for n in range(UPDATES):
                update = _update(5000 + n)
                first, second = ports[n % 2], ports[(n + 1) % 2]
                if n % 3 == 0:  # both at once: the two processes race for the claim
                    statuses += await asyncio.gather(
                        _post(http, first, update), _post(http, second, update)
                    )
                else:  # a redelivery after the first was taken
                    statuses.append(await _post(http, first, update))
                    statuses.append(await _post(http, second, update))
            await fake.wait_for_sent(UPDATES, within=60)
            await asyncio.sleep(SETTLE_S)
        finally:
            errors = []
            for child in children:
                if child.returncode is None:
                    child.send_signal(signal.SIGTERM)
                _, err = await child.communicate()
                errors.append(err.decode()[-3000:])
    assert statuses == [200] * (2 * UPDATES)
    answered = Counter(s.chat_id for s in fake.sent)
    assert answered == Counter({str(880_000 + 5000 + n): 1 for n in range(UPDATES)}), errors
    answering = {c.via for c in fake.calls("sendMessage") if c.status == 200}
    assert answering == {"p0", "p1"}  # both processes took their share
    assert not any("Sorry, something went wrong" in s.text for s in fake.sent)
    assert [child.returncode for child in children] == [0, 0], errors
