"""Infrastructure faults (security issue item 7): the database down, the disk full, the database
read-only or locked show a plain sentence (tracker/faults.py) on every page and in the `tracker`
command, never a traceback; a write cut short by one saves nothing; and the SQLite files the app
and the command create are readable by their owner only (item 9).

Every fault here is real, none mocked: a closed port, SQLite's own page limit (PRAGMA
max_page_count) for a full disk, a file made read-only on disk (chmod, or chattr +i as root,
whom file permissions do not bind; SQLite's ?mode=ro where neither can be done), another
connection holding SQLite's write lock, and PostgreSQL raising each SQLSTATE itself."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, sign_in
from tracker import db, faults
from tracker.models import AuditEvent, Organisation

ROOT = Path(__file__).resolve().parents[1]
ADA = "ada.admin@demo.example"
SAM = "sam.staff@demo.example"
ACTOR = "faults@example.org"
# Nothing listens on port 1: connecting is refused at once.
CLOSED_PORT_URL = "postgresql+psycopg://tracker:tracker@127.0.0.1:1/tracker"


def _count(engine: Engine, table: type[Any]) -> int:
    with db.read_session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _version(engine: Engine) -> int:
    with db.read_session(engine) as session:
        return db.data_version(session)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _fault(run: Callable[[], object]) -> BaseException:
    """The error `run` raised (it must raise)."""
    with pytest.raises(Exception) as caught:
        run()
    return caught.value


# --- Read-only on disk --------------------------------------------------------------------------


def _make_read_only_on_disk(path: Path, undo: list[Callable[[], None]]) -> bool:
    """Make the file read-only on disk: chmod 0444, or, as root (whom permissions do not bind),
    the immutable attribute. True when a read-write open is then refused."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        undo.append(lambda: path.chmod(0o600))
    elif shutil.which("chattr"):
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if made.returncode == 0:
            undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=False))
    try:
        os.close(os.open(path, os.O_RDWR))
    except OSError:
        return True
    return False


@pytest.fixture
def read_only() -> Iterator[Callable[[str], str]]:
    """Make a SQLite database read-only and return a URL that opens it afresh (a new engine, so
    no pooled connection still holds it open for writing). On disk where that can be done;
    otherwise (root in a container without CAP_LINUX_IMMUTABLE) SQLite opens it read-only."""
    undo: list[Callable[[], None]] = []

    def make(url: str) -> str:
        path = Path(sa.make_url(url).database or "")
        on_disk = _make_read_only_on_disk(path, undo)
        mode = "" if on_disk else "mode=ro&"
        return f"sqlite:///file:{urllib.parse.quote(str(path))}?{mode}uri=true"

    yield make
    for step in reversed(undo):
        step()


# --- Pages ----------------------------------------------------------------------------------


def _errors(at: AppTest) -> list[str]:
    return [element.value for element in at.error]


# Pages whose address differs from their file name: AppTest resets Streamlit's "pages folder"
# flag before every run, so a page at the address of its file name (portfolio, programme) is
# run straight from pages/, without the entry file around it.
@pytest.mark.parametrize(
    ("email", "page"),
    [
        (ADA, "pages/manage_milestones.py"),
        (ADA, "pages/admin_users.py"),
        (SAM, "pages/staff_news.py"),
    ],
)
def test_a_page_says_plainly_when_the_database_goes_down_mid_session(
    app_as: Callable[[str], AppTest], monkeypatch: pytest.MonkeyPatch, email: str, page: str
) -> None:
    at = app_as(email)
    monkeypatch.setenv("DATABASE_URL", CLOSED_PORT_URL)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert _errors(at) == [faults.UNREACHABLE]
    # The fault screen offers nothing to fill in or press: not the sign-in form, not the page.
    assert not at.text_input and not at.button


def test_the_sign_in_check_says_plainly_when_the_database_cannot_be_reached(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", CLOSED_PORT_URL)
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, ADA)
    at.run()
    assert not at.exception, at.exception
    assert _errors(at) == [faults.UNREACHABLE]


def _saved(url: str) -> tuple[int, int, int]:
    """Organisations, audit events and the data version, read through a read-only connection:
    SQLite hands a closed read-write connection's file to the next connection to open the
    same file in this process, which would make the file writable again for it."""
    path = sa.make_url(url).database or ""
    reader = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True)
    try:
        return tuple(  # type: ignore[return-value]
            int(reader.execute(sql).fetchone()[0])
            for sql in (
                "SELECT count(*) FROM organisation",
                "SELECT count(*) FROM audit_event",
                "SELECT value FROM data_version WHERE id = 1",
            )
        )
    finally:
        reader.close()


def test_a_save_to_a_read_only_database_shows_a_plain_message_and_saves_nothing(
    app_as: Callable[[str], AppTest],
    demo_url: str,
    monkeypatch: pytest.MonkeyPatch,
    read_only: Callable[[str], str],
) -> None:
    at = app_as(ADA)
    at.switch_page("pages/admin_organisations.py").run()
    assert not at.exception, at.exception
    before = _saved(demo_url)

    monkeypatch.setenv("DATABASE_URL", read_only(demo_url))
    at.text_input(key="organisations_new_name").set_value("Read-only Borough Council")
    at.text_input(key="organisations_new_short").set_value("ROBC")
    next(button for button in at.button if button.label == "Add organisation").click()
    at.run()

    assert not at.exception, at.exception
    assert _errors(at) == [faults.READ_ONLY_FILE]
    assert not at.success
    assert _saved(demo_url) == before


# --- The tracker command ----------------------------------------------------------------------


def test_the_command_says_plainly_when_the_database_cannot_be_reached() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "migrate"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": CLOSED_PORT_URL},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"tracker: {faults.UNREACHABLE}\n"
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


# --- Nothing half-written ---------------------------------------------------------------------


def _write_until_it_fails(engine: Engine, fault: Callable[[sa.Connection], None]) -> int:
    """Save organisations one statement at a time in one write session, injecting `fault` into
    its connection after the first; return how many were flushed before the write failed."""
    flushed = 0
    with db.write_session(engine, actor=ACTOR) as session:
        for n in range(5000):
            session.add(Organisation(name=f"Half-written Council {n}", short_name=f"HW{n}"))
            session.flush()
            flushed += 1
            if n == 0:
                fault(session.connection())
    return flushed


def _limit_pages(connection: sa.Connection) -> None:
    """SQLite's own limit on the file's size, set to one page more than it has: the next page
    it needs fails with SQLITE_FULL, as a full disk does."""
    pages = int(connection.exec_driver_sql("PRAGMA page_count").scalar() or 0)
    connection.exec_driver_sql(f"PRAGMA max_page_count = {pages + 1}")


def _refuse_writes(connection: sa.Connection) -> None:
    """The connection becomes read-only (SQLITE_READONLY), as a file made read-only does."""
    connection.exec_driver_sql("PRAGMA query_only = ON")


@pytest.mark.parametrize(
    ("inject", "message"),
    [(_limit_pages, faults.DISK_FULL), (_refuse_writes, faults.READ_ONLY_FILE)],
    ids=["disk full", "read-only"],
)
def test_a_write_cut_short_by_a_fault_saves_none_of_its_rows(
    sqlite_url: str, inject: Callable[[sa.Connection], None], message: str
) -> None:
    engine = db.make_engine(sqlite_url)
    before = (_count(engine, Organisation), _count(engine, AuditEvent), _version(engine))
    error = _fault(lambda: _write_until_it_fails(engine, inject))
    engine.dispose()  # the connection keeps the injected setting

    assert faults.describe(error) == message
    engine = db.make_engine(sqlite_url)
    assert (_count(engine, Organisation), _count(engine, AuditEvent), _version(engine)) == before
    engine.dispose()


@pytest.mark.postgres
def test_a_postgres_write_cut_short_by_a_full_disk_saves_none_of_its_rows(
    postgres_engine: Engine,
) -> None:
    before = (_count(postgres_engine, Organisation), _count(postgres_engine, AuditEvent))

    def disk_full(connection: sa.Connection) -> None:
        # The server raises the SQLSTATE a full disk gives (53100): filling a real one would
        # need a file system of its own under the server.
        connection.exec_driver_sql(
            "DO $$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; "
            "END $$"
        )

    error = _fault(lambda: _write_until_it_fails(postgres_engine, disk_full))
    assert faults.describe(error) == faults.DISK_FULL
    after = (_count(postgres_engine, Organisation), _count(postgres_engine, AuditEvent))
    assert after == before


@pytest.mark.postgres
def test_a_postgres_database_made_read_only_refuses_writes_in_plain_words(
    postgres_engine: Engine,
) -> None:
    name = postgres_engine.url.database
    with postgres_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.exec_driver_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    postgres_engine.dispose()  # new connections take the setting

    def write() -> None:
        with db.write_session(postgres_engine, actor=ACTOR) as session:
            session.add(Organisation(name="Read-only Council", short_name="ROC"))

    assert faults.describe(_fault(write)) == faults.READ_ONLY
    assert _count(postgres_engine, Organisation) == 0


# --- Each fault in plain words ------------------------------------------------------------------


def test_a_closed_port_is_described_as_the_database_cannot_be_reached() -> None:
    engine = db.make_engine(CLOSED_PORT_URL)
    error = _fault(lambda: engine.connect())
    engine.dispose()
    assert faults.describe(error) == faults.UNREACHABLE


def test_a_lock_held_past_the_busy_timeout_is_described_as_busy(sqlite_url: str) -> None:
    path = sa.make_url(sqlite_url).database or ""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    engine = db.make_engine(sqlite_url)
    # A short busy timeout, so the test waits 50 ms rather than the app's 10 s.
    sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout = 50"))

    def write() -> None:
        with db.write_session(engine, actor=ACTOR) as session:
            session.add(Organisation(name="Locked Out Council", short_name="LOC"))

    try:
        error = _fault(write)
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    assert faults.describe(error) == faults.BUSY


def test_a_file_made_read_only_on_disk_is_described_as_read_only(
    sqlite_url: str, read_only: Callable[[str], str]
) -> None:
    engine = db.make_engine(read_only(sqlite_url))

    def write() -> None:
        with db.write_session(engine, actor=ACTOR) as session:
            session.add(Organisation(name="Read-only Council", short_name="ROC"))

    try:
        error = _fault(write)
        assert _count(engine, Organisation) == 0  # reading still works
    finally:
        engine.dispose()
    assert faults.describe(error) == faults.READ_ONLY_FILE


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("disk_full", faults.DISK_FULL),
        ("read_only_sql_transaction", faults.READ_ONLY),
        ("admin_shutdown", faults.UNREACHABLE),
        ("cannot_connect_now", faults.UNREACHABLE),
        ("too_many_connections", faults.SHORT_OF_RESOURCES),
        ("lock_not_available", faults.BUSY),
        ("query_canceled", faults.BUSY),
        ("data_corrupted", faults.DAMAGED),
        ("unique_violation", None),
        ("check_violation", None),
    ],
)
def test_postgres_faults_are_described_by_their_sqlstate(
    postgres_engine: Engine, condition: str, message: str | None
) -> None:
    def raise_it() -> None:
        with postgres_engine.connect() as connection:
            connection.exec_driver_sql(
                f"DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{condition}'; END $$"
            )

    assert faults.describe(_fault(raise_it)) == message


@pytest.mark.postgres
def test_postgres_refusing_the_apps_credentials_is_described_as_refused(
    postgres_engine: Engine,
) -> None:
    wrong = postgres_engine.url.set(password="not-the-password")
    engine = db.make_engine(wrong.render_as_string(hide_password=False))
    error = _fault(lambda: engine.connect())
    engine.dispose()
    assert faults.describe(error) == faults.REFUSED


def test_errors_that_are_not_infrastructure_faults_are_not_described(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)

    def duplicate() -> None:
        with db.write_session(engine, actor=ACTOR) as session:
            session.add(Organisation(name="Twice Council", short_name="TWICE"))
            session.add(Organisation(name="Twice Council", short_name="TWICE2"))

    def no_such_table() -> None:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT * FROM no_such_table")

    try:
        assert faults.describe(_fault(duplicate)) is None
        assert faults.describe(_fault(no_such_table)) is None
    finally:
        engine.dispose()
    assert faults.describe(ValueError("not a fault")) is None
    assert faults.describe(FileNotFoundError(2, "No such file")) is None
    assert faults.describe(OSError(28, "No space left on device")) == faults.DISK_FULL


# --- File modes -------------------------------------------------------------------------------


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The usual umask (022), under which SQLite's own files would be 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_sqlite_database_and_its_wal_files_are_readable_by_their_owner_only(
    tmp_path: Path, usual_umask: None
) -> None:
    path = tmp_path / "data" / "tracker.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    with engine.connect() as connection:  # the -wal and -shm files exist while it is open
        connection.exec_driver_sql("SELECT 1")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}.migrate.lock")]
        assert {file.name: _mode(file) for file in files} == {file.name: 0o600 for file in files}
    engine.dispose()


def test_wal_files_left_wider_than_the_database_are_narrowed(
    sqlite_url: str, usual_umask: None
) -> None:
    path = Path(sa.make_url(sqlite_url).database or "")
    path.chmod(0o600)
    first = db.make_engine(sqlite_url)
    with first.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
        sides = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        for side in sides:
            side.chmod(0o644)
        second = db.make_engine(sqlite_url)
        with second.connect() as again:
            again.exec_driver_sql("SELECT 1")
        second.dispose()
        assert [_mode(side) for side in sides] == [0o600, 0o600]
    first.dispose()


def test_the_command_creates_the_database_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, usual_umask: None
) -> None:
    from tracker.cli import main

    path = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert main(["migrate"]) == 0
    assert _mode(path) == 0o600


def test_an_in_memory_or_uri_database_makes_no_stray_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "by-uri.db"
    for url in ("sqlite://", "sqlite:///:memory:", f"sqlite:///file:{target}?uri=true"):
        engine = db.make_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["by-uri.db"]
    assert _mode(target) == 0o600
