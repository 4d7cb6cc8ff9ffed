"""broadcasts and partner scouting

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

Staff broadcasts (with the buttons recipients pressed), the innovation-asset portfolio and
partner-scouting requests with their candidates, and the networks and membership tier of an
organisation (broadcast segments).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "innovation_assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("owner_name", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("partner_type", sa.String(length=32), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("technologies", sa.JSON(), nullable=False),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("therapeutic_areas", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("trl", sa.Integer(), nullable=True),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "external_id"),
    )
    with op.batch_alter_table("innovation_assets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_innovation_assets_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=128), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=128), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("cancelled_by", sa.String(length=128), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broadcasts_status"), ["status"], unique=False)

    op.create_table(
        "scouting_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("technology", sa.Text(), nullable=False),
        sa.Column("partner_type", sa.String(length=32), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("handled_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scouting_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scouting_requests_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scouting_requests_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scouting_requests_status"), ["status"], unique=False)

    op.create_table(
        "broadcast_presses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("button", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcasts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "person_id", "button"),
    )
    with op.batch_alter_table("broadcast_presses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcast_presses_broadcast_id"), ["broadcast_id"], unique=False
        )

    op.create_table(
        "scouting_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("requester_accepted", sa.Boolean(), nullable=False),
        sa.Column("counterpart_accepted", sa.Boolean(), nullable=False),
        sa.Column("shortlisted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("introduced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contract_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["innovation_assets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["opportunity_id"], ["opportunities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["request_id"], ["scouting_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scouting_candidates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scouting_candidates_asset_id"), ["asset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scouting_candidates_opportunity_id"), ["opportunity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scouting_candidates_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scouting_candidates_stage"), ["stage"], unique=False)

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("networks", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("membership_tier", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("membership_tier")
        batch_op.drop_column("networks")

    with op.batch_alter_table("scouting_candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scouting_candidates_stage"))
        batch_op.drop_index(batch_op.f("ix_scouting_candidates_request_id"))
        batch_op.drop_index(batch_op.f("ix_scouting_candidates_opportunity_id"))
        batch_op.drop_index(batch_op.f("ix_scouting_candidates_asset_id"))

    op.drop_table("scouting_candidates")
    with op.batch_alter_table("broadcast_presses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcast_presses_broadcast_id"))

    op.drop_table("broadcast_presses")
    with op.batch_alter_table("scouting_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scouting_requests_status"))
        batch_op.drop_index(batch_op.f("ix_scouting_requests_person_id"))
        batch_op.drop_index(batch_op.f("ix_scouting_requests_organisation_id"))

    op.drop_table("scouting_requests")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcasts_status"))

    op.drop_table("broadcasts")
    with op.batch_alter_table("innovation_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_innovation_assets_organisation_id"))

    op.drop_table("innovation_assets")
