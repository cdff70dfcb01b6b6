"""wechat outbox: WeChat messages whose delivery failed, retried with backoff

One row per undelivered customer-service or template message (its kind, the follower's
openid, the masked text or the template's values as JSON), how often it was tried, when it
may next be tried (claiming a row moves that ahead: a lease, so one worker of many sends it),
the last error, and its status: `pending` until delivered (then the row is deleted) or
`failed` once given up (kept for operators).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'wechat_outbox',
        sa.Column('id', BigId, nullable=False),
        sa.Column('openid', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_outbox')),
    )
    op.create_index(op.f('ix_wechat_outbox_status_next'), 'wechat_outbox', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_wechat_outbox_status_next'), table_name='wechat_outbox')
    op.drop_table('wechat_outbox')
