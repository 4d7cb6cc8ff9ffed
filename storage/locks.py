"""Locks held across processes for one-off work, such as the first start's demo ingest.

Several ``clusterbot serve`` processes started together on an empty store would each ingest
the demo corpus. Holding this lock, one does; the others wait, look again and find it done.
On PostgreSQL it is an advisory lock on a connection of its own; on SQLite (processes on one
machine) an exclusive lock on a file beside the database. ``file_held`` is that file lock on
its own, for stores that live in a folder (the embedded vector store's first opening).
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

try:
    import fcntl
except ImportError:  # Windows: one process per store is all that is supported there
    fcntl = None  # type: ignore[assignment]


def lock_key(name: str) -> int:
    """The advisory lock number for ``name``, the same in every process."""
    return zlib.crc32(f"clusterbot:{name}".encode())


@contextlib.asynccontextmanager
async def held(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Wait until no other process holds ``name``, and hold it inside the block."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            key = {"key": lock_key(name)}
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    path = Path(database).with_name(f"{Path(database).name}.{name}.lock")
    with contextlib.ExitStack() as stack:
        # The wait happens in a thread, so the event loop keeps serving meanwhile.
        await asyncio.to_thread(stack.enter_context, file_held(path))
        yield


@contextlib.contextmanager
def file_held(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if missing), blocking until free.

    Without ``fcntl`` (Windows) it holds nothing: one process per store is assumed there.
    """
    if fcntl is None:
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


__all__ = ["file_held", "held", "lock_key"]
