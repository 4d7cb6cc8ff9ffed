"""Bring a database to the newest schema with Alembic, on the app's own async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x636C7573  # PostgreSQL advisory lock held while migrating ("clus")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter: leave out the full-text index, which the models do not describe.

    It is made by hand: on SQLite an FTS5 table (0001); on PostgreSQL a stored
    ``search_vector`` column with its GIN index (0007, written with the chunks since 0008).
    """
    if type_ == "column" and name == "search_vector":
        return False
    if name is None or not name.startswith(("chunks_fts", "ix_chunks_fts", "ix_chunks_search")):
        return True
    return type_ not in ("table", "index")


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def upgrade(engine: AsyncEngine) -> bool:
    """Migrate to the newest revision; returns whether anything was applied."""
    if await current_revision(engine) == head_revision():
        return False
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several processes starting at once on a new database: one migrates, the others
            # wait for its commit and then find nothing left to do.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        await connection.run_sync(_upgrade)
    return True


__all__ = ["alembic_config", "current_revision", "head_revision", "include_object", "upgrade"]
