"""wealth and news: products on sale, risk assessments, holdings, chained evidence, news items,
subscriptions and deliveries

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('news_items',
    sa.Column('id', BigId, nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('important', sa.Boolean(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unpublished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_news_items'))
    )
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.create_index('ix_news_items_category_time', ['category', 'published_at'], unique=False)

    op.create_table('wealth_products',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('term_days', sa.Integer(), nullable=False),
    sa.Column('step_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('nav', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_wealth_products'))
    )
    op.create_table('evidence_records',
    sa.Column('id', BigId, nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_evidence_records_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_records')),
    sa.UniqueConstraint('hash', name=op.f('uq_evidence_records_hash')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_evidence_records_prev_hash'))
    )
    with op.batch_alter_table('evidence_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_records_customer_id'), ['customer_id'], unique=False)

    op.create_table('news_deliveries',
    sa.Column('id', BigId, nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('news_id', BigId, nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_news_deliveries_customer_id_customers')),
    sa.ForeignKeyConstraint(['news_id'], ['news_items.id'], name=op.f('fk_news_deliveries_news_id_news_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_news_deliveries')),
    sa.UniqueConstraint('customer_id', 'news_id', name='uq_news_deliveries_item')
    )
    with op.batch_alter_table('news_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_news_deliveries_news_id'), ['news_id'], unique=False)

    op.create_table('news_subscriptions',
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_digest_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_news_subscriptions_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_news_subscriptions'))
    )
    op.create_table('risk_assessments',
    sa.Column('id', BigId, nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=2), nullable=False),
    sa.Column('assessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_risk_assessments_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessments'))
    )
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_risk_assessments_customer_time', ['customer_id', 'assessed_at'], unique=False)

    op.create_table('wealth_holdings',
    sa.Column('id', BigId, nullable=False),
    sa.Column('reference', sa.String(length=24), nullable=False),
    sa.Column('customer_id', BigId, nullable=False),
    sa.Column('product_code', sa.String(length=32), nullable=False),
    sa.Column('account_id', BigId, nullable=False),
    sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('units', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('valued_on', sa.Date(), nullable=False),
    sa.Column('maturity_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('bought_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_wealth_holdings_account_id_accounts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_wealth_holdings_customer_id_customers')),
    sa.ForeignKeyConstraint(['product_code'], ['wealth_products.code'], name=op.f('fk_wealth_holdings_product_code_wealth_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wealth_holdings')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_wealth_holdings_idempotency_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_wealth_holdings_reference'))
    )
    with op.batch_alter_table('wealth_holdings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wealth_holdings_customer_id'), ['customer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('wealth_holdings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wealth_holdings_customer_id'))

    op.drop_table('wealth_holdings')
    with op.batch_alter_table('risk_assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_assessments_customer_time')

    op.drop_table('risk_assessments')
    op.drop_table('news_subscriptions')
    with op.batch_alter_table('news_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_news_deliveries_news_id'))

    op.drop_table('news_deliveries')
    with op.batch_alter_table('evidence_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_records_customer_id'))

    op.drop_table('evidence_records')
    op.drop_table('wealth_products')
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.drop_index('ix_news_items_category_time')

    op.drop_table('news_items')
