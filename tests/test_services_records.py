"""Bad input is refused with the field and a reason, and changes nothing (RELIABILITY.md #13, #14);
the database refuses the same values on its own; stale forms cannot overwrite a newer save (#8);
every create, update and delete is audited (#9). On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from tests import factories
from tests.conftest import NO_POSTGRES
from tests.factories import SYSTEM
from tracker import db, read
from tracker.errors import ConflictError, DomainError
from tracker.models import (
    AuditEvent,
    Milestone,
    MilestoneCreate,
    MilestoneUpdate,
    Programme,
    ProgrammeCreate,
    Stage,
    StageRecordCreate,
    StageRecordUpdate,
)
from tracker.models.people import StakeholderCreate
from tracker.services import milestones, programmes, records, stakeholders

ACTOR = factories.ACTOR


def _row_counts(engine: Engine) -> dict[str, int]:
    """How many rows every table holds, audit_event included."""
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
            for table in SQLModel.metadata.sorted_tables
        }


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def shared_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database of each kind for the refusals below. A refused change leaves the
    database as it was (which each of those tests asserts), so they need no fresh one each."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('services')}/tracker.db"
        engine = db.make_engine(url)
        db.migrate(engine)
        yield engine
        engine.dispose()
        return
    admin_url = os.environ.get("TRACKER_TEST_POSTGRES_URL", "")
    if not admin_url:
        pytest.skip(NO_POSTGRES)
    name = f"tracker_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = db.make_engine(
        sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    )
    try:
        db.migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def shared_programme_id(shared_engine: Engine) -> int:
    return factories.programme(shared_engine, start_date=dt.date(2026, 1, 1))


@pytest.fixture(scope="module")
def shared_stakeholder_id(shared_engine: Engine, shared_programme_id: int) -> int:
    return factories.stakeholder(shared_engine, shared_programme_id, name="Pat Jones")


@pytest.fixture
def programme_id(engine: Engine) -> int:
    return factories.programme(engine, start_date=dt.date(2026, 1, 1))


def _milestone(programme_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "programme_id": programme_id,
        "stage": "vision",
        "title": "Agree the vision",
        "due_date": dt.date(2026, 9, 30),
        "weight": 3,
    } | overrides


def _programme(organisation_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "code": "NEW-1",
        "title": "A new programme",
        "organisation_id": organisation_id,
        "start_date": dt.date(2026, 5, 1),
        "target_end_date": dt.date(2027, 5, 1),
    } | overrides


def _organisation_of(session: Session, programme_id: int) -> int:
    return records.get(session, Programme, programme_id).organisation_id


def _existing_code(session: Session, programme_id: int) -> str:
    return records.get(session, Programme, programme_id).code


def _stage_record_id(session: Session, programme_id: int) -> int:
    record = read.manage.stage_record(session=session, programme_id=programme_id, stage="vision")
    assert record.id is not None
    return record.id


# Each case: what a person tried, as a call on a write session, and the field it must name.
Attempt = Callable[[Session, int], object]
BAD_INPUT: list[tuple[str, Attempt, str]] = [
    (
        "milestone weight 6",
        lambda s, p: milestones.create_milestone(
            session=s,
            viewer=SYSTEM,
            data=records.validated(MilestoneCreate, _milestone(p, weight=6)),
        ),
        "weight",
    ),
    (
        "stakeholder influence 0",
        lambda s, p: stakeholders.create_stakeholder(
            session=s,
            viewer=SYSTEM,
            data=records.validated(
                StakeholderCreate, {"programme_id": p, "name": "Sam Lee", "influence": 0}
            ),
        ),
        "influence",
    ),
    (
        "stakeholder stance 3",
        lambda s, p: stakeholders.create_stakeholder(
            session=s,
            viewer=SYSTEM,
            data=records.validated(
                StakeholderCreate, {"programme_id": p, "name": "Sam Lee", "stance": 3}
            ),
        ),
        "stance",
    ),
    (
        "programme ending before it starts",
        lambda s, p: programmes.create_programme(
            session=s,
            viewer=SYSTEM,
            data=records.validated(
                ProgrammeCreate,
                _programme(_organisation_of(s, p), target_end_date=dt.date(2026, 4, 30)),
            ),
        ),
        "target_end_date",
    ),
    (
        "stage planned to end before it starts",
        lambda s, p: programmes.update_stage_record(
            session=s,
            viewer=SYSTEM,
            stage_record_id=_stage_record_id(s, p),
            data=records.validated(
                StageRecordUpdate,
                {
                    "planned_start": dt.date(2026, 3, 1),
                    "planned_end": dt.date(2026, 2, 1),
                    "version": 1,
                },
            ),
        ),
        "planned_end",
    ),
    (
        "milestone in an unknown stage",
        lambda s, p: milestones.create_milestone(
            session=s,
            viewer=SYSTEM,
            data=records.validated(MilestoneCreate, _milestone(p, stage="launchpad")),
        ),
        "stage",
    ),
    (
        "stage record of an unknown stage",
        lambda s, p: read.manage.stage_record(session=s, programme_id=p, stage="launchpad"),
        "stage",
    ),
    (
        "milestone title of 201 characters",
        lambda s, p: milestones.create_milestone(
            session=s,
            viewer=SYSTEM,
            data=records.validated(MilestoneCreate, _milestone(p, title="x" * 201)),
        ),
        "title",
    ),
    (
        "second record for a stage the programme has",
        lambda s, p: programmes.create_stage_record(
            session=s,
            viewer=SYSTEM,
            data=records.validated(StageRecordCreate, {"programme_id": p, "stage": "vision"}),
        ),
        "stage",
    ),
    (
        "programme code already in use",
        lambda s, p: programmes.create_programme(
            session=s,
            viewer=SYSTEM,
            data=records.validated(
                ProgrammeCreate, _programme(_organisation_of(s, p), code=_existing_code(s, p))
            ),
        ),
        "code",
    ),
    (
        "milestone title holding a NUL character (PostgreSQL cannot store it)",
        lambda s, p: milestones.create_milestone(
            session=s,
            viewer=SYSTEM,
            data=records.validated(MilestoneCreate, _milestone(p, title="Agree\x00 the vision")),
        ),
        "title",
    ),
]

# Words that would mean a programmer's message reached a person.
JARGON = ("Value error", "validation error", "pydantic", "Traceback", "type=", "IntegrityError")


@pytest.mark.parametrize(
    ("attempt", "field"),
    [pytest.param(attempt, field, id=name) for name, attempt, field in BAD_INPUT],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    shared_engine: Engine,
    shared_programme_id: int,
    shared_stakeholder_id: int,
    attempt: Attempt,
    field: str,
) -> None:
    before = _row_counts(shared_engine)
    with (
        pytest.raises(DomainError) as refused,
        db.write_session(shared_engine, actor=ACTOR) as session,
    ):
        attempt(session, shared_programme_id)
    error = refused.value
    assert not isinstance(error, ConflictError)
    assert error.field == field
    assert len(error.reason.split()) >= 4, f"not a sentence: {error.reason!r}"
    assert not any(word in error.reason for word in JARGON), error.reason
    assert _row_counts(shared_engine) == before


def test_a_value_out_of_range_is_explained_with_its_limit(
    shared_engine: Engine, shared_programme_id: int
) -> None:
    with (
        pytest.raises(DomainError) as refused,
        db.write_session(shared_engine, actor=ACTOR) as session,
    ):
        milestones.create_milestone(
            session=session,
            viewer=SYSTEM,
            data=records.validated(MilestoneCreate, _milestone(shared_programme_id, weight=6)),
        )
    assert "5" in refused.value.reason


def test_an_unknown_stage_is_explained_with_the_six_stages(
    shared_engine: Engine, shared_programme_id: int
) -> None:
    with (
        pytest.raises(DomainError) as refused,
        db.write_session(shared_engine, actor=ACTOR) as session,
    ):
        milestones.create_milestone(
            session=session,
            viewer=SYSTEM,
            data=records.validated(MilestoneCreate, _milestone(shared_programme_id, stage="x")),
        )
    assert all(stage.value in refused.value.reason for stage in Stage)


def _copy_row(connection: sa.Connection, table: str, row_id: int) -> dict[str, Any]:
    row = connection.execute(
        sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}
    ).mappings()
    return {key: value for key, value in row.one().items() if key != "id"}


def _raw_insert(connection: sa.Connection, table: str, values: dict[str, Any]) -> None:
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    connection.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)


# A valid row copied with one thing wrong, inserted in plain SQL: models, services and the
# audit listener are all bypassed, so only the database's own constraints can refuse it.
RAW_BAD_ROWS = [
    ("milestone weight 9", "milestone", {"weight": 9}),
    ("milestone weight 0", "milestone", {"weight": 0}),
    ("milestone in an unknown stage", "milestone", {"stage": "launchpad"}),
    ("milestone title of 201 characters", "milestone", {"title": "x" * 201}),
    ("milestone done without a date", "milestone", {"status": "done", "completed_date": None}),
    ("stakeholder influence 0", "stakeholder", {"name": "Sam Lee", "influence": 0}),
    ("stakeholder stance 3", "stakeholder", {"name": "Sam Lee", "stance": 3}),
    ("duplicate stakeholder name", "stakeholder", {}),
    (
        "programme ending before it starts",
        "programme",
        {"code": "NEW-2", "target_end_date": dt.date(2025, 12, 31)},
    ),
    ("duplicate programme code", "programme", {}),
    ("second record for a stage", "stage_record", {}),
    (
        "stage planned to end before it starts",
        "stage_record",
        {
            "stage": "launch",
            "planned_start": dt.date(2026, 3, 1),
            "planned_end": dt.date(2026, 2, 1),
        },
    ),
]


@pytest.mark.parametrize(
    ("table", "changes"),
    [pytest.param(table, changes, id=name) for name, table, changes in RAW_BAD_ROWS],
)
def test_the_database_itself_refuses_bad_values(
    shared_engine: Engine,
    shared_programme_id: int,
    shared_stakeholder_id: int,
    table: str,
    changes: dict[str, Any],
) -> None:
    milestone_id = factories.milestone(shared_engine, shared_programme_id)
    with db.read_session(shared_engine) as session:
        ids = {
            "milestone": milestone_id,
            "stakeholder": shared_stakeholder_id,
            "programme": shared_programme_id,
            "stage_record": _stage_record_id(session, shared_programme_id),
        }
    before = _row_counts(shared_engine)
    # PostgreSQL refuses an over-long text by its column type (DataError) before any check.
    with (
        pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)),
        shared_engine.begin() as connection,
    ):
        if table == "stage_record" and "stage" in changes:
            # Every stage already has its record: make room, so only the dates are wrong.
            connection.execute(
                sa.text("DELETE FROM stage_record WHERE programme_id = :p AND stage = 'launch'"),
                {"p": shared_programme_id},
            )
        _raw_insert(connection, table, _copy_row(connection, table, ids[table]) | changes)
    assert _row_counts(shared_engine) == before


def test_the_database_accepts_a_valid_copy_so_the_refusals_above_are_about_the_bad_value(
    shared_engine: Engine, shared_programme_id: int
) -> None:
    milestone_id = factories.milestone(shared_engine, shared_programme_id)
    before = _row_counts(shared_engine)["milestone"]
    with shared_engine.begin() as connection:
        _raw_insert(connection, "milestone", _copy_row(connection, "milestone", milestone_id))
    assert _row_counts(shared_engine)["milestone"] == before + 1


def test_a_form_opened_before_someone_elses_save_cannot_overwrite_it(
    engine: Engine, programme_id: int
) -> None:
    milestone_id = factories.milestone(engine, programme_id, title="Original title")
    with db.read_session(engine) as session:
        form_a = session.get(Milestone, milestone_id)
        form_b = session.get(Milestone, milestone_id)
        assert form_a is not None and form_b is not None
        version_a, version_b = form_a.version, form_b.version
    assert version_a == version_b == 1

    with db.write_session(engine, actor="a@example.org") as session:
        milestones.update_milestone(
            session=session,
            viewer=SYSTEM,
            milestone_id=milestone_id,
            data=records.validated(
                MilestoneUpdate, {"title": "A's title", "weight": 5, "version": version_a}
            ),
        )
    with (
        pytest.raises(ConflictError) as refused,
        db.write_session(engine, actor="b@example.org") as session,
    ):
        milestones.update_milestone(
            session=session,
            viewer=SYSTEM,
            milestone_id=milestone_id,
            data=records.validated(MilestoneUpdate, {"title": "B's title", "version": version_b}),
        )
    assert "Someone else saved" in refused.value.reason

    with db.read_session(engine) as session:
        saved = session.get(Milestone, milestone_id)
        assert saved is not None
    assert (saved.title, saved.weight, saved.version) == ("A's title", 5, 2)


def test_a_stale_form_cannot_delete_a_record_someone_has_since_changed(
    engine: Engine, programme_id: int
) -> None:
    milestone_id = factories.milestone(engine, programme_id)
    with db.write_session(engine, actor="a@example.org") as session:
        milestones.update_milestone(
            session=session,
            viewer=SYSTEM,
            milestone_id=milestone_id,
            data=records.validated(MilestoneUpdate, {"weight": 1, "version": 1}),
        )
    with (
        pytest.raises(ConflictError),
        db.write_session(engine, actor="b@example.org") as session,
    ):
        milestones.delete_milestone(
            session=session, viewer=SYSTEM, milestone_id=milestone_id, expected_version=1
        )
    with db.read_session(engine) as session:
        assert session.get(Milestone, milestone_id) is not None


def _events(engine: Engine, record_id: int) -> list[AuditEvent]:
    with db.read_session(engine) as session:
        query = (
            select(AuditEvent)
            .where(AuditEvent.record_type == "milestone", AuditEvent.record_id == str(record_id))
            .order_by(AuditEvent.id)  # type: ignore[arg-type]
        )
        return list(session.exec(query).all())


def test_create_update_and_delete_are_audited_with_actor_before_and_after(
    engine: Engine, programme_id: int
) -> None:
    with db.write_session(engine, actor="creator@example.org") as session:
        created = milestones.create_milestone(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MilestoneCreate, _milestone(programme_id, title="Draft the vision")
            ),
        )
        assert created.id is not None
        milestone_id = created.id
    with db.write_session(engine, actor="editor@example.org") as session:
        milestones.update_milestone(
            session=session,
            viewer=SYSTEM,
            milestone_id=milestone_id,
            data=records.validated(MilestoneUpdate, {"title": "Publish the vision", "version": 1}),
        )
    with db.write_session(engine, actor="remover@example.org") as session:
        milestones.delete_milestone(
            session=session, viewer=SYSTEM, milestone_id=milestone_id, expected_version=2
        )

    create, update, delete = _events(engine, milestone_id)
    assert (create.action, create.actor, create.before) == ("create", "creator@example.org", None)
    assert json.loads(create.after or "{}")["title"] == "Draft the vision"

    assert (update.action, update.actor) == ("update", "editor@example.org")
    assert json.loads(update.before or "{}")["title"] == "Draft the vision"
    assert json.loads(update.after or "{}")["title"] == "Publish the vision"
    assert json.loads(update.after or "{}")["version"] == 2

    assert (delete.action, delete.actor, delete.after) == ("delete", "remover@example.org", None)
    assert json.loads(delete.before or "{}")["title"] == "Publish the vision"
