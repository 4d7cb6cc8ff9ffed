"""Platform sending limits, kept by the delivery worker itself: one fair queue per channel.

A ``Lane`` holds the claimed messages of one channel, queued per chat, and hands them out in
the order their chats become free: never faster than the channel's overall rate, never
closer than the per-chat interval to one chat (a longer one for Telegram groups), and not at
all while the platform asked for a pause (a 429). Chats take turns, so one busy chat does
not hold back the others.

Items are handed out with the time they may go (a virtual schedule: exact spacing, no
bursts), possibly a little ahead, so the caller can check them and start each at its time.
Every limit is kept with a margin (``SAFETY``): the platform counts requests when they
arrive, and arrival times wobble by some milliseconds around when they were sent.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.config import DeliverySettings

T = TypeVar("T")

SAFETY = 0.04  # every limit is kept 4 % under the platform's
PRUNE_AT = 4096  # chats remembered before idle ones are forgotten


@dataclass(frozen=True)
class Limits:
    """One channel's limits, as rates and intervals before the safety margin.

    ``group_interval_s`` applies to group chats instead of ``chat_interval_s``.
    """

    per_second: float
    chat_interval_s: float
    group_interval_s: float

    @classmethod
    def telegram(cls, settings: DeliverySettings) -> Limits:
        """Telegram: about 30/s overall, 1/s per chat, 20/min per group."""
        per_group = 60.0 / settings.telegram_group_per_minute
        return cls(
            per_second=settings.telegram_per_second,
            chat_interval_s=settings.telegram_chat_interval_s,
            group_interval_s=max(settings.telegram_chat_interval_s, per_group),
        )

    @classmethod
    def slack(cls, settings: DeliverySettings) -> Limits:
        """Slack: ``chat.postMessage`` about 1/s per channel, plus an overall cap."""
        return cls(
            per_second=settings.slack_per_second,
            chat_interval_s=settings.slack_channel_interval_s,
            group_interval_s=settings.slack_channel_interval_s,
        )


def telegram_group(chat_id: str) -> bool:
    """Whether a Telegram chat id is a group (groups and supergroups have negative ids)."""
    return chat_id.startswith("-")


@dataclass
class _Chat(Generic[T]):
    free_at: float = 0.0  # when the chat may take its next message
    queue: deque[tuple[T, int]] = field(default_factory=deque)
    turn: bool = False  # has an entry in the lane's heap


class Lane(Generic[T]):
    """The queue of one channel, handing out items as its limits allow.

    Times are seconds of a monotonic clock, passed in by the caller. An item's ``weight`` is
    how many platform messages it will take (a long reply is split): it counts that many
    times against both the overall rate and its chat.

    Args:
        limits: The channel's limits.
        is_group: Which chats are groups (they use ``limits.group_interval_s``).
    """

    def __init__(self, *, limits: Limits, is_group: Callable[[str], bool] | None = None) -> None:
        self.limits = limits
        self._is_group = is_group or (lambda _chat: False)
        self._interval = (1.0 + SAFETY) / limits.per_second
        self._chat_gap = limits.chat_interval_s * (1.0 + SAFETY)
        self._group_gap = limits.group_interval_s * (1.0 + SAFETY)
        self._next = 0.0  # when the channel may take its next message
        self._paused_until = 0.0
        self._chats: dict[str, _Chat[T]] = {}
        self._ready: list[tuple[float, int, str]] = []  # (free at, turn, chat) of waiting chats
        self._turns = itertools.count()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def waiting_chats(self) -> int:
        """How many chats have queued items."""
        return len(self._ready)

    @property
    def paused_until(self) -> float:
        """Until when the platform asked for a pause (0 if never)."""
        return self._paused_until

    def gap(self, chat: str) -> float:
        """Seconds kept between two messages to ``chat`` (margin included)."""
        return self._group_gap if self._is_group(chat) else self._chat_gap

    def add(self, chat: str, item: T, *, now: float, weight: int = 1, first: bool = False) -> None:
        """Queue ``item`` for ``chat`` (at the front of that chat's queue with ``first``)."""
        state = self._chats.get(chat)
        if state is None:
            if len(self._chats) >= PRUNE_AT:
                self._prune(now)
            state = self._chats[chat] = _Chat()
        if not state.turn:
            heapq.heappush(self._ready, (max(state.free_at, now), next(self._turns), chat))
            state.turn = True
        if first:
            state.queue.appendleft((item, weight))
        else:
            state.queue.append((item, weight))
        self._size += 1

    def pop(self, now: float, *, until: float | None = None) -> tuple[T, float] | None:
        """The next item and its slot: the time it may go, not before ``now``.

        The slot is taken (the chat and the channel are busy until after it). Returns None
        when nothing is queued or the next slot is later than ``until`` (default ``now``).
        """
        chat = self._head()
        if chat is None:
            return None
        at = max(now, self._ready[0][0], self._paused_until, self._next)
        if at > (now if until is None else until):
            return None
        heapq.heappop(self._ready)
        state = self._chats[chat]
        item, weight = state.queue.popleft()
        self._size -= 1
        state.free_at = at + self.gap(chat) * weight
        self._next = at + self._interval * weight
        if state.queue:
            heapq.heappush(self._ready, (state.free_at, next(self._turns), chat))
        else:
            state.turn = False
        return item, at

    def next_at(self, now: float) -> float | None:
        """The next slot ``pop`` would give (None: nothing queued)."""
        if self._head() is None:
            return None
        return max(self._ready[0][0], self._paused_until, self._next, now)

    def _head(self) -> str | None:
        """The chat whose turn is next, after dropping turns that went stale."""
        while self._ready:
            free_at, _, chat = self._ready[0]
            state = self._chats[chat]
            if not state.queue:  # emptied by remove() or spill()
                heapq.heappop(self._ready)
                state.turn = False
            elif state.free_at > free_at:  # its queue was emptied and refilled meanwhile
                heapq.heapreplace(self._ready, (state.free_at, next(self._turns), chat))
            else:
                return chat
        return None

    @property
    def interval(self) -> float:
        """Seconds kept between two messages of the channel (margin included)."""
        return self._interval

    def delay(self, until: float) -> None:
        """Give no slot before ``until`` (other workers took the slots until then)."""
        self._next = max(self._next, until)

    def hold(self, chat: str, until: float) -> None:
        """Give ``chat`` no slot before ``until`` (another worker sent to it meanwhile)."""
        state = self._chats.get(chat)
        if state is not None:
            state.free_at = max(state.free_at, until)

    def pause(self, until: float) -> None:
        """Send nothing before ``until`` (the platform answered 429 with a wait)."""
        self._paused_until = max(self._paused_until, until)

    def spill(self, now: float, horizon: float) -> list[tuple[T, float]]:
        """Take out the items whose chat cannot take them before ``now + horizon``.

        Returns:
            Each item with the earliest time it could go, to hand back to the database.
        """
        out: list[tuple[T, float]] = []
        start = max(now, self._paused_until)
        for chat, state in self._chats.items():
            gap = self.gap(chat)
            at = max(state.free_at, start)
            keep = 0
            for _item, weight in state.queue:
                if at > now + horizon:
                    break
                at += gap * weight
                keep += 1
            tail = [state.queue.pop() for _ in range(len(state.queue) - keep)]
            for item, weight in reversed(tail):
                out.append((item, at))
                at += gap * weight
        self._size -= len(out)
        return out

    def remove(self, unwanted: Callable[[T], bool]) -> list[T]:
        """Take out every queued item for which ``unwanted`` is true."""
        out: list[T] = []
        for state in self._chats.values():
            keep: deque[tuple[T, int]] = deque()
            for item, weight in state.queue:
                if unwanted(item):
                    out.append(item)
                else:
                    keep.append((item, weight))
            state.queue = keep
        self._size -= len(out)
        return out

    def drain(self) -> list[T]:
        """Take out every queued item."""
        return self.remove(lambda _item: True)

    def items(self) -> Iterator[T]:
        """The queued items, chat by chat."""
        for state in self._chats.values():
            for item, _ in state.queue:
                yield item

    def _prune(self, now: float) -> None:
        idle = [
            chat
            for chat, s in self._chats.items()
            if not s.queue and not s.turn and s.free_at <= now
        ]
        for chat in idle:
            del self._chats[chat]


__all__ = ["SAFETY", "Lane", "Limits", "telegram_group"]
