"""End to end on real data: ingest ../shared (seed, EU topic records, guides) and answer
real questions with the right citation, on the right day."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from knowledge.answer import AnswerOptions
from tests.conftest import SHARED
from tests.factories import make_app

QUESTIONS = Path(__file__).resolve().parents[1] / "bench" / "questions.jsonl"
SUBSET = [
    "seed",
    "data/eu-ft-sedia-topics/horizon_hlth_2026_2027_topics.sedia.json",
    "data/eu-ft-sedia-topics/horizon_eic_eie_2026_topics.sedia.json",
    "data/eu-ft-cascade-calls/cascade_and_other_calls_2026-08-22.json",
    "data/ec-guidance-pdfs/how-to-manage-your-lump-sum-grants_en.pdf",
    "data/eu-ft-calls-cordisdata/changelog_2026-08-11.json",
]


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    data_dir = tmp_path_factory.mktemp("shared-store")

    async def build() -> None:
        app = await make_app(data_dir)
        try:
            summary = await app.ingester.ingest([str(SHARED / p) for p in SUBSET])
            assert summary.failed == 0, summary.errors
        finally:
            await app.close()

    asyncio.run(build())
    return data_dir


async def _ask(data_dir: Path, question: str, today: date = date(2026, 11, 28)):
    app = await make_app(data_dir, today=today)
    try:
        return await app.answerer.answer(question, AnswerOptions(record=False))
    finally:
        await app.close()


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


async def test_topic_deadline_is_closed_after_it_passed(shared_store: Path) -> None:
    answer = await _ask(shared_store, "Is HORIZON-HLTH-2026-01-TOOL-03 still open for proposals?")
    first = answer.citations[0].passage
    assert first.record_id == "HORIZON-HLTH-2026-01-TOOL-03"
    assert first.status_today == "closed"
    assert "Closed on 2026-11-28" in answer.text.split("\n\n")[0]


async def test_same_topic_is_open_in_march(shared_store: Path) -> None:
    answer = await _ask(
        shared_store, "Is HORIZON-HLTH-2026-01-TOOL-03 still open for proposals?", date(2026, 3, 1)
    )
    assert answer.citations[0].passage.status_today == "open"
    assert "Open on 2026-03-01" in answer.text


async def test_forthcoming_topic_says_when_it_opens(shared_store: Path) -> None:
    answer = await _ask(
        shared_store, "When can we apply to HORIZON-HLTH-2027-03-TOOL-02 on bio-printing?"
    )
    head = answer.text.split("\n\n")[0]
    assert "HORIZON-HLTH-2027-03-TOOL-02" in head
    assert "Forthcoming on 2026-11-28: opens 2027-06-03" in head


async def test_two_stage_topic_gives_both_deadlines(shared_store: Path) -> None:
    answer = await _ask(
        shared_store, "What are the deadlines of HORIZON-HLTH-2027-02-DISEASE-14-two-stage?"
    )
    head = answer.text.split("\n\n")[0]
    assert "2027-04-13" in head
    assert "2027-09-22" in head


async def test_seed_service_metrics_are_cited(shared_store: Path) -> None:
    answer = await _ask(
        shared_store,
        "How many scoutings did BioRN Scout run and how many contracts came out of them?",
    )
    assert not answer.abstained
    texts = [_norm(c.text) for c in answer.citations]
    assert any("ensuing contracts: 8" in t for t in texts)
    assert all(c.passage.source.endswith("000_f44ceb914d3bdf2f.txt") for c in answer.citations[:1])


async def test_lump_sum_guide_is_cited_by_page(shared_store: Path) -> None:
    answer = await _ask(
        shared_store, "In a lump sum grant, what happens if a work package is not completed?"
    )
    assert not answer.abstained
    first = answer.citations[0].passage
    assert first.source.endswith("how-to-manage-your-lump-sum-grants_en.pdf")
    assert first.section
    assert first.section.startswith("p. ")


async def test_labelled_questions_on_this_subset(shared_store: Path) -> None:
    """The bench's labelled questions whose sources are in the subset: most are found."""
    ids: set[str] = set()
    for name in SUBSET:
        path = SHARED / name
        if path.suffix == ".json" and "sedia" in path.name:
            ids |= {
                r["metadata"]["identifier"][0] for r in json.loads(path.read_text())["results"]
            }
        elif "cascade" in path.name:
            ids |= {r["id"] for r in json.loads(path.read_text())["grants"]}
    files = {"000_f44ceb914d3bdf2f.txt", "how-to-manage-your-lump-sum-grants_en.pdf"}
    questions = []
    for line in QUESTIONS.read_text().splitlines():
        q = json.loads(line)
        expect = q["expect"]
        if q["answerable"] and (set(expect["record_ids"]) & ids or set(expect["sources"]) & files):
            questions.append(q)
    assert len(questions) >= 30
    found = 0
    app = await make_app(shared_store)
    try:
        for q in questions:
            answer = await app.answerer.answer(q["question"], AnswerOptions(record=False))
            expect = q["expect"]
            for c in answer.citations[:5]:
                p = c.passage
                if p.record_id in expect["record_ids"] or (
                    any(p.source.endswith(s) for s in expect["sources"])
                    and any(_norm(x) in _norm(p.text) for x in expect["contains"])
                ):
                    found += 1
                    break
    finally:
        await app.close()
    assert found / len(questions) >= 0.8, f"{found}/{len(questions)}"


async def test_questions_outside_the_sources_are_declined(shared_store: Path) -> None:
    for question in (
        "What is the VAT rate for invoicing clinical trial services in Portugal?",
        "How do I register a class IIb medical device with Swissmedic?",
    ):
        answer = await _ask(shared_store, question)
        assert answer.abstained, question
