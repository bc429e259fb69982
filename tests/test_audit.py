"""The audit trail (RELIABILITY.md #9): written in the same transaction as every change, complete
enough that replaying it rebuilds the tables exactly (including rows the database deletes or
nulls on its own, by ON DELETE CASCADE / SET NULL), and not editable by the app: the database
refuses every UPDATE or DELETE of an audit event except an erasure's redaction. On SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from tests import factories
from tests.factories import SYSTEM
from tracker import audit, db
from tracker.errors import DomainError
from tracker.models import (
    Barrier,
    BarrierCreate,
    BarrierUpdate,
    Engagement,
    InfluenceLink,
    Milestone,
    MilestoneCreate,
    MilestoneUpdate,
    StaffGroup,
    Stakeholder,
)
from tracker.models.people import (
    EngagementCreate,
    InfluenceLinkCreate,
    StakeholderCreate,
    StakeholderUpdate,
)
from tracker.services import barriers, engagements, milestones, records, stakeholders

ACTOR = factories.ACTOR
AUDIT = SQLModel.metadata.tables["audit_event"]


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def tables_now(engine: Engine) -> dict[tuple[str, str], dict[str, Any]]:
    """Every row of every table but the audit trail and the data version (a counter of commits,
    not a record), keyed like audit events are."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table is AUDIT or table.name == "data_version":
                continue
            for row in connection.execute(sa.select(table)).mappings():
                key = "/".join(str(row[c.name]) for c in table.primary_key.columns)
                state[(table.name, key)] = {name: _plain(value) for name, value in row.items()}
    return state


def replay(engine: Engine) -> dict[tuple[str, str], dict[str, Any]]:
    """The tables as the audit trail says they are: each create adds its `after`, each update
    (whose `before` must be what the trail last said) replaces it, each delete removes it."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    with engine.connect() as connection:
        events = connection.execute(sa.select(AUDIT).order_by(AUDIT.c.id)).mappings().all()
    for event in events:
        key = (event["record_type"], event["record_id"])
        before = json.loads(event["before"]) if event["before"] else None
        after = json.loads(event["after"]) if event["after"] else None
        if event["action"] == "create":
            assert key not in state, f"created twice: {key}"
            state[key] = after  # type: ignore[assignment]
        elif event["action"] == "update":
            assert state.get(key) == before, f"update of {key} starts from another copy"
            state[key] = after  # type: ignore[assignment]
        elif event["action"] == "delete":
            assert state.pop(key, None) == before, f"delete of {key} removes another copy"
    return state


# --- Nobody edits the audit trail ---------------------------------------------------------------


@pytest.fixture
def audited(engine: Engine) -> tuple[Engine, int]:
    """A database with data in it and the id of one audit event (a stakeholder's creation)."""
    programme = factories.programme(engine)
    person = factories.stakeholder(engine, programme, name="Dana Example", notes="Private")
    with engine.connect() as connection:
        event_id = connection.execute(
            sa.select(AUDIT.c.id).where(
                AUDIT.c.record_type == "stakeholder", AUDIT.c.record_id == str(person)
            )
        ).scalar_one()
    return engine, int(event_id)


def _refused(engine: Engine, statement: str, **params: Any) -> None:
    """The statement fails with the database's integrity error and changes nothing."""
    before = _audit_rows(engine)
    # sqlite3.IntegrityError (RAISE(ABORT)) / psycopg.errors.RestrictViolation (SQLSTATE 23001)
    with pytest.raises(sa.exc.IntegrityError, match="audit events cannot be"):
        with engine.begin() as connection:
            connection.execute(sa.text(statement), params)
    assert _audit_rows(engine) == before


def _audit_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.select(AUDIT).order_by(AUDIT.c.id))]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'someone-else@example.org' WHERE id = :id",
        "UPDATE audit_event SET action = 'delete' WHERE id = :id",
        "UPDATE audit_event SET record_id = '999' WHERE id = :id",
        "UPDATE audit_event SET at = at WHERE id = :id",
        # Replacing a copy without marking the event redacted is an edit, not a redaction.
        "UPDATE audit_event SET \"after\" = '{}' WHERE id = :id",
        # A redaction keeps who, what and when.
        "UPDATE audit_event SET \"after\" = '{}', redacted = true, actor = 'x' WHERE id = :id",
        "UPDATE audit_event SET \"after\" = '{}', redacted = true, record_type = 'x' "
        "WHERE id = :id",
        # ... and cannot invent a copy that was not there (a create has no `before`).
        "UPDATE audit_event SET \"before\" = '{}', redacted = true WHERE id = :id",
        'UPDATE audit_event SET "after" = NULL, redacted = true WHERE id = :id',
        "DELETE FROM audit_event WHERE id = :id",
        "DELETE FROM audit_event",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_audit_event(
    audited: tuple[Engine, int], statement: str
) -> None:
    engine, event_id = audited
    _refused(engine, statement, id=event_id)


def test_the_only_change_allowed_is_the_redaction_and_it_cannot_be_undone(
    audited: tuple[Engine, int],
) -> None:
    engine, event_id = audited
    with engine.begin() as connection:
        connection.execute(
            sa.update(AUDIT)
            .where(AUDIT.c.id == event_id)
            .values(after='{"name": "[erased]"}', redacted=True)
        )
        # A second erasure may redact the same event again.
        connection.execute(
            sa.update(AUDIT)
            .where(AUDIT.c.id == event_id)
            .values(after='{"name": "[erased]", "notes": "[erased]"}', redacted=True)
        )
    _refused(engine, "UPDATE audit_event SET redacted = false WHERE id = :id", id=event_id)
    with engine.connect() as connection:
        row = connection.execute(sa.select(AUDIT).where(AUDIT.c.id == event_id)).mappings().one()
    assert row["redacted"] is True
    assert row["before"] is None and row["action"] == "create"


def test_the_orm_cannot_edit_an_audit_event_either(audited: tuple[Engine, int]) -> None:
    from tracker.models import AuditEvent

    engine, event_id = audited
    with pytest.raises(sa.exc.IntegrityError), db.write_session(engine, actor=ACTOR) as session:
        event = session.get(AuditEvent, event_id)
        assert event is not None
        event.after = "{}"
    with db.read_session(engine) as session:
        event = session.get(AuditEvent, event_id)
        assert event is not None and "Dana Example" in (event.after or "")


@pytest.mark.postgres
def test_postgres_refuses_truncate_and_public_holds_no_write_grant(
    postgres_engine: Engine,
) -> None:
    factories.programme(postgres_engine)
    _refused(postgres_engine, "TRUNCATE audit_event")
    with postgres_engine.connect() as connection:
        granted = connection.execute(
            sa.text(
                "SELECT has_table_privilege('public', 'audit_event', 'UPDATE'), "
                "has_table_privilege('public', 'audit_event', 'DELETE'), "
                "has_table_privilege('public', 'audit_event', 'TRUNCATE')"
            )
        ).one()
    assert tuple(granted) == (False, False, False)


def test_the_audit_trail_is_emptied_only_with_everything_else(engine: Engine) -> None:
    # The one delete allowed: the demo's complete wipe (`tracker demo --reset`), which empties
    # every other table first in the same transaction.
    factories.programme(engine)
    _refused(engine, "DELETE FROM audit_event")
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(sa.delete(table))
    assert _audit_rows(engine) == []


# --- Replaying the trail rebuilds the tables ----------------------------------------------------


def test_rows_the_database_deletes_on_its_own_are_audited(engine: Engine) -> None:
    programme = factories.programme(engine)
    first = factories.stakeholder(engine, programme)
    second = factories.stakeholder(engine, programme)
    milestone = factories.milestone(engine, programme)
    with db.write_session(engine, actor=ACTOR) as session:
        stakeholders.add_influence_link(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                InfluenceLinkCreate, {"from_stakeholder_id": first, "to_stakeholder_id": second}
            ),
        )
        engagements.log_engagement(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                EngagementCreate,
                {
                    "programme_id": programme,
                    "occurred_on": dt.date(2026, 5, 1),
                    "kind": "meeting",
                    "summary": "Kick-off",
                },
            ),
            stakeholder_ids=[first, second],
        )
        milestones.set_dependencies(
            session=session, viewer=SYSTEM, milestone_id=milestone, stakeholder_ids=[first]
        )
    with db.write_session(engine, actor=ACTOR) as session:
        stakeholders.delete_stakeholder(
            session=session, viewer=SYSTEM, stakeholder_id=first, expected_version=1
        )
    assert replay(engine) == tables_now(engine)
    with engine.connect() as connection:
        deleted = {
            row.record_type
            for row in connection.execute(
                sa.select(AUDIT.c.record_type).where(AUDIT.c.action == "delete")
            )
        }
    assert deleted == {
        "stakeholder",
        "assessment",
        "influence_link",
        "engagement_stakeholder",
        "milestone_dependency",
    }
    # ON DELETE SET NULL too: the stakeholder left in a deleted staff group is audited.
    organisation = factories.organisation(engine)
    group = factories.staff_group(engine, organisation)
    other = factories.programme(engine, organisation)
    factories.stakeholder(engine, other, staff_group_id=group)
    with db.write_session(engine, actor=ACTOR) as session:
        session.delete(session.get(StaffGroup, group))
    assert replay(engine) == tables_now(engine)


class AuditReplay(RuleBasedStateMachine):
    """Random creates, updates and deletes through the services; after every step, replaying the
    audit trail gives exactly what the tables hold."""

    milestones_ = Bundle("milestones")
    people = Bundle("people")
    barriers_ = Bundle("barriers")
    engagements_ = Bundle("engagements")
    links = Bundle("links")

    def __init__(self, make_engine: Callable[[], Engine]) -> None:
        super().__init__()
        self.engine = make_engine()
        self.organisation = factories.organisation(self.engine)
        self.groups = [factories.staff_group(self.engine, self.organisation) for _ in range(2)]
        self.programme = factories.programme(self.engine, self.organisation)
        self.count = 0

    def teardown(self) -> None:
        self.engine.dispose()

    def _write(self, change: Callable[[Any], Any]) -> Any:
        """Run one change in its own transaction; a refused one (DomainError) writes nothing."""
        try:
            with db.write_session(self.engine, actor=ACTOR) as session:
                return change(session)
        except DomainError:
            return None

    def _version(self, table: type[SQLModel], record_id: int) -> int:
        with db.read_session(self.engine) as session:
            record = session.get(table, record_id)
            return int(getattr(record, "version", 0) or 0)

    def _name(self) -> str:
        self.count += 1
        return f"Item {self.count}"

    @rule(
        target=milestones_,
        stage=st.sampled_from(["vision", "test", "launch"]),
        weight=st.integers(1, 5),
        days=st.integers(-60, 200),
    )
    def create_milestone(self, stage: str, weight: int, days: int) -> int | None:
        data = {
            "programme_id": self.programme,
            "stage": stage,
            "title": self._name(),
            "weight": weight,
            "due_date": factories.TODAY + dt.timedelta(days=days),
        }
        made = self._write(
            lambda s: (
                milestones.create_milestone(
                    session=s, viewer=SYSTEM, data=records.validated(MilestoneCreate, data)
                ).id
            )
        )
        return made  # type: ignore[no-any-return]

    @rule(
        milestone=milestones_,
        status=st.sampled_from(["not_started", "in_progress", "done", "blocked", "cancelled"]),
        weight=st.integers(0, 6),
    )
    def update_milestone(self, milestone: int | None, status: str, weight: int) -> None:
        if milestone is None:
            return
        version = self._version(Milestone, milestone)
        self._write(
            lambda s: milestones.update_milestone(
                session=s,
                viewer=SYSTEM,
                milestone_id=milestone,
                data=records.validated(
                    MilestoneUpdate, {"status": status, "weight": weight, "version": version}
                ),
            )
        )

    @rule(
        milestone=milestones_, level=st.sampled_from(["low", "medium", "high"]), n=st.integers(0, 2)
    )
    def set_impacts(self, milestone: int | None, level: str, n: int) -> None:
        if milestone is None:
            return
        impacts = dict.fromkeys(self.groups[:n], level)
        self._write(
            lambda s: milestones.set_impacts(
                session=s, viewer=SYSTEM, milestone_id=milestone, impacts=impacts
            )
        )

    @rule(milestone=milestones_, chosen=st.lists(people, max_size=3))
    def set_dependencies(self, milestone: int | None, chosen: list[int | None]) -> None:
        if milestone is None:
            return
        ids = [person for person in chosen if person is not None]
        self._write(
            lambda s: milestones.set_dependencies(
                session=s, viewer=SYSTEM, milestone_id=milestone, stakeholder_ids=ids
            )
        )

    @rule(milestone=consumes(milestones_))
    def delete_milestone(self, milestone: int | None) -> None:
        if milestone is None:
            return
        version = self._version(Milestone, milestone)
        self._write(
            lambda s: milestones.delete_milestone(
                session=s, viewer=SYSTEM, milestone_id=milestone, expected_version=version
            )
        )

    @rule(
        target=people,
        influence=st.integers(1, 5),
        stance=st.integers(-2, 2),
        group=st.sampled_from([None, 0, 1]),
    )
    def create_stakeholder(self, influence: int, stance: int, group: int | None) -> int | None:
        data = {
            "programme_id": self.programme,
            "name": self._name(),
            "influence": influence,
            "stance": stance,
            "staff_group_id": None if group is None else self.groups[group],
        }
        made = self._write(
            lambda s: (
                stakeholders.create_stakeholder(
                    session=s, viewer=SYSTEM, data=records.validated(StakeholderCreate, data)
                ).id
            )
        )
        return made  # type: ignore[no-any-return]

    @rule(
        person=people,
        stance=st.integers(-2, 3),
        # PostgreSQL text cannot hold NUL, and the services do not refuse it yet (DataError).
        notes=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20),
        interest=st.integers(1, 5),
    )
    def update_stakeholder(
        self, person: int | None, stance: int, notes: str, interest: int
    ) -> None:
        if person is None:
            return
        version = self._version(Stakeholder, person)
        self._write(
            lambda s: stakeholders.update_stakeholder(
                session=s,
                viewer=SYSTEM,
                stakeholder_id=person,
                data=records.validated(
                    StakeholderUpdate,
                    {
                        "version": version,
                        "stance": stance,
                        "notes": notes,
                        "interest": interest,
                    },
                ),
            )
        )

    @rule(person=consumes(people))
    def delete_stakeholder(self, person: int | None) -> None:
        if person is None:
            return
        version = self._version(Stakeholder, person)
        self._write(
            lambda s: stakeholders.delete_stakeholder(
                session=s, viewer=SYSTEM, stakeholder_id=person, expected_version=version
            )
        )

    @rule(target=links, source=people, target_person=people, strength=st.integers(1, 3))
    def add_link(self, source: int | None, target_person: int | None, strength: int) -> int | None:
        if source is None or target_person is None:
            return None
        data = {
            "from_stakeholder_id": source,
            "to_stakeholder_id": target_person,
            "strength": strength,
        }
        made = self._write(
            lambda s: (
                stakeholders.add_influence_link(
                    session=s, viewer=SYSTEM, data=records.validated(InfluenceLinkCreate, data)
                ).id
            )
        )
        return made  # type: ignore[no-any-return]

    @rule(link=consumes(links))
    def delete_link(self, link: int | None) -> None:
        if link is None:
            return
        version = self._version(InfluenceLink, link)
        self._write(
            lambda s: stakeholders.delete_influence_link(
                session=s, viewer=SYSTEM, link_id=link, expected_version=version
            )
        )

    @rule(target=engagements_, chosen=st.lists(people, min_size=1, max_size=3))
    def log_engagement(self, chosen: list[int | None]) -> int | None:
        data = {
            "programme_id": self.programme,
            "occurred_on": factories.TODAY,
            "kind": "meeting",
            "summary": self._name(),
        }
        ids = [person for person in chosen if person is not None]
        made = self._write(
            lambda s: (
                engagements.log_engagement(
                    session=s,
                    viewer=SYSTEM,
                    data=records.validated(EngagementCreate, data),
                    stakeholder_ids=ids,
                ).id
            )
        )
        return made  # type: ignore[no-any-return]

    @rule(engagement=engagements_, chosen=st.lists(people, max_size=3))
    def set_attendees(self, engagement: int | None, chosen: list[int | None]) -> None:
        if engagement is None:
            return
        ids = [person for person in chosen if person is not None]
        self._write(
            lambda s: engagements.set_attendees(
                session=s, viewer=SYSTEM, engagement_id=engagement, stakeholder_ids=ids
            )
        )

    @rule(engagement=consumes(engagements_))
    def delete_engagement(self, engagement: int | None) -> None:
        if engagement is None:
            return
        version = self._version(Engagement, engagement)
        self._write(
            lambda s: engagements.delete_engagement(
                session=s, viewer=SYSTEM, engagement_id=engagement, expected_version=version
            )
        )

    @rule(target=barriers_, likelihood=st.integers(0, 5), impact=st.integers(1, 5))
    def create_barrier(self, likelihood: int, impact: int) -> int | None:
        data = {
            "programme_id": self.programme,
            "title": self._name(),
            "category": "cultural",
            "likelihood": likelihood,
            "impact": impact,
        }
        made = self._write(
            lambda s: (
                barriers.create_barrier(
                    session=s, viewer=SYSTEM, data=records.validated(BarrierCreate, data)
                ).id
            )
        )
        return made  # type: ignore[no-any-return]

    @rule(barrier=barriers_, status=st.sampled_from(["open", "mitigating", "closed"]))
    def update_barrier(self, barrier: int | None, status: str) -> None:
        if barrier is None:
            return
        version = self._version(Barrier, barrier)
        self._write(
            lambda s: barriers.update_barrier(
                session=s,
                viewer=SYSTEM,
                barrier_id=barrier,
                data=records.validated(BarrierUpdate, {"status": status, "version": version}),
            )
        )

    @rule(barrier=consumes(barriers_))
    def delete_barrier(self, barrier: int | None) -> None:
        if barrier is None:
            return
        version = self._version(Barrier, barrier)
        self._write(
            lambda s: barriers.delete_barrier(
                session=s, viewer=SYSTEM, barrier_id=barrier, expected_version=version
            )
        )

    @rule(n=st.integers(0, 1))
    def delete_staff_group(self, n: int) -> None:
        # ON DELETE SET NULL and CASCADE: stakeholders in the group lose it, milestones stop
        # landing on it, without the ORM knowing. Later uses of the id are refused.
        group = self.groups[n]

        def remove(session: Any) -> None:
            record = session.get(StaffGroup, group)
            if record is not None:
                session.delete(record)

        self._write(remove)

    @invariant()
    def replaying_the_audit_trail_rebuilds_the_tables(self) -> None:
        assert replay(self.engine) == tables_now(self.engine)


REPLAY_SETTINGS = settings(
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_replaying_the_audit_trail_rebuilds_the_tables_after_random_edits(
    migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    counter = iter(range(10_000))

    def fresh() -> Engine:
        path = tmp_path / f"replay-{next(counter)}.db"
        shutil.copy(migrated_sqlite_template, path)
        return db.make_engine(f"sqlite:///{path}")

    run_state_machine_as_test(lambda: AuditReplay(fresh), settings=REPLAY_SETTINGS)


@pytest.mark.postgres
def test_replaying_the_audit_trail_rebuilds_the_tables_on_postgres(
    request: pytest.FixtureRequest,
) -> None:
    from tests import conftest

    template = request.getfixturevalue("migrated_postgres_template")
    made: list[str] = []

    def fresh() -> Engine:
        name = conftest._create_postgres_database(template=template)
        made.append(name)
        return db.make_engine(conftest._postgres_url(name))

    try:
        run_state_machine_as_test(
            lambda: AuditReplay(fresh),
            settings=settings(REPLAY_SETTINGS, max_examples=10, stateful_step_count=15),
        )
    finally:
        for name in made:
            conftest._drop_postgres_database(name)


class _Status(enum.Enum):
    open = "open"


def test_the_audit_json_form_is_one_round_trip_for_every_writer() -> None:
    """tracker.audit's JSON form is what the listener, erasure and the subject access event
    write, and what the admin audit read and privacy read back: values JSON-ready (enums by
    value, dates in ISO form, decimals as text), keys sorted, any alphabet kept as it is."""
    values = {
        "title": "Zoë's rota",
        "due_date": audit.json_value(dt.date(2026, 3, 31)),
        "budget": audit.json_value(decimal.Decimal("12.50")),
        "status": audit.json_value(_Status.open),
        "weight": audit.json_value(3),
    }
    text = audit.dump_copy(values)
    assert text == (
        '{"budget": "12.50", "due_date": "2026-03-31", "status": "open", '
        '"title": "Zoë\'s rota", "weight": 3}'
    )
    assert audit.load_copy(text) == values
    assert audit.dump_copy(None) is None
    assert (
        audit.load_copy(None) == {} and audit.load_copy("") == {} and audit.load_copy("[1]") == {}
    )
