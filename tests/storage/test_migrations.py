"""The migrations build exactly the schema the models describe, and undo it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage import create_engine, upgrade
from storage.migrate import alembic_config
from storage.models import Base


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith("chunks_fts"))


async def test_models_and_migrations_agree_and_downgrade_works(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)

        def diff(connection: Connection) -> list[Any]:
            context = MigrationContext.configure(
                connection, opts={"include_object": _include, "compare_type": True}
            )
            return list(compare_metadata(context, Base.metadata))

        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []

        config = alembic_config(url)

        def down(connection: Connection) -> None:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")

        async with engine.begin() as connection:
            await connection.run_sync(down)
        assert await upgrade(engine)  # and up again
    finally:
        await engine.dispose()
