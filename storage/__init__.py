"""Storage: SQLAlchemy models, the engine, migrations and the queries on them.

Query functions take a session first and never commit; the caller owns the transaction.
"""

from storage.engine import SessionFactory, create_engine, is_sqlite, session_factory
from storage.migrate import current_revision, head_revision, upgrade

__all__ = [
    "SessionFactory",
    "create_engine",
    "current_revision",
    "head_revision",
    "is_sqlite",
    "session_factory",
    "upgrade",
]
