"""Server mode: the vectors in a real ``chroma run`` on 127.0.0.1, behind the token proxy.

The same questions get the same answers and citations as in the embedded store; an
unreachable or public server is refused at startup with the settings named and the token
never shown; and the token is checked by our proxy, because ``chroma run`` itself does not.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from click.testing import CliRunner

from bot.app import App
from bot.cli import cli
from bot.errors import ConfigurationError
from bot.serve import Server
from bot.vector_proxy import VectorProxy
from knowledge.answer import AnswerOptions
from knowledge.types import Answer
from knowledge.vectors import (
    VectorStoreError,
    close_client,
    public_addresses,
    server_client,
)
from tests.factories import DEMO_CORPUS, make_app
from tests.fakes.chroma_server import ChromaServer, ProxyThread, chroma_binary, free_port
from tests.fakes.embeddings import HashingEmbedder
from tests.fakes.openai_server import FakeOpenAIServer

TOKEN = "vectors-test-token-0123456789"
QUESTIONS = (
    "How much does an S1 bench cost per month?",
    "Which voucher pays for a feasibility study?",
    "Launchpad incubator stipend",
    "When is the next partnering event?",
)

needs_chroma = pytest.mark.skipif(
    chroma_binary() is None, reason="the 'chroma' command (chromadb's server) is not installed"
)


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One ``chroma run`` for the module (each test uses its own data folder for the bot)."""
    if chroma_binary() is None:
        pytest.skip("the 'chroma' command (chromadb's server) is not installed")
    with ChromaServer(tmp_path_factory.mktemp("chroma") / "data") as server:
        yield server


@pytest.fixture
def proxy(chroma: ChromaServer) -> Iterator[ProxyThread]:
    """The token-checking proxy in front of the module's server."""
    with ProxyThread(upstream=chroma.url, token=TOKEN) as running:
        yield running


def _server(port: int, **extra: object) -> dict[str, Any]:
    return {"vectors": {"mode": "server", "host": "127.0.0.1", "port": port, **extra}}


def _shape(answer: Answer) -> tuple[object, ...]:
    return (
        answer.text,
        answer.abstained,
        [
            (c.n, c.passage.title, c.passage.source, c.passage.section, c.text)
            for c in answer.citations
        ],
    )


async def _answers(app: App) -> list[tuple[object, ...]]:
    options = AnswerOptions(audiences=("public", "members"), record=False)
    return [_shape(await app.answerer.answer(q, options)) for q in QUESTIONS]


async def _ingested(data_dir: Path, **settings: Any) -> App:
    # The hashing embedder keeps this fast; both stores get the very same vectors, so any
    # difference in answers comes from the store.
    app = await make_app(data_dir, embedder=HashingEmbedder(dimension=256), **settings)
    summary = await app.ingester.ingest([str(DEMO_CORPUS)])
    assert summary.failed == 0, summary.errors
    return app


@needs_chroma
async def test_server_mode_answers_with_the_same_citations(
    tmp_path: Path, proxy: ProxyThread
) -> None:
    embedded = await _ingested(tmp_path / "embedded")
    try:
        expected = await _answers(embedded)
        count = await asyncio.to_thread(embedded.index.count)
    finally:
        await embedded.close()

    app = await _ingested(tmp_path / "server", **_server(proxy.port, token=TOKEN))
    try:
        assert await asyncio.to_thread(app.index.count) == count
        got = await _answers(app)
        health = await Server(app, []).health()
    finally:
        await app.close()
    assert not (tmp_path / "server" / "chroma").exists()  # nothing embedded on the side
    assert got == expected
    assert sum(len(cast(list[object], shape[2])) for shape in got) >= len(QUESTIONS)
    assert health["vectors"] == {
        "ok": True,
        "mode": "server",
        "where": f"chroma server http://127.0.0.1:{proxy.port}",
    }
    assert health["ok"] is True


async def test_an_unreachable_server_stops_startup_naming_the_settings(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(ConfigurationError) as caught:
        await make_app(tmp_path, **_server(port, token=TOKEN))
    message = str(caught.value)
    assert "CLUSTERBOT_VECTORS__HOST" in message
    assert f"http://127.0.0.1:{port}" in message
    assert "chroma run" in message
    assert TOKEN not in message


async def test_a_public_server_address_is_refused_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await make_app(tmp_path, vectors={"mode": "server", "host": "8.8.8.8", "token": TOKEN})
    message = str(caught.value)
    assert "public address" in message
    assert "CLUSTERBOT_VECTORS__ALLOW_PUBLIC" in message
    assert "CVE-2026-45829" in message
    assert TOKEN not in message
    assert public_addresses("127.0.0.1", 8000) == []
    assert public_addresses("10.1.2.3", 8000) == []
    assert public_addresses("fd00::5", 8000) == []
    assert public_addresses("::1", 8000) == []
    assert public_addresses("localhost", 8000) == []
    assert public_addresses("8.8.8.8", 8000) == ["8.8.8.8"]


@needs_chroma
def test_chroma_run_itself_checks_no_token(chroma: ChromaServer) -> None:
    """Why the proxy exists: the bare server takes any token."""
    client = server_client(host=chroma.host, port=chroma.port, token="not-the-token")
    try:
        client.get_or_create_collection("anyone-may-write")
        assert "anyone-may-write" in {c.name for c in client.list_collections()}
        client.delete_collection("anyone-may-write")
    finally:
        close_client(client)


@needs_chroma
@pytest.mark.parametrize("token", [None, "a-wrong-token-of-some-length"])
async def test_the_proxy_refuses_a_missing_or_wrong_token(
    proxy: ProxyThread, token: str | None
) -> None:
    with pytest.raises(VectorStoreError, match="refused the token") as caught:
        await asyncio.to_thread(server_client, host="127.0.0.1", port=proxy.port, token=token)
    assert TOKEN not in str(caught.value)
    assert proxy.refused >= 1


@needs_chroma
async def test_a_wrong_token_stops_startup(tmp_path: Path, proxy: ProxyThread) -> None:
    with pytest.raises(ConfigurationError, match="CLUSTERBOT_VECTORS__TOKEN") as caught:
        await make_app(tmp_path, **_server(proxy.port, token="a-wrong-token-of-some-length"))
    assert "a-wrong-token" not in str(caught.value)


async def test_the_proxy_refuses_a_short_token_and_a_public_address() -> None:
    with pytest.raises(ValueError, match="CLUSTERBOT_VECTORS__TOKEN"):
        VectorProxy(host="127.0.0.1", port=0, upstream="http://127.0.0.1:1", token="short")
    with pytest.raises(ValueError, match="public address"):
        VectorProxy(host="8.8.8.8", port=0, upstream="http://127.0.0.1:1", token=TOKEN)


async def test_the_proxy_answers_502_when_chroma_is_down() -> None:
    down = VectorProxy(
        host="127.0.0.1", port=0, upstream=f"http://127.0.0.1:{free_port()}", token=TOKEN
    )
    await down.start()
    try:
        with pytest.raises(VectorStoreError):
            await asyncio.to_thread(
                server_client, host="127.0.0.1", port=down.port or 0, token=TOKEN
            )
    finally:
        await down.stop()


@needs_chroma
async def test_health_and_check_report_a_server_that_went_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = ChromaServer(tmp_path / "own-chroma")
    own.start()
    try:
        app = await make_app(tmp_path / "bot", **_server(own.port))
        monkeypatch.setenv("CLUSTERBOT_VECTORS__MODE", "server")
        monkeypatch.setenv("CLUSTERBOT_VECTORS__PORT", str(own.port))
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["check", "--data-dir", str(tmp_path / "bot")]
        )
        assert f"vectors: ok (chroma server http://127.0.0.1:{own.port})" in result.output
    finally:
        own.stop()
    try:
        health = await Server(app, []).health()
    finally:
        await app.close()
    assert health["ok"] is False
    assert health["vectors"]["ok"] is False
    assert "nothing answers there" in health["vectors"]["error"]
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["check", "--data-dir", str(tmp_path / "bot")]
    )
    assert result.exit_code == 1
    assert "CLUSTERBOT_VECTORS__HOST" in result.output


def test_the_proxy_command_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLUSTERBOT_VECTORS__TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["vector-proxy", "--listen", "127.0.0.1:0"])
    assert result.exit_code == 1
    assert "CLUSTERBOT_VECTORS__TOKEN" in result.output


@needs_chroma
def test_the_proxy_command_guards_a_server(chroma: ChromaServer, tmp_path: Path) -> None:
    """``clusterbot vector-proxy`` as operators run it: a process, stopped by SIGTERM."""
    port = free_port()
    env = {**os.environ, "CLUSTERBOT_VECTORS__TOKEN": TOKEN}
    command = [str(Path(sys.executable).with_name("clusterbot")), "vector-proxy"]
    command += ["--listen", f"127.0.0.1:{port}", "--upstream", chroma.url]
    log = tmp_path / "proxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):  # the process imports the whole bot first
            if "Checking tokens" in log.read_text():
                break
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        client = server_client(host="127.0.0.1", port=port, token=TOKEN)
        try:
            assert client.heartbeat() > 0
        finally:
            close_client(client)
        with pytest.raises(VectorStoreError, match="refused the token"):
            server_client(host="127.0.0.1", port=port, token="a-wrong-token-of-some-length")
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
    assert TOKEN not in log.read_text()


def test_the_proxy_keeps_the_token_to_itself() -> None:
    """Chroma sees the request without the token, whatever header carried it."""
    with (
        FakeOpenAIServer() as upstream,
        ProxyThread(upstream=f"http://127.0.0.1:{upstream.port}", token=TOKEN) as proxy,
    ):
        base = f"http://127.0.0.1:{proxy.port}/v1/models?limit=1"
        assert httpx.get(base, headers={"X-Chroma-Token": TOKEN}).status_code == 200
        assert httpx.get(base, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert httpx.get(base, headers={"Authorization": "Bearer nope"}).status_code == 401
        seen = upstream.requests_to("/v1/models")
    assert len(seen) == 2
    assert all(r.path == "/v1/models?limit=1" for r in seen)
    assert all(TOKEN not in str(dict(r.headers)) for r in seen)
