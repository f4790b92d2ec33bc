"""Session tokens (a log-out ends every copy of a session cookie) and throttle counters shared by all web processes

Revision ID: 15a0a924e552
Revises: c7e2a9d41f03
Create Date: 2026-12-02 07:20:37.450489

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '15a0a924e552'
down_revision = 'c7e2a9d41f03'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('throttle_counter',
    sa.Column('key', sa.String(length=512), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_throttle_counter'))
    )
    with op.batch_alter_table('throttle_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_counter_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    # Every existing user gets a token of their own: the sessions of the version before end here.
    users = sa.table('user', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_token')

    with op.batch_alter_table('throttle_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttle_counter_expires_at'))

    op.drop_table('throttle_counter')
