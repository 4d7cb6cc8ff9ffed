"""The migrations build exactly the schema the models describe, and undo it."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage import create_engine, upgrade
from storage.migrate import alembic_config, include_object
from storage.models import Base


async def test_models_and_migrations_agree_and_downgrade_works(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)

        def diff(connection: Connection) -> list[Any]:
            context = MigrationContext.configure(
                connection, opts={"include_object": include_object, "compare_type": True}
            )
            return list(compare_metadata(context, Base.metadata))

        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []

        config = alembic_config(db_url)

        def down(connection: Connection) -> None:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")

        async with engine.begin() as connection:
            await connection.run_sync(down)
        assert await upgrade(engine)  # and up again
    finally:
        await engine.dispose()
