"""presence and messages: agents online (for wait estimates), messages left outside service hours

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('agent_presence',
    sa.Column('staff_id', BigId, nullable=False),
    sa.Column('stream_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_agent_presence_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('staff_id', name=op.f('pk_agent_presence'))
    )
    op.create_table('handoff_messages',
    sa.Column('ticket_id', BigId, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message_id', BigId, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_from', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['chat_messages.id'], name=op.f('fk_handoff_messages_message_id_chat_messages')),
    sa.ForeignKeyConstraint(['ticket_id'], ['handoffs.id'], name=op.f('fk_handoff_messages_ticket_id_handoffs')),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_handoff_messages'))
    )


def downgrade() -> None:
    op.drop_table('handoff_messages')
    op.drop_table('agent_presence')
