"""The stakeholders service (tracker/services/stakeholders.py) with typed inputs: a change names
only the fields it sets, a new stance becomes an assessment, and a correction to an assessment
keeps the rules of recording one (the stakeholder follows their latest assessment; nothing
dated after today). On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests import factories
from tests.factories import SYSTEM
from tracker import clock, db
from tracker.errors import DomainError
from tracker.models import Assessment, Stakeholder
from tracker.models.people import AssessmentCreate, AssessmentUpdate, StakeholderUpdate
from tracker.services import records, stakeholders

ACTOR = factories.ACTOR


def _person(engine: Engine) -> int:
    programme = factories.programme(engine)
    return factories.stakeholder(engine, programme, role="Head of service", stance=0)


def test_an_update_changes_only_the_fields_it_sets_and_a_new_stance_is_an_assessment(
    engine: Engine,
) -> None:
    person = _person(engine)
    with db.write_session(engine, actor=ACTOR) as session:
        stakeholders.update_stakeholder(
            session=session,
            viewer=SYSTEM,
            stakeholder_id=person,
            data=records.validated(StakeholderUpdate, {"version": 1, "stance": 2}),
        )
    with db.read_session(engine) as session:
        changed = session.get(Stakeholder, person)
        assert changed is not None
        assert (changed.role, changed.stance) == ("Head of service", 2)
        stances = session.exec(
            select(Assessment.stance).where(Assessment.stakeholder_id == person)
        ).all()
    assert sorted(stances) == [0, 2]


def test_an_update_input_refuses_a_field_it_does_not_have() -> None:
    with pytest.raises(DomainError) as refused:
        records.validated(StakeholderUpdate, {"version": 1, "programme_id": 2})
    assert refused.value.field == "programme_id"


def test_correcting_an_assessment_moves_the_current_stance_with_it(engine: Engine) -> None:
    person = _person(engine)
    with db.write_session(engine, actor=ACTOR) as session:
        latest = stakeholders.record_assessment(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                AssessmentCreate,
                {"stakeholder_id": person, "assessed_on": clock.today(), "stance": -1},
            ),
        )
        assert latest.id is not None
        stakeholders.correct_assessment(
            session=session,
            viewer=SYSTEM,
            assessment_id=latest.id,
            data=records.validated(AssessmentUpdate, {"stance": 1, "influence": 5}),
        )
    with db.read_session(engine) as session:
        changed = session.get(Stakeholder, person)
        assert changed is not None
        assert (changed.stance, changed.influence) == (1, 5)


@pytest.mark.parametrize("correct", [False, True], ids=["recorded", "corrected"])
def test_an_assessment_cannot_be_dated_after_today(engine: Engine, correct: bool) -> None:
    person = _person(engine)
    tomorrow = clock.today() + dt.timedelta(days=1)
    with pytest.raises(DomainError) as refused, db.write_session(engine, actor=ACTOR) as session:
        if correct:
            first = session.exec(
                select(Assessment).where(Assessment.stakeholder_id == person)
            ).one()
            assert first.id is not None
            stakeholders.correct_assessment(
                session=session,
                viewer=SYSTEM,
                assessment_id=first.id,
                data=records.validated(AssessmentUpdate, {"assessed_on": tomorrow}),
            )
        else:
            stakeholders.record_assessment(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    AssessmentCreate,
                    {"stakeholder_id": person, "assessed_on": tomorrow, "stance": 1},
                ),
            )
    assert (refused.value.field, refused.value.reason) == (
        "assessed_on",
        "an assessment cannot be dated in the future",
    )
    with db.read_session(engine) as session:
        dates = session.exec(
            select(Assessment.assessed_on).where(Assessment.stakeholder_id == person)
        ).all()
    assert dates == [clock.today()]
