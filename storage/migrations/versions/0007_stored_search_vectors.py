"""stored search vectors on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

PostgreSQL's lexical search ranked every matching chunk with ``ts_rank`` over a
``to_tsvector`` computed again from the chunk's text, per match and per question: the GIN
expression index found the rows, but the ranking parsed them all. The vector is now a stored
generated column (written once, when a chunk is), with the GIN index on it. SQLite keeps its
FTS5 table and is not touched.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_VECTOR = "to_tsvector('english', coalesce(section, '') || ' ' || text)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER TABLE chunks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({_VECTOR}) "
        "STORED"
    )
    op.execute("CREATE INDEX ix_chunks_search_vector ON chunks USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_chunks_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_chunks_fts ON chunks USING gin ({_VECTOR})")
    op.execute("DROP INDEX IF EXISTS ix_chunks_search_vector")
    op.execute("ALTER TABLE chunks DROP COLUMN IF EXISTS search_vector")
