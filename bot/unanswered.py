"""The unanswered-questions queue: staff see what the bot could not answer, and answer once.

An answer does three things in one transaction: it marks the question answered, stores the
answer as a curated public document (``curated:question-<id>``) that stops being used after
its expiry date, and queues a notice to the person who asked (through the outbox). The
curated document's vectors are written after the commit when a vector index is at hand;
otherwise lexical search finds it at once and the next start embeds it (``reconcile``).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.messages import Reply, reply_to_data
from ingest.chunk import Chunker, embedding_text
from ingest.types import ParsedItem, Section
from knowledge.answer import user_reference
from knowledge.vectors import VectorIndex
from storage.documents import chunks_by_ids, get_or_create_source, replace_chunks
from storage.engine import SessionFactory
from storage.models import Document, Question, utcnow
from storage.outbox import enqueue
from storage.people import audit
from storage.staff_queue import (
    QueuedQuestion,
    identities_on,
    mark_answered,
    organisation_of,
    queued_question,
    queued_questions,
)

#: How long a curated answer is used unless staff say otherwise.
DEFAULT_EXPIRY_DAYS = 180
#: The longest answer accepted (a curated answer is read in a chat, not a report).
MAX_ANSWER_CHARS = 4000
_KIND = "document"


@dataclass(frozen=True)
class QueueItem:
    """One question waiting for staff, with the context they need to answer it."""

    id: int
    asked_at: datetime
    channel: str
    question: str
    answer_given: str
    reasons: tuple[str, ...]
    citations: tuple[str, ...]
    organisation: str | None
    handoffs: int
    down_votes: int


@dataclass(frozen=True)
class Answered:
    """What answering a queued question did."""

    question_id: int
    source: str
    document_id: int
    expires_at: date
    notified: int


def curated_uri(question_id: int) -> str:
    """The source URI of the curated answer to a question."""
    return f"curated:question-{question_id}"


async def list_unanswered(sessions: SessionFactory, *, limit: int = 50) -> list[QueueItem]:
    """The queue, oldest first, each question once with its context."""
    async with sessions() as session:
        entries = await queued_questions(session, limit=limit)
        return [await _item(session, entry) for entry in entries]


async def _item(session: AsyncSession, entry: QueuedQuestion) -> QueueItem:
    question = entry.question
    chunk_ids = [str(c.get("chunk_id")) for c in question.citations if isinstance(c, dict)]
    titles = {c.id: c.document.title for c in await chunks_by_ids(session, chunk_ids)}
    citations = tuple(dict.fromkeys(titles.get(cid, "(no longer on record)") for cid in chunk_ids))
    organisation = next(
        (h.context.get("organisation") for h in entry.handoffs if h.context.get("organisation")),
        None,
    )
    if organisation is None:
        asker = await _asker(session, question)
        if asker is not None:
            organisation = await organisation_of(session, asker[0])
    return QueueItem(
        id=question.id,
        asked_at=question.asked_at,
        channel=question.channel,
        question=question.text,
        answer_given=question.answer,
        reasons=entry.reasons,
        citations=citations,
        organisation=organisation,
        handoffs=len(entry.handoffs),
        down_votes=entry.down_votes,
    )


async def _asker(session: AsyncSession, question: Question) -> tuple[int, str | None] | None:
    """The person who asked (id and private chat), found again from the pseudonym."""
    if question.user_ref is None:
        return None
    for identity in await identities_on(session, question.channel):
        if user_reference(identity.channel, identity.external_id) == question.user_ref:
            return identity.person_id, identity.chat_id
    return None


def expiry(today: date, given: str | date | None) -> date:
    """The expiry date of a curated answer: ``given`` (a date or YYYY-MM-DD) or the default.

    Raises:
        UserError: ``given`` is not a date, or is not after ``today``.
    """
    if given is None:
        return today + timedelta(days=DEFAULT_EXPIRY_DAYS)
    if isinstance(given, str):
        try:
            given = date.fromisoformat(given.strip())
        except ValueError:
            raise UserError(f"The expiry date {given!r} is not a date like 2027-06-30.") from None
    if given <= today:
        raise UserError(f"The expiry date {given.isoformat()} must be after today.")
    return given


async def answer_question(
    sessions: SessionFactory,
    *,
    question_id: int,
    text: str,
    actor: str,
    today: date,
    expires: str | date | None = None,
    index: VectorIndex | None = None,
    chunker: Chunker | None = None,
) -> Answered:
    """Answer a queued question once: curated source, question marked, asker notified.

    Raises:
        UserError: the answer is empty or too long, the expiry date is bad, or the question
            is unknown, not in the queue, or already answered.
    """
    text = text.strip()
    if not text:
        raise UserError("The answer is empty: write it after the question number.")
    if len(text) > MAX_ANSWER_CHARS:
        raise UserError(f"The answer is too long ({len(text)} characters, at most 4000).")
    until = expiry(today, expires)
    chunker = chunker or Chunker()
    uri = curated_uri(question_id)
    async with sessions.begin() as session:
        entry = await queued_question(session, question_id)
        if entry is None:
            raise UserError(f"There is no question #{question_id} waiting for an answer.")
        question = entry.question
        if question.answered_at is not None:
            raise UserError(
                f"Question #{question_id} was already answered by {question.answered_by}."
            )
        item = ParsedItem(
            external_id="answer",
            title=question.text[:300],
            sections=(Section(heading=None, text=text),),
        )
        chunks = chunker.chunks(item, source_uri=uri)
        source = await get_or_create_source(session, uri=uri, audience="public", fmt="curated")
        document = Document(
            source_id=source.id,
            external_id=item.external_id,
            title=item.title,
            audience="public",
            kind=_KIND,
            content_hash=hashlib.sha256(f"{item.title}\x00{text}".encode()).hexdigest(),
            chars=len(text),
            expires_at=until,
        )
        session.add(document)
        await session.flush()
        await replace_chunks(session, document, chunks)
        await mark_answered(session, question, text=text, by=actor, at=utcnow())
        notified = await _notify(session, entry, text)
        await audit(
            session,
            actor=actor,
            action="question.answer",
            subject=f"question:{question_id}",
            detail={"expires_at": until.isoformat(), "notified": notified},
        )
        document_id = document.id
    if index is not None:
        texts = [embedding_text(item.title, c.section, c.text) for c in chunks]
        vectors = await asyncio.to_thread(index.embedder.embed_array, texts)
        await asyncio.to_thread(
            index.upsert,
            ids=[c.vector_id or c.id for c in chunks],
            vectors=vectors,
            metadatas=[{"audience": "public", "kind": _KIND} for _ in chunks],
        )
    return Answered(
        question_id=question_id,
        source=uri,
        document_id=document_id,
        expires_at=until,
        notified=notified,
    )


async def _notify(session: AsyncSession, entry: QueuedQuestion, text: str) -> int:
    """Queue the answer to the asker and to everyone who handed the question over."""
    question = entry.question
    targets: dict[int, tuple[str, str]] = {}
    asker = await _asker(session, question)
    if asker is not None and asker[1]:
        targets[asker[0]] = (question.channel, asker[1])
    for handoff in entry.handoffs:
        targets.setdefault(handoff.person_id, (handoff.channel, handoff.chat_id))
    reply = Reply(
        f"The cluster team answered your question “{question.text[:200]}”:\n\n{text}",
    )
    sent = 0
    for person_id, (channel, chat_id) in targets.items():
        sent += await enqueue(
            session,
            person_id=person_id,
            channel=channel,
            chat_id=chat_id,
            kind="notice",
            item_key=f"question:{question.id}",
            category=None,
            payload=reply_to_data(reply),
        )
    return sent


_REASONS = {"declined": "declined", "thumbs_down": "👎", "handed_off": "asked for a person"}


def describe(item: QueueItem) -> str:
    """One queued question as a few lines for staff."""
    why = ", ".join(_REASONS.get(r, r) for r in item.reasons)
    lines = [
        f"#{item.id} ({item.asked_at:%Y-%m-%d}, {item.channel}, {why})",
        f"Q: {item.question}",
        f"Bot said: {item.answer_given[:300]}",
    ]
    if item.citations:
        lines.append("Sources: " + "; ".join(item.citations))
    if item.organisation:
        lines.append(f"Organisation: {item.organisation}")
    return "\n".join(lines)


__all__ = [
    "DEFAULT_EXPIRY_DAYS",
    "MAX_ANSWER_CHARS",
    "Answered",
    "QueueItem",
    "answer_question",
    "curated_uri",
    "describe",
    "expiry",
    "list_unanswered",
]
