"""web portal: lead role, review claims and versions, reason codes, login throttle, audit labels

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 20:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD_ROLES = ('admin', 'reviewer', 'operator')
NEW_ROLES = ('admin', 'reviewer', 'lead', 'operator')


def _role(values):
    return sa.Enum(*values, name='role', native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table('reason_codes',
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('decision', sa.Enum('confirm', 'dismiss', 'escalate', name='reason_decision', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_reason_codes'))
    )
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('claimed_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_findings_claimed_by_users'), 'users', ['claimed_by'], ['id'])
    op.create_index('ix_findings_state_score_created_at', 'findings', ['state', sa.text('score DESC'), 'created_at', 'account_id'], unique=False)
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('from_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('to_state', sa.String(length=16), nullable=True))
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_note', sa.Text(), nullable=True))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entity_label', sa.String(length=200), nullable=True))
    # The role CHECK constraint gains `lead`.
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('users', schema=None) as batch_op:
            batch_op.alter_column('role', existing_type=_role(OLD_ROLES), type_=_role(NEW_ROLES), existing_nullable=False)
    else:
        op.drop_constraint(op.f('ck_users_role'), 'users', type_='check')
        op.create_check_constraint(op.f('ck_users_role'), 'users', sa.column('role').in_(NEW_ROLES))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('users', schema=None) as batch_op:
            batch_op.alter_column('role', existing_type=_role(NEW_ROLES), type_=_role(OLD_ROLES), existing_nullable=False)
    else:
        op.drop_constraint(op.f('ck_users_role'), 'users', type_='check')
        op.create_check_constraint(op.f('ck_users_role'), 'users', sa.column('role').in_(OLD_ROLES))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('entity_label')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_column('decision_note')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('to_state')
        batch_op.drop_column('from_state')
        batch_op.drop_column('reason_code')
    op.drop_index('ix_findings_state_score_created_at', table_name='findings')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_findings_claimed_by_users'), type_='foreignkey')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('version')
    op.drop_table('login_throttle')
    op.drop_table('reason_codes')
