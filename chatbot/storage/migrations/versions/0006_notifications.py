"""notifications: one row per event told to a customer (application stages, statements due soon)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('notices',
    sa.Column('id', BigId, nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('template', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('delivered_to', sa.JSON(), nullable=False),
    sa.Column('push_status', sa.String(length=16), nullable=True),
    sa.Column('push_to', sa.JSON(), nullable=False),
    sa.Column('push_attempts', sa.Integer(), nullable=False),
    sa.Column('push_claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('push_error', sa.Text(), nullable=True),
    sa.Column('event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_notices_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('source', 'subject_id', 'event', name='uq_notices_event')
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_notices_push', ['push_status', 'push_claimed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_push')
        batch_op.drop_index(batch_op.f('ix_notices_customer_id'))
        batch_op.drop_index(batch_op.f('ix_notices_created_at'))

    op.drop_table('notices')
