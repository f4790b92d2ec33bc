"""Email counters kept by triggers (per campaign and status, per user and quarter hour sent); the dashboard indexes they replace are dropped

Revision ID: b3c1d2e4f5a6
Revises: 9b6dae7ef7c1
Create Date: 2026-11-26 09:30:00

"""
from alembic import op
import sqlalchemy as sa

from app.email_counts import install_triggers, recount


# revision identifiers, used by Alembic.
revision = 'b3c1d2e4f5a6'
down_revision = '9b6dae7ef7c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'email_count',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'status'),
    )
    op.create_table(
        'sent_count',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'starts_at'),
    )
    with op.batch_alter_table('email', schema=None) as batch_op:
        batch_op.drop_index('ix_email_user_status')
        batch_op.drop_index('ix_email_user_sent', postgresql_where=sa.text("status = 'sent'"), sqlite_where=sa.text("status = 'sent'"))
        batch_op.drop_index('ix_email_user_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_email_user_failed', ['user_id', 'id'], unique=False, postgresql_where=sa.text("status = 'failed'"), sqlite_where=sa.text("status = 'failed'"))
    bind = op.get_bind()
    install_triggers(bind)
    recount(bind)


def downgrade():
    bind = op.get_bind()
    for trigger in ('email_count_insert', 'email_count_update', 'email_count_delete'):
        op.execute(f'DROP TRIGGER IF EXISTS {trigger}' + (' ON email' if bind.dialect.name == 'postgresql' else ''))
    if bind.dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS email_count_follow()')
    with op.batch_alter_table('email', schema=None) as batch_op:
        batch_op.drop_index('ix_email_user_failed', postgresql_where=sa.text("status = 'failed'"), sqlite_where=sa.text("status = 'failed'"))
        batch_op.create_index('ix_email_user_pending', ['user_id', 'smtp_account_id', 'scheduled_at'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_email_user_status', ['user_id', 'status'], unique=False)
        batch_op.create_index('ix_email_user_sent', ['user_id', 'sent_at'], unique=False, postgresql_where=sa.text("status = 'sent'"), sqlite_where=sa.text("status = 'sent'"))
    op.drop_table('sent_count')
    op.drop_table('email_count')
