"""The unanswered-questions queue on the real schema: who is queued, once, and answering."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from storage import SessionFactory
from storage.models import Feedback, Handoff, Organisation, Person, Question
from storage.staff_queue import (
    mark_answered,
    organisation_of,
    queued_question,
    queued_questions,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _question(text: str, *, abstained: bool = False) -> Question:
    return Question(
        channel="test",
        user_ref="ref",
        text=text,
        answer="I don't know." if abstained else "An answer [1].",
        abstained=abstained,
        confidence=0.1 if abstained else 0.9,
        citations=[] if abstained else [{"n": 1, "chunk_id": "c1", "record_id": None}],
        asked_for=date(2026, 11, 28),
    )


async def _seed(sessions: SessionFactory) -> dict[str, int]:
    async with sessions.begin() as session:
        org = Organisation(name="Acme Bio", join_code="AAAA-BBBB")
        session.add(org)
        await session.flush()
        one, two = Person(organisation_id=org.id), Person()
        rows = {
            "declined": _question("declined", abstained=True),
            "down": _question("thumbs down"),
            "handed": _question("handed off"),
            "all": _question("everything", abstained=True),
            "fine": _question("fine"),
            "liked": _question("liked"),
        }
        session.add_all([one, two, *rows.values()])
        await session.flush()
        ids = {k: q.id for k, q in rows.items()}
        session.add_all(
            [
                Feedback(person_id=one.id, question_id=ids["down"], value="down"),
                Feedback(person_id=two.id, question_id=ids["down"], value="down"),
                Feedback(person_id=one.id, question_id=ids["liked"], value="up"),
                Feedback(person_id=one.id, question_id=ids["all"], value="down"),
                Handoff(
                    person_id=one.id,
                    question_id=ids["handed"],
                    channel="test",
                    chat_id="c1",
                    text="handed off",
                ),
                Handoff(
                    person_id=one.id,
                    question_id=ids["all"],
                    channel="test",
                    chat_id="c1",
                    text="everything",
                ),
                Handoff(
                    person_id=two.id,
                    question_id=ids["all"],
                    channel="test",
                    chat_id="c2",
                    text="everything",
                ),
            ]
        )
        ids["person"] = one.id
        return ids


async def test_declined_thumbs_down_and_handed_off_are_queued_once_each(
    sessions: SessionFactory,
) -> None:
    ids = await _seed(sessions)
    async with sessions() as session:
        queue = await queued_questions(session)
        assert [q.question.id for q in queue] == [
            ids["declined"],
            ids["down"],
            ids["handed"],
            ids["all"],
        ]
        by_id = {q.question.id: q for q in queue}
        assert by_id[ids["declined"]].reasons == ("declined",)
        assert by_id[ids["down"]].reasons == ("thumbs_down",)
        assert by_id[ids["down"]].down_votes == 2
        assert by_id[ids["handed"]].reasons == ("handed_off",)
        assert by_id[ids["all"]].reasons == ("declined", "thumbs_down", "handed_off")
        assert len(by_id[ids["all"]].handoffs) == 2
        assert await queued_question(session, ids["fine"]) is None
        assert await queued_question(session, 9999) is None
        assert await organisation_of(session, ids["person"]) == "Acme Bio"


async def test_answering_leaves_the_queue_and_closes_handoffs(sessions: SessionFactory) -> None:
    ids = await _seed(sessions)
    async with sessions.begin() as session:
        question = await session.get_one(Question, ids["all"])
        await mark_answered(session, question, text="Here it is.", by="cli", at=NOW)
    async with sessions() as session:
        queue = await queued_questions(session)
        assert ids["all"] not in [q.question.id for q in queue]
        statuses = set(
            await session.scalars(select(Handoff.status).where(Handoff.question_id == ids["all"]))
        )
        assert statuses == {"answered"}
        entry = await queued_question(session, ids["all"])
        assert entry is not None  # still findable, so a second answer can be refused clearly
        assert entry.question.answered_by == "cli"
        assert entry.question.staff_answer == "Here it is."
