"""Sending limits shared by several delivery workers (several ``clusterbot deliver`` processes).

In one process the ``Lane`` (bot/limits.py) keeps every limit by itself. Two workers on one
bot token would each send at the full rate, and a 429 one of them got would not stop the
other. With ``CLUSTERBOT_DELIVERY__SHARED_LIMITS=true`` each worker still queues in its own
lane, but takes every slot from one schedule kept in the database (storage/limits.py): the
channel's rate and each chat's interval hold across processes, and a pause after a 429 is
written there for every worker to see.

The database was chosen over Redis after measuring (docs/benchmarks.md, "Several delivery
workers"): a reservation is one short transaction per wave of sends, a few per second per
worker, well within what PostgreSQL or SQLite do, and it needs no new server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from storage.engine import SessionFactory
from storage.limits import Grant, Want, forget_idle, pause, paused_until, reserve


class SharedLimits(Protocol):
    """Where workers take their send slots and share pauses; times are epoch seconds."""

    async def reserve(
        self,
        channel: str,
        wants: Sequence[Want],
        *,
        interval: float,
        earliest: float,
        horizon: float,
    ) -> Grant:
        """Slots for ``wants`` in order, one ``interval`` apart (busy chats get none)."""
        ...

    async def pause(self, channel: str, until: float) -> None:
        """Make every worker send nothing on ``channel`` before ``until``."""
        ...

    async def paused_until(self, channels: Sequence[str]) -> dict[str, float]:
        """Until when each channel is paused."""
        ...

    async def forget_idle(self, channel: str, before: float) -> None:
        """Drop what is kept about chats idle since before ``before``."""
        ...


class DatabaseLimits:
    """``SharedLimits`` in the database every worker already uses.

    Args:
        sessions: The database's session factory.
    """

    def __init__(self, *, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def reserve(
        self,
        channel: str,
        wants: Sequence[Want],
        *,
        interval: float,
        earliest: float,
        horizon: float,
    ) -> Grant:
        """Slots for ``wants``, in one short transaction (see ``storage.limits.reserve``)."""
        async with self._sessions.begin() as session:
            return await reserve(
                session,
                channel=channel,
                wants=wants,
                interval=interval,
                earliest=earliest,
                horizon=horizon,
            )

    async def pause(self, channel: str, until: float) -> None:
        """Write the pause for every worker to see."""
        async with self._sessions.begin() as session:
            await pause(session, channel=channel, until=until)

    async def paused_until(self, channels: Sequence[str]) -> dict[str, float]:
        """Read the channels' pauses."""
        async with self._sessions() as session:
            return await paused_until(session, channels=channels)

    async def forget_idle(self, channel: str, before: float) -> None:
        """Drop idle chats' rows."""
        async with self._sessions.begin() as session:
            await forget_idle(session, channel=channel, before=before)


__all__ = ["DatabaseLimits", "Grant", "SharedLimits", "Want"]
