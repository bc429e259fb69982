"""Backups and restores (RELIABILITY.md #15), on SQLite and PostgreSQL: a backup taken while
others write is a consistent, verified snapshot; a restore reproduces every row of every table at
the head revision; damaged files, files that are not backups, backups from a newer schema and
backups of the other database kind are refused without changing anything; and the `tracker
backup` / `tracker restore` commands."""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import random
import sqlite3
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from tests import factories
from tests.factories import SYSTEM
from tracker import db
from tracker.cli import main
from tracker.errors import DomainError
from tracker.io import backup
from tracker.models import ProgrammeCreate
from tracker.seed.demo import seed_demo
from tracker.services import programmes, records

ACTOR = factories.ACTOR


@pytest.fixture
def fresh_engine(
    engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Engine]:
    """A new, empty database (no tables at all) of the same kind as `engine`."""
    if db.is_sqlite(engine):
        fresh = db.make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    else:
        fresh = db.make_engine(request.getfixturevalue("empty_postgres_url"))
    yield fresh
    fresh.dispose()


def _suffix(engine: Engine) -> str:
    return ".db" if db.is_sqlite(engine) else ".dump"


def _all_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a fixed order."""
    metadata = sa.MetaData()
    metadata.reflect(bind=engine)
    with engine.connect() as connection:
        return {
            name: sorted((tuple(row) for row in connection.execute(sa.select(table))), key=repr)
            for name, table in sorted(metadata.tables.items())
        }


def _orphan_stage_records(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM stage_record s "
                "WHERE NOT EXISTS (SELECT 1 FROM programme p WHERE p.id = s.programme_id)"
            ).scalar_one()
        )


def _base_revision() -> str:
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    (base,) = script.get_bases()
    return str(base)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _new_programme(engine: Engine, organisation_id: int, label: str) -> None:
    """One change as the app makes it: a programme and its six stage records, audited, in one
    transaction."""
    with db.write_session(engine, actor=ACTOR) as session:
        programmes.create_programme(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                ProgrammeCreate,
                {
                    "code": f"BK-{label}",
                    "title": f"Backed-up programme {label}",
                    "organisation_id": organisation_id,
                    "start_date": dt.date(2026, 1, 1),
                    "target_end_date": dt.date(2027, 12, 31),
                },
            ),
        )


def write_until_stopped(
    url: str, organisation_id: int, prefix: str, stop: Any, writes: Any
) -> None:
    """Run in a spawned process: new programmes until `stop` is set, counting them in `writes`."""
    engine = db.make_engine(url)
    try:
        n = 0
        while not stop.is_set():
            _new_programme(engine, organisation_id, f"{prefix}{n}")
            n += 1
            with writes.get_lock():
                writes.value += 1
    finally:
        engine.dispose()


class ThreadWriter:
    """Keeps writing from a thread of this process."""

    def __init__(self, engine: Engine, organisation_id: int) -> None:
        self.stop = threading.Event()
        self.failures: list[BaseException] = []
        self._writes = 0
        self._thread = threading.Thread(target=self._run, args=(engine, organisation_id))
        self._thread.start()

    def _run(self, engine: Engine, organisation_id: int) -> None:
        try:
            while not self.stop.is_set():
                _new_programme(engine, organisation_id, f"T{self._writes}")
                self._writes += 1
        except BaseException as error:  # reported by the test
            self.failures.append(error)

    def writes(self) -> int:
        return self._writes

    def finish(self) -> list[str]:
        self.stop.set()
        self._thread.join(timeout=60)
        return [repr(error) for error in self.failures]


class ProcessWriter:
    """Keeps writing from a second process with its own engine."""

    def __init__(self, engine: Engine, organisation_id: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self._writes = context.Value("i", 0)
        self._process = context.Process(
            target=write_until_stopped,
            args=(_url(engine), organisation_id, "P", self.stop, self._writes),
        )
        self._process.start()

    def writes(self) -> int:
        return int(self._writes.value)

    def finish(self) -> list[str]:
        self.stop.set()
        self._process.join(timeout=60)
        return [] if self._process.exitcode == 0 else [f"exit code {self._process.exitcode}"]


def _wait_for(writer: ThreadWriter | ProcessWriter, writes: int) -> None:
    deadline = time.monotonic() + 120
    while writer.writes() < writes:
        if time.monotonic() > deadline:
            problems = writer.finish()
            pytest.fail(f"the writer made {writer.writes()} writes, not {writes}: {problems}")
        time.sleep(0.01)


# --- backing up while others write ---------------------------------------------------------------


@pytest.mark.parametrize("writer_kind", ["thread", "process"])
def test_a_backup_taken_while_others_write_is_a_consistent_verified_snapshot(
    engine: Engine,
    fresh_engine: Engine,
    tmp_path: Path,
    writer_kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    organisation_id = factories.organisation(engine)
    _new_programme(engine, organisation_id, "FIRST")
    before = backup.table_counts(engine=engine)
    # A spawned child re-runs the parent's __main__ by path: give it a blank one.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    writer = (ThreadWriter if writer_kind == "thread" else ProcessWriter)(engine, organisation_id)
    try:
        _wait_for(writer, 5)
        report = backup.backup(engine=engine, destination=tmp_path / f"during{_suffix(engine)}")
        _wait_for(writer, writer.writes() + 5)
    finally:
        failures = writer.finish()
    after = backup.table_counts(engine=engine)
    assert failures == []

    # The report describes the file, and reading the file back gives the same.
    assert report.path.stat().st_size == report.size_bytes > 0
    assert report.revision == report.head == db.current_revision(engine)
    assert set(report.tables) == set(before)
    info = backup.check_backup(engine=fresh_engine, source=report.path)
    assert info.row_counts == report.row_counts
    assert info.revision == report.revision

    # A snapshot taken mid-stream: writes before it are in, writes after it are not...
    counts = report.row_counts
    assert all(before[table] <= counts[table] <= after[table] for table in before)
    assert before["programme"] < counts["programme"] < after["programme"]
    # ...and whole: every programme with its six stage records and its audit events.
    assert counts["stage_record"] == 6 * counts["programme"]
    events_per_write = (after["audit_event"] - before["audit_event"]) // (
        after["programme"] - before["programme"]
    )
    assert events_per_write >= 7
    assert counts["audit_event"] - before["audit_event"] == events_per_write * (
        counts["programme"] - before["programme"]
    )
    if db.is_sqlite(engine):
        with sqlite3.connect(report.path) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    else:
        listing = subprocess.run(
            ["pg_restore", "--list", str(report.path)], capture_output=True, text=True, check=True
        ).stdout
        assert all(f" TABLE DATA public {table} " in listing for table in before)

    restored = backup.restore(engine=fresh_engine, source=report.path)
    assert restored.row_counts == counts
    assert backup.table_counts(engine=fresh_engine) == counts
    assert _orphan_stage_records(fresh_engine) == 0


def test_a_backup_is_readable_by_its_owner_only_and_never_overwrites(
    engine: Engine, tmp_path: Path
) -> None:
    factories.organisation(engine)
    folder = tmp_path / "new" / "backups"
    report = backup.backup(engine=engine, destination=folder / "first")
    assert report.path.stat().st_mode & 0o777 == 0o600

    existing = folder / "existing"
    existing.write_text("keep me")
    with pytest.raises(DomainError, match="already exists: choose another file name"):
        backup.backup(engine=engine, destination=existing)
    assert existing.read_text() == "keep me"
    assert sorted(path.name for path in folder.iterdir()) == ["existing", "first"]


def test_the_default_backup_file_is_dated_in_data_backups(engine: Engine) -> None:
    when = dt.datetime(2026, 3, 4, 5, 6, 7).astimezone()
    path = backup.default_backup_path(engine=engine, when=when)
    assert path == Path("data") / "backups" / f"tracker-20260304-050607{_suffix(engine)}"


def test_a_database_that_was_never_migrated_is_not_backed_up(
    fresh_engine: Engine, tmp_path: Path
) -> None:
    with fresh_engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (body TEXT)")
    with pytest.raises(DomainError, match="run `tracker migrate` before backing it up"):
        backup.backup(engine=fresh_engine, destination=tmp_path / "unmigrated")
    assert list(tmp_path.glob("*unmigrated*")) == []


# --- restoring ----------------------------------------------------------------------------------


def test_a_restore_into_a_fresh_database_reproduces_every_row_of_every_table(
    engine: Engine, fresh_engine: Engine, tmp_path: Path
) -> None:
    seed_demo(engine)
    source_rows = _all_rows(engine)
    made = backup.backup(engine=engine, destination=tmp_path / f"demo{_suffix(engine)}")

    report = backup.restore(engine=fresh_engine, source=made.path)

    restored_rows = _all_rows(fresh_engine)
    # The data version moves past the backup's, so no process reuses what it cached under it.
    [(_, source_version)] = source_rows.pop("data_version")
    [(_, restored_version)] = restored_rows.pop("data_version")
    assert restored_version > source_version
    assert restored_rows == source_rows
    assert report.row_counts == made.row_counts
    assert report.revision == report.backup_revision == backup.head_revision()
    assert db.current_revision(fresh_engine) == backup.head_revision()
    assert not report.migrated
    assert "as in the backup" in report.describe()
    # The restored database takes new writes (PostgreSQL's sequences came back too).
    factories.organisation(fresh_engine, name="After the restore", short_name="ATR")


def test_a_restore_replaces_what_the_database_held_and_running_engines_see_it(
    engine: Engine, tmp_path: Path
) -> None:
    factories.organisation(engine, name="Kept Council", short_name="KEPT")
    made = backup.backup(engine=engine, destination=tmp_path / f"one{_suffix(engine)}")
    factories.organisation(engine, name="Later Council", short_name="LATER")
    # Another process's engine, already connected when the restore happens.
    other = db.make_engine(_url(engine))
    try:
        assert backup.table_counts(engine=other)["organisation"] == 2
        backup.restore(engine=engine, source=made.path)
        with other.connect() as connection:
            names = connection.exec_driver_sql("SELECT name FROM organisation").scalars().all()
        assert names == ["Kept Council"]
    finally:
        other.dispose()
    factories.organisation(engine, name="Later Council", short_name="LATER")


def test_an_older_backup_is_restored_then_migrated_to_the_head(
    engine: Engine, fresh_engine: Engine, tmp_path: Path
) -> None:
    base = _base_revision()
    db.migrate(fresh_engine, base)
    old = backup.backup(engine=fresh_engine, destination=tmp_path / f"old{_suffix(engine)}")
    assert old.revision == base != old.head
    assert "older than" in old.describe()
    seed_demo(engine)
    head_tables = set(backup.table_counts(engine=engine))

    report = backup.restore(engine=engine, source=old.path)

    assert report.migrated
    assert (report.backup_revision, report.revision) == (base, backup.head_revision())
    assert db.current_revision(engine) == backup.head_revision()
    counts = backup.table_counts(engine=engine)
    assert set(counts) == head_tables
    assert counts["organisation"] == counts["programme"] == 0
    factories.programme(engine)


# --- refusals -----------------------------------------------------------------------------------


def _damage_truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damage_overwrite(path: Path) -> None:
    """Garble the middle third (the same bytes every run)."""
    data = bytearray(path.read_bytes())
    start, end = len(data) // 3, 2 * len(data) // 3
    data[start:end] = random.Random(15).randbytes(end - start)
    path.write_bytes(bytes(data))


@pytest.fixture
def a_backup(engine: Engine, tmp_path: Path) -> Path:
    """A verified backup of a database with some data in it, kept apart from the database."""
    organisation_id = factories.organisation(engine)
    for n in range(40):
        _new_programme(engine, organisation_id, f"R{n}")
    return backup.backup(engine=engine, destination=tmp_path / f"good{_suffix(engine)}").path


@pytest.mark.parametrize(
    "content",
    [b"", b"name,stage\nCare records,vision\n", b"SQLite format 2 and something else"],
    ids=["empty", "csv", "almost-sqlite"],
)
def test_a_file_that_is_not_a_backup_is_refused_and_nothing_changes(
    engine: Engine, a_backup: Path, tmp_path: Path, content: bytes
) -> None:
    before = _all_rows(engine)
    path = tmp_path / "not-a-backup"
    path.write_bytes(content)
    with pytest.raises(DomainError, match="is not a Change Tracker backup") as refused:
        backup.restore(engine=engine, source=path)
    assert refused.value.field == "backup"
    assert _all_rows(engine) == before


def test_a_missing_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(DomainError, match="does not exist"):
        backup.restore(engine=engine, source=tmp_path / "nowhere.db")
    with pytest.raises(DomainError, match="is not a file"):
        backup.restore(engine=engine, source=tmp_path)


def test_a_sqlite_database_that_is_not_a_tracker_backup_is_refused(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "other-app.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE recipe (name TEXT)")
    with pytest.raises(DomainError, match="SQLite database but not a Change Tracker backup"):
        backup.restore(engine=sqlite_engine, source=path)


def test_the_live_sqlite_database_is_not_restored_onto_itself(sqlite_engine: Engine) -> None:
    factories.organisation(sqlite_engine)
    before = _all_rows(sqlite_engine)
    live = Path(sqlite_engine.url.database or "")
    with pytest.raises(DomainError, match="is the database itself, not a backup of it"):
        backup.restore(engine=sqlite_engine, source=live)
    assert _all_rows(sqlite_engine) == before


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_overwrite], ids=["cut", "garbled"])
def test_a_damaged_backup_is_refused_and_nothing_changes(
    engine: Engine, a_backup: Path, damage: Callable[[Path], None]
) -> None:
    factories.organisation(engine, name="Still Here Council", short_name="HERE")
    before = _all_rows(engine)
    damage(a_backup)
    with pytest.raises(DomainError, match="is damaged") as refused:
        backup.restore(engine=engine, source=a_backup)
    assert "use another backup" in refused.value.reason
    assert _all_rows(engine) == before


def test_a_backup_from_a_newer_schema_is_refused_and_nothing_changes(
    engine: Engine, tmp_path: Path
) -> None:
    factories.organisation(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d0099'")
    future = backup.backup(engine=engine, destination=tmp_path / f"future{_suffix(engine)}")
    assert future.revision == "f00d0099"
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE alembic_version SET version_num = '{backup.head_revision()}'"
        )
    before = _all_rows(engine)
    with pytest.raises(DomainError, match="upgrade Change Tracker before restoring it"):
        backup.restore(engine=engine, source=future.path)
    assert _all_rows(engine) == before


def test_a_postgresql_archive_is_not_restored_into_sqlite(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "pg.dump"
    path.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(100))
    with pytest.raises(DomainError, match="is a PostgreSQL backup, but this database is SQLite"):
        backup.restore(engine=sqlite_engine, source=path)


@pytest.mark.postgres
def test_sqlite_and_postgresql_backups_are_not_restored_into_each_other(
    sqlite_engine: Engine, postgres_engine: Engine, tmp_path: Path
) -> None:
    from_sqlite = backup.backup(engine=sqlite_engine, destination=tmp_path / "s.db").path
    from_postgres = backup.backup(engine=postgres_engine, destination=tmp_path / "p.dump").path
    with pytest.raises(DomainError, match="is a SQLite backup, but this database is PostgreSQL"):
        backup.restore(engine=postgres_engine, source=from_sqlite)
    with pytest.raises(DomainError, match="is a PostgreSQL backup, but this database is SQLite"):
        backup.restore(engine=sqlite_engine, source=from_postgres)


# --- PostgreSQL client programs ------------------------------------------------------------------


@pytest.mark.postgres
def test_postgresql_credentials_go_to_the_programs_by_environment_only(
    postgres_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = postgres_engine.url.password
    assert password
    calls: list[tuple[list[str], dict[str, str] | None]] = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def run(command: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append((list(command), kwargs.get("env")))
        return real_run(command, *args, **kwargs)

    class Popen(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, command: list[str], *args: Any, **kwargs: Any) -> None:
            calls.append((list(command), kwargs.get("env")))
            super().__init__(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(subprocess, "Popen", Popen)
    made = backup.backup(engine=postgres_engine, destination=tmp_path / "p.dump")
    backup.restore(engine=postgres_engine, source=made.path)

    programs = {Path(command[0]).name for command, _ in calls}
    assert {"pg_dump", "pg_restore", "psql"} <= programs
    assert all(password not in " ".join(command) for command, _ in calls)
    connecting = {
        Path(command[0]).name: env
        for command, env in calls
        if Path(command[0]).name in {"pg_dump", "psql"} and "--version" not in command
    }
    assert set(connecting) == {"pg_dump", "psql"}
    assert all(env and env["PGPASSWORD"] == password for env in connecting.values())


@pytest.mark.postgres
def test_a_missing_pg_dump_is_named_with_how_to_install_it(
    postgres_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "PG_BIN_DIRECTORY", str(tmp_path / "{major}"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DomainError, match="apt-get install postgresql-client-") as refused:
        backup.backup(engine=postgres_engine, destination=tmp_path / "p.dump")
    assert refused.value.field == "pg_dump"
    assert not (tmp_path / "p.dump").exists()


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """DATABASE_URL at a migrated SQLite file with one organisation; the working directory is a
    new folder."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    engine = db.make_engine(url)
    db.migrate(engine)
    factories.organisation(engine, name="Backed Up Council", short_name="BUC")
    return engine


def _organisation_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.exec_driver_sql("SELECT name FROM organisation").scalars())


def test_cli_backup_writes_a_dated_file_in_data_backups_and_reports_it(
    cli_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup"]) == 0
    (path,) = (Path.cwd() / "data" / "backups").glob("tracker-*.db")
    out = capsys.readouterr().out
    assert f"Backed up to {Path('data') / 'backups' / path.name}" in out
    assert "Verified: integrity check passed, row counts match." in out
    assert "organisation" in out


def test_cli_backup_out_and_restore_with_yes(
    cli_database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "chosen.db"
    assert main(["backup", "--out", str(out)]) == 0
    factories.organisation(cli_database, name="Added Later Council", short_name="ALC")
    capsys.readouterr()

    assert main(["restore", str(out), "--yes"]) == 0
    assert "Restored" in capsys.readouterr().out
    assert _organisation_names(cli_database) == ["Backed Up Council"]


def test_cli_restore_without_yes_refuses_and_says_what_would_be_replaced(
    cli_database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "chosen.db"
    assert main(["backup", "--out", str(out)]) == 0
    factories.organisation(cli_database, name="Added Later Council", short_name="ALC")
    capsys.readouterr()

    assert main(["restore", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(out) in err
    assert str(tmp_path / "live.db") in err
    assert "--yes" in err
    assert sorted(_organisation_names(cli_database)) == ["Added Later Council", "Backed Up Council"]


@pytest.mark.parametrize(("answer", "code", "organisations"), [("yes", 0, 1), ("no", 1, 2)])
def test_cli_restore_asks_at_a_terminal(
    cli_database: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    organisations: int,
) -> None:
    out = tmp_path / "chosen.db"
    assert main(["backup", "--out", str(out)]) == 0
    factories.organisation(cli_database, name="Added Later Council", short_name="ALC")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(answer + "\n"))
    assert main(["restore", str(out)]) == code
    assert len(_organisation_names(cli_database)) == organisations
    if answer == "no":
        assert "Nothing was changed" in capsys.readouterr().err


def test_cli_restore_refuses_a_file_that_is_not_a_backup_with_exit_1(
    cli_database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a backup")
    assert main(["restore", str(path), "--yes"]) == 1
    err = capsys.readouterr().err
    assert "tracker: backup: " in err and "is not a Change Tracker backup" in err
    assert "Traceback" not in err
    assert _organisation_names(cli_database) == ["Backed Up Council"]


def test_cli_backup_of_a_missing_database_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    assert main(["backup", "--out", str(tmp_path / "b.db")]) == 1
    assert "there is no database at" in capsys.readouterr().err
    assert not (tmp_path / "absent.db").exists()


def test_cli_restore_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["restore"]) == 2
    assert "usage: tracker restore" in capsys.readouterr().err
