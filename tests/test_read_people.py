"""The reads of a programme's people (tracker/read/people.py): the stakeholder register, staff
group options, assessment history, influence links, engagements and follow-ups; and the
register editor's refusal of a staff group outside the programme (tracker/services/stakeholders)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests import factories
from tests.factories import SYSTEM
from tracker import db, read
from tracker.errors import DomainError
from tracker.models import (
    InfluenceLink,
    Stakeholder,
)
from tracker.models.people import (
    AssessmentCreate,
    EngagementCreate,
)
from tracker.services import engagements, programmes, records, stakeholders
from tracker.workspace import TableEditError

OTHER = "other@example.org"


def _stakeholders(engine: Engine, programme_id: int) -> dict[str, Stakeholder]:
    with db.read_session(engine) as session:
        rows = session.exec(select(Stakeholder).where(Stakeholder.programme_id == programme_id))
        return {row.name: row for row in rows}


# --- Stakeholders page ----------------------------------------------------------------------


def test_stakeholder_table_has_the_latest_assessment_date_and_quadrant_and_no_notes(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_TODAY", "2026-06-15")
    pid = factories.programme(sqlite_engine)
    quiet = factories.stakeholder(
        sqlite_engine, pid, name="beth", influence=2, interest=2, notes="Private"
    )
    loud = factories.stakeholder(sqlite_engine, pid, name="Adam", influence=5, interest=1)
    with db.write_session(sqlite_engine, actor=OTHER) as session:
        for day, stance in ((dt.date(2026, 3, 1), 2), (dt.date(2026, 1, 1), -1)):
            stakeholders.record_assessment(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    AssessmentCreate, {"stakeholder_id": loud, "assessed_on": day, "stance": stance}
                ),
            )
    with db.read_session(sqlite_engine) as session:
        table = read.people.stakeholder_table(session=session, viewer=SYSTEM, programme_id=pid)

    assert list(table.columns) == list(read.people.STAKEHOLDER_TABLE_COLUMNS)
    assert list(table["id"]) == [loud, quiet]  # by name, ignoring case
    adam, beth = table.iloc[0], table.iloc[1]
    assert (adam["assessed_on"], adam["stance"], adam["stance_label"]) == (
        dt.date(2026, 6, 15),
        0,
        "Neutral",
    )  # the first assessment (today) is the latest; the older ones do not change it
    assert (adam["quadrant"], beth["quadrant"]) == ("Keep satisfied", "Monitor")
    assert beth["staff_group_id"] is None
    assert "Private" not in table.to_string()


def test_staff_group_options_are_the_owner_and_partner_groups_with_clashing_names_told_apart(
    sqlite_engine: Engine,
) -> None:
    owner = factories.organisation(sqlite_engine, short_name="OWN")
    partner = factories.organisation(sqlite_engine, short_name="PAR")
    elsewhere = factories.organisation(sqlite_engine, short_name="ELS")
    ict = factories.staff_group(sqlite_engine, owner, name="ICT")
    their_ict = factories.staff_group(sqlite_engine, partner, name="ICT")
    planning = factories.staff_group(sqlite_engine, partner, name="Planning")
    factories.staff_group(sqlite_engine, elsewhere, name="Libraries")
    pid = factories.programme(sqlite_engine, owner)
    with db.write_session(sqlite_engine, actor=OTHER) as session:
        programmes.set_partners(
            session=session, viewer=SYSTEM, programme_id=pid, organisation_ids=[partner]
        )
    with db.read_session(sqlite_engine) as session:
        options = read.people.staff_group_options(session=session, programme_id=pid)
    assert options == {ict: "ICT (OWN)", their_ict: "ICT (PAR)", planning: "Planning"}


def test_register_edits_refuse_a_staff_group_outside_the_programme_and_save_nothing(
    sqlite_engine: Engine,
) -> None:
    pid = factories.programme(sqlite_engine)
    stranger = factories.staff_group(sqlite_engine, factories.organisation(sqlite_engine))
    factories.stakeholder(sqlite_engine, pid, name="Adam")
    with db.read_session(sqlite_engine) as session:
        snapshot = read.people.stakeholder_table(session=session, viewer=SYSTEM, programme_id=pid)
    changes = {
        "edited_rows": {0: {"staff_group_id": stranger}},
        "added_rows": [{"name": "Beth"}],
        "deleted_rows": [],
    }
    with pytest.raises(TableEditError) as refused:
        with db.write_session(sqlite_engine, actor=OTHER) as session:
            stakeholders.apply_register_edits(
                session=session,
                viewer=SYSTEM,
                programme_id=pid,
                snapshot=snapshot.to_dict("records"),
                changes=changes,
            )
    assert [(p.row, p.field) for p in refused.value.problems] == [(1, "staff_group_id")]
    assert list(_stakeholders(sqlite_engine, pid)) == ["Adam"]


def test_assessment_history_is_newest_first(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_TODAY", "2026-06-15")
    sid = factories.stakeholder(sqlite_engine, factories.programme(sqlite_engine))
    with db.write_session(sqlite_engine, actor=OTHER) as session:
        stakeholders.record_assessment(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                AssessmentCreate,
                {
                    "stakeholder_id": sid,
                    "assessed_on": dt.date(2026, 5, 1),
                    "stance": -1,
                },
            ),
        )
    with db.read_session(sqlite_engine) as session:
        history = read.people.assessment_history(session=session, viewer=SYSTEM, stakeholder_id=sid)
    assert list(history["assessed_on"]) == [dt.date(2026, 6, 15), dt.date(2026, 5, 1)]
    assert list(history["stance_label"]) == ["Neutral", "Passive resistor"]
    assert history.iloc[1]["desire"] is None


def test_influence_links_name_the_other_stakeholder_and_the_direction(
    sqlite_engine: Engine,
) -> None:
    pid = factories.programme(sqlite_engine)
    me = factories.stakeholder(sqlite_engine, pid, name="Me")
    boss = factories.stakeholder(sqlite_engine, pid, name="Boss")
    team = factories.stakeholder(sqlite_engine, pid, name="Team")
    with db.write_session(sqlite_engine, actor=OTHER) as session:
        for other, inbound, strength in ((team, False, 1), (boss, True, 3)):
            stakeholders.link_stakeholders(
                session=session,
                viewer=SYSTEM,
                stakeholder_id=me,
                other_id=other,
                other_influences=inbound,
                strength=strength,
            )
        with pytest.raises(DomainError, match="choose the other stakeholder"):
            stakeholders.link_stakeholders(
                session=session,
                viewer=SYSTEM,
                stakeholder_id=me,
                other_id=None,
                other_influences=True,
                strength=2,
            )
    with db.read_session(sqlite_engine) as session:
        links = read.people.influence_links(session=session, viewer=SYSTEM, stakeholder_id=me)
        from_boss = session.exec(
            select(InfluenceLink).where(InfluenceLink.from_stakeholder_id == boss)
        ).one()
    assert links[["other", "direction", "strength"]].values.tolist() == [
        ["Boss", read.people.INFLUENCES_THEM, 3],
        ["Team", read.people.INFLUENCED_BY_THEM, 1],
    ]
    assert from_boss.to_stakeholder_id == me


def test_engagement_table_and_follow_ups_list_attendees_and_overdue_ones(
    sqlite_engine: Engine,
) -> None:
    pid = factories.programme(sqlite_engine)
    zoe = factories.stakeholder(sqlite_engine, pid, name="Zoe")
    amir = factories.stakeholder(sqlite_engine, pid, name="Amir")
    today = dt.date(2026, 6, 15)
    with db.write_session(sqlite_engine, actor=OTHER) as session:
        for day, follow_up, who in (
            (dt.date(2026, 5, 1), dt.date(2026, 6, 14), [zoe, amir]),
            (dt.date(2026, 6, 1), dt.date(2026, 6, 15), [zoe]),
            (dt.date(2026, 4, 1), None, [amir]),
        ):
            engagements.log_engagement(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    EngagementCreate,
                    {
                        "programme_id": pid,
                        "occurred_on": day,
                        "kind": "meeting",
                        "summary": f"Met on {day}",
                        "follow_up_on": follow_up,
                    },
                ),
                stakeholder_ids=who,
            )
    with db.read_session(sqlite_engine) as session:
        table = read.people.engagement_table(session=session, viewer=SYSTEM, programme_id=pid)
        due = read.people.follow_ups(session=session, viewer=SYSTEM, programme_id=pid, today=today)
    assert list(table["occurred_on"]) == [
        dt.date(2026, 6, 1),
        dt.date(2026, 5, 1),
        dt.date(2026, 4, 1),
    ]
    assert list(table["attendees"]) == ["Zoe", "Amir, Zoe", "Amir"]
    assert list(table["kind"]) == ["meeting"] * 3
    assert list(zip(due["follow_up_on"], due["overdue"], strict=True)) == [
        (dt.date(2026, 6, 14), True),
        (dt.date(2026, 6, 15), False),
    ]
