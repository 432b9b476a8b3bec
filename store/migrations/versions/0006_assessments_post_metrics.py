"""assessment revisions, post metrics history, registry interaction flag

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02 20:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def _assessments_table() -> None:
    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('veto_reasons', sa.JSON(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('scoring_version', sa.String(length=64), nullable=False),
    sa.Column('model_version', sa.String(length=255), nullable=False),
    sa.Column('rules_version', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_assessments_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('account_id', 'month', 'revision', name=op.f('uq_assessments_account_id_month_revision'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_month_account_id', ['month', 'account_id'], unique=False)


def upgrade() -> None:
    # The 0001 assessments table was a placeholder nothing wrote to: replace it outright.
    op.drop_table('assessments')
    _assessments_table()
    op.create_table('post_metrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('reads', sa.BigInteger(), nullable=True),
    sa.Column('likes', sa.BigInteger(), nullable=True),
    sa.Column('shares', sa.BigInteger(), nullable=True),
    sa.Column('comments', sa.BigInteger(), nullable=True),
    sa.Column('wows', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_metrics_post_id_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_metrics'))
    )
    with op.batch_alter_table('post_metrics', schema=None) as batch_op:
        batch_op.create_index('ix_post_metrics_post_id_recorded_at', ['post_id', 'recorded_at'], unique=False)
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interaction_ok', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('interaction_ok')
    with op.batch_alter_table('post_metrics', schema=None) as batch_op:
        batch_op.drop_index('ix_post_metrics_post_id_recorded_at')
    op.drop_table('post_metrics')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_month_account_id')
    op.drop_table('assessments')
    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('veto_reasons', sa.JSON(), nullable=False),
    sa.Column('scoring_version', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_assessments_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('account_id', 'month', 'scoring_version', name=op.f('uq_assessments_account_id_month_scoring_version'))
    )
