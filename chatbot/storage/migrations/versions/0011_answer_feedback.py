"""answer feedback: 有帮助吗 👍 / 👎 under knowledge answers

One row per answered turn (a second tap replaces the first): the turn, the FAQ entry it
answered with, helpful or not, when. Analysts read it (`chatbot logs export --kind unhelpful`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'answer_feedback',
        sa.Column('id', BigId, nullable=False),
        sa.Column('turn_id', BigId, nullable=False),
        sa.Column('faq_id', sa.String(length=64), nullable=False),
        sa.Column('helpful', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['turn_id'], ['turn_log.id'], name=op.f('fk_answer_feedback_turn_id_turn_log')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_feedback')),
        sa.UniqueConstraint('turn_id', name=op.f('uq_answer_feedback_turn_id')),
    )
    op.create_index(op.f('ix_answer_feedback_faq_id'), 'answer_feedback', ['faq_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_answer_feedback_faq_id'), table_name='answer_feedback')
    op.drop_table('answer_feedback')
