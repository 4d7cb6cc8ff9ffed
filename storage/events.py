"""Redelivery guard: a platform delivery id is claimed once, so it is answered once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent, utcnow
from storage.upsert import insert_new


async def claim_event(session: AsyncSession, channel: str, event_id: str) -> bool:
    """Record a delivery id; False when it was seen before.

    One ``INSERT ... ON CONFLICT DO NOTHING``: when two processes get the same update at
    once (webhook redelivery behind a load balancer), the second waits for the first's
    transaction and then finds the id taken, instead of failing on the unique key.
    """
    values = {"channel": channel, "event_id": event_id, "seen_at": utcnow()}
    return await insert_new(session, ProcessedEvent, values, keys=("channel", "event_id"))


async def forget_events_before(session: AsyncSession, cutoff: datetime) -> int:
    """Drop delivery ids older than the platforms ever redeliver."""
    result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.seen_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["claim_event", "forget_events_before"]
