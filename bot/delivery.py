"""The delivery worker: sends the outbox through each channel's ``Sender``, losing nothing.

It claims due rows under a lease, queues them per channel in a fair ``Lane`` (bot/limits.py),
checks consent again right before sending, sends several at once within the platform's
limits, and records each outcome: sent with the platform's message id; back to pending (a
429 pauses the whole channel for its ``retry_after`` and costs no attempt; 5xx answers and
timeouts back off exponentially with jitter); failed with the reason after ``max_attempts``
or a refusal; skipped when consent or reachability is gone. A refusal meaning the person
cannot be reached (they blocked the bot) marks them unreachable and skips their other
messages. A rejected token stops the worker with a ``ConfigurationError`` naming the setting
and hands every claimed row back.

Crash safety is the order "send, then record" plus the lease: the rows of a worker that died
are claimable again once their lease runs out, so at most the messages in flight (sent, not
yet recorded) go out twice. Outcomes are written in small batches as sends complete, so that
window stays a few messages wide. A live worker renews the lease on everything it holds
(waiting, being sent, sent but not yet recorded) every quarter lease, so no other worker
takes a row over from it, however long a send or a write takes.

By default the limits are kept inside the process: one worker per bot token. Several
workers (on PostgreSQL) share the queue safely; given ``SharedLimits`` (bot/shared_limits.py)
they also share the limits: each wave of slots is reserved on one schedule in the database,
and a 429 one worker gets pauses them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import DeliverySettings
from bot.errors import ConfigurationError, DeliveryError
from bot.limits import Lane, Limits, telegram_group
from bot.messages import Reply, Sender, reply_from_data
from bot.recorder import DeliveryStats, Recorder
from bot.shared_limits import SharedLimits, Want
from storage.engine import SessionFactory
from storage.models import Delivery, utcnow
from storage.outbox import Outcome, as_utc, claim, refusals

logger = logging.getLogger(__name__)

MAX_IN_FLIGHT = 32  # sends under way at once, per channel
HELD_LEASES = 0.5  # a channel holds no more rows than it can send in half a lease
SPILL_LEASES = 0.4  # rows whose chat is busy longer than this share of a lease go back
LEASE_GUARD = 0.25  # a row with less than this share of its lease left is handed back unsent
DB_RETRY_S = 1.0  # wait after the database failed a consent check
LOOKAHEAD_S = 0.25  # slots are taken this far ahead; consent is checked in that time
SLOT_SLACK_S = 0.01  # a send may start this late for its slot (the limits have the margin)
CONSENT_FRESH_S = 1.0  # a consent check this recent still holds at send time
MIN_PAUSE_S = 0.05  # shortest channel pause after a 429
CHARS_PER_MESSAGE = 4000  # roughly where the platforms split a long reply
RESERVE_LEAD_S = 0.02  # shared slots start at least this far ahead (the reservation's own time)
RESERVE_HORIZON_S = 1.0  # shared slots are reserved at most this far ahead
PAUSE_POLL_S = 0.02  # how often a worker with sends under way reads the shared pause
FORGET_AFTER_S = 60.0  # shared chat rows idle this long are dropped (checked as often)
RENEW_LEASES = 0.25  # held rows' leases are renewed this often (share of a lease)


@dataclass(eq=False)
class _Job:
    """A claimed row as the worker holds it (no ORM object crosses a send)."""

    id: int
    person_id: int
    chat_id: str
    category: str | None
    attempts: int
    lease_until: datetime
    last_error: str | None
    reply: Reply
    checked_at: float = float("-inf")  # when consent was last checked (monotonic)


class _Channel:
    """One sender with its lane and bookkeeping."""

    def __init__(self, name: str, sender: Sender, settings: DeliverySettings) -> None:
        self.name = name
        self.sender = sender
        if name == "telegram":
            self.lane: Lane[_Job] = Lane(limits=Limits.telegram(settings), is_group=telegram_group)
        else:  # Slack, and any other channel: one message a second per conversation
            self.lane = Lane(limits=Limits.slack(settings))
        rate = self.lane.limits.per_second
        self.max_held = max(1, min(2 * settings.batch, int(rate * settings.lease_s * HELD_LEASES)))
        self.low_water = max(1, min(settings.batch, self.max_held) // 2)
        self.busy = 0
        self.next_claim = 0.0


def _default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[-64:]


def _weight(reply: Reply) -> int:
    """About how many platform messages a reply takes (long ones are split)."""
    size = len(reply.text) + sum(len(ref.title) + 80 for ref in reply.sources)
    return 1 + size // CHARS_PER_MESSAGE + len(reply.attachments)


class DeliveryWorker:
    """Sends due outbox rows through the senders, within each platform's limits.

    Args:
        sessions: The database's session factory.
        senders: Channel name (``telegram``, ``slack``) -> its started sender. Rows of other
            channels are left in the queue.
        settings: Limits, retries and leases.
        owner: This worker's name in leases (default: host, process id and a random part).
        now: The wall clock for due times and leases (default: UTC now).
        limits: Limits shared with other workers (default: kept in this process only).
    """

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        senders: Mapping[str, Sender],
        settings: DeliverySettings,
        owner: str | None = None,
        now: Callable[[], datetime] | None = None,
        limits: SharedLimits | None = None,
    ) -> None:
        self.owner = (owner or _default_owner())[:64]
        self._sessions = sessions
        self._settings = settings
        self._now = now or utcnow
        self._clock = time.monotonic
        self._wall = time.time  # shared slots are epoch seconds
        self._shared = limits
        self._side: set[asyncio.Task[None]] = set()  # writes of shared pauses
        self._wake = asyncio.Event()
        self._recorder = Recorder(
            sessions=sessions,
            owner=self.owner,
            now=self._now,
            clock=self._clock,
            wake=self._wake.set,
        )
        self._channels = [_Channel(name, s, settings) for name, s in senders.items()]
        self._horizon = settings.lease_s * SPILL_LEASES
        self._held: dict[int, _Job] = {}  # claimed rows in a lane or being sent
        self._tasks: set[asyncio.Task[None]] = set()
        self._quiet_until = 0.0  # after the database failed a consent check
        self._fatal: ConfigurationError | None = None
        self._running = False
        self._once = False  # run_once: database errors propagate instead of being waited out

    # -- public ---------------------------------------------------------------------------------

    @property
    def stats(self) -> DeliveryStats:
        """What this worker did so far."""
        return self._recorder.stats

    async def run_once(self) -> int:
        """Claim due rows once, send them all (waiting for the limits), record the outcomes.

        Rows that would wait for their chat longer than a good share of the lease go back
        to the queue with the time they can go.

        Returns:
            How many rows were finished (sent, failed or skipped).

        Raises:
            ConfigurationError: A channel rejected the bot's token; claimed rows are back
                in the queue, untouched.
        """
        before = self.stats.finished
        await self._cycle(None)
        return self.stats.finished - before

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; then finish the sends under way and hand back the rest.

        Raises:
            ConfigurationError: A channel rejected the bot's token (the queue is intact).
        """
        await self._cycle(stop)

    def notify(self) -> None:
        """Look for due rows now rather than at the next poll (planners just queued some)."""
        for channel in self._channels:
            channel.next_claim = 0.0
        self._wake.set()

    # -- the loop -------------------------------------------------------------------------------

    async def _cycle(self, stop: asyncio.Event | None) -> None:
        if self._running:
            raise RuntimeError("this delivery worker is already running")
        self._running, self._fatal, self._once = True, None, stop is None
        watchers = [asyncio.create_task(self._keep_leases())]
        if stop is not None:
            watchers.append(asyncio.create_task(self._watch(stop)))
        if stop is not None and self._shared is not None:
            watchers.append(asyncio.create_task(self._follow_pauses(self._shared)))
        try:
            await self._loop(stop)
        finally:
            await self._wind_down()
            for watcher in watchers:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            self._running = False
        if self._fatal is not None:
            raise self._fatal

    async def _watch(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def _keep_leases(self) -> None:
        """Renew the lease on every row this worker holds, well before it runs out."""
        every = self._settings.lease_s * RENEW_LEASES
        while True:
            await asyncio.sleep(every)
            ids = list(self._held)
            until = as_utc(self._now()) + timedelta(seconds=self._settings.lease_s)
            try:
                kept = await self._recorder.renew(ids, lease_s=self._settings.lease_s)
            except Exception:
                logger.warning("renewing delivery leases failed; trying again", exc_info=True)
                continue
            lost = {id_ for id_ in ids if id_ not in kept and id_ in self._held}
            for id_ in kept:
                if (job := self._held.get(id_)) is not None:
                    job.lease_until = until
            if lost:  # taken over after a long stall: those still waiting are not sent here
                self._drop(lost)
                logger.warning("%d delivery leases ran out before they were renewed", len(lost))

    def _drop(self, ids: set[int]) -> None:
        """Forget rows another worker took over (those already being sent finish)."""
        for channel in self._channels:
            for job in channel.lane.remove(lambda j: j.id in ids):
                self._held.pop(job.id, None)

    async def _follow_pauses(self, shared: SharedLimits) -> None:
        """While sends are under way, read the pauses other workers wrote after a 429."""
        names = [channel.name for channel in self._channels]
        forget_at = self._clock() + FORGET_AFTER_S
        while True:
            await asyncio.sleep(PAUSE_POLL_S)
            try:
                if self._clock() >= forget_at:
                    forget_at = self._clock() + FORGET_AFTER_S
                    for name in names:
                        await shared.forget_idle(name, self._wall() - FORGET_AFTER_S)
                if not any(channel.busy for channel in self._channels):
                    continue
                found = await shared.paused_until(names)
            except Exception:
                logger.warning("reading the shared pauses failed; trying again", exc_info=True)
                await asyncio.sleep(DB_RETRY_S)
                continue
            offset = self._clock() - self._wall()
            for channel in self._channels:
                until = found.get(channel.name, 0.0) + offset
                if until > self._clock():
                    channel.lane.pause(until)

    async def _loop(self, stop: asyncio.Event | None) -> None:
        once = stop is None
        if once:
            for channel in self._channels:
                if self._clock() >= channel.lane.paused_until:
                    await self._claim(channel)
        while self._fatal is None and not (stop is not None and stop.is_set()):
            self._wake.clear()
            if not once:
                for channel in self._channels:
                    if self._wants_rows(channel):
                        await self._claim(channel)
            await self._dispatch()
            self._recorder.kick()
            if once and not self._held:
                break
            await self._sleep(stop)

    def _wants_rows(self, channel: _Channel) -> bool:
        at = self._claim_at(channel)
        return at is not None and at <= self._clock()

    @staticmethod
    def _claim_at(channel: _Channel) -> float | None:
        """When the channel should claim more rows (None: it holds enough)."""
        if (
            len(channel.lane) >= channel.max_held
            or channel.lane.waiting_chats >= channel.low_water
        ):
            return None
        return max(channel.next_claim, channel.lane.paused_until)

    async def _sleep(self, stop: asyncio.Event | None) -> None:
        """Wait for the next thing to do: a chat or the channel free, a send done, a poll."""
        if stop is not None and stop.is_set():
            return
        now = self._clock()
        until = now + self._settings.idle_poll_s
        for channel in self._channels:
            at = channel.lane.next_at(now)
            if at is not None and channel.busy < MAX_IN_FLIGHT:
                until = min(until, max(at - LOOKAHEAD_S, self._quiet_until))
            claim_at = self._claim_at(channel)
            if stop is not None and claim_at is not None:
                until = min(until, claim_at)
        if self._recorder.waiting and not self._recorder.writing:
            until = min(until, self._recorder.retry_at)
        if until > now:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), until - now)

    # -- claiming -------------------------------------------------------------------------------

    async def _claim(self, channel: _Channel) -> None:
        limit = min(self._settings.batch, channel.max_held - len(channel.lane))
        if limit <= 0:
            return
        try:
            async with self._sessions.begin() as session:
                rows = await claim(
                    session,
                    owner=self.owner,
                    now=self._now(),
                    lease_s=self._settings.lease_s,
                    limit=limit,
                    channel=channel.name,
                )
        except Exception:
            if self._once:
                raise
            logger.exception("claiming %s deliveries failed; trying again later", channel.name)
            channel.next_claim = self._clock() + self._settings.idle_poll_s
            return
        full = len(rows) >= limit
        channel.next_claim = self._clock() + (0.0 if full else self._settings.idle_poll_s)
        self.stats.claimed += len(rows)
        for row in rows:
            self._hold(channel, row)
        self._defer(channel, self._horizon)

    def _hold(self, channel: _Channel, row: Delivery) -> None:
        known = self._held.get(row.id)
        if known is not None:  # our own row, re-claimed after its lease ran out: renewed
            known.lease_until = as_utc(row.lease_until or self._now())
            return
        try:
            reply = reply_from_data(row.payload)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            error = f"unreadable payload ({type(exc).__name__}: {exc})"
            self._put(Outcome(row.id, "failed", row.attempts, error=error))
            return
        if self._recorder.known_unreachable(row.person_id):
            self._put(Outcome(row.id, "skipped", row.attempts, error="unreachable"))
            return
        job = _Job(
            id=row.id,
            person_id=row.person_id,
            chat_id=row.chat_id,
            category=row.category,
            attempts=row.attempts,
            lease_until=as_utc(row.lease_until or self._now()),
            last_error=row.last_error,
            reply=reply,
        )
        self._held[job.id] = job
        channel.lane.add(job.chat_id, job, now=self._clock(), weight=_weight(reply))

    def _defer(self, channel: _Channel, horizon: float) -> None:
        """Hand back the rows that cannot go within ``horizon`` seconds, due when they can."""
        now, wall = self._clock(), self._now()
        for job, at in channel.lane.spill(now, horizon):
            due = wall + timedelta(seconds=at - now)
            self._put(Outcome(job.id, "pending", job.attempts, due_at=due, error=job.last_error))
            self.stats.deferred += 1

    # -- sending --------------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        """Take the slots coming up, check consent for them at once, start each at its slot.

        Slots are taken up to ``LOOKAHEAD_S`` ahead, so the consent query is off the clock:
        each send starts at its own time, whatever the database took.
        """
        now = self._clock()
        if now < self._quiet_until:
            return
        wave: list[tuple[_Channel, _Job, float]] = []
        for channel in self._channels:
            room = MAX_IN_FLIGHT - channel.busy
            while room > 0 and (slot := channel.lane.pop(now, until=now + LOOKAHEAD_S)):
                wave.append((channel, *slot))
                room -= 1
        if not wave:
            return
        if self._shared is not None:
            try:
                wave = await self._reserve(self._shared, wave)
            except Exception:
                for channel, job, _ in wave:
                    channel.lane.add(job.chat_id, job, now=now, first=True)
                if self._once:
                    raise
                logger.exception(
                    "reserving shared send slots failed; nothing is sent until it works"
                )
                self._quiet_until = now + DB_RETRY_S
                return
            if not wave:
                return
        stale = [job for _, job, _ in wave if now - job.checked_at > CONSENT_FRESH_S]
        refused: dict[int, str] = {}
        try:
            # Only a query yields here: with every check fresh, the wave starts without
            # giving the loop away, so its slots cannot pass while other sends run.
            if stale:
                async with self._sessions() as session:
                    refused = await refusals(
                        session, [(job.id, job.person_id, job.category) for job in stale]
                    )
        except Exception:
            for channel, job, _ in wave:
                channel.lane.add(job.chat_id, job, now=now, first=True)
            if self._once:
                raise
            logger.exception("checking consent failed; nothing is sent until it works")
            self._quiet_until = now + DB_RETRY_S
            return
        now, wall = self._clock(), self._now()
        for job in stale:
            job.checked_at = now
        guard = timedelta(seconds=self._settings.lease_s * LEASE_GUARD)
        for channel, job, at in wave:
            reason = refused.get(job.id)
            if reason is None and self._recorder.known_unreachable(job.person_id):
                reason = "unreachable"
            if reason is not None:
                self._put(Outcome(job.id, "skipped", job.attempts, error=reason))
            elif job.lease_until - wall < guard:
                self._put(Outcome(job.id, "pending", job.attempts, error=job.last_error))
                self.stats.deferred += 1
            elif at < now - SLOT_SLACK_S:  # the check took too long: this slot has passed
                channel.lane.add(job.chat_id, job, now=now, first=True)
            else:
                channel.busy += 1
                task = asyncio.create_task(self._send(channel, job, at))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _reserve(
        self, shared: SharedLimits, wave: list[tuple[_Channel, _Job, float]]
    ) -> list[tuple[_Channel, _Job, float]]:
        """Replace the wave's slots by slots on the shared schedule; put back busy chats' rows.

        Every reservation is made before any lane changes, so a failure leaves the wave whole.
        """
        grants = []
        for channel in {c: None for c, _, _ in wave}:
            items = [(job, at) for c, job, at in wave if c is channel]
            wants = [
                Want(job.chat_id, channel.lane.gap(job.chat_id), _weight(job.reply))
                for job, _ in items
            ]
            lead = max(items[0][1] - self._clock(), RESERVE_LEAD_S)
            grant = await shared.reserve(
                channel.name,
                wants,
                interval=channel.lane.interval,
                earliest=self._wall() + lead,
                horizon=RESERVE_HORIZON_S,
            )
            grants.append((channel, items, grant))
        out: list[tuple[_Channel, _Job, float]] = []
        now = self._clock()
        offset = now - self._wall()  # epoch seconds + offset = this process's clock
        for channel, items, grant in grants:
            if grant.paused_until + offset > now:
                channel.lane.pause(grant.paused_until + offset)
            channel.lane.delay(grant.next_at + offset)
            for index, (job, _) in enumerate(items):
                slot = grant.slots.get(index)
                if slot is not None:
                    out.append((channel, job, slot + offset))
                else:
                    channel.lane.add(job.chat_id, job, now=now, first=True)
                    channel.lane.hold(job.chat_id, grant.busy[index] + offset)
        return out

    async def _send(self, channel: _Channel, job: _Job, at: float) -> None:
        try:
            if at > self._clock():
                await asyncio.sleep(at - self._clock())
            # A rejected token or a 429 came in meanwhile; or the process stalled (a GC pass)
            # and every overdue send would go at once, in a burst the platform refuses.
            late = self._clock() - at > SLOT_SLACK_S
            if self._fatal is not None or late or self._clock() < channel.lane.paused_until:
                self._void(channel, job)
                return
            # A shared slot may lie a second ahead: the lease must still cover the send and
            # its record, or another worker could take the row and send it again.
            left = (job.lease_until - self._now()).total_seconds()
            if left < self._settings.lease_s * LEASE_GUARD / 2:
                self._put(Outcome(job.id, "pending", job.attempts, error=job.last_error))
                self.stats.deferred += 1
                return
            message_id = await channel.sender.send(job.chat_id, job.reply)
        except DeliveryError as exc:
            self._refused(channel, job, exc)
        except Exception as exc:  # a bug in a sender must not lose the row
            logger.error("sending delivery %s raised %s", job.id, type(exc).__name__, exc_info=exc)
            self._refused(channel, job, DeliveryError(f"unexpected {type(exc).__name__}"))
        else:
            self._put(Outcome(job.id, "sent", job.attempts + 1, message_id=message_id or None))
        finally:
            channel.busy -= 1
            self._wake.set()

    def _void(self, channel: _Channel, job: _Job) -> None:
        """A slot that may not be used after all: the row waits again, unchanged."""
        now = self._clock()
        if self._fatal is None and channel.lane.paused_until - now <= self._horizon * 0.5:
            channel.lane.add(job.chat_id, job, now=now, first=True)
            return
        due = self._now() + timedelta(seconds=max(0.0, channel.lane.paused_until - now))
        self._put(Outcome(job.id, "pending", job.attempts, due_at=due, error=job.last_error))
        if self._fatal is not None:
            self.stats.released += 1
        else:
            self.stats.deferred += 1

    def _refused(self, channel: _Channel, job: _Job, exc: DeliveryError) -> None:
        wall = self._now()
        if exc.fatal:
            if self._fatal is None:
                logger.error("%s; delivery stops and the queue is kept", exc)
                self._fatal = ConfigurationError(str(exc))
            self._put(Outcome(job.id, "pending", job.attempts, error=job.last_error))
            self.stats.released += 1
            return
        if exc.retry_after is not None:
            wait = max(exc.retry_after, MIN_PAUSE_S)
            channel.lane.pause(self._clock() + wait)
            if self._shared is not None:
                self._share_pause(self._shared, channel.name, self._wall() + wait)
            self.stats.rate_limited += 1
            logger.warning("%s asked to wait %.1fs; the channel pauses", channel.name, wait)
            due = wall + timedelta(seconds=wait)
            self._put(Outcome(job.id, "pending", job.attempts, due_at=due, error=str(exc)))
            if wait > self._horizon * 0.5:
                self._defer(channel, 0.0)
            return
        attempts = job.attempts + 1
        if exc.unreachable:
            self._recorder.unreachable(job.person_id, str(exc))
            self._put(Outcome(job.id, "failed", attempts, error=str(exc)))
            for other in self._channels:
                for gone in other.lane.remove(lambda j: j.person_id == job.person_id):
                    self._put(Outcome(gone.id, "skipped", gone.attempts, error="unreachable"))
        elif exc.permanent:
            self._put(Outcome(job.id, "failed", attempts, error=str(exc)))
        elif attempts >= self._settings.max_attempts:
            error = f"gave up after {attempts} attempts: {exc}"
            self._put(Outcome(job.id, "failed", attempts, error=error))
        else:
            due = wall + timedelta(seconds=self._backoff(attempts))
            self._put(Outcome(job.id, "pending", attempts, due_at=due, error=str(exc)))
            self.stats.retried += 1

    def _share_pause(self, shared: SharedLimits, channel: str, until: float) -> None:
        """Write a pause for the other workers, without holding up this one."""

        async def write() -> None:
            try:
                await shared.pause(channel, until)
            except Exception:
                logger.warning("sharing a %s pause failed", channel, exc_info=True)

        task = asyncio.create_task(write())
        self._side.add(task)
        task.add_done_callback(self._side.discard)

    def _backoff(self, attempts: int) -> float:
        """Exponential, capped, with jitter (half fixed, half random)."""
        settings = self._settings
        delay: float = min(settings.backoff_max_s, settings.backoff_base_s * 2 ** (attempts - 1))
        return delay / 2 + random.uniform(0, delay / 2)

    # -- recording ------------------------------------------------------------------------------

    def _put(self, outcome: Outcome) -> None:
        self._held.pop(outcome.id, None)
        self._recorder.put(outcome)

    async def _wind_down(self) -> None:
        """Let sends under way finish, hand back what was not sent, write every outcome."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._side:
            await asyncio.gather(*self._side, return_exceptions=True)
        for channel in self._channels:
            for job in channel.lane.drain():
                self._put(Outcome(job.id, "pending", job.attempts, error=job.last_error))
                self.stats.released += 1
        await self._recorder.close()


__all__ = ["MAX_IN_FLIGHT", "DeliveryStats", "DeliveryWorker"]
