"""How long a 10,000-row milestone import takes: read, preview and commit, then the same file
again (every row unchanged). Not a test: run it by hand and read the numbers.

    .venv/bin/python bench/import_milestones.py            # a fresh SQLite file
    TRACKER_TEST_POSTGRES_URL=postgresql+psycopg://tracker:tracker@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/import_milestones.py        # ... and a fresh PostgreSQL database

With DATABASE_URL (a PostgreSQL URL) instead, that database is used as it is: the benchmark adds
an organisation, a user and a programme to it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker import access, db  # noqa: E402
from tracker.io import imports, reading  # noqa: E402
from tracker.models import Milestone, ProgrammeCreate, Role  # noqa: E402
from tracker.models.organisation import OrganisationCreate, UserCreate
from tracker.services import organisations, programmes, records  # noqa: E402

STAGES = ("Vision", "2", "test the ground", "Equip", "5", "Celebrate")
STATUSES = ("Not started", "In progress", "Done", "blocked", "WIP")


def milestone_csv(rows: int, owners: str = "Owner") -> bytes:
    """A semicolon-separated Windows-1252 file, dd/mm/yyyy dates, as Excel in the UK saves it."""
    lines = ["Milestone;Stage;Owner;Due date;Status;Completed;Weight"]
    start = dt.date(2026, 1, 5)
    for n in range(rows):
        due = start + dt.timedelta(days=n % 700)
        status = STATUSES[n % len(STATUSES)]
        done = f"{due - dt.timedelta(days=3):%d/%m/%Y}" if status == "Done" else ""
        lines.append(
            f"Milestone {n:05d}: café rota;{STAGES[n % 6]};{owners} {n % 37};{due:%d/%m/%Y};"
            f"{status};{done};{1 + n % 5}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def setup(engine: Engine) -> tuple[access.Viewer, int]:
    """An organisation, its manager and an empty programme."""
    suffix = uuid.uuid4().hex[:6].upper()
    with db.write_session(engine, actor="bench@example.org") as session:
        org = organisations.create_organisation(
            session=session,
            data=records.validated(
                OrganisationCreate, {"name": f"Bench Council {suffix}", "short_name": f"B{suffix}"}
            ),
        )
        assert org.id is not None
        user = organisations.create_user(
            session=session,
            data=records.validated(
                UserCreate,
                {
                    "email": f"bench-{suffix}@example.org",
                    "name": "Bench",
                    "role": Role.manager,
                },
            ),
            organisation_ids=[org.id],
        )
        programme = programmes.create_programme(
            session=session,
            viewer=access.system_viewer("benchmark"),
            data=records.validated(
                ProgrammeCreate,
                {
                    "code": f"BENCH-{suffix}",
                    "title": "Benchmark programme",
                    "organisation_id": org.id,
                    "start_date": dt.date(2026, 1, 1),
                    "target_end_date": dt.date(2028, 12, 31),
                },
            ),
        )
        assert programme.id is not None
        return access.viewer_for(user), programme.id


def run(engine: Engine, label: str, rows: int) -> None:
    viewer, programme_id = setup(engine)
    data = milestone_csv(rows)
    timings: list[str] = []

    started = time.perf_counter()
    original = reading.read_table(
        data, "milestones.csv", header_hints=reading.header_hints("milestones")
    )
    mapping = reading.guess_mapping("milestones", original.headers)
    timings.append(f"read {time.perf_counter() - started:.2f} s")
    changed = reading.read_table(
        milestone_csv(rows, owners="New owner"),
        "milestones.csv",
        header_hints=reading.header_hints("milestones"),
    )

    for attempt, table in (
        ("first import", original),
        ("same file again", original),
        ("every owner changed", changed),
    ):
        started = time.perf_counter()
        with db.read_session(engine) as session:
            checked = imports.preview(
                session=session,
                viewer=viewer,
                kind="milestones",
                table=table,
                mapping=mapping,
                programme_id=programme_id,
            )
        previewed = time.perf_counter() - started
        assert not checked.errors, checked.errors[:3]
        started = time.perf_counter()
        with db.write_session(engine, actor=viewer.email) as session:
            result = imports.commit_import(
                session=session,
                viewer=viewer,
                kind="milestones",
                table=table,
                mapping=mapping,
                programme_id=programme_id,
            )
        committed = time.perf_counter() - started
        timings.append(
            f"{attempt}: preview {previewed:.2f} s, commit {committed:.2f} s "
            f"({result.created} created, {result.updated} updated, {result.unchanged} unchanged)"
        )
    with db.read_session(engine) as session:
        count = session.exec(
            select(func.count())
            .select_from(Milestone)
            .where(Milestone.programme_id == programme_id)
        ).one()
    print(f"{label}: {rows} rows, {len(data) / 1024:.0f} KB; " + "; ".join(timings))
    print(f"{label}: {count} milestones in the programme afterwards")


@contextmanager
def fresh_sqlite() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{folder}/bench.db")
        db.migrate(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[Engine]:
    name = f"tracker_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = db.make_engine(sa.make_url(server_url).set(database=name).render_as_string(False))
    try:
        db.migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    rows = parser.parse_args().rows
    with fresh_sqlite() as engine:
        run(engine, "SQLite", rows)
    server = os.environ.get("TRACKER_TEST_POSTGRES_URL", "")
    database = os.environ.get("DATABASE_URL", "")
    if server:
        with fresh_postgres(server) as engine:
            run(engine, "PostgreSQL", rows)
    elif database.startswith(("postgres://", "postgresql")):
        engine = db.make_engine(db.database_url())
        db.migrate(engine)
        run(engine, "PostgreSQL", rows)
        engine.dispose()


if __name__ == "__main__":
    main()
