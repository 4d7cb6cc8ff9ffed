"""Redelivery guard: a platform delivery id is claimed once, so it is answered once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent, utcnow


async def claim_event(session: AsyncSession, channel: str, event_id: str) -> bool:
    """Record a delivery id; False when it was seen before."""
    seen = await session.scalar(
        select(ProcessedEvent.event_id).where(
            ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id
        )
    )
    if seen is not None:
        return False
    session.add(ProcessedEvent(channel=channel, event_id=event_id, seen_at=utcnow()))
    await session.flush()
    return True


async def forget_events_before(session: AsyncSession, cutoff: datetime) -> int:
    """Drop delivery ids older than the platforms ever redeliver."""
    result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.seen_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["claim_event", "forget_events_before"]
