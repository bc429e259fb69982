"""Backups of the whole database and restores from them, each verified (RELIABILITY.md #15).

SQLite is copied with SQLite's online backup API inside one read transaction, so the copy is a
consistent snapshot even while other processes keep writing (WAL lets them). PostgreSQL is
dumped with `pg_dump --format=custom` from a snapshot exported by a transaction that also counts
the rows, so the counts describe exactly what was dumped. A backup is kept only after it has been
read back and found complete; a restore starts only after the file has been checked, and is
checked again afterwards.

Backups hold personal data: they are written readable by their owner only (mode 0600).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tracker import clock, db
from tracker.errors import DomainError

Kind = Literal["sqlite", "postgresql"]

BACKUP_DIRECTORY = Path("data") / "backups"
SUFFIXES: Mapping[Kind, str] = {"sqlite": ".db", "postgresql": ".dump"}
KIND_NAMES: Mapping[Kind, str] = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
ALEMBIC_TABLE = "alembic_version"
# Where Debian and Ubuntu install each PostgreSQL version's client programs; searched before PATH.
PG_BIN_DIRECTORY = "/usr/lib/postgresql/{major}/bin"

_SQLITE_HEADER = b"SQLite format 3\x00"
_PG_CUSTOM_HEADER = b"PGDMP"
# URL query options that libpq also reads from the environment.
_PG_QUERY_ENVIRONMENT = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
}
_TOC_LINE = re.compile(r"^\d+; \d+ \d+ (TABLE DATA|TABLE) (\S+) (\S+) ")
_COPY_LINE = re.compile(rb'^COPY ((?:"(?:[^"]|"")+"|[^ ."]+))\.((?:"(?:[^"]|"")+"|[^ ("]+)) ')
# Empties the schema the app's tables live in, in the restore's own transaction: a backup from
# an older schema must not meet tables (or the foreign keys of tables) that came after it.
_EMPTY_CURRENT_SCHEMA = """
DO $tracker_restore$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.relname, c.relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema()
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND NOT c.relispartition
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE',
            CASE item.relkind
                WHEN 'v' THEN 'VIEW'
                WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'S' THEN 'SEQUENCE'
                WHEN 'f' THEN 'FOREIGN TABLE'
                ELSE 'TABLE'
            END,
            current_schema(), item.relname);
    END LOOP;
    FOR item IN
        SELECT t.typname
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema()
          AND (t.typtype IN ('e', 'd', 'r')
               OR (t.typtype = 'c'
                   AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I.%I CASCADE', current_schema(), item.typname);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure::text AS signature
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema()
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', item.signature);
    END LOOP;
END
$tracker_restore$;
"""


class _Counted:
    """A backup's tables and rows, from its `row_counts` (table -> rows)."""

    row_counts: Mapping[str, int]

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(sorted(self.row_counts))

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


@dataclass(frozen=True)
class BackupInfo(_Counted):
    """What a backup file holds, as read back from it: its kind, the schema revision it was
    taken at, and the number of rows in each table (the restore must reproduce these)."""

    path: Path
    kind: Kind
    revision: str
    row_counts: Mapping[str, int]

    def describe(self) -> str:
        return (
            f"{self.path} ({KIND_NAMES[self.kind]} backup at revision {self.revision}: "
            f"{_rows(self.total_rows)} in {len(self.row_counts)} tables)"
        )


@dataclass(frozen=True)
class BackupReport(_Counted):
    """A backup that was written and then verified: where it is, how big, and what it holds."""

    path: Path
    kind: Kind
    size_bytes: int
    row_counts: Mapping[str, int]
    revision: str
    head: str
    duration_seconds: float

    def describe(self) -> str:
        """Several lines for a person: the file, its size, the revision, the time it took,
        then every table with its number of rows."""
        at = "the newest schema" if self.revision == self.head else f"older than {self.head}"
        checks = (
            "integrity check passed, row counts match"
            if self.kind == "sqlite"
            else "archive readable, every table listed, row counts match"
        )
        lines = [
            f"Backed up to {self.path} ({_size(self.size_bytes)}, {KIND_NAMES[self.kind]}) in "
            f"{self.duration_seconds:.1f} s.",
            f"Verified: {checks}. Revision {self.revision} ({at}). "
            f"{_rows(self.total_rows)} in {len(self.row_counts)} tables:",
        ]
        width = max((len(name) for name in self.row_counts), default=0)
        lines += [f"  {name:<{width}}  {self.row_counts[name]:>9,}" for name in self.tables]
        return "\n".join(lines)


@dataclass(frozen=True)
class RestoreReport:
    """A restore that was carried out and then verified."""

    source: Path
    kind: Kind
    row_counts: Mapping[str, int]
    backup_revision: str
    revision: str
    migrated: bool
    duration_seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    def describe(self) -> str:
        migrated = (
            f" and upgraded from revision {self.backup_revision} to {self.revision}"
            if self.migrated
            else f" at revision {self.revision}"
        )
        return (
            f"Restored {self.source}{migrated} in {self.duration_seconds:.1f} s. Verified: "
            f"{_rows(self.total_rows)} in {len(self.row_counts)} tables, as in the backup."
        )


def default_backup_path(*, engine: Engine, when: dt.datetime | None = None) -> Path:
    """data/backups/tracker-YYYYMMDD-HHMMSS.db (SQLite) or .dump (PostgreSQL), under the working
    directory, stamped with the local time (`when`, default now)."""
    stamp = (when or clock.now()).astimezone().strftime("%Y%m%d-%H%M%S")
    return BACKUP_DIRECTORY / f"tracker-{stamp}{SUFFIXES[_engine_kind(engine)]}"


def head_revision() -> str:
    """The newest schema revision this code knows (the Alembic head)."""
    head = _script().get_current_head()
    assert head is not None, "migrations/versions holds no migration"
    return str(head)


def backup(*, engine: Engine, destination: Path) -> BackupReport:
    """Back up `engine`'s whole database to `destination` (a new file, mode 0600) and verify it.

    The backup is a consistent snapshot taken while other people may be writing. Before it is
    kept it is read back: on SQLite the copy must pass `PRAGMA integrity_check` and hold the
    same number of rows in every table as the database had in that snapshot, at the same
    revision; on PostgreSQL `pg_restore` must read the archive, list every table, and its data
    must hold the snapshot's row counts and revision. A backup that fails is deleted and a
    DomainError says why; an existing file is never overwritten."""
    started = time.monotonic()
    destination = Path(destination)
    if destination.exists():
        raise DomainError("destination", f"{destination} already exists: choose another file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    kind = _engine_kind(engine)
    partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:8]}.partial")
    _create_private_file(partial)
    try:
        if kind == "sqlite":
            row_counts, revision = _backup_sqlite(engine, partial)
        else:
            row_counts, revision = _backup_postgres(engine, partial)
        os.replace(partial, destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupReport(
        path=destination,
        kind=kind,
        size_bytes=destination.stat().st_size,
        row_counts=row_counts,
        revision=revision,
        head=head_revision(),
        duration_seconds=time.monotonic() - started,
    )


def check_backup(*, engine: Engine, source: Path) -> BackupInfo:
    """Read `source` through and say what it holds, if it can be restored into `engine`'s
    database; otherwise raise a DomainError saying why not: it does not exist, is not a Change
    Tracker backup, is damaged, is of the other database kind, or comes from a newer schema
    than this version of Change Tracker knows. Changes nothing."""
    source = Path(source)
    kind = _file_kind(source)
    target = _engine_kind(engine)
    if kind != target:
        raise DomainError(
            "backup",
            f"{source} is a {KIND_NAMES[kind]} backup, but this database is "
            f"{KIND_NAMES[target]}: restore it into a {KIND_NAMES[kind]} database instead",
        )
    if kind == "sqlite":
        revision, row_counts = _read_sqlite_file(source)
    else:
        pg_restore = _pg_program("pg_restore", _pg_major(engine))
        revision, row_counts = _read_pg_archive(source, pg_restore)
    _require_known_revision(source, revision)
    return BackupInfo(path=source, kind=kind, revision=revision, row_counts=row_counts)


def restore(*, engine: Engine, source: Path) -> RestoreReport:
    """Replace everything in `engine`'s database with the backup `source`, then verify it.

    The file is checked first (see check_backup); nothing changes when it fails. SQLite: the
    backup is copied into the live database through SQLite's backup API, so running processes
    see the restored data on their next read (no file is swapped under them). PostgreSQL: the
    schema's objects are dropped and the archive restored (`pg_restore --clean --if-exists
    --no-owner`) in one transaction, so a failure leaves the database as it was. Afterwards
    every table must hold the backup's row counts at the backup's revision (SQLite: and pass
    `PRAGMA integrity_check`); a backup from an older schema is then migrated to the head."""
    started = time.monotonic()
    info = check_backup(engine=engine, source=source)
    seen = _data_version_or_zero(engine)
    if info.kind == "sqlite":
        _restore_sqlite(engine, info)
    else:
        _restore_postgres(engine, info)
    head = head_revision()
    migrated = info.revision != head
    if migrated:
        db.migrate(engine)
    revision = db.current_revision(engine)
    if revision != head:
        raise DomainError(
            "backup",
            f"the data was restored but the database is at revision {revision}, not {head}: "
            "run `tracker migrate`",
        )
    db.move_data_version_past(engine, seen)
    return RestoreReport(
        source=info.path,
        kind=info.kind,
        row_counts=info.row_counts,
        backup_revision=info.revision,
        revision=head,
        migrated=migrated,
        duration_seconds=time.monotonic() - started,
    )


def _data_version_or_zero(engine: Engine) -> int:
    """The data version before a restore; 0 when the database has none yet."""
    if "data_version" not in sa.inspect(engine).get_table_names():
        return 0
    with db.read_session(engine) as session:
        return db.data_version(session)


def table_counts(*, engine: Engine) -> dict[str, int]:
    """The number of rows in every table of the database (its current schema on PostgreSQL);
    empty when it has no tables yet."""
    with engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        return {name: _count(connection, name) for name in sorted(names)}


# --- SQLite -------------------------------------------------------------------------------------


def _backup_sqlite(engine: Engine, partial: Path) -> tuple[dict[str, int], str]:
    path = engine.url.database or ""
    if path and path != ":memory:" and not Path(path).exists():
        raise DomainError("database", f"there is no database at {path}: nothing to back up")
    raw = engine.raw_connection()
    try:
        live = raw.driver_connection
        assert isinstance(live, sqlite3.Connection)
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            # One read transaction: the counts and the copy see the same snapshot, while writers
            # carry on in the WAL. The backup API uses the connection's open transaction.
            live.execute("BEGIN")
            try:
                row_counts = _sqlite_counts(live)
                revision = _sqlite_revision(live)
                if revision is None:
                    raise DomainError(
                        "database",
                        "this database has no schema yet: run `tracker migrate` before backing "
                        "it up",
                    )
                live.backup(copy)
            finally:
                live.execute("COMMIT")
            # One self-contained file, whatever mode the live database uses.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        raw.close()
    copied_revision, copied_counts = _read_sqlite_file(partial)
    _require_same(revision, row_counts, copied_revision, copied_counts)
    return row_counts, revision


def _read_sqlite_file(path: Path) -> tuple[str, dict[str, int]]:
    """The revision and row counts of a SQLite backup, after `PRAGMA integrity_check`."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as c:
            problems = [row[0] for row in c.execute("PRAGMA integrity_check(5)")]
            if problems != ["ok"]:
                raise DomainError(
                    "backup",
                    f"{path} is damaged (SQLite's integrity check found: "
                    f"{'; '.join(problems)}): use another backup",
                )
            if not _sqlite_has_table(c, ALEMBIC_TABLE):
                raise DomainError(
                    "backup",
                    f"{path} is a SQLite database but not a Change Tracker backup (it has no "
                    f"{ALEMBIC_TABLE} table)",
                )
            c.execute("BEGIN")
            revision = _sqlite_revision(c)
            row_counts = _sqlite_counts(c)
            c.execute("COMMIT")
    except sqlite3.DatabaseError as error:
        raise DomainError(
            "backup",
            f"{path} is damaged and cannot be read (SQLite says: {error}): use another backup",
        ) from None
    if revision is None:
        raise DomainError(
            "backup", f"{path} records no schema revision, so it is not a usable backup"
        )
    return revision, row_counts


def _restore_sqlite(engine: Engine, info: BackupInfo) -> None:
    live_path = engine.url.database or ""
    if live_path and live_path != ":memory:":
        if Path(live_path).resolve() == info.path.resolve():
            raise DomainError("backup", f"{info.path} is the database itself, not a backup of it")
        Path(live_path).parent.mkdir(parents=True, exist_ok=True)
    raw = engine.raw_connection()
    try:
        live = raw.driver_connection
        assert isinstance(live, sqlite3.Connection)
        uri = f"{info.path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as source:
            try:
                # Copies every page into the live database under its write lock (waiting for
                # writers in progress); other connections see the new content on their next read.
                source.backup(live)
            except sqlite3.DatabaseError as error:
                raise DomainError(
                    "backup",
                    f"the database could not be replaced (SQLite says: {error}); nothing was "
                    "changed",
                ) from None
        problems = [row[0] for row in live.execute("PRAGMA integrity_check(5)")]
        live.execute("BEGIN")
        try:
            revision = _sqlite_revision(live)
            row_counts = _sqlite_counts(live)
        finally:
            live.execute("COMMIT")
    finally:
        raw.close()
    if problems != ["ok"]:
        raise DomainError(
            "backup",
            f"after the restore SQLite's integrity check found: {'; '.join(problems)}. "
            "Restore again from another backup",
        )
    _require_restored(info, revision, row_counts)


def _sqlite_has_table(connection: sqlite3.Connection, name: str) -> bool:
    row = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [
        str(row[0])
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
            "ESCAPE '\\' ORDER BY name"
        )
    ]
    return {
        name: int(connection.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0])
        for name in names
    }


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    if not _sqlite_has_table(connection, ALEMBIC_TABLE):
        return None
    rows = connection.execute(f"SELECT version_num FROM {ALEMBIC_TABLE}").fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_major(engine: Engine) -> int:
    """The server's major version (15 for 15.4)."""
    with engine.connect() as connection:
        version = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
    return version // 10000 if version >= 100000 else version // 100


def _pg_program(name: str, major: int) -> str:
    """The path of `name` (pg_dump, pg_restore, psql) able to work with a server of version
    `major`: /usr/lib/postgresql/<major>/bin first, then PATH."""
    directory = PG_BIN_DIRECTORY.format(major=major)
    candidates = [os.path.join(directory, name), shutil.which(name)]
    too_old: list[str] = []
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        try:
            output = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, check=True, timeout=30
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        found = re.search(r"\(PostgreSQL\) (\d+)", output)
        if found and int(found.group(1)) >= major:
            return candidate
        too_old.append(f"{candidate} is version {found.group(1) if found else 'unknown'}")
    seen = f" ({'; '.join(too_old)})" if too_old else ""
    raise DomainError(
        name,
        f"{name} for PostgreSQL {major} was not found in {directory} or on PATH{seen}: "
        f"install the PostgreSQL {major} client programs (on Debian: apt-get install "
        f"postgresql-client-{major})",
    )


def _pg_environment(url: sa.URL) -> dict[str, str]:
    """This process's environment plus libpq's variables for `url`: how the client programs
    connect, so that the password never appears on a command line."""
    environment = dict(os.environ)
    settings: dict[str, object] = {
        "PGHOST": url.host,
        "PGPORT": url.port,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    for option, values in url.query.items():
        if option in _PG_QUERY_ENVIRONMENT:
            settings[_PG_QUERY_ENVIRONMENT[option]] = (
                values if isinstance(values, str) else ",".join(values)
            )
    environment.update({key: str(value) for key, value in settings.items() if value is not None})
    return environment


def _backup_postgres(engine: Engine, partial: Path) -> tuple[dict[str, int], str]:
    major = _pg_major(engine)
    pg_dump = _pg_program("pg_dump", major)
    pg_restore = _pg_program("pg_restore", major)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            # pg_dump reads from this transaction's snapshot, so the counts taken here are the
            # counts of what it dumps, whatever is written meanwhile.
            snapshot = str(connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
            schema = str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())
            names = sa.inspect(connection).get_table_names()
            row_counts = {name: _count(connection, name) for name in sorted(names)}
            revision = None
            if ALEMBIC_TABLE in row_counts:
                revision = connection.exec_driver_sql(
                    f"SELECT version_num FROM {ALEMBIC_TABLE}"
                ).scalar()
            if revision is None:
                raise DomainError(
                    "database",
                    "this database has no schema yet: run `tracker migrate` before backing it up",
                )
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={partial}",
                ],
                environment=_pg_environment(engine.url),
                failure="pg_dump could not back up the database",
            )
    copied_revision, copied_counts = _read_pg_archive(partial, pg_restore, schema=schema)
    _require_same(str(revision), row_counts, copied_revision, copied_counts)
    return row_counts, str(revision)


def _pg_archive_toc(path: Path, pg_restore: str) -> set[tuple[str, str, str]]:
    """(kind, schema, name) of every TABLE and TABLE DATA entry `pg_restore --list` shows."""
    listing = _run(
        [pg_restore, "--list", str(path)],
        environment=None,
        failure=f"{path} is damaged or is not a PostgreSQL backup: pg_restore cannot read it",
        suffix=": use another backup",
    )
    entries: set[tuple[str, str, str]] = set()
    for line in listing.splitlines():
        found = _TOC_LINE.match(line)
        if found:
            entries.add((found.group(1), found.group(2), found.group(3)))
    return entries


def _read_pg_archive(
    path: Path, pg_restore: str, *, schema: str | None = None
) -> tuple[str, dict[str, int]]:
    """The revision and the row counts of every table in a custom-format archive.

    `pg_restore --list` must list each table with its data, and all of the data is read (so a
    damaged data block is found before anything is restored). `schema`: the schema whose
    tables count (default: the one holding alembic_version)."""
    toc = _pg_archive_toc(path, pg_restore)
    if schema is None:
        schemas = {where for kind, where, name in toc if kind == "TABLE" and name == ALEMBIC_TABLE}
        if len(schemas) != 1:
            raise DomainError(
                "backup",
                f"{path} is a PostgreSQL archive but not a Change Tracker backup (it has no "
                f"{ALEMBIC_TABLE} table)",
            )
        (schema,) = schemas
    tables = sorted(name for kind, where, name in toc if kind == "TABLE" and where == schema)
    without_data = [name for name in tables if ("TABLE DATA", schema, name) not in toc]
    if without_data:
        raise DomainError(
            "backup",
            f"{path} holds no data for the tables {', '.join(without_data)}: it is not a complete "
            "backup",
        )
    counts: dict[tuple[str, str], int] = {}
    revisions: list[str] = []
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [pg_restore, "--data-only", "--file=-", str(path)],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert process.stdout is not None
        with process.stdout:
            table: tuple[str, str] | None = None
            for line in process.stdout:
                if table is None:
                    found = _COPY_LINE.match(line)
                    if found:
                        table = (_unquote(found.group(1)), _unquote(found.group(2)))
                        counts[table] = 0
                elif line == b"\\.\n":
                    table = None
                else:
                    # COPY's text format escapes newlines: one line, one row.
                    counts[table] += 1
                    if table == (schema, ALEMBIC_TABLE):
                        revisions.append(line.decode(errors="replace").rstrip("\n"))
        if process.wait() != 0 or table is not None:
            raise DomainError(
                "backup",
                f"{path} is damaged: pg_restore could not read all of its data "
                f"({_first_error(errors)}): use another backup",
            )
    if len(revisions) != 1:
        raise DomainError(
            "backup", f"{path} records no schema revision, so it is not a usable backup"
        )
    return revisions[0], {name: counts.get((schema, name), 0) for name in tables}


def _restore_postgres(engine: Engine, info: BackupInfo) -> None:
    major = _pg_major(engine)
    pg_restore = _pg_program("pg_restore", major)
    psql = _pg_program("psql", major)
    environment = _pg_environment(engine.url)
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        reader = subprocess.Popen(
            [pg_restore, "--clean", "--if-exists", "--no-owner", "--file=-", str(info.path)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
        )
        writer = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1", "--file=-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=environment,
        )
        assert reader.stdout is not None and writer.stdin is not None
        # One transaction, committed only once pg_restore has produced the whole archive: psql
        # stops at the first error and the server rolls back what was not committed.
        try:
            writer.stdin.write(b"BEGIN;\nSET client_min_messages = warning;\n")
            writer.stdin.write(_EMPTY_CURRENT_SCHEMA.encode())
            shutil.copyfileobj(reader.stdout, writer.stdin)
            if reader.wait() == 0:
                writer.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:
            pass  # psql stopped at an error: reported below
        finally:
            with contextlib.suppress(BrokenPipeError):
                writer.stdin.close()
            reader.stdout.close()
            if reader.poll() is None:
                reader.kill()
            reader.wait()
            writer.wait()
        if writer.returncode != 0 or reader.returncode != 0:
            failed = psql_errors if writer.returncode != 0 else restore_errors
            raise DomainError(
                "backup",
                "the restore failed and was rolled back, so the database is unchanged "
                f"({_first_error(failed)})",
            )
    with engine.connect() as connection, connection.begin():
        revision = connection.exec_driver_sql(f"SELECT version_num FROM {ALEMBIC_TABLE}").scalar()
        row_counts = {name: _count(connection, name) for name in info.row_counts}
    _require_restored(info, None if revision is None else str(revision), row_counts)


def _run(
    command: list[str], *, environment: Mapping[str, str] | None, failure: str, suffix: str = ""
) -> str:
    """Run a client program; its standard output, or a DomainError with its first error."""
    with tempfile.TemporaryFile() as errors:
        result = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=None if environment is None else dict(environment),
            check=False,
        )
        if result.returncode != 0:
            raise DomainError("backup", f"{failure} ({_first_error(errors)}){suffix}")
    return result.stdout.decode(errors="replace")


def _first_error(errors: IO[bytes]) -> str:
    errors.seek(0)
    lines = [line.strip() for line in errors.read().decode(errors="replace").splitlines()]
    lines = [line for line in lines if line]
    wanted = [line for line in lines if "error" in line.lower()] or lines
    return wanted[0] if wanted else "no message"


def _unquote(name: bytes) -> str:
    text = name.decode()
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('""', '"')
    return text


# --- shared -------------------------------------------------------------------------------------


def _engine_kind(engine: Engine) -> Kind:
    if db.is_sqlite(engine):
        return "sqlite"
    if engine.dialect.name == "postgresql":
        return "postgresql"
    raise DomainError(
        "database", f"backups support SQLite and PostgreSQL, not {engine.dialect.name}"
    )


def _file_kind(path: Path) -> Kind:
    if not path.exists():
        raise DomainError("backup", f"{path} does not exist")
    if not path.is_file():
        raise DomainError("backup", f"{path} is not a file")
    with open(path, "rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header == _SQLITE_HEADER:
        return "sqlite"
    if header.startswith(_PG_CUSTOM_HEADER):
        return "postgresql"
    raise DomainError(
        "backup",
        f"{path} is not a Change Tracker backup (neither a SQLite database nor a PostgreSQL "
        "custom-format archive)",
    )


def _script() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(db.alembic_config("sqlite://"))


def _require_known_revision(path: Path, revision: str) -> None:
    known = {script.revision for script in _script().walk_revisions()}
    if revision not in known:
        raise DomainError(
            "backup",
            f"{path} was taken at schema revision {revision}, which this version of Change "
            f"Tracker does not know (its newest is {head_revision()}): it comes from a newer "
            "version, so upgrade Change Tracker before restoring it",
        )


def _require_same(
    revision: str,
    row_counts: Mapping[str, int],
    copied_revision: str,
    copied_counts: Mapping[str, int],
) -> None:
    if copied_revision != revision:
        raise DomainError(
            "backup",
            f"the backup is at revision {copied_revision} but the database was at {revision}: "
            "the backup was not kept",
        )
    differences = _differences(row_counts, copied_counts)
    if differences:
        raise DomainError(
            "backup",
            f"the backup's row counts differ from the database's ({differences}): the backup "
            "was not kept",
        )


def _require_restored(
    info: BackupInfo, revision: str | None, row_counts: Mapping[str, int]
) -> None:
    if revision != info.revision:
        raise DomainError(
            "backup",
            f"after the restore the database is at revision {revision}, but the backup was at "
            f"{info.revision}: restore again",
        )
    differences = _differences(info.row_counts, row_counts)
    if differences:
        raise DomainError(
            "backup",
            f"after the restore the row counts differ from the backup's ({differences}): "
            "something wrote to the database meanwhile, or the restore was incomplete; stop the "
            "app and restore again",
        )


def _differences(expected: Mapping[str, int], actual: Mapping[str, int]) -> str:
    names = sorted(set(expected) | set(actual))
    return ", ".join(
        f"{name}: {actual.get(name, 'missing')} instead of {expected.get(name, 'none')}"
        for name in names
        if expected.get(name) != actual.get(name)
    )


def _count(connection: sa.Connection, table: str) -> int:
    quoted = connection.dialect.identifier_preparer.quote(table)
    return int(connection.exec_driver_sql(f"SELECT count(*) FROM {quoted}").scalar_one())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create_private_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _rows(count: int) -> str:
    return f"{count:,} {'row' if count == 1 else 'rows'}"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
