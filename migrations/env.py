"""Alembic environment: runs migrations against the URL in the config (set by tracker.db) or
DATABASE_URL. Imports only the models, never anything that imports Streamlit."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import tracker.models  # noqa: F401  (registers every table on SQLModel.metadata)
from tracker.db import database_url, make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table (runs as plain ALTER on
        # PostgreSQL), so a migration never stops half-way.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Table rebuilds in batch mode must not trip foreign keys half-way. Set on the
            # driver connection: the pragma is ignored inside a transaction.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
