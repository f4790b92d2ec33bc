"""Trigram index for the report's address search (PostgreSQL's pg_trgm)

Revision ID: c7e2a9d41f03
Revises: b3c1d2e4f5a6
Create Date: 2026-11-26 09:40:00

"""
from alembic import op

from app.database import install_extensions


# revision identifiers, used by Alembic.
revision = 'c7e2a9d41f03'
down_revision = 'b3c1d2e4f5a6'
branch_labels = None
depends_on = None


def upgrade():
    install_extensions(op.get_bind())
    with op.batch_alter_table('email', schema=None) as batch_op:
        batch_op.create_index('ix_email_address_search', ['address'], unique=False, postgresql_using='gin', postgresql_ops={'address': 'gin_trgm_ops'})


def downgrade():
    with op.batch_alter_table('email', schema=None) as batch_op:
        batch_op.drop_index('ix_email_address_search', postgresql_using='gin', postgresql_ops={'address': 'gin_trgm_ops'})
