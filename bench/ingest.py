"""Ingest throughput and peak memory on ../shared/data, against the model's raw throughput.

    .venv/bin/python bench/ingest.py [--sample 1000]

Ingests ../shared/data into a fresh store, then embeds a sample of the same chunk texts
directly with the model (no parsing, no storage) to get the raw embedding throughput the
pipeline is compared with. Peak RSS is this process's high-water mark.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED, machine
from bot.app import build_app
from bot.config import Settings
from ingest.chunk import embedding_text
from storage.documents import all_vector_ids, chunk_texts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=1000, help="chunks for the raw-model run")
    parser.add_argument(
        "--target", action="append", help="what to ingest (default ../shared/data)"
    )
    args = parser.parse_args()
    targets = args.target or [str(SHARED / "data")]
    workdir = Path(tempfile.mkdtemp(prefix="clusterbot-ingest-bench-"))
    try:
        app = await build_app(Settings(data_dir=workdir))
        rss_before = peak_rss_mb()
        started = time.perf_counter()
        summary = await app.ingester.ingest(targets)
        elapsed = time.perf_counter() - started
        rss_ingest = peak_rss_mb()
        async with app.sessions() as session:
            ids = sorted(await all_vector_ids(session))
            random.Random(7).shuffle(ids)
            rows = await chunk_texts(session, ids[: args.sample])
        texts = [embedding_text(None if r.shared else r.title, r.section, r.text) for r in rows]
        embedder = app.index.embedder
        embedder.embed_array(texts[:8])  # warm
        raw_started = time.perf_counter()
        embedder.embed_array(texts)
        raw_elapsed = time.perf_counter() - raw_started
        await app.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    pipeline_rate = summary.chunks_embedded / elapsed
    raw_rate = len(texts) / raw_elapsed
    print(f"machine: {machine()}")
    print(summary.line())
    print(
        f"chunks stored: {len(ids)}; embedded: {summary.chunks_embedded} (boilerplate and copies once)"
    )
    print(f"wall time: {elapsed:.1f} s")
    print(
        f"pipeline: {pipeline_rate:.1f} embedded chunks/s, {len(ids) / elapsed:.1f} stored chunks/s"
    )
    print(f"raw model on {len(texts)} of the same chunks: {raw_rate:.1f} chunks/s")
    print(f"pipeline / raw embedding throughput: {pipeline_rate / raw_rate:.2f}")
    print(
        f"peak RSS: {rss_ingest:.0f} MB (before ingest {rss_before:.0f} MB, after raw run {peak_rss_mb():.0f} MB)"
    )


if __name__ == "__main__":
    asyncio.run(main())
