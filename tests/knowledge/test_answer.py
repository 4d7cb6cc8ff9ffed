"""Answers over the demo corpus: sources cited, dates respected, audiences kept apart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from knowledge.answer import DECLINE, AnswerOptions
from storage.models import Question
from tests.factories import make_app


async def test_answer_cites_the_incubator_offer(demo_dir: Path) -> None:
    app = await make_app(demo_dir)
    try:
        answer = await app.answerer.answer("What does the Launchpad incubator give start-ups?")
    finally:
        await app.close()
    assert not answer.abstained
    assert answer.citations
    ids = [c.passage.record_id for c in answer.citations]
    assert "KBR-LAUNCHPAD-2027" in ids
    assert answer.text.startswith("[1]")
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


async def test_closed_call_is_never_presented_as_open(demo_dir: Path) -> None:
    app = await make_app(demo_dir, today=date(2026, 11, 28))
    try:
        answer = await app.answerer.answer("Can we still apply for the IP Audit Voucher 2026?")
    finally:
        await app.close()
    voucher = [c for c in answer.citations if c.passage.record_id == "KBR-IPV-2026"]
    assert voucher, [c.passage.title for c in answer.citations]
    assert voucher[0].passage.status_today == "closed"
    line = next(part for part in answer.text.split("\n\n") if "KBR-IPV-2026" in part)
    assert "Closed on 2026-11-28" in line
    assert "Open on" not in line


async def test_same_call_is_open_before_its_deadline(demo_dir: Path) -> None:
    app = await make_app(demo_dir, today=date(2026, 9, 1))
    try:
        answer = await app.answerer.answer("Can we still apply for the IP Audit Voucher 2026?")
    finally:
        await app.close()
    voucher = [c for c in answer.citations if c.passage.record_id == "KBR-IPV-2026"]
    assert voucher
    assert voucher[0].passage.status_today == "open"


async def test_two_stage_call_gives_both_deadlines(demo_dir: Path) -> None:
    app = await make_app(demo_dir, today=date(2026, 12, 1))
    try:
        answer = await app.answerer.answer(
            "What are the deadlines of the Collaborative R&D Scale-up Grant?"
        )
    finally:
        await app.close()
    assert "KBR-SCALE-2027" in answer.text
    assert "2027-02-26" in answer.text
    assert "2027-06-18" in answer.text


async def test_unrelated_question_is_declined_and_recorded(demo_dir: Path) -> None:
    app = await make_app(demo_dir)
    try:
        answer = await app.answerer.answer(
            "What is the exchange rate of the Icelandic krona to the yen?",
            AnswerOptions(channel="test"),
        )
        async with app.sessions() as session:
            recorded = (await session.scalars(select(Question))).all()
    finally:
        await app.close()
    assert answer.abstained
    assert answer.text == DECLINE
    assert answer.citations == ()
    assert recorded[-1].abstained is True
    assert recorded[-1].channel == "test"


async def test_member_documents_stay_with_members(demo_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "board.md"
    secret.write_text(
        "# Board minutes\nThe board set the 2027 membership fee for pharma members at EUR 48,000."
    )
    app = await make_app(demo_dir)
    try:
        await app.ingester.ingest([str(secret)], audience="members")
        question = "What membership fee did the board set for pharma members in 2027?"
        public = await app.answerer.answer(question, AnswerOptions(audiences=("public",)))
        members = await app.answerer.answer(
            question, AnswerOptions(audiences=("public", "members"))
        )
    finally:
        await app.close()
    assert all("48,000" not in c.text for c in public.citations)
    assert "48,000" not in public.text
    assert any("48,000" in c.text for c in members.citations)


async def test_identifier_in_question_pins_its_record(demo_dir: Path) -> None:
    app = await make_app(demo_dir)
    try:
        answer = await app.answerer.answer("deadline of KBR-GREEN-2027?")
    finally:
        await app.close()
    assert answer.citations[0].passage.record_id == "KBR-GREEN-2027"
    assert "Forthcoming on 2026-11-28" in answer.text
