"""title-weighted search vectors on PostgreSQL

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

SQLite's FTS5 ranks a match in a document's title 3 times, and in a section heading 1.5
times, a match in the text. PostgreSQL's stored vector held section and text without
weights and no title (a generated column cannot read the documents table), so a question
naming a programme ranked its own page no higher than any page mentioning it in passing, and
many matches tied. The vector is now a plain column written with each document's chunks
(``storage.documents.replace_chunks``), with the title weighted A, the section B and the
text C; existing rows are filled here.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_GENERATED = "to_tsvector('english', coalesce(section, '') || ' ' || text)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE chunks DROP COLUMN search_vector")  # drops its index too
    op.execute("ALTER TABLE chunks ADD COLUMN search_vector tsvector")
    op.execute(
        "UPDATE chunks AS c SET search_vector = "
        "setweight(to_tsvector('english', coalesce(d.title, '')), 'A') || "
        "setweight(to_tsvector('english', coalesce(c.section, '')), 'B') || "
        "setweight(to_tsvector('english', c.text), 'C') "
        "FROM documents AS d WHERE d.id = c.document_id"
    )
    op.execute("CREATE INDEX ix_chunks_search_vector ON chunks USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE chunks DROP COLUMN search_vector")
    op.execute(
        f"ALTER TABLE chunks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({_GENERATED}) "
        "STORED"
    )
    op.execute("CREATE INDEX ix_chunks_search_vector ON chunks USING gin (search_vector)")
