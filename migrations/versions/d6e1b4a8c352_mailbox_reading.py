"""The sender's mailbox, read for bounces, complaints and replies (issue 19)

Revision ID: d6e1b4a8c352
Revises: a4f7c2d9e813
Create Date: 2026-12-03 10:05:00

"""

import sqlalchemy as sa
from alembic import op

from app.email_counts import install_triggers, recount

SENT = "status = 'sent'"
DELIVERED = "status IN ('sent', 'bounced', 'complained', 'replied')"


# revision identifiers, used by Alembic.
revision = "d6e1b4a8c352"
down_revision = "a4f7c2d9e813"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mailbox_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("smtp_account_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("folders", sa.Text(), nullable=False),
        sa.Column("last_read_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("reading_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["smtp_account_id"], ["smtp_settings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("smtp_account_id"),
    )
    op.create_table(
        "mailbox_folder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["mailbox_id"], ["mailbox_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mailbox_id", "name"),
    )
    op.create_table(
        "mailbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("email_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("status_code", sa.String(length=16), nullable=False),
        sa.Column("hard", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["email_id"], ["email.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["mailbox_id"], ["mailbox_account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mailbox_id", "folder", "uidvalidity", "uid"),
    )
    op.create_index("ix_mailbox_event_email", "mailbox_event", ["email_id"])
    op.create_index("ix_mailbox_event_user_address", "mailbox_event", ["user_id", "address"])
    op.create_index(
        "ix_email_message_id",
        "email",
        ["message_id"],
        postgresql_where=sa.text("message_id IS NOT NULL"),
        sqlite_where=sa.text("message_id IS NOT NULL"),
    )

    _account_sent_index(DELIVERED)
    # A send counted in its quarter hour stays counted when the mailbox later hears of a bounce.
    bind = op.get_bind()
    install_triggers(bind)
    recount(bind)


def _account_sent_index(predicate):
    op.drop_index("ix_email_account_sent", table_name="email")
    op.create_index(
        "ix_email_account_sent",
        "email",
        ["smtp_account_id", "sent_at"],
        postgresql_where=sa.text(predicate),
        sqlite_where=sa.text(predicate),
    )


def downgrade():
    _account_sent_index(SENT)
    op.drop_index("ix_email_message_id", table_name="email")
    op.drop_table("mailbox_event")
    op.drop_table("mailbox_folder")
    op.drop_table("mailbox_account")
