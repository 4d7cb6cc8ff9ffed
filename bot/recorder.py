"""Outcomes of deliveries, written in small batches as sends complete.

The delivery worker hands each outcome to a ``Recorder`` the moment it is known; the
recorder writes whatever has gathered in one transaction, one write at a time (a group
commit). A message sent but not yet written is in flight: after a crash it goes out again.
Batches therefore stay small: they hold what completed while the previous write ran.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from storage.engine import SessionFactory
from storage.outbox import Outcome, mark_unreachable, record, renew

logger = logging.getLogger(__name__)

RETRY_S = 1.0  # wait after the database refused a write
CLOSE_TRIES = 3  # writes tried when the worker stops


@dataclass
class DeliveryStats:
    """What a delivery worker did since it was built."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0  # transient failures rescheduled with backoff
    rate_limited: int = 0  # 429 answers (the channel paused; no attempt counted)
    deferred: int = 0  # handed back to wait for a busy chat or a long pause
    released: int = 0  # handed back unsent at a stop or a fatal error
    unreachable: int = 0  # people found unreachable

    @property
    def finished(self) -> int:
        """Rows that reached an end: sent, failed or skipped."""
        return self.sent + self.failed + self.skipped

    def line(self) -> str:
        """A one-line summary for logs and the CLI."""
        return (
            f"sent {self.sent}, failed {self.failed}, skipped {self.skipped}, "
            f"retried {self.retried}, rate limited {self.rate_limited}, "
            f"deferred {self.deferred}, released {self.released}"
        )


class Recorder:
    """Gathers outcomes and people found unreachable, and writes them in batches.

    Args:
        sessions: The database's session factory.
        owner: The worker's lease name (outcomes are written only for rows it holds).
        now: The wall clock.
        clock: The monotonic clock.
        wake: Called after each write, so the worker looks again.
    """

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        owner: str,
        now: Callable[[], datetime],
        clock: Callable[[], float],
        wake: Callable[[], None],
    ) -> None:
        self.stats = DeliveryStats()
        self._sessions = sessions
        self._owner = owner
        self._now = now
        self._clock = clock
        self._wake = wake
        self._outcomes: list[Outcome] = []
        self._gone: dict[int, str] = {}  # people to mark unreachable at the next write
        self._gone_unwritten: set[int] = set()
        self._task: asyncio.Task[bool] | None = None
        # Writes and lease renewals take turns: run side by side, their transactions could
        # lock the same rows in opposite orders on PostgreSQL.
        self._turn = asyncio.Lock()
        self.retry_at = 0.0  # no write before this (monotonic)

    def put(self, outcome: Outcome) -> None:
        """Note an outcome, to be written with the next batch."""
        self._outcomes.append(outcome)
        if outcome.status == "sent":
            self.stats.sent += 1
        elif outcome.status == "failed":
            self.stats.failed += 1
        elif outcome.status == "skipped":
            self.stats.skipped += 1

    def unreachable(self, person_id: int, reason: str) -> None:
        """Note a person the platform will not deliver to (their pending rows get skipped)."""
        self._gone[person_id] = reason
        self._gone_unwritten.add(person_id)
        self.stats.unreachable += 1

    def known_unreachable(self, person_id: int) -> bool:
        """Whether the person was found unreachable and the database does not say so yet."""
        return person_id in self._gone_unwritten

    @property
    def waiting(self) -> bool:
        """Whether anything is waiting to be written."""
        return bool(self._outcomes or self._gone)

    @property
    def writing(self) -> bool:
        """Whether a write is under way."""
        return self._task is not None and not self._task.done()

    def kick(self) -> None:
        """Start a write of what has gathered, unless one is under way or must wait."""
        if self.writing or not self.waiting or self._clock() < self.retry_at:
            return
        self._task = asyncio.create_task(self.flush())

    async def renew(self, ids: Collection[int], *, lease_s: float) -> set[int]:
        """Extend the lease on ``ids`` and on every outcome not yet written.

        Returns:
            The ids among them this worker still holds.

        Raises:
            Exception: Whatever the database raised; the caller tries again soon.
        """
        async with self._turn:
            wanted = set(ids) | {outcome.id for outcome in self._outcomes}
            if not wanted:
                return set()
            async with self._sessions.begin() as session:
                return await renew(
                    session, wanted, owner=self._owner, now=self._now(), lease_s=lease_s
                )

    async def flush(self) -> bool:
        """Write what has gathered in one transaction; False (kept for later) if it failed."""
        async with self._turn:
            return await self._write()

    async def _write(self) -> bool:
        outcomes, self._outcomes = self._outcomes, []
        gone, self._gone = self._gone, {}
        try:
            async with self._sessions.begin() as session:
                await record(session, outcomes, owner=self._owner, now=self._now())
                if gone:
                    await mark_unreachable(session, gone, now=self._now(), reason="unreachable")
        except Exception:
            logger.exception("recording %d delivery outcomes failed; retrying", len(outcomes))
            self._outcomes[:0] = outcomes
            self._gone = gone | self._gone
            self.retry_at = self._clock() + RETRY_S
            return False
        finally:
            self._wake()
        self._gone_unwritten -= gone.keys()  # from now on the database says so
        return True

    async def close(self) -> None:
        """Finish the write under way and write the rest, trying a few times."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        for attempt in range(CLOSE_TRIES):
            if not self.waiting or await self.flush():
                break
            await asyncio.sleep(RETRY_S * (attempt + 1))
        if self.waiting:
            logger.error(
                "%d delivery outcomes could not be recorded; their rows return when their "
                "lease runs out (sent ones may go out twice)",
                len(self._outcomes),
            )
            self._outcomes.clear()
            self._gone.clear()


__all__ = ["DeliveryStats", "Recorder"]
