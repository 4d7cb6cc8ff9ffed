"""One message at a time per person: their second message waits until the first is answered.

Adapters hand over messages concurrently (python-telegram-bot runs several updates at once,
bolt one task per event), and a person who taps a button twice or types while the bot is
still answering sends two at once. Handled side by side, the two would read the same flow
step and both write it, or answer out of order. Different people never wait for each other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class Turns:
    """Keyed locks that exist only while someone holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for ``key``'s turn (first come, first served) and keep it inside the block."""
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        """How many keys are held or waited for now."""
        return len(self._locks)


__all__ = ["Turns"]
