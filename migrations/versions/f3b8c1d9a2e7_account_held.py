"""An account problem only the user can solve holds the account.

Revision ID: f3b8c1d9a2e7
Revises: e5a1c3b7d902
Create Date: 2026-12-02 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f3b8c1d9a2e7"
down_revision = "e5a1c3b7d902"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("smtp_settings") as batch_op:
        batch_op.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("smtp_settings") as batch_op:
        batch_op.drop_column("held")
