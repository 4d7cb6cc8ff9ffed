"""Inserts that meet a row already there, or one another transaction is adding, without failing.

On SQLite and PostgreSQL one ``INSERT ... ON CONFLICT`` statement: when two processes add the
same key at once, the second waits for the first's transaction and then finds the row taken,
instead of failing on the unique key and losing its whole transaction. Any other database
gets the same meaning through a savepoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def _native(session: AsyncSession) -> Any:
    """The dialect's own insert construct (with ``on_conflict_*``), or None."""
    return {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(session.get_bind().dialect.name)


async def insert_new(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    *,
    keys: Sequence[str],
) -> bool:
    """Insert a row unless one with the same ``keys`` exists; True when this one was added."""
    native = _native(session)
    if native is not None:
        statement = native(model).values(dict(values))
        result = await session.execute(statement.on_conflict_do_nothing(index_elements=keys))
        return bool(getattr(result, "rowcount", 0) == 1)
    try:  # a savepoint keeps the caller's transaction usable
        async with session.begin_nested():
            await session.execute(insert(model).values(dict(values)))
    except IntegrityError:
        return False
    return True


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    *,
    keys: Sequence[str],
) -> None:
    """Insert a row, or overwrite the other columns of the one with the same ``keys``."""
    changes = {name: value for name, value in values.items() if name not in keys}
    native = _native(session)
    if native is not None:
        statement = native(model).values(dict(values))
        await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))
        return
    if not await insert_new(session, model, values, keys=keys):
        table: Any = model.__table__
        match = and_(*(table.c[name] == values[name] for name in keys))
        await session.execute(update(table).where(match).values(changes))


__all__ = ["insert_new", "upsert"]
