"""Analysts: the intent ranking of each turn, the annotation overlay, serving workers

`turn_log.ranking` keeps the model's three best intents so `chatbot logs export` can show
them; `annotations` holds analysts' labels (docs/analysts.md); `serving_workers` says which
model version each serving process answers with.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('turn_log') as batch:
        batch.add_column(sa.Column('ranking', sa.JSON(), nullable=True))
    op.create_table(
        'annotations',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('text_key', sa.String(64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('label', sa.String(64), nullable=False),
        sa.Column('faq_id', sa.String(64), nullable=True),
        sa.Column('turn_id', sa.BigInteger(), nullable=True),
        sa.Column('source', sa.String(16), nullable=False),
        sa.Column('annotated_by', sa.String(128), nullable=False),
        sa.Column('annotated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_annotations'),
        sa.UniqueConstraint('text_key', name='uq_annotations_text_key'),
    )
    op.create_index('ix_annotations_label', 'annotations', ['label'])
    op.create_index('ix_annotations_turn_id', 'annotations', ['turn_id'])
    op.create_index('ix_annotations_annotated_at', 'annotations', ['annotated_at'])
    op.create_table(
        'serving_workers',
        sa.Column('worker_id', sa.String(128), nullable=False),
        sa.Column('host', sa.String(128), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('model_version', sa.String(64), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('worker_id', name='pk_serving_workers'),
    )
    op.create_index('ix_serving_workers_seen_at', 'serving_workers', ['seen_at'])


def downgrade() -> None:
    op.drop_table('serving_workers')
    op.drop_table('annotations')
    with op.batch_alter_table('turn_log') as batch:
        batch.drop_column('ranking')
