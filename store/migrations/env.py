"""Alembic environment: runs against the engine handed over in config.attributes."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from store.models import Base, UTCDateTime

config = context.config
engine = config.attributes["engine"]


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import our model module: UTCDateTime is a plain DATETIME column in the database.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


# Tables other software keeps in our database, which migrations must neither create nor drop.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # APScheduler's SQLAlchemy job store creates and owns apscheduler_jobs.
    return not (type_ == "table" and name in FOREIGN_TABLES)


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch migrations rebuild a SQLite table (copy, drop, rename); with foreign keys enforced,
        # dropping a table that other rows reference (findings, under reviews) fails. The pragma
        # only takes effect outside a transaction, so it is set before the migration begins.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
        render_item=render_item,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
