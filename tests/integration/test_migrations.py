"""Migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from dom.adapters.tables import metadata
from dom.services.schema import is_current, migrate


def test_an_empty_database_migrates_to_head_and_matches_the_models(engine: Engine) -> None:
    assert is_current(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    assert is_current(engine)
