"""posts.links and post_versions.links: a post's outbound links (href + anchor text)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('links', sa.JSON(), nullable=True))
    with op.batch_alter_table('post_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('links', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('post_versions', schema=None) as batch_op:
        batch_op.drop_column('links')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('links')
