"""The vector store embedded, as a ``chroma run`` server, and behind the token proxy.

    .venv/bin/python bench/vectors_server.py [--rounds 5]

Each mode ingests the demo corpus with the default embedder into a fresh data folder, then
times whole answers (retrieval over both indexes, citations, no chat model) and bare
nearest-neighbour queries. The server and the proxy run on 127.0.0.1, so the figures show
the cost of the HTTP hop, not of a network.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, machine, percentile
from knowledge.answer import AnswerOptions
from tests.factories import DEMO_CORPUS, make_app
from tests.fakes.chroma_server import ChromaServer, ProxyThread

QUESTIONS = (
    "How much does an S1 bench cost per month?",
    "Which voucher pays for a feasibility study?",
    "Launchpad incubator stipend",
    "When is the next partnering event?",
)
TOKEN = "bench-token-0123456789abcdef"


async def _measure(label: str, data_dir: Path, rounds: int, **settings: Any) -> str:
    app = await make_app(data_dir, **settings)
    try:
        started = time.perf_counter()
        summary = await app.ingester.ingest([str(DEMO_CORPUS)])
        ingest_s = time.perf_counter() - started
        vectors = await asyncio.to_thread(app.index.count)
        answers: list[float] = []
        for _ in range(rounds):
            for question in QUESTIONS:
                began = time.perf_counter()
                await app.answerer.answer(question, AnswerOptions(record=False))
                answers.append((time.perf_counter() - began) * 1000)
        vector = app.index.embedder.embed_array(["partnering event"], query=True)[0]
        queries: list[float] = []
        for _ in range(rounds * 10):
            began = time.perf_counter()
            await app.index.aquery(vector, limit=40, audiences=("public", "members"))
            queries.append((time.perf_counter() - began) * 1000)
    finally:
        await app.close()
    return (
        f"| {label} | {summary.chunks_embedded} / {vectors} | {ingest_s:.1f} s | "
        f"{percentile(answers, 50):.1f} / {percentile(answers, 95):.1f} ms | "
        f"{percentile(queries, 50):.2f} / {percentile(queries, 95):.2f} ms |"
    )


async def main(rounds: int) -> str:
    lines = [
        f"Vector store modes, demo corpus, {rounds} rounds ({machine()})",
        "",
        "| mode | chunks embedded / vectors held | ingest | answer p50 / p95 | vector query p50 / p95 |",
        "| --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        lines.append(await _measure("embedded", base / "embedded", rounds))
        with ChromaServer(base / "chroma") as server:
            server_mode = {"mode": "server", "port": server.port}
            lines.append(
                await _measure("chroma run", base / "server", rounds, vectors=server_mode)
            )
            with ProxyThread(upstream=server.url, token=TOKEN) as proxy:
                proxied = {"mode": "server", "port": proxy.port, "token": TOKEN}
                lines.append(
                    await _measure("chroma run + proxy", base / "proxy", rounds, vectors=proxied)
                )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    report = asyncio.run(main(parser.parse_args().rounds))
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "vectors_server.txt").write_text(report + "\n")
