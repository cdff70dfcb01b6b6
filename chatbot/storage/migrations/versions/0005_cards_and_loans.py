"""cards and loans: credit terms, statements, installment plans, applications with stages, loans with schedules

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('card_statements',
    sa.Column('id', BigId, nullable=False),
    sa.Column('account_id', BigId, nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('statement_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('new_balance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('minimum_payment', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('paid', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('installed', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_card_statements_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_statements')),
    sa.UniqueConstraint('account_id', 'statement_date', name='uq_card_statements_cycle')
    )
    with op.batch_alter_table('card_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_statements_account_id'), ['account_id'], unique=False)

    op.create_table('credit_terms',
    sa.Column('account_id', BigId, nullable=False),
    sa.Column('statement_day', sa.Integer(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('min_payment_rate', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('temp_limit', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('temp_limit_until', sa.Date(), nullable=True),
    sa.Column('overdue_count', sa.Integer(), nullable=False),
    sa.Column('limit_raised_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credit_terms_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_credit_terms'))
    )
    op.create_table('applications',
    sa.Column('id', BigId, nullable=False),
    sa.Column('reference', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('product_code', sa.String(length=32), nullable=False),
    sa.Column('product_name', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('term_months', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('card_id', BigId, nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_applications_card_id_cards')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_applications_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_applications_idempotency_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_applications_reference'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_applications_kind_stage', ['kind', 'stage'], unique=False)

    op.create_table('installment_plans',
    sa.Column('id', BigId, nullable=False),
    sa.Column('account_id', BigId, nullable=False),
    sa.Column('statement_id', BigId, nullable=True),
    sa.Column('entry_id', BigId, nullable=True),
    sa.Column('description', sa.String(length=128), nullable=False),
    sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('terms', sa.Integer(), nullable=False),
    sa.Column('fee_rate', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('fee_per_term', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('principal_per_term', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('terms_billed', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_installment_plans_account_id_accounts')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_installment_plans_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['statement_id'], ['card_statements.id'], name=op.f('fk_installment_plans_statement_id_card_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installment_plans')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_installment_plans_entry_id')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_installment_plans_idempotency_key')),
    sa.UniqueConstraint('statement_id', name=op.f('uq_installment_plans_statement_id'))
    )
    with op.batch_alter_table('installment_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_installment_plans_account_id'), ['account_id'], unique=False)

    op.create_table('application_events',
    sa.Column('id', BigId, nullable=False),
    sa.Column('application_id', BigId, nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_events_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_events'))
    )
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_events_application_id'), ['application_id'], unique=False)

    op.create_table('loans',
    sa.Column('id', BigId, nullable=False),
    sa.Column('reference', sa.String(length=24), nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('account_id', BigId, nullable=False),
    sa.Column('repay_account_id', BigId, nullable=False),
    sa.Column('application_id', BigId, nullable=True),
    sa.Column('product_code', sa.String(length=32), nullable=False),
    sa.Column('product_name', sa.String(length=64), nullable=False),
    sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('annual_rate', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=24), nullable=False),
    sa.Column('disbursed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_loans_account_id_accounts')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_loans_application_id_applications')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loans_customer_id_customers')),
    sa.ForeignKeyConstraint(['repay_account_id'], ['accounts.id'], name=op.f('fk_loans_repay_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loans')),
    sa.UniqueConstraint('account_id', name=op.f('uq_loans_account_id')),
    sa.UniqueConstraint('application_id', name=op.f('uq_loans_application_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_loans_reference'))
    )
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loans_customer_id'), ['customer_id'], unique=False)

    op.create_table('loan_payments',
    sa.Column('id', BigId, nullable=False),
    sa.Column('loan_id', BigId, nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('payment', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('interest', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('remaining', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_loan_payments_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_payments')),
    sa.UniqueConstraint('loan_id', 'number', name='uq_loan_payments_period')
    )
    with op.batch_alter_table('loan_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loan_payments_loan_id'), ['loan_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('loan_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loan_payments_loan_id'))

    op.drop_table('loan_payments')
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loans_customer_id'))

    op.drop_table('loans')
    with op.batch_alter_table('application_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_events_application_id'))

    op.drop_table('application_events')
    with op.batch_alter_table('installment_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_installment_plans_account_id'))

    op.drop_table('installment_plans')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_kind_stage')
        batch_op.drop_index(batch_op.f('ix_applications_customer_id'))

    op.drop_table('applications')
    op.drop_table('credit_terms')
    with op.batch_alter_table('card_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_statements_account_id'))

    op.drop_table('card_statements')
