"""The migrated schema equals the models' schema, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from store.migrate import current_revision, head_revision, upgrade_database
from store.models import Base


def test_fresh_migration_matches_the_models(empty_engine: Engine) -> None:
    upgrade_database(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(empty_engine) == head_revision()


def test_migrating_twice_is_harmless(empty_engine: Engine) -> None:
    upgrade_database(empty_engine)
    upgrade_database(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_created_and_migrated_schemas_have_the_same_columns_and_indexes(
    empty_engine: Engine, engine_factory
) -> None:
    upgrade_database(empty_engine)
    created = engine_factory()
    Base.metadata.create_all(created)
    migrated_inspector, created_inspector = inspect(empty_engine), inspect(created)
    for table in Base.metadata.tables:

        def describe(inspector, table=table):
            columns = {(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)}
            indexes = {
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
            }
            uniques = {(u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)}
            foreign = {
                (f["name"], tuple(f["constrained_columns"]), f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            }
            return columns, indexes, uniques, foreign

        assert describe(migrated_inspector) == describe(created_inspector), table


def test_migration_0003_merges_duplicate_findings_and_keeps_their_reviews(empty_engine: Engine) -> None:
    from sqlalchemy import text

    upgrade_database(empty_engine, "0002")
    now = "2026-11-01 00:00:00"
    with empty_engine.begin() as connection:
        for statement in (
            "INSERT INTO regions (code, name, level) VALUES ('150000', 'nmg', 1)",
            "INSERT INTO organizations (id, name, region_code, created_at)"
            f" VALUES (1, 'o', '150000', '{now}')",
            "INSERT INTO accounts (id, platform, handle, name, organization_id, region_code, status, source,"
            f" crawl_interval_minutes, created_at, updated_at) VALUES (1, 'weibo', 'h', 'n', 1, '150000',"
            f" 'active', '{{}}', 360, '{now}', '{now}')",
            "INSERT INTO posts (id, account_id, source_key, text, content_hash, fetched_at, status, version)"
            f" VALUES (1, 1, 'k', 't', 'x', '{now}', 'live', 1)",
            "INSERT INTO users (id, username, password_hash, role, is_active, created_at)"
            f" VALUES (1, 'r', 'h', 'admin', true, '{now}')",
        ):
            connection.execute(text(statement))
        for finding_id in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO findings (id, account_id, post_id, category, score, spans, source, detail,"
                    " model_version, rules_version, state, created_at, updated_at) VALUES"
                    f" ({finding_id}, 1, 1, 'marketing', 0.9, '[]', 'rule', '{{}}', 'm', 'r', 'open',"
                    f" '{now}', '{now}')"
                )
            )
        connection.execute(
            text(
                "INSERT INTO reviews (id, finding_id, reviewer_id, decision, created_at)"
                f" VALUES (1, 3, 1, 'confirm', '{now}')"
            )
        )
    upgrade_database(empty_engine)
    with empty_engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM findings")).scalars().all() == [1]
        assert connection.execute(text("SELECT finding_id FROM reviews")).scalars().all() == [1]
