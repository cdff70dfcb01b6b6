"""personal data at rest: encrypted ID numbers and phones, revocable staff tokens, a chained audit log

- customers: the ID number and the phone encrypted under the data key (AES-GCM,
  chatbot/security/data_keys.py) and the ID number's keyed hash, which a customer is found by;
  the plaintext columns go. Existing rows are converted with the keys `chatbot db upgrade`
  hands in (the settings' CHATBOT_DATA_KEY; the sandbox's own key in the sandbox).
- one_time_codes.phone and sms_messages.phone become keyed digests. Codes already issued keep
  working (their digest is left empty: nothing reads it); the sandbox inbox's messages are
  deleted (they live 15 minutes anyway).
- staff_users.token_generation and staff_token_revocations: logout and an admin's revoke.
- audit_log: prev_hash and hash, the rows already there chained in id order; triggers refuse
  UPDATE and DELETE (and TRUNCATE on PostgreSQL).
- serving_workers.data_keys: the data keys each worker reads (`chatbot keys rotate` checks).

On SQLite the migrations run with `secure_delete` (env.py), so the pages the plaintext lived in
are overwritten; on PostgreSQL old row versions keep it until `VACUUM FULL customers,
one_time_codes` (docs/security.md, "Personal data at rest").

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09
"""
from alembic import context, op
import sqlalchemy as sa

from chatbot.storage import audit as audit_chain
from chatbot.storage import chain
from chatbot.storage.models import UTCDateTime

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BATCH = 1000
ID_NUMBER, PHONE = 'customers.id_number', 'customers.phone'
APPEND_ONLY = 'audit_log is append-only'


def _data_keys():
    keys = context.config.attributes.get('data_keys')
    if keys is None:
        raise RuntimeError('migration 0013 encrypts personal data: run it with `chatbot db upgrade` '
                           '(which hands in CHATBOT_DATA_KEY), not the bare alembic command')
    return keys


def upgrade() -> None:
    _encrypt_customers(_data_keys())
    _digest_phones()
    _revocable_tokens()
    _chain_audit_log()
    op.add_column('serving_workers', sa.Column('data_keys', sa.String(length=64), nullable=True))


def _encrypt_customers(keys) -> None:
    op.add_column('customers', sa.Column('id_number_encrypted', sa.Text(), nullable=True))
    op.add_column('customers', sa.Column('id_number_hash', sa.String(length=64), nullable=True))
    op.add_column('customers', sa.Column('phone_encrypted', sa.Text(), nullable=True))
    customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('id_number', sa.String),
                         sa.column('phone', sa.String), sa.column('id_number_encrypted', sa.Text),
                         sa.column('id_number_hash', sa.String), sa.column('phone_encrypted', sa.Text))
    bind, last = op.get_bind(), 0
    while rows := bind.execute(sa.select(customers.c.id, customers.c.id_number, customers.c.phone)
                               .where(customers.c.id > last).order_by(customers.c.id).limit(BATCH)).all():
        for row in rows:
            bind.execute(customers.update().where(customers.c.id == row.id).values(
                id_number_encrypted=keys.encrypt(ID_NUMBER, row.id_number),
                id_number_hash=keys.index(ID_NUMBER, row.id_number),
                phone_encrypted=keys.encrypt(PHONE, row.phone)))
        last = rows[-1].id
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_constraint('uq_customers_id_number', type_='unique')
        batch_op.drop_column('id_number')
        batch_op.drop_column('phone')
        for name in ('id_number_encrypted', 'id_number_hash', 'phone_encrypted'):
            batch_op.alter_column(name, existing_type=sa.String(), nullable=False)
        batch_op.create_unique_constraint(op.f('uq_customers_id_number_hash'), ['id_number_hash'])


def _digest_phones() -> None:
    op.add_column('one_time_codes', sa.Column('phone_hash', sa.String(length=64), nullable=True))
    op.execute("UPDATE one_time_codes SET phone_hash = ''")
    with op.batch_alter_table('one_time_codes') as batch_op:
        batch_op.drop_column('phone')
        batch_op.alter_column('phone_hash', existing_type=sa.String(length=64), nullable=False)
    op.execute('DELETE FROM sms_messages')
    with op.batch_alter_table('sms_messages') as batch_op:
        batch_op.drop_index('ix_sms_messages_phone')
        batch_op.drop_column('phone')
        batch_op.add_column(sa.Column('phone_hash', sa.String(length=64), nullable=False))
        batch_op.create_index(batch_op.f('ix_sms_messages_phone_hash'), ['phone_hash'], unique=False)


def _revocable_tokens() -> None:
    op.add_column('staff_users', sa.Column('token_generation', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'staff_token_revocations',
        sa.Column('token_id', sa.String(length=32), nullable=False),
        sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'],
                                name=op.f('fk_staff_token_revocations_staff_id_staff_users')),
        sa.PrimaryKeyConstraint('token_id', name=op.f('pk_staff_token_revocations')),
    )
    op.create_index(op.f('ix_staff_token_revocations_staff_id'), 'staff_token_revocations', ['staff_id'])
    op.create_index(op.f('ix_staff_token_revocations_expires_at'), 'staff_token_revocations', ['expires_at'])


def _chain_audit_log() -> None:
    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('hash', sa.String(length=64), nullable=True))
    log = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('actor', sa.String),
                   sa.column('action', sa.String), sa.column('target', sa.String), sa.column('detail', sa.JSON),
                   sa.column('created_at', UTCDateTime), sa.column('prev_hash', sa.String),
                   sa.column('hash', sa.String))
    bind, last, prev = op.get_bind(), 0, chain.GENESIS
    while rows := bind.execute(sa.select(log).where(log.c.id > last).order_by(log.c.id).limit(BATCH)).all():
        for row in rows:
            own = chain.link_hash(prev, audit_chain.body(row.actor, row.action, row.target, row.detail or {},
                                                         row.created_at))
            bind.execute(log.update().where(log.c.id == row.id).values(prev_hash=prev, hash=own))
            prev = own
        last = rows[-1].id
    with op.batch_alter_table('audit_log') as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(op.f('uq_audit_log_prev_hash'), ['prev_hash'])
        batch_op.create_unique_constraint(op.f('uq_audit_log_hash'), ['hash'])
    _append_only('audit_log')


def _append_only(table: str) -> None:
    """Triggers that refuse changing or removing rows (after any table rebuild of SQLite's)."""
    if op.get_bind().dialect.name == 'sqlite':
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
        return
    op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
               f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$")
    op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
    op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")


def downgrade() -> None:
    keys = _data_keys()
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER audit_log_no_update')
        op.execute('DROP TRIGGER audit_log_no_delete')
    else:
        op.execute('DROP TRIGGER audit_log_no_change ON audit_log')
        op.execute('DROP TRIGGER audit_log_no_truncate ON audit_log')
        op.execute('DROP FUNCTION audit_log_append_only()')
    with op.batch_alter_table('audit_log') as batch_op:
        batch_op.drop_constraint(op.f('uq_audit_log_hash'), type_='unique')
        batch_op.drop_constraint(op.f('uq_audit_log_prev_hash'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    op.drop_column('serving_workers', 'data_keys')
    op.drop_index(op.f('ix_staff_token_revocations_expires_at'), table_name='staff_token_revocations')
    op.drop_index(op.f('ix_staff_token_revocations_staff_id'), table_name='staff_token_revocations')
    op.drop_table('staff_token_revocations')
    with op.batch_alter_table('staff_users') as batch_op:
        batch_op.drop_column('token_generation')
    op.execute('DELETE FROM sms_messages')
    with op.batch_alter_table('sms_messages') as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_messages_phone_hash'))
        batch_op.drop_column('phone_hash')
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=False))
        batch_op.create_index('ix_sms_messages_phone', ['phone'], unique=False)
    with op.batch_alter_table('one_time_codes') as batch_op:
        batch_op.drop_column('phone_hash')
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=False, server_default=''))
    _decrypt_customers(keys)


def _decrypt_customers(keys) -> None:
    op.add_column('customers', sa.Column('id_number', sa.String(length=18), nullable=True))
    op.add_column('customers', sa.Column('phone', sa.String(length=20), nullable=True))
    customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('id_number', sa.String),
                         sa.column('phone', sa.String), sa.column('id_number_encrypted', sa.Text),
                         sa.column('phone_encrypted', sa.Text))
    bind = op.get_bind()
    for row in bind.execute(sa.select(customers.c.id, customers.c.id_number_encrypted,
                                      customers.c.phone_encrypted)).all():
        bind.execute(customers.update().where(customers.c.id == row.id).values(
            id_number=keys.decrypt(ID_NUMBER, row.id_number_encrypted),
            phone=keys.decrypt(PHONE, row.phone_encrypted)))
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_constraint(op.f('uq_customers_id_number_hash'), type_='unique')
        for name in ('id_number_encrypted', 'id_number_hash', 'phone_encrypted'):
            batch_op.drop_column(name)
        batch_op.alter_column('id_number', existing_type=sa.String(length=18), nullable=False)
        batch_op.alter_column('phone', existing_type=sa.String(length=20), nullable=False)
        batch_op.create_unique_constraint('uq_customers_id_number', ['id_number'])
