"""Audiences: contacts, lists, segments and tags; every campaign recipient so far becomes a contact of its user

Revision ID: d81e6c3a5f27
Revises: d6e1b4a8c352
Create Date: 2026-12-03 10:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.audiences.member_counts import install_member_count_triggers

# revision identifiers, used by Alembic.
revision = "d81e6c3a5f27"
down_revision = "d6e1b4a8c352"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("attributes", JSON_DOCUMENT, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_contact_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )
    op.create_index("uq_contact_user_address", "contact", ["user_id", sa.text("lower(address)")], unique=True)
    op.create_index(
        "ix_contact_address_search",
        "contact",
        ["address"],
        postgresql_using="gin",
        postgresql_ops={"address": "gin_trgm_ops"},
    )
    op.create_index("ix_contact_user_id", "contact", ["user_id", "id"])
    op.create_table(
        "contact_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("member_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_contact_list_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_list")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_contact_list_user_id")),
    )
    op.create_table(
        "list_member",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_list_member_contact_id_contact"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["contact_list.id"],
            name=op.f("fk_list_member_list_id_contact_list"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "contact_id", name=op.f("pk_list_member")),
    )
    op.create_index("ix_list_member_contact_id", "list_member", ["contact_id"])
    install_member_count_triggers(op.get_bind())
    op.create_table(
        "segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["contact_list.id"], name=op.f("fk_segment_list_id_contact_list"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_segment_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_segment_user_id")),
    )
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_tag_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_tag_user_id")),
    )
    op.create_table(
        "contact_tag",
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_contact_tag_contact_id_contact"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tag.id"], name=op.f("fk_contact_tag_tag_id_tag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tag_id", "contact_id", name=op.f("pk_contact_tag")),
    )
    op.create_index("ix_contact_tag_contact_id", "contact_tag", ["contact_id"])
    # A contact's history: the emails its user sent its address. A plain CREATE INDEX, not batch mode:
    # on SQLite a batch would copy the email table and lose its triggers.
    op.create_index("ix_email_user_address", "email", ["user_id", sa.text("lower(address)")])
    carry_recipients_over()


def carry_recipients_over():
    """Every address a campaign was given (its recipients, and the emails scheduled from them) becomes a
    contact of the campaign's user, newest data first: one set-based statement per table, whose
    `ON CONFLICT DO NOTHING` skips an address already a contact in any case (running it twice adds
    nothing). The addresses were normalised by the import that saved them."""
    jsonb = "::jsonb" if op.get_bind().dialect.name == "postgresql" else ""
    for table in ("campaign_recipient", "email"):
        op.execute(
            "INSERT INTO contact (user_id, address, name, attributes, source, created_at, updated_at) "
            f"SELECT user_id, address, name, merge_data{jsonb}, 'campaign', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
            f"FROM {table} WHERE true ORDER BY id DESC ON CONFLICT DO NOTHING"
        )


def downgrade():
    op.drop_index("ix_email_user_address", table_name="email")
    op.drop_index("ix_contact_tag_contact_id", table_name="contact_tag")
    op.drop_table("contact_tag")
    op.drop_table("tag")
    op.drop_table("segment")
    op.drop_index("ix_list_member_contact_id", table_name="list_member")
    op.drop_table("list_member")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS list_member_count_follow()")
    op.drop_table("contact_list")
    op.drop_index("ix_contact_user_id", table_name="contact")
    op.drop_index("ix_contact_address_search", table_name="contact", postgresql_using="gin")
    op.drop_index("uq_contact_user_address", table_name="contact")
    op.drop_table("contact")
