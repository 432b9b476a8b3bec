"""The migrated schema equals the models' schema, on SQLite and PostgreSQL."""

import pytest
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


def _fill_0008(connection) -> None:
    """A region, an account, two posts, a reviewer, and findings as 0008's code stored them."""
    from sqlalchemy import text

    now = "2026-11-01 00:00:00"
    for statement in (
        "INSERT INTO regions (code, name, level) VALUES ('150000', 'nmg', 1)",
        f"INSERT INTO organizations (id, name, region_code, created_at) VALUES (1, 'o', '150000', '{now}')",
        "INSERT INTO accounts (id, platform, handle, name, organization_id, region_code, status, source,"
        f" crawl_interval_minutes, created_at, updated_at) VALUES (1, 'weibo', 'h', 'n', 1, '150000',"
        f" 'active', '{{}}', 360, '{now}', '{now}')",
        "INSERT INTO posts (id, account_id, source_key, text, content_hash, fetched_at, status, version)"
        f" VALUES (1, 1, 'k1', 't', 'x', '{now}', 'edited', 2)",
        "INSERT INTO posts (id, account_id, source_key, text, content_hash, fetched_at, status, version)"
        f" VALUES (2, 1, 'k2', 't', 'y', '{now}', 'live', 1)",
        "INSERT INTO users (id, username, password_hash, role, is_active, created_at)"
        f" VALUES (1, 'r', 'h', 'reviewer', true, '{now}')",
    ):
        connection.execute(text(statement))
    # id, post, category, detail, state: post 1's marketing finding was made on its second text.
    for finding_id, post_id, category, detail, state in (
        (1, 1, "marketing", '{"rules": ["mk.a"], "post_version": 2}', "open"),
        (2, 2, "privacy", '{"rules": ["pv.id"], "post_version": 1}', "confirmed"),
        (3, 2, "marketing", '{"rules": ["mk.a"]}', "open"),
        (4, None, "unfiled", '{"missing": ["filing_number"]}', "open"),
    ):
        connection.execute(
            text(
                "INSERT INTO findings (id, account_id, post_id, category, score, spans, source, detail,"
                " model_version, rules_version, state, created_at, updated_at, version) VALUES"
                f" ({finding_id}, 1, :post_id, '{category}', 0.9, '[]', 'rule', '{detail}', 'm', 'r',"
                f" '{state}', '{now}', '{now}', 1)"
            ),
            {"post_id": post_id},
        )
    connection.execute(
        text(
            "INSERT INTO reviews (id, finding_id, reviewer_id, decision, created_at, from_state, to_state)"
            f" VALUES (1, 2, 1, 'confirm', '{now}', 'open', 'confirmed')"
        )
    )


def test_migration_0009_backfills_post_version_and_downgrades(empty_engine: Engine) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from store.migrate import downgrade_database

    upgrade_database(empty_engine, "0008")
    with empty_engine.begin() as connection:
        _fill_0008(connection)
    upgrade_database(empty_engine)
    assert current_revision(empty_engine) == "0009"

    def findings(connection) -> dict[int, tuple]:
        rows = connection.execute(text("SELECT id, post_version, state, detail FROM findings ORDER BY id"))
        return {row[0]: (row[1], row[2], _json(row[3])) for row in rows}

    with empty_engine.begin() as connection:
        before = findings(connection)
        # From the detail where it was recorded, else 1; it lives in the column alone now.
        assert {i: v[0] for i, v in before.items()} == {1: 2, 2: 1, 3: 1, 4: 1}
        assert before[1][2] == {"rules": ["mk.a"]} and before[4][2] == {"missing": ["filing_number"]}
        assert before[2][1] == "confirmed"
        # What the new code writes: post 2 edited to its second text, finding 3 superseded by a
        # new marketing finding with the same versions (which the widened unique index allows).
        connection.execute(text("UPDATE posts SET version = 2, status = 'edited' WHERE id = 2"))
        connection.execute(text("UPDATE findings SET state = 'superseded', version = 2 WHERE id = 3"))
        connection.execute(
            text(
                "INSERT INTO findings (id, account_id, post_id, category, score, spans, source, detail,"
                " model_version, rules_version, post_version, state, created_at, updated_at, version)"
                " VALUES (5, 1, 2, 'marketing', 0.8, '[]', 'rule', '{}', 'm', 'r', 2, 'open',"
                " '2026-11-02 00:00:00', '2026-11-02 00:00:00', 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO reviews (id, finding_id, reviewer_id, decision, reason_code, created_at,"
                " from_state, to_state) VALUES (2, 3, 1, 'supersede', 'superseded', '2026-11-02 00:00:00',"
                " 'open', 'superseded')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO reviews (id, finding_id, reviewer_id, decision, created_at, from_state,"
                " to_state) VALUES (3, 5, 1, 'confirm', '2026-11-03 00:00:00', 'open', 'confirmed')"
            )
        )
        connection.execute(text("UPDATE findings SET state = 'confirmed', version = 2 WHERE id = 5"))

    downgrade_database(empty_engine, "0008")
    assert current_revision(empty_engine) == "0008"
    with empty_engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("findings")}
        assert "post_version" not in columns
        rows = connection.execute(text("SELECT id, state, detail FROM findings ORDER BY id")).all()
        after = {row[0]: (row[1], _json(row[2])) for row in rows}
        # The superseded finding is open again, as 0008 left it; the later post version's finding
        # is folded into it (0008 kept one per post, category and versions) with its review, and
        # the state that review gave.
        assert sorted(after) == [1, 2, 3, 4]
        assert after[3] == ("confirmed", {"rules": ["mk.a"], "post_version": 1})
        assert after[1] == ("open", {"rules": ["mk.a"], "post_version": 2})
        assert after[2][0] == "confirmed" and after[4][1] == {"missing": ["filing_number"]}
        reviews = connection.execute(text("SELECT id, finding_id, decision FROM reviews ORDER BY id")).all()
        assert [tuple(r) for r in reviews] == [(1, 2, "confirm"), (3, 3, "confirm")]
    # The old CHECK constraint is back: 0008 knows no superseded state.
    with pytest.raises(IntegrityError), empty_engine.begin() as connection:
        connection.execute(text("UPDATE findings SET state = 'superseded' WHERE id = 1"))
    upgrade_database(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _json(value):
    import json

    return json.loads(value) if isinstance(value, str) else value
