"""A campaign's preheader: the preview line inboxes show after the subject

Revision ID: f3b8d0c2a417
Revises: f3b8c1d9a2e7
Create Date: 2026-12-02 15:00:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "f3b8d0c2a417"
down_revision = "f3b8c1d9a2e7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preheader", sa.String(length=255), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("preheader")
