"""Storage promises (RELIABILITY.md #7 and #9): SQLite set up for several writers, foreign keys
enforced, concurrent writers from threads and processes neither fail nor lose a write, and every
change is audited in the same transaction as the change. On SQLite and, where it applies,
PostgreSQL."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import types
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from tests import factories
from tests.factories import SYSTEM
from tracker import db
from tracker.audit import MissingActorError
from tracker.models import AuditEvent, Organisation
from tracker.models.organisation import OrganisationCreate
from tracker.services import organisations, records

ACTOR = factories.ACTOR


def _count(engine: Engine, table: type[Any]) -> int:
    with db.read_session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _organisation_version(engine: Engine, organisation_id: int) -> int:
    with db.read_session(engine) as session:
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        return organisation.version


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


write_one = factories.organisation_and_counter_change


def write_many_in_a_process(url: str, prefix: str, count: int, counter_id: int, start: Any) -> None:
    """Run in a spawned process: `count` writes through its own engine, once every process is
    ready (`start` is a multiprocessing barrier), so that they really write at the same time."""
    engine = db.make_engine(url)
    start.wait(timeout=60)
    try:
        for n in range(count):
            write_one(engine, f"{prefix}-{n}", counter_id)
    finally:
        engine.dispose()


@pytest.fixture
def counter_id(engine: Engine) -> int:
    return factories.organisation(engine, name="Counter", short_name="COUNTER")


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000


def test_a_row_pointing_at_a_missing_record_is_refused(engine: Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO staff_group (version, organisation_id, name) "
                "VALUES (1, 987654, 'Nobody''s team')"
            )
        )
    assert _count(engine, Organisation) == 0


def test_four_threads_writing_fifty_times_each_lose_nothing(
    engine: Engine, counter_id: int
) -> None:
    events_before = _count(engine, AuditEvent)
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(thread: int) -> None:
        start.wait()
        try:
            for n in range(50):
                write_one(engine, f"T{thread}-{n}", counter_id)
        except BaseException as error:  # reported below, with "database is locked" if it was
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [str(error) for error in failures] == []
    assert _count(engine, Organisation) == 1 + 200
    assert _organisation_version(engine, counter_id) == 1 + 200
    # Each write: one organisation created, one counter updated.
    assert _count(engine, AuditEvent) - events_before == 2 * 200


def test_two_processes_writing_a_hundred_times_each_lose_nothing(
    engine: Engine, counter_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    events_before = _count(engine, AuditEvent)
    # A spawned child re-runs the parent's __main__ by path. After an AppTest, Streamlit has left
    # streamlit_app.py there, so give the children a blank one.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    processes = [
        context.Process(
            target=write_many_in_a_process, args=(_url(engine), f"P{n}", 100, counter_id, start)
        )
        for n in (1, 2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=180)
    # A writer that failed (e.g. "database is locked") prints its traceback and exits non-zero.
    assert [process.exitcode for process in processes] == [0, 0]
    assert _count(engine, Organisation) == 1 + 200
    assert _organisation_version(engine, counter_id) == 1 + 200
    assert _count(engine, AuditEvent) - events_before == 2 * 200


def test_every_change_is_audited_with_its_actor_and_values(engine: Engine) -> None:
    with db.write_session(engine, actor="editor@example.org") as session:
        organisation = organisations.create_organisation(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                OrganisationCreate, {"name": "Audited Borough", "short_name": "AB"}
            ),
        )
    with db.read_session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.record_type == "organisation"))
        (event,) = events.all()
    assert event.actor == "editor@example.org"
    assert event.action == "create"
    assert event.record_id == str(organisation.id)
    assert event.before is None
    assert '"name": "Audited Borough"' in (event.after or "")


def test_a_write_that_fails_leaves_neither_the_row_nor_its_audit_event(engine: Engine) -> None:
    events_before = _count(engine, AuditEvent)
    with (
        pytest.raises(RuntimeError, match="the save failed half-way"),
        db.write_session(engine, actor=ACTOR) as session,
    ):
        organisations.create_organisation(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                OrganisationCreate, {"name": "Half-saved Council", "short_name": "HSC"}
            ),
        )
        session.flush()
        raise RuntimeError("the save failed half-way")
    assert _count(engine, Organisation) == 0
    assert _count(engine, AuditEvent) == events_before


def test_a_change_made_outside_a_write_session_is_refused_unaudited(engine: Engine) -> None:
    with pytest.raises(MissingActorError), Session(engine) as session:
        session.add(Organisation(name="Anonymous Council", short_name="ANON"))
        session.commit()
    assert _count(engine, Organisation) == 0
    assert _count(engine, AuditEvent) == 0


def test_data_version_grows_with_each_saved_change_only(engine: Engine) -> None:
    with db.read_session(engine) as session:
        start = db.data_version(session)
    factories.organisation(engine)
    with db.read_session(engine) as session:
        after_save = db.data_version(session)
    with pytest.raises(RuntimeError), db.write_session(engine, actor=ACTOR) as session:
        organisations.create_organisation(
            session=session,
            viewer=SYSTEM,
            data=records.validated(OrganisationCreate, {"name": "Rolled Back", "short_name": "RB"}),
        )
        raise RuntimeError("abandoned")
    with db.read_session(engine) as session:
        after_rollback = db.data_version(session)
    assert after_save > start
    assert after_rollback == after_save


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (
            "postgresql://u:p@db.example:5432/tracker",
            "postgresql+psycopg://u:p@db.example:5432/tracker",
        ),
        ("postgres://u:p@db.example/tracker", "postgresql+psycopg://u:p@db.example/tracker"),
        (
            "postgresql+psycopg://u:p@db.example/tracker",
            "postgresql+psycopg://u:p@db.example/tracker",
        ),
        ("sqlite:////srv/tracker/tracker.db", "sqlite:////srv/tracker/tracker.db"),
        ("", "sqlite:///data/tracker.db"),
        ("   ", "sqlite:///data/tracker.db"),
        (None, "sqlite:///data/tracker.db"),
    ],
)
def test_database_url_gives_postgres_the_psycopg3_driver_and_defaults_to_sqlite(
    monkeypatch: pytest.MonkeyPatch, configured: str | None, expected: str
) -> None:
    if configured is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", configured)
    assert db.database_url() == expected
    assert sa.make_url(db.database_url()).get_dialect().driver in {"psycopg", "pysqlite"}
