"""Warm, in-process latency of answering (no chat model), p50 and p95, beside a plain
langchain-chroma similarity search in the same run.

    .venv/bin/python bench/latency.py [--data-dir DIR] [--rounds 3] [--synthetic 10000]

Two corpora: the ingested ../shared data (the quality bench's store, built if missing), and a
synthetic corpus of N chunks. The synthetic chunks get random unit vectors instead of model
embeddings (building 10,000 real ones takes minutes and query cost does not depend on what the
vectors mean); their text is generated from a life-science vocabulary so full-text search
does real work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, SettableClock, machine, percentile, shared_store
from bot.app import App, build_app
from bot.config import Settings
from knowledge.answer import AnswerOptions
from storage.documents import NewChunk, get_or_create_source, replace_chunks
from storage.models import Document

VOCAB = [
    "antibody",
    "assay",
    "biomarker",
    "cancer",
    "cell",
    "clinical",
    "cohort",
    "data",
    "diagnostics",
    "disease",
    "drug",
    "enzyme",
    "gene",
    "genome",
    "health",
    "hospital",
    "imaging",
    "immune",
    "infection",
    "lab",
    "manufacturing",
    "medtech",
    "microbiome",
    "model",
    "molecule",
    "oncology",
    "patient",
    "peptide",
    "pharma",
    "platform",
    "protein",
    "rare",
    "regulatory",
    "sepsis",
    "screening",
    "startup",
    "therapy",
    "tissue",
    "toxicology",
    "trial",
    "vaccine",
    "validation",
    "wound",
    "consortium",
    "funding",
    "grant",
    "deadline",
    "budget",
    "partner",
    "eligibility",
    "SME",
    "proposal",
    "call",
]


async def timed(app: App, questions: list[str], rounds: int) -> list[float]:
    samples = []
    options = AnswerOptions(record=False)
    await app.answerer.answer(questions[0], options)  # warm
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter()
            await app.answerer.answer(q, options)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def timed_baseline(
    app: App, questions: list[str], rounds: int, ids: list[str], vectors: np.ndarray
) -> list[float]:
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(
        collection_name="baseline",
        embedding_function=app.index.embedder,
        client=client,
        collection_metadata={"hnsw:space": "cosine"},
    )
    for start in range(0, len(ids), 2000):
        store._collection.upsert(
            ids=ids[start : start + 2000], embeddings=vectors[start : start + 2000]
        )
    store.similarity_search_with_score(questions[0], k=5)
    samples = []
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter()
            store.similarity_search_with_score(q, k=5)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


async def synthetic_app(n_chunks: int, workdir: Path) -> App:
    app = await build_app(Settings(data_dir=workdir), clock=SettableClock(date(2026, 11, 28)))
    rng = random.Random(11)
    ids, vectors, metas = [], [], []
    per_doc = 10
    async with app.sessions.begin() as session:
        source = await get_or_create_source(session, uri="synthetic://corpus", audience="public")
        for d in range(n_chunks // per_doc):
            doc = Document(
                source_id=source.id,
                external_id=f"doc-{d}",
                title=" ".join(rng.sample(VOCAB, 5)),
                content_hash=str(d),
                audience="public",
                kind="document",
            )
            session.add(doc)
            await session.flush()
            chunks = [
                NewChunk(f"syn-{d}-{i}", i, None, " ".join(rng.choices(VOCAB, k=130)))
                for i in range(per_doc)
            ]
            await replace_chunks(session, doc, chunks)
            for c in chunks:
                ids.append(c.id)
                metas.append({"audience": "public", "kind": "document", "document_id": doc.id})
    vectors = (
        np.random.default_rng(5)
        .normal(size=(len(ids), app.index.embedder.dimension))
        .astype(np.float32)
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    app.index.upsert(ids=ids, vectors=vectors, metadatas=metas)
    return app


def report(name: str, ours: list[float], base: list[float]) -> dict[str, float]:
    row = {
        "p50_ms": percentile(ours, 50),
        "p95_ms": percentile(ours, 95),
        "baseline_p50_ms": percentile(base, 50),
        "baseline_p95_ms": percentile(base, 95),
    }
    print(
        f"{name:<22} ask p50 {row['p50_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms   |  "
        f"langchain-chroma search p50 {row['baseline_p50_ms']:6.1f} ms  p95 {row['baseline_p95_ms']:6.1f} ms  "
        f"(ratio p50 {row['p50_ms'] / row['baseline_p50_ms']:.1f}x)"
    )
    return row


async def measure(name: str, app: App, questions: list[str], rounds: int) -> dict[str, float]:
    """Our ask beside the bare baseline search over the same vectors; closes the app."""
    stored = app.index.vectors()
    try:
        return report(
            f"{name} ({len(stored)} vec)",
            await timed(app, questions, rounds),
            timed_baseline(
                app, questions, rounds, list(stored), np.asarray(list(stored.values()))
            ),
        )
    finally:
        await app.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "store-shared")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=10_000)
    args = parser.parse_args()
    questions = [
        json.loads(line)["question"]
        for line in (Path(__file__).parent / "questions.jsonl").read_text().splitlines()
        if line.strip()
    ]
    print(f"machine: {machine()}; {len(questions)} questions x {args.rounds} rounds")
    results = {}
    app = await shared_store(args.data_dir, SettableClock(date(2026, 11, 28)))
    results["shared"] = await measure("shared data", app, questions, args.rounds)
    workdir = Path(tempfile.mkdtemp(prefix="clusterbot-latency-"))
    try:
        app = await synthetic_app(args.synthetic, workdir)
        results["synthetic"] = await measure("synthetic", app, questions, args.rounds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latency.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
