"""Whether a failed email failed for good (refused, or unbuildable) or gave up on temporary failures

Revision ID: a4f7c2d9e813
Revises: f3b8d0c2a417
Create Date: 2026-12-02 15:05:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "a4f7c2d9e813"
down_revision = "f3b8d0c2a417"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, not batch mode: on SQLite a batch would copy the table and lose its triggers.
    op.add_column(
        "email", sa.Column("permanent_failure", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    # The emails that already failed for good: a 5xx reply, or a message that could not be built.
    op.execute(
        "UPDATE email SET permanent_failure = true WHERE status = 'failed' AND ("
        "last_smtp_code BETWEEN 500 AND 599 OR "
        "(last_smtp_code IS NULL AND last_smtp_message LIKE 'The message could not be built%'))"
    )


def downgrade():
    op.drop_column("email", "permanent_failure")
