"""agent console: who wrote each agent line, private notes, agents' chosen status

`chat_messages.agent_id` names the agent who wrote an agent line (the console labels it
客服小王, also after a transfer); `agent_notes` holds notes agents write for each other on a
session (private notes and transfer notes; never shown to the customer); `agent_presence.status`
is what the agent chose (online / busy / away; NULL: online), which the wait estimate reads.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('chat_messages') as batch:
        batch.add_column(sa.Column('agent_id', BigId, nullable=True))
    with op.batch_alter_table('agent_presence') as batch:
        batch.add_column(sa.Column('status', sa.String(length=8), nullable=True))
    op.create_table(
        'agent_notes',
        sa.Column('id', BigId, nullable=False),
        sa.Column('session_id', BigId, nullable=False),
        sa.Column('ticket_id', BigId, nullable=True),
        sa.Column('staff_id', BigId, nullable=False),
        sa.Column('to_staff_id', BigId, nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['chat_sessions.id'], name=op.f('fk_agent_notes_session_id_chat_sessions')),
        sa.ForeignKeyConstraint(['ticket_id'], ['handoffs.id'], name=op.f('fk_agent_notes_ticket_id_handoffs')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_agent_notes_staff_id_staff_users')),
        sa.ForeignKeyConstraint(['to_staff_id'], ['staff_users.id'],
                                name=op.f('fk_agent_notes_to_staff_id_staff_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_notes')),
    )
    op.create_index('ix_agent_notes_session', 'agent_notes', ['session_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_agent_notes_session', table_name='agent_notes')
    op.drop_table('agent_notes')
    with op.batch_alter_table('agent_presence') as batch:
        batch.drop_column('status')
    with op.batch_alter_table('chat_messages') as batch:
        batch.drop_column('agent_id')
