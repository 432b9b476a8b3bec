"""The migrated schema equals the models' schema, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from store.migrate import current_revision, upgrade_database
from store.models import Base


def test_fresh_migration_matches_the_models(empty_engine: Engine) -> None:
    upgrade_database(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(empty_engine) == "0007"


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
