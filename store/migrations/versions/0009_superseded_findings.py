"""superseded findings: findings.post_version, the `superseded` state, the `supersede` decision

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00

The unique index on findings gains post_version, so an edited post can be flagged again in the
same category under the same model and rules versions.

Downgrade goes back to what 0008's code would have stored: superseded findings are open again
(the state they were superseded from) and lose their system `supersede` reviews (the audit log
keeps the record); findings of later post versions that share post, category and versions with
an earlier one are folded into the earliest, their reviews and appeals moved onto it, as 0003
did with duplicates, and it takes the state of the one decided last (its spans stay those of
the earliest text); post_version goes back into `detail`.
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OLD_STATES = ('open', 'confirmed', 'dismissed', 'escalated', 'appealed')
NEW_STATES = OLD_STATES + ('superseded',)
OLD_DECISIONS = ('confirm', 'dismiss', 'escalate', 'reopen')
NEW_DECISIONS = OLD_DECISIONS + ('supersede',)
OLD_UNIQUE = 'uq_findings_post_id_category_model_version_rules_version'
NEW_UNIQUE = 'uq_findings_post_id_category_versions'
OLD_KEY = ['post_id', 'category', 'model_version', 'rules_version']
QUEUE_INDEX = 'ix_findings_state_score_created_at'


def _choice(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _change_choice(table, column, name, old, new) -> None:
    """Swap the CHECK constraint of a VARCHAR choice column (SQLite: by rebuilding the table)."""
    if _sqlite():
        with op.batch_alter_table(table, schema=None, recreate='always') as batch_op:
            batch_op.alter_column(
                column, existing_type=_choice(old, name), type_=_choice(new, name), existing_nullable=False
            )
    else:
        op.drop_constraint(op.f(f'ck_{table}_{name}'), table, type_='check')
        op.create_check_constraint(op.f(f'ck_{table}_{name}'), table, sa.column(column).in_(new))


def _queue_index() -> None:
    op.create_index(
        QUEUE_INDEX, 'findings', ['state', sa.text('score DESC'), 'created_at', 'account_id'], unique=False
    )


def upgrade() -> None:
    # Rebuilding findings on SQLite would drop the expression index (reflection skips it): drop
    # it first and create it again afterwards, on both backends alike.
    op.drop_index(QUEUE_INDEX, table_name='findings')
    op.drop_index(OLD_UNIQUE, table_name='findings')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_version', sa.Integer(), server_default='1', nullable=False))
    if _sqlite():
        op.execute(
            "UPDATE findings SET post_version = json_extract(detail, '$.post_version'),"
            " detail = json_remove(detail, '$.post_version')"
            " WHERE json_type(detail, '$.post_version') = 'integer'"
        )
    else:
        op.execute(
            "UPDATE findings SET post_version = (detail->>'post_version')::integer,"
            " detail = (detail::jsonb - 'post_version')::json"
            " WHERE json_typeof(detail) = 'object' AND detail->>'post_version' ~ '^[0-9]{1,9}$'"
        )
    _change_choice('findings', 'state', 'finding_state', OLD_STATES, NEW_STATES)
    _change_choice('reviews', 'decision', 'review_decision', OLD_DECISIONS, NEW_DECISIONS)
    _queue_index()
    op.create_index(NEW_UNIQUE, 'findings', OLD_KEY + ['post_version'], unique=True)


def _fold_later_post_versions() -> None:
    # The old unique index allows one finding per post, category and versions: keep the earliest
    # (what 0008's insert-or-ignore kept), point the others' reviews and appeals at it, drop them.
    same_key = (
        "m.post_id = findings.post_id AND m.category = findings.category"
        " AND m.model_version = findings.model_version AND m.rules_version = findings.rules_version"
    )
    keeper = f"(SELECT MIN(m.id) FROM findings m WHERE {same_key})"
    # The keeper takes the state of the member decided last, so that its state and its latest
    # review (once they are all its own) agree.
    op.execute(
        "UPDATE findings SET version = version + 1, state = (SELECT m.state FROM findings m"
        f" JOIN reviews r ON r.finding_id = m.id WHERE {same_key} ORDER BY r.created_at DESC, r.id DESC"
        f" LIMIT 1) WHERE post_id IS NOT NULL AND id = {keeper}"
        f" AND EXISTS (SELECT 1 FROM findings m WHERE {same_key} AND m.id <> findings.id)"
        f" AND EXISTS (SELECT 1 FROM findings m JOIN reviews r ON r.finding_id = m.id WHERE {same_key})"
    )
    for table in ('reviews', 'appeals'):
        op.execute(
            f"UPDATE {table} SET finding_id = (SELECT {keeper.replace('findings.', 'f.')} FROM findings f"
            f" WHERE f.id = {table}.finding_id) WHERE finding_id IN (SELECT id FROM findings WHERE post_id IS NOT NULL"
            f" AND id <> {keeper})"
        )
    op.execute(f"DELETE FROM findings WHERE post_id IS NOT NULL AND id <> {keeper}")


def downgrade() -> None:
    op.execute(
        "UPDATE findings SET state = 'open', version = version + 1, claimed_by = NULL, claimed_at = NULL"
        " WHERE state = 'superseded'"
    )
    op.execute("DELETE FROM reviews WHERE decision = 'supersede'")
    op.drop_index(NEW_UNIQUE, table_name='findings')
    op.drop_index(QUEUE_INDEX, table_name='findings')
    _fold_later_post_versions()
    if _sqlite():
        op.execute("UPDATE findings SET detail = json_set(detail, '$.post_version', post_version) WHERE post_id IS NOT NULL")
    else:
        op.execute(
            "UPDATE findings SET detail = (detail::jsonb || jsonb_build_object('post_version', post_version))::json"
            " WHERE post_id IS NOT NULL AND json_typeof(detail) = 'object'"
        )
    _change_choice('reviews', 'decision', 'review_decision', NEW_DECISIONS, OLD_DECISIONS)
    _change_choice('findings', 'state', 'finding_state', NEW_STATES, OLD_STATES)
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_column('post_version')
    _queue_index()
    op.create_index(OLD_UNIQUE, 'findings', OLD_KEY, unique=True)
