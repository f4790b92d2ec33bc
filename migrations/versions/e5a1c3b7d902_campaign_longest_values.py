"""The longest value of each recipient field, for the trial render at save

Revision ID: e5a1c3b7d902
Revises: 15a0a924e552
Create Date: 2026-12-02 08:05:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "e5a1c3b7d902"
down_revision = "15a0a924e552"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("longest_values", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("longest_values")
