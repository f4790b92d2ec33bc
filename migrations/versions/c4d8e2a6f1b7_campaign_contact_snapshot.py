"""Who a campaign sent to lists and segments mails, taken at schedule, its emails written in chunks after

Revision ID: c4d8e2a6f1b7
Revises: a7c4e2f19b30
Create Date: 2026-12-03 18:30:00

"""

import sqlalchemy as sa
from alembic import op

from app.campaign_contacts import install_trigger

# revision identifiers, used by Alembic.
revision = "c4d8e2a6f1b7"
down_revision = "a7c4e2f19b30"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaign_contact",
        sa.Column("campaign_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("contact_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "contact_id", name=op.f("pk_campaign_contact")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emails_written_at", sa.DateTime(), nullable=True))
    install_trigger(op.get_bind())


def downgrade():
    bind = op.get_bind()
    op.execute("DROP TRIGGER IF EXISTS campaign_contact_drop" + (" ON campaign" if bind.dialect.name == "postgresql" else ""))
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS campaign_contact_drop()")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("emails_written_at")
    op.drop_table("campaign_contact")
