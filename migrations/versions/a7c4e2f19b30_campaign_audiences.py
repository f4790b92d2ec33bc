"""Campaigns sent to lists and segments: the lists and segments each campaign goes to

Revision ID: a7c4e2f19b30
Revises: 8cb076668289
Create Date: 2026-12-03 14:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c4e2f19b30"
down_revision = "8cb076668289"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaign_audience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=True),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(list_id IS NULL) <> (segment_id IS NULL)", name=op.f("ck_campaign_audience_one_source")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_audience_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["contact_list.id"],
            name=op.f("fk_campaign_audience_list_id_contact_list"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segment.id"],
            name=op.f("fk_campaign_audience_segment_id_segment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_campaign_audience_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_audience")),
    )
    op.create_index("ix_campaign_audience_campaign_id", "campaign_audience", ["campaign_id"])


def downgrade():
    op.drop_index("ix_campaign_audience_campaign_id", table_name="campaign_audience")
    op.drop_table("campaign_audience")
