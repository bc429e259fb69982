"""Small builders for test data, each with overridable defaults (one write session each)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.engine import Engine

from tracker import db
from tracker.access import Viewer, load_viewer, system_viewer
from tracker.models import MilestoneCreate, Organisation, OrganisationBase, ProgrammeCreate, Role
from tracker.models.organisation import OrganisationCreate, StaffGroupCreate, UserCreate
from tracker.models.people import StakeholderCreate
from tracker.services import milestones, organisations, programmes, records, stakeholders

ACTOR = "tester@example.org"
# Test set-up writes as the installation itself; permission tests use real viewers.
SYSTEM = system_viewer("tests")
_counter = itertools.count(1)
TODAY = dt.date(2026, 6, 15)


def organisation(engine: Engine, **overrides: Any) -> int:
    n = next(_counter)
    data = {"name": f"Testshire Council {n}", "short_name": f"TC{n}"} | overrides
    with db.write_session(engine, actor=ACTOR) as session:
        org = organisations.create_organisation(
            session=session, viewer=SYSTEM, data=records.validated(OrganisationCreate, data)
        )
        assert org.id is not None
        return org.id


def staff_group(engine: Engine, organisation_id: int, **overrides: Any) -> int:
    n = next(_counter)
    data = {"organisation_id": organisation_id, "name": f"Team {n}"} | overrides
    with db.write_session(engine, actor=ACTOR) as session:
        group = organisations.create_staff_group(
            session=session, viewer=SYSTEM, data=records.validated(StaffGroupCreate, data)
        )
        assert group.id is not None
        return group.id


def programme(engine: Engine, organisation_id: int | None = None, **overrides: Any) -> int:
    org = organisation_id or organisation(engine)
    n = next(_counter)
    data = {
        "code": f"TP-{n}",
        "title": f"Test programme {n}",
        "organisation_id": org,
        "start_date": dt.date(2026, 1, 1),
        "target_end_date": dt.date(2027, 12, 31),
    } | overrides
    with db.write_session(engine, actor=ACTOR) as session:
        new = records.validated(ProgrammeCreate, data)
        p = programmes.create_programme(session=session, viewer=SYSTEM, data=new)
        assert p.id is not None
        return p.id


def milestone(engine: Engine, programme_id: int, **overrides: Any) -> int:
    n = next(_counter)
    data = {
        "programme_id": programme_id,
        "stage": "vision",
        "title": f"Milestone {n}",
        "due_date": dt.date(2026, 9, 30),
        "weight": 3,
    } | overrides
    with db.write_session(engine, actor=ACTOR) as session:
        new = records.validated(MilestoneCreate, data)
        m = milestones.create_milestone(session=session, viewer=SYSTEM, data=new)
        assert m.id is not None
        return m.id


def stakeholder(engine: Engine, programme_id: int, **overrides: Any) -> int:
    n = next(_counter)
    data = {"programme_id": programme_id, "name": f"Person {n}", "influence": 3, "interest": 3}
    with db.write_session(engine, actor=ACTOR) as session:
        s = stakeholders.create_stakeholder(
            session=session,
            viewer=SYSTEM,
            data=records.validated(StakeholderCreate, data | overrides),
        )
        assert s.id is not None
        return s.id


def user(
    engine: Engine, organisation_ids: list[int], role: Role = Role.manager, **overrides: Any
) -> int:
    n = next(_counter)
    data = {"email": f"user{n}@example.org", "name": f"User {n}", "role": role} | overrides
    with db.write_session(engine, actor=ACTOR) as session:
        u = organisations.create_user(
            session=session,
            viewer=SYSTEM,
            data=records.validated(UserCreate, data),
            organisation_ids=organisation_ids,
        )
        assert u.id is not None
        return u.id


def organisation_and_counter_change(engine: Engine, label: str, counter_id: int) -> None:
    """One change as a person would make it, for the concurrency tests: a new organisation, and
    an edit of a shared counter record read inside the same transaction (a lost update would
    leave its version short)."""
    with db.write_session(engine, actor=f"{label.lower()}@example.org") as session:
        organisations.create_organisation(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                OrganisationCreate, {"name": f"Writer {label}", "short_name": label}
            ),
        )
        counter = records.get(session, Organisation, counter_id, for_update=True)
        records.update(
            session,
            Organisation,
            OrganisationBase,
            counter_id,
            expected_version=counter.version,
            changes={"name": f"Counter last set by {label}"},
        )


def viewer(engine: Engine, email: str) -> Viewer:
    """The signed-in viewer for an existing account, as the app builds it on sign-in."""
    with db.read_session(engine) as session:
        found = load_viewer(session, email=email)
    assert found is not None, f"no active account {email}"
    return found
