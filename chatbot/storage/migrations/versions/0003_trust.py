"""trust: web identities, rate events, single-use tokens, code-to-operation binding,
web binding inactivity, sandbox staff marker

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Web user ids already in use (sessions or bindings) are recorded as claimed, so nobody can
take one over by sending it without its token; the demo staff logins the sandbox seed
created are marked as sandbox accounts (refused outside the sandbox).
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
SANDBOX_STAFF = ("agent1", "agent2", "admin", "analyst")


def upgrade() -> None:
    op.create_table('web_identities',
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_web_identities'))
    )
    op.create_table('rate_events',
    sa.Column('id', BigId, nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_events'))
    )
    with op.batch_alter_table('rate_events', schema=None) as batch_op:
        batch_op.create_index('ix_rate_events_key', ['key', 'created_at'], unique=False)
    op.create_table('used_tokens',
    sa.Column('token_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_id', name=op.f('pk_used_tokens'))
    )
    with op.batch_alter_table('used_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_tokens_expires_at'), ['expires_at'], unique=False)
    op.create_table('sms_outbox',
    sa.Column('id', BigId, nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_outbox'))
    )
    with op.batch_alter_table('sms_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_outbox_next_attempt_at'), ['next_attempt_at'], unique=False)
    with op.batch_alter_table('channel_bindings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operation', sa.String(length=64), nullable=True))
    with op.batch_alter_table('turn_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_digest', sa.String(length=64), nullable=True))
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sandbox', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.execute("UPDATE channel_bindings SET last_used_at = bound_at")
    op.execute(
        "INSERT INTO web_identities (user_id, created_at) "
        "SELECT user_id, MIN(created_at) FROM chat_sessions WHERE channel = 'web' GROUP BY user_id"
    )
    op.execute(
        "INSERT INTO web_identities (user_id, created_at) "
        "SELECT user_id, MIN(bound_at) FROM channel_bindings WHERE channel = 'web' "
        "AND user_id NOT IN (SELECT user_id FROM web_identities) GROUP BY user_id"
    )
    staff = sa.table('staff_users', sa.column('username', sa.String), sa.column('sandbox', sa.Boolean))
    op.execute(staff.update().where(staff.c.username.in_(SANDBOX_STAFF)).values(sandbox=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('sandbox')
    with op.batch_alter_table('turn_log', schema=None) as batch_op:
        batch_op.drop_column('text_digest')
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.drop_column('operation')
    with op.batch_alter_table('channel_bindings', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
    op.drop_table('used_tokens')
    op.drop_table('sms_outbox')
    op.drop_table('rate_events')
    op.drop_table('web_identities')
