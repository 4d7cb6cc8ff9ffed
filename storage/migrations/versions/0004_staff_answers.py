"""staff answers to unanswered questions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

Questions staff answered (the answer, who, when), and an expiry date on documents so a
curated answer stops being used once it may be out of date.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.Date(), nullable=True))

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_answer", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("answered_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
        batch_op.drop_column("answered_by")
        batch_op.drop_column("staff_answer")

    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
