"""Redelivery guard: a platform delivery id is claimed once, so it is answered once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedEvent, utcnow


async def claim_event(session: AsyncSession, channel: str, event_id: str) -> bool:
    """Record a delivery id; False when it was seen before.

    One ``INSERT ... ON CONFLICT DO NOTHING``: when two processes get the same update at
    once (webhook redelivery behind a load balancer), the second waits for the first's
    transaction and then finds the id taken, instead of failing on the unique key.
    """
    values = {"channel": channel, "event_id": event_id, "seen_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # any other database: look, then add
        seen = await session.scalar(
            select(ProcessedEvent.event_id).where(
                ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id
            )
        )
        if seen is not None:
            return False
        session.add(ProcessedEvent(**values))
        await session.flush()
        return True
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(maker(ProcessedEvent).values(values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0) == 1)


async def forget_events_before(session: AsyncSession, cutoff: datetime) -> int:
    """Drop delivery ids older than the platforms ever redeliver."""
    result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.seen_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["claim_event", "forget_events_before"]
