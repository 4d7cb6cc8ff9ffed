"""Answer quality on bench/questions.jsonl: our hybrid retriever and abstention, side by side
with a plain langchain-chroma similarity search over the same vectors and a BM25-only ranker.

    .venv/bin/python bench/quality.py [--data-dir DIR] [--reingest] [--fit]

Prints recall@1, recall@5, MRR, citation accuracy, abstention precision/recall/accuracy and
date-status correctness; with --fit, also fits the abstention weights with cross-validation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from rank_bm25 import BM25Okapi
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, SettableClock, machine, shared_store
from ingest.chunk import embedding_text
from knowledge.abstain import AbstentionModel
from knowledge.answer import AnswerOptions, dedupe
from knowledge.text import words
from storage.models import Chunk, Document, Opportunity, Source

QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"
SIGNALS = ("dense_top", "coverage", "unknown", "agree", "identifier")


@dataclass(frozen=True)
class Hit:
    """A ranked passage, reduced to what relevance needs."""

    document_id: int
    record_id: str | None
    source: str
    text: str
    chunk_id: str = ""


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def relevant(hit: Hit, expect: dict[str, Any]) -> bool:
    """The relevance rule of bench/QUESTIONS.md."""
    if hit.record_id and hit.record_id in expect.get("record_ids", []):
        return True
    if any(hit.source.endswith(s) for s in expect.get("sources", [])):
        text = _norm(hit.text)
        return any(_norm(p) in text for p in expect.get("contains", []))
    return False


def ranking_metrics(rankings: Sequence[tuple[list[Hit], dict[str, Any]]]) -> dict[str, float]:
    r1 = r5 = rr = 0.0
    for hits, expect in rankings:
        flags = [relevant(h, expect) for h in hits[:10]]
        r1 += 1.0 if any(flags[:1]) else 0.0
        r5 += 1.0 if any(flags[:5]) else 0.0
        rr += next((1.0 / (i + 1) for i, f in enumerate(flags) if f), 0.0)
    n = max(len(rankings), 1)
    return {"recall@1": r1 / n, "recall@5": r5 / n, "mrr": rr / n}


def abstention_metrics(decisions: Sequence[tuple[bool, bool]]) -> dict[str, float]:
    """decisions: (abstained, answerable)."""
    tp = sum(1 for a, ok in decisions if a and not ok)
    fp = sum(1 for a, ok in decisions if a and ok)
    fn = sum(1 for a, ok in decisions if not a and not ok)
    correct = sum(1 for a, ok in decisions if a != ok)
    return {
        "abstain_precision": tp / (tp + fp) if tp + fp else 0.0,
        "abstain_recall": tp / (tp + fn) if tp + fn else 0.0,
        "abstain_accuracy": correct / max(len(decisions), 1),
        "answered_wrongly_unanswerable": fn,
        "abstained_on_answerable": fp,
    }


def best_threshold(scores: Sequence[tuple[float, bool]]) -> tuple[float, float]:
    """The similarity threshold with the best abstention accuracy (tuned on the test set)."""
    best = (0.0, 0.0)
    for t in sorted({s for s, _ in scores}):
        acc = sum(1 for s, ok in scores if (s >= t) == ok) / len(scores)
        if acc > best[1]:
            best = (t, acc)
    return best


def fit_logistic(
    x: np.ndarray, y: np.ndarray, *, l2: float = 0.05, steps: int = 4000
) -> np.ndarray:
    """Weights (last one the bias) of an L2-regularised logistic regression, by gradient descent."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0]
        w -= 0.5 * grad
    return w


async def _chunk_table(app) -> dict[str, tuple[Hit, str, str | None, str, str]]:
    async with app.sessions() as session:
        rows = await session.execute(
            select(
                Chunk.id,
                Chunk.text,
                Chunk.section,
                Document.id,
                Document.title,
                Source.uri,
                Opportunity.external_id,
                Chunk.vector_id,
            )
            .join(Document, Chunk.document_id == Document.id)
            .join(Source, Document.source_id == Source.id)
            .outerjoin(Opportunity, Opportunity.document_id == Document.id)
        )
        return {r[0]: (Hit(r[3], r[6], r[5], r[1], r[0]), r[4], r[2], r[1], r[7]) for r in rows}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "store-shared")
    parser.add_argument("--reingest", action="store_true")
    parser.add_argument("--fit", action="store_true", help="fit abstention weights (5-fold CV)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    questions = [
        json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()
    ]
    clock = SettableClock(date(2026, 11, 28))
    app = await shared_store(args.data_dir, clock, reingest=args.reingest)
    table = await _chunk_table(app)
    print(f"machine: {machine()}; {len(table)} chunks; {len(questions)} questions")

    # Baseline 1: plain langchain-chroma similarity search over the very same vectors.
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    baseline = Chroma(
        collection_name="baseline",
        embedding_function=app.index.embedder,
        client=client,
        collection_metadata={"hnsw:space": "cosine"},
    )
    # One entry per chunk, as a plain setup would have it (our store shares one vector
    # between word-for-word copies of boilerplate; the baseline gets a copy for each).
    stored = app.index.vectors()
    by_vector = stored
    ids = list(table)
    for start in range(0, len(ids), 2000):
        part = ids[start : start + 2000]
        baseline._collection.upsert(
            ids=part,
            embeddings=[by_vector[table[i][4]] for i in part],
            documents=[table[i][3] for i in part],
            metadatas=[{"chunk_id": i} for i in part],
        )
    # Baseline 2: BM25 over the same chunks (title, section and text).
    bm25_ids = list(table)
    bm25 = BM25Okapi(
        [words(embedding_text(table[i][1], table[i][2], table[i][3])) for i in bm25_ids]
    )

    ours, lc, bm = [], [], []
    decisions, lc_scores, features, labels = [], [], [], []
    date_checks, date_ok = 0, 0
    cited_first, cited_any, answered = 0, 0, 0
    for q in questions:
        clock.day = date.fromisoformat(q.get("today", "2026-11-28"))
        expect = q.get("expect", {})
        retrieval = await app.retriever.retrieve(q["question"], today=clock.day, limit=30)
        hits = [
            Hit(p.document_id, p.record_id, p.source, p.text)
            for p in dedupe(retrieval.passages, 10)
        ]
        answer = await app.answerer.answer(q["question"], AnswerOptions(record=False))
        lc_docs = baseline.similarity_search_with_score(q["question"], k=30)
        lc_hits = dedupe([table[d.metadata["chunk_id"]][0] for d, _s in lc_docs], 10)
        lc_top = 1 - lc_docs[0][1] if lc_docs else 0.0
        scores = bm25.get_scores(words(q["question"]))
        order = np.argsort(-scores)[:30]
        bm_hits = dedupe([table[bm25_ids[i]][0] for i in order], 10)
        decisions.append((answer.abstained, q["answerable"]))
        lc_scores.append((lc_top, q["answerable"]))
        features.append([answer.signals.get(s, 0.0) for s in SIGNALS])
        labels.append(1.0 if q["answerable"] else 0.0)
        if q["answerable"]:
            ours.append((hits, expect))
            lc.append((lc_hits, expect))
            bm.append((bm_hits, expect))
            if not answer.abstained:
                answered += 1
                cites = [
                    Hit(
                        c.passage.document_id,
                        c.passage.record_id,
                        c.passage.source,
                        c.passage.text,
                    )
                    for c in answer.citations
                ]
                cited_first += 1 if cites and relevant(cites[0], expect) else 0
                cited_any += 1 if any(relevant(c, expect) for c in cites) else 0
            if q.get("expect_status"):
                date_checks += 1
                statuses = [
                    p.status_today
                    for p in retrieval.passages
                    if p.record_id in expect.get("record_ids", [])
                ]
                date_ok += 1 if statuses and statuses[0] == q["expect_status"] else 0
        if args.verbose:
            flag = "ABST" if answer.abstained else "ANS "
            rel = any(relevant(h, expect) for h in hits[:5])
            print(
                f"{q['id']} {flag} ok={q['answerable']!s:5} r5={rel!s:5} conf={answer.confidence:.2f} "
                f"{ {k: round(v, 2) for k, v in answer.signals.items()} } {q['question'][:60]}"
            )

    results: dict[str, Any] = {
        "ours": ranking_metrics(ours),
        "langchain_chroma": ranking_metrics(lc),
        "bm25": ranking_metrics(bm),
    }
    results["ours"].update(abstention_metrics(decisions))
    results["ours"]["citation_accuracy_first"] = cited_first / max(answered, 1)
    results["ours"]["citation_accuracy_any"] = cited_any / max(answered, 1)
    results["ours"]["date_status_correct"] = date_ok / max(date_checks, 1)
    threshold, acc = best_threshold(lc_scores)
    results["langchain_chroma"]["abstain_accuracy_best_threshold"] = acc
    results["langchain_chroma"]["threshold"] = threshold
    print(f"\n{'system':<18}{'recall@1':>9}{'recall@5':>9}{'MRR':>7}")
    for name in ("ours", "langchain_chroma", "bm25"):
        m = results[name]
        print(f"{name:<18}{m['recall@1']:>9.3f}{m['recall@5']:>9.3f}{m['mrr']:>7.3f}")
    o = results["ours"]
    print(
        f"\nours: citation accuracy [1] {o['citation_accuracy_first']:.3f} (any {o['citation_accuracy_any']:.3f}); "
        f"abstention precision {o['abstain_precision']:.3f} recall {o['abstain_recall']:.3f} "
        f"accuracy {o['abstain_accuracy']:.3f}; date status correct {o['date_status_correct']:.3f} "
        f"({date_checks} questions)"
    )
    print(
        f"baseline abstention (similarity threshold tuned on this very set): accuracy {acc:.3f} at {threshold:.3f}"
    )
    if args.fit:
        x, y = np.array(features), np.array(labels)
        folds = np.arange(len(y)) % 5
        correct = 0
        for f in range(5):
            w = fit_logistic(x[folds != f], y[folds != f])
            p = 1 / (
                1 + np.exp(-(np.hstack([x[folds == f], np.ones(((folds == f).sum(), 1))]) @ w))
            )
            correct += int(((p >= 0.5) == (y[folds == f] == 1)).sum())
        w = fit_logistic(x, y)
        print(f"\nfit: 5-fold CV abstention accuracy {correct / len(y):.3f}")
        print(
            "AbstentionModel("
            + ", ".join(f"{n}={v:.2f}" for n, v in zip((*SIGNALS, "bias"), w, strict=True))
            + ")"
        )
        default = AbstentionModel()
        print(f"current: {default}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(results, indent=2))
    await app.close()


if __name__ == "__main__":
    asyncio.run(main())
