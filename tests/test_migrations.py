"""Migrations are reversible and match the models, on SQLite and on PostgreSQL (RELIABILITY.md
#16): one head, upgrade from empty, every step undone and redone, the models' tables and checks
exactly what the migrations build, and a downgrade to base leaves nothing behind.

Written with Alembic's own API rather than pytest-alembic (which does not load under pytest 9):
the four properties are pytest-alembic's single-head, upgrade, up/down consistency and
model-definitions-match-DDL tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import tracker.models  # noqa: F401  (registers every table on SQLModel.metadata)
from tracker import db

MODEL_TABLES = set(SQLModel.metadata.tables)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/empty.db"
    return str(request.getfixturevalue("empty_postgres_url"))


@pytest.fixture
def engine_for(empty_url: str) -> Iterator[Engine]:
    engine = db.make_engine(empty_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(db.alembic_config("sqlite://"))


def _revisions_oldest_first() -> list[str]:
    return [rev.revision for rev in reversed(list(_script().walk_revisions("base", "heads")))]


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_migrations_have_exactly_one_head() -> None:
    heads = _script().get_heads()
    assert len(heads) == 1, f"several heads {heads}: merge them with `alembic merge heads`"


def test_upgrade_from_empty_builds_every_model_table(empty_url: str, engine_for: Engine) -> None:
    command.upgrade(db.alembic_config(empty_url), "head")
    assert _tables(engine_for) == MODEL_TABLES | {"alembic_version"}
    assert db.current_revision(engine_for) == _script().get_current_head()


def test_every_migration_can_be_undone_and_redone(empty_url: str, engine_for: Engine) -> None:
    config = db.alembic_config(empty_url)
    previous = "base"
    for revision in _revisions_oldest_first():
        command.upgrade(config, revision)
        tables_after_upgrade = _tables(engine_for)
        command.downgrade(config, previous)
        assert db.current_revision(engine_for) == (None if previous == "base" else previous)
        command.upgrade(config, revision)
        assert _tables(engine_for) == tables_after_upgrade
        assert db.current_revision(engine_for) == revision
        previous = revision


def test_downgrade_to_base_leaves_only_the_alembic_version_table(
    empty_url: str, engine_for: Engine
) -> None:
    config = db.alembic_config(empty_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    assert _tables(engine_for) == {"alembic_version"}
    assert db.current_revision(engine_for) is None


def test_models_match_the_schema_the_migrations_build(empty_url: str, engine_for: Engine) -> None:
    command.upgrade(db.alembic_config(empty_url), "head")
    with engine_for.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], "the models and the migrations differ: write a migration"


def _named_checks(engine: Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {
        table: {check["name"] for check in inspector.get_check_constraints(table) if check["name"]}
        for table in MODEL_TABLES
    }


def test_database_checks_are_the_ones_the_models_declare(
    empty_url: str, engine_for: Engine
) -> None:
    # Autogenerate does not compare CHECK constraints, yet the domain's limits rely on them
    # (enum columns included: each has a check of its allowed values).
    command.upgrade(db.alembic_config(empty_url), "head")
    declared = {
        table.name: {
            str(constraint.name)
            for constraint in table.constraints
            if isinstance(constraint, sa.CheckConstraint) and constraint.name
        }
        for table in SQLModel.metadata.sorted_tables
    }
    assert _named_checks(engine_for) == declared
    assert sum(len(names) for names in declared.values()) > 50


def test_migration_0007_gives_older_audit_events_the_owner_the_app_records_now(
    demo_url: str,
) -> None:
    # The demo was written at head, so each event holds the owner the audit listener recorded.
    # Going back to 0006 drops it; coming back fills it in again from the events' copies.
    engine = db.make_engine(demo_url)
    query = sa.text("SELECT id, programme_id, organisation_id FROM audit_event ORDER BY id")
    try:
        with engine.connect() as connection:
            recorded = connection.execute(query).all()
        config = db.alembic_config(demo_url)
        command.downgrade(config, "0006")
        command.upgrade(config, "head")
        with engine.connect() as connection:
            filled = connection.execute(query).all()
    finally:
        engine.dispose()
    assert len(recorded) > 1000
    assert sum(1 for row in recorded if row.programme_id is not None) > 1000
    assert filled == recorded
