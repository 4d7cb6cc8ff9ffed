"""Queries on the unanswered-questions queue: declined, 👎'd or handed to staff, not yet answered.

A question joins the queue when the bot declined it, when someone marked its answer 👎, or when
someone tapped "Ask a person" under it; it leaves when staff answer it (once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Exists, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Feedback, Handoff, Identity, Organisation, Person, Question


@dataclass(frozen=True)
class QueuedQuestion:
    """A question waiting for staff, with why it is waiting and who handed it over."""

    question: Question
    down_votes: int
    handoffs: tuple[Handoff, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it is queued: ``declined``, ``thumbs_down``, ``handed_off`` (in that order)."""
        found = []
        if self.question.abstained:
            found.append("declined")
        if self.down_votes:
            found.append("thumbs_down")
        if self.handoffs:
            found.append("handed_off")
        return tuple(found)


def _down() -> Exists:
    return exists().where(Feedback.question_id == Question.id, Feedback.value == "down")


def _handed() -> Exists:
    return exists().where(Handoff.question_id == Question.id, Handoff.status == "open")


async def queued_questions(session: AsyncSession, *, limit: int = 50) -> list[QueuedQuestion]:
    """Unanswered questions that need staff, oldest first, each once."""
    rows = list(
        await session.scalars(
            select(Question)
            .where(
                Question.answered_at.is_(None),
                or_(Question.abstained.is_(True), _down(), _handed()),
            )
            .order_by(Question.asked_at, Question.id)
            .limit(limit)
        )
    )
    return await _with_context(session, rows)


async def queued_question(session: AsyncSession, question_id: int) -> QueuedQuestion | None:
    """One question of the queue; None when unknown or never queued (answered ones included)."""
    question = await session.get(Question, question_id)
    if question is None:
        return None
    (entry,) = await _with_context(session, [question])
    if not entry.reasons and question.answered_at is None:
        return None
    return entry


async def _with_context(session: AsyncSession, rows: Sequence[Question]) -> list[QueuedQuestion]:
    ids = [q.id for q in rows]
    if not ids:
        return []
    votes: dict[int, int] = {}
    for question_id, count in await session.execute(
        select(Feedback.question_id, func.count())
        .where(Feedback.question_id.in_(ids), Feedback.value == "down")
        .group_by(Feedback.question_id)
    ):
        votes[question_id] = count
    handoffs: dict[int, list[Handoff]] = {}
    for handoff in await session.scalars(
        select(Handoff).where(Handoff.question_id.in_(ids)).order_by(Handoff.id)
    ):
        assert handoff.question_id is not None
        handoffs.setdefault(handoff.question_id, []).append(handoff)
    return [
        QueuedQuestion(
            question=q,
            down_votes=int(votes.get(q.id, 0)),
            handoffs=tuple(h for h in handoffs.get(q.id, []) if h.status == "open"),
        )
        for q in rows
    ]


async def identities_on(session: AsyncSession, channel: str) -> list[Identity]:
    """Every identity on a channel (to find a pseudonymous asker again)."""
    return list(await session.scalars(select(Identity).where(Identity.channel == channel)))


async def organisation_of(session: AsyncSession, person_id: int) -> str | None:
    """The name of a person's organisation, or None."""
    return await session.scalar(
        select(Organisation.name)
        .join(Person, Person.organisation_id == Organisation.id)
        .where(Person.id == person_id)
    )


async def mark_answered(
    session: AsyncSession, question: Question, *, text: str, by: str, at: datetime
) -> None:
    """Record the staff answer and close the question's open handoffs."""
    question.staff_answer = text
    question.answered_by = by
    question.answered_at = at
    await session.execute(
        update(Handoff)
        .where(Handoff.question_id == question.id, Handoff.status == "open")
        .values(status="answered", resolved_at=at)
    )
    await session.flush()


__all__ = [
    "QueuedQuestion",
    "identities_on",
    "mark_answered",
    "organisation_of",
    "queued_question",
    "queued_questions",
]
