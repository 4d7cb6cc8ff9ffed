"""Queries on questions asked and small key-value facts about the store."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Meta, Question
from storage.upsert import upsert


async def record_question(
    session: AsyncSession,
    *,
    channel: str,
    user_ref: str | None,
    text: str,
    answer: str,
    abstained: bool,
    confidence: float,
    citations: list[dict[str, Any]],
    asked_for: date,
) -> Question:
    """Store a question with its answer and cited sources."""
    question = Question(
        channel=channel,
        user_ref=user_ref,
        text=text,
        answer=answer,
        abstained=abstained,
        confidence=confidence,
        citations=citations,
        asked_for=asked_for,
    )
    session.add(question)
    await session.flush()
    return question


async def get_meta(session: AsyncSession, key: str) -> str | None:
    """A stored fact, or None."""
    return await session.scalar(select(Meta.value).where(Meta.key == key))


async def set_meta(session: AsyncSession, key: str, value: str) -> None:
    """Store a fact, replacing any previous value.

    One upsert: processes starting together on a new database all write the embedding
    model's name at once.
    """
    await upsert(session, Meta, {"key": key, "value": value}, keys=("key",))


__all__ = ["get_meta", "record_question", "set_meta"]
