"""Storage: the engine from DATABASE_URL, sessions for reading and writing, SQLite pragmas,
and migration to the Alembic head."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tracker import audit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_PATH = Path("data") / "tracker.db"
# Milliseconds a SQLite writer waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000
_WRITE = "tracker_write"


def database_url() -> str:
    """DATABASE_URL, or the SQLite file data/tracker.db under the working directory."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{DEFAULT_DATABASE_PATH}"
    # Plain postgres URLs get the psycopg 3 driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default: database_url()). SQLite gets WAL, foreign keys, a busy
    timeout and BEGIN IMMEDIATE for write sessions, so several writers queue instead of failing."""
    url = url or database_url()
    if url.startswith("sqlite"):
        _prepare_sqlite_file(sa.make_url(url))
        engine = sa.create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def sqlite_file(url: sa.URL) -> Path | None:
    """The file a SQLite URL opens (a plain path, or a `file:` URI with `?uri=true`), or None
    for an in-memory database."""
    path = url.database or ""
    mode = ""
    if url.query.get("uri") in ("true", "1") and path.startswith("file:"):
        parts = urllib.parse.urlsplit(path)
        path = urllib.parse.unquote(parts.path)
        mode = str(url.query.get("mode") or "")
    if not path or path == ":memory:" or mode == "memory":
        return None
    return Path(path)


def _prepare_sqlite_file(url: sa.URL) -> None:
    """Make the database's folder; the file itself is made on the first connection."""
    path = sqlite_file(url)
    if path is not None and url.query.get("mode") != "ro":
        path.parent.mkdir(parents=True, exist_ok=True)


def _create_owner_only(url: sa.URL) -> None:
    """Before SQLite opens the file: create it readable by its owner only (0600), where SQLite
    would make it 0644, world-readable (it gives the -wal and -shm files the database file's
    mode, so they follow). A file that exists keeps its mode (an administrator may have chosen
    it); -wal and -shm files left over wider than it are narrowed to it."""
    path = sqlite_file(url)
    if path is None or url.query.get("mode") == "ro":
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    allowed = stat.S_IMODE(path.stat().st_mode)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        with contextlib.suppress(FileNotFoundError, PermissionError):
            mode = stat.S_IMODE(side.stat().st_mode)
            if mode & ~allowed:
                side.chmod(mode & allowed)


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        _create_owner_only(engine.url)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN, so writes can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A write takes the write lock up front: no deadlock-prone upgrade from a read lock.
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextlib.contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading. Objects stay usable after it closes."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextlib.contextmanager
def write_session(engine: Engine, *, actor: str) -> Iterator[Session]:
    """One transaction for a change by `actor` (an e-mail, or "system"): commits at the end,
    rolls back on any error. Every change in it is audited in the same transaction."""
    bind = engine.execution_options(**{_WRITE: True}) if is_sqlite(engine) else engine
    with Session(bind, expire_on_commit=False) as session:
        audit.set_actor(session, actor)
        try:
            yield session
            session.flush()
            if audit.take_changed(session):
                # Last, just before the commit: the counter's row lock is held for no longer
                # than the commit, and is the last lock a write takes (no deadlock).
                bump_data_version(session.connection())
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision`. Safe when several processes start at once: they take
    turns (a file lock beside a SQLite database, an advisory lock on PostgreSQL)."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    if is_sqlite(engine):
        path = sqlite_file(engine.url)
        lock_path = Path(f"{path}.migrate.lock") if path is not None else None
        with _file_lock(lock_path):
            command.upgrade(config, revision)
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT pg_advisory_lock(727274)")
        try:
            command.upgrade(config, revision)
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(727274)")
            connection.commit()


@contextlib.contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def compact(engine: Engine, tables: Iterable[str] = ()) -> bool:
    """Rewrite storage so values just overwritten or deleted (an erasure's) leave no copy in the
    database's files. Call it after the transaction has committed.

    SQLite: checkpoint the WAL, VACUUM (rebuilds the file without free pages), checkpoint again
    and truncate the WAL. PostgreSQL: VACUUM FULL of `tables` (every table when none is named),
    which writes each table afresh. Returns False when SQLite could not truncate the WAL because
    another connection was reading (the next checkpoint does it)."""
    if is_sqlite(engine):
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            driver.execute("VACUUM")
            done = False
            for _ in range(20):
                busy = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    done = True
                    break
                time.sleep(0.1)
            return done
        finally:
            raw.close()
    known = set(sa.inspect(engine).get_table_names())
    names = [name for name in tables if name in known] if tables else sorted(known)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for name in names:
            connection.exec_driver_sql(f'VACUUM (FULL) "{name}"')
    return True


def data_version(session: Session) -> int:
    """A number that grows with every committed change, in commit order, in any process (the
    data_version table's counter, raised by write_session). Cached reads key on it, so a save in
    one process shows in every other on its next rerun. (The newest audit event's id would not
    do on PostgreSQL: ids are handed out at insert, not at commit, so a slow transaction can
    commit a smaller id after a reader has cached under a bigger one.)"""
    value = session.connection().execute(_READ_VERSION).scalar()
    return int(value or 0)


_READ_VERSION = sa.text("SELECT value FROM data_version WHERE id = 1")
_BUMP_VERSION = sa.text("UPDATE data_version SET value = value + 1 WHERE id = 1")


def tables_to_empty() -> list[sa.Table]:
    """Every table a full reset (`tracker demo --reset`, `tracker generate --reset`) deletes the
    rows of, children before parents so foreign keys hold on both databases, the audit trail
    last among them (its triggers allow that once no user or organisation is left). The data
    version is not among them: it must never go back, or a process would meet a version it has
    already cached under."""
    from sqlmodel import SQLModel

    import tracker.models  # noqa: F401  (every table registered)

    return [
        table for table in reversed(SQLModel.metadata.sorted_tables) if table.name != "data_version"
    ]


def bump_data_version(connection: sa.Connection) -> None:
    """Raise the data version in `connection`'s transaction (write_session does this)."""
    connection.execute(_BUMP_VERSION)


def move_data_version_past(engine: Engine, floor: int) -> None:
    """Set the data version above both `floor` and its current value: after a restore, which
    brings back an older counter, no process may meet a version it has already cached under."""
    with engine.begin() as connection:
        current = int(connection.execute(_READ_VERSION).scalar() or 0)
        connection.execute(
            sa.text("UPDATE data_version SET value = :value WHERE id = 1"),
            {"value": max(current, floor) + 1},
        )
