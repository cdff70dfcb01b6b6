"""chat_sessions.version: bumped by every write of a session row

The engine answers most turns outside the write lock and then writes them only if the
session is still the one it read (`UPDATE ... WHERE version = :read`); see
docs/architecture.md "A turn".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chat_sessions') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('chat_sessions') as batch:
        batch.drop_column('version')
