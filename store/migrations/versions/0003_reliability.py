"""reliability: findings unique per post, category and versions; crawl status 'interrupted'

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OLD_STATUSES = ('running', 'ok', 'partial', 'failed', 'blocked')
NEW_STATUSES = OLD_STATUSES + ('interrupted',)
FINDING_KEY = ['post_id', 'category', 'model_version', 'rules_version']
FINDING_INDEX = 'uq_findings_post_id_category_model_version_rules_version'


def _status_check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _merge_duplicate_findings() -> None:
    # Two classify runs at once could store the same finding twice: keep the first, point its
    # reviews and appeals at it, drop the copies, so the unique constraint can be created.
    keeper = (
        "(SELECT MIN(k.id) FROM findings k WHERE k.post_id = findings.post_id AND k.category = findings.category"
        " AND k.model_version = findings.model_version AND k.rules_version = findings.rules_version)"
    )
    for table in ('reviews', 'appeals'):
        op.execute(
            f"UPDATE {table} SET finding_id = (SELECT {keeper.replace('findings.', 'f.')} FROM findings f"
            f" WHERE f.id = {table}.finding_id) WHERE finding_id IN (SELECT id FROM findings WHERE post_id IS NOT NULL"
            f" AND id <> {keeper})"
        )
    op.execute(f"DELETE FROM findings WHERE post_id IS NOT NULL AND id <> {keeper}")


def upgrade() -> None:
    _merge_duplicate_findings()
    # A unique index, not a constraint: SQLite would have to rebuild findings, which the foreign
    # keys from reviews and appeals refuse.
    op.create_index(FINDING_INDEX, 'findings', FINDING_KEY, unique=True)
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_crawl_runs_crawl_status'), type_='check')
        batch_op.create_check_constraint('crawl_status', _status_check(NEW_STATUSES))


def downgrade() -> None:
    op.execute("UPDATE crawl_runs SET status = 'failed' WHERE status = 'interrupted'")
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_crawl_runs_crawl_status'), type_='check')
        batch_op.create_check_constraint('crawl_status', _status_check(OLD_STATUSES))
    op.drop_index(FINDING_INDEX, table_name='findings')
