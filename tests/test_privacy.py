"""Data protection (DOMAIN.md "Data protection"): erasure leaves no copy anywhere, audit trail
and database file included (RELIABILITY.md #10); the subject access export is complete and
about that person only (#11); retention anonymises stakeholders of programmes closed too long
ago, once (#12); stakeholder data is a fixed, limited set of fields (#13). On SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col, select

from tests import factories
from tests.admin_screen import OTHER, count_rows, two_councils_in
from tests.factories import SYSTEM
from tracker import access, clock, db, privacy, read
from tracker.access import Viewer
from tracker.errors import DomainError, NotFoundError, PermissionDeniedError
from tracker.io import subject_access
from tracker.models import (
    NOTES_WARNING,
    Assessment,
    AssessmentBase,
    AuditAction,
    AuditEvent,
    Barrier,
    BarrierBase,
    ConfidenceOverride,
    ConfidenceOverrideBase,
    Engagement,
    EngagementBase,
    EngagementStakeholder,
    ExitCriterion,
    ExitCriterionBase,
    InfluenceLink,
    Metric,
    MetricBase,
    MetricReading,
    MetricReadingBase,
    Milestone,
    MilestoneBase,
    MilestoneDependency,
    Narrative,
    NarrativeBase,
    Programme,
    ProgrammeBase,
    ProgrammeUpdate,
    Role,
    Stage,
    StageRecord,
    StageRecordBase,
    Stakeholder,
    StakeholderBase,
    User,
)
from tracker.models.people import (
    EngagementCreate,
    EngagementUpdate,
    InfluenceLinkCreate,
    StakeholderCreate,
    StakeholderUpdate,
)
from tracker.services import engagements, milestones, programmes, records, stakeholders

TODAY = factories.TODAY
ACTOR = factories.ACTOR


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_TODAY", TODAY.isoformat())


def _viewer(engine: Engine, user_id: int) -> Viewer:
    with db.read_session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return access.viewer_for(user)


def _manager(engine: Engine, organisation_id: int, role: Role = Role.manager) -> Viewer:
    return _viewer(engine, factories.user(engine, [organisation_id], role=role))


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
            for table in SQLModel.metadata.sorted_tables
        }


def _every_text(engine: Engine) -> list[tuple[str, str, str]]:
    """(table, column, value) for every value of every text column of every table, found by
    inspecting the database itself (not the models)."""
    inspector = sa.inspect(engine)
    found: list[tuple[str, str, str]] = []
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if not isinstance(column["type"], sa.String):
                    continue
                name = column["name"]
                query = sa.text(f'SELECT "{name}" FROM "{table}" WHERE "{name}" IS NOT NULL')
                found.extend((table, name, str(v)) for (v,) in connection.execute(query))
    return found


def _with_token(engine: Engine, token: str) -> list[tuple[str, str, str]]:
    return [hit for hit in _every_text(engine) if token.casefold() in hit[2].casefold()]


def _update_stakeholder(engine: Engine, stakeholder_id: int, **changes: Any) -> None:
    with db.write_session(engine, actor=ACTOR) as session:
        current = session.get(Stakeholder, stakeholder_id)
        assert current is not None
        stakeholders.update_stakeholder(
            viewer=SYSTEM,
            session=session,
            stakeholder_id=stakeholder_id,
            data=records.validated(StakeholderUpdate, {**changes, "version": current.version}),
        )


def _log_engagement(engine: Engine, programme_id: int, summary: str, people: list[int]) -> int:
    with db.write_session(engine, actor=ACTOR) as session:
        engagement = engagements.log_engagement(
            viewer=SYSTEM,
            session=session,
            data=records.validated(
                EngagementCreate,
                {
                    "programme_id": programme_id,
                    "occurred_on": TODAY - dt.timedelta(days=10),
                    "kind": "meeting",
                    "summary": summary,
                    "outcome": "Agreed to talk again",
                },
            ),
            stakeholder_ids=people,
        )
        assert engagement.id is not None
        return engagement.id


def _link(engine: Engine, source: int, target: int) -> None:
    with db.write_session(engine, actor=ACTOR) as session:
        stakeholders.add_influence_link(
            viewer=SYSTEM,
            session=session,
            data=records.validated(
                InfluenceLinkCreate,
                {"from_stakeholder_id": source, "to_stakeholder_id": target, "strength": 3},
            ),
        )


def _depends(engine: Engine, milestone_id: int, people: list[int]) -> None:
    with db.write_session(engine, actor=ACTOR) as session:
        milestones.set_dependencies(
            viewer=SYSTEM,
            session=session,
            milestone_id=milestone_id,
            stakeholder_ids=people,
        )


def _figures(engine: Engine, programme_id: int) -> tuple[Any, ...]:
    """The aggregates an erasure must leave alone: stakeholder count, stance index, hotspots,
    the stance trend and the number of assessments."""
    with db.read_session(engine) as session:
        figures = read.programme.programme_figures(
            session=session, programme_id=programme_id, today=TODAY
        )
        trend = read.programme.stance_trend(session=session, programme_id=programme_id, today=TODAY)
        assessments = session.exec(select(sa.func.count()).select_from(Assessment)).one()
    return (
        figures.stakeholders,
        figures.stance_index,
        figures.hotspots,
        trend.to_dict("records"),
        assessments,
    )


def _events(engine: Engine, **where: Any) -> list[AuditEvent]:
    with db.read_session(engine) as session:
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(session.exec(query).all())


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    """A programme with a person whose name, role and notes carry a unique token, edited several
    times (each edit audited), named in an engagement summary and another person's notes, linked
    to others and depended on by a milestone; plus a second programme's manager."""
    token = uuid.uuid4().hex
    organisation = factories.organisation(engine)
    programme = factories.programme(engine, organisation)
    person = factories.stakeholder(
        engine,
        programme,
        name=f"Alex {token} Smith",
        role=f"Head of {token} services",
        notes=f"Worried about {token} and jobs",
        relationship_owner="Sam Owner",
        influence=5,
        stance=-1,
    )
    other = factories.stakeholder(
        engine, programme, name="Bo Other", notes="Close to Alex", influence=2, stance=1
    )
    third = factories.stakeholder(engine, programme, name="Cy Third", influence=3, stance=0)
    _update_stakeholder(engine, person, name=f"Alexandra {token} Smith")
    _update_stakeholder(engine, person, notes=f"Still worried about {token}; wants training")
    _update_stakeholder(engine, person, stance=-2, role=f"Director of {token}")
    _update_stakeholder(engine, other, notes=f"Listens to Alexandra {token} Smith")
    engagement = _log_engagement(
        engine, programme, f"Met Alex {token} Smith and Bo Other about training", [person, other]
    )
    with db.write_session(engine, actor=ACTOR) as session:
        engagements.update_engagement(
            viewer=SYSTEM,
            session=session,
            engagement_id=engagement,
            data=records.validated(
                EngagementUpdate,
                {
                    "version": 1,
                    "summary": f"Met Alexandra {token} Smith and Bo Other: training agreed",
                },
            ),
        )
    _log_engagement(engine, programme, "Briefing for Bo Other and Cy Third", [other, third])
    _link(engine, person, other)
    _link(engine, third, person)
    milestone = factories.milestone(engine, programme, title="Sign-off of the new rota")
    _depends(engine, milestone, [person, third])
    return {
        "token": token,
        "organisation": organisation,
        "programme": programme,
        "person": person,
        "other": other,
        "third": third,
        "engagement": engagement,
        "milestone": milestone,
        "manager": _manager(engine, organisation),
    }


# --- #10 Erasure --------------------------------------------------------------------------------


def test_erasure_leaves_the_token_in_no_table_no_audit_copy_and_not_in_the_file(
    engine: Engine, world: dict[str, Any]
) -> None:
    token = world["token"]
    assert {table for table, _, _ in _with_token(engine, token)} == {
        "stakeholder",
        "engagement",
        "audit_event",
    }
    figures_before = _figures(engine, world["programme"])
    stakeholders_before = _row_counts(engine)["stakeholder"]
    events_before = len(_events(engine))

    report = privacy.erase(engine, viewer=world["manager"], stakeholder_id=world["person"])

    assert _with_token(engine, token) == []
    if db.is_sqlite(engine):
        path = Path(str(engine.url.database))
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
            if file.exists():
                assert token.encode() not in file.read_bytes(), file.name
    # Aggregates stay as they were: the person is still counted, with their numbers.
    assert _figures(engine, world["programme"]) == figures_before
    assert _row_counts(engine)["stakeholder"] == stakeholders_before
    # The log records that an erasure happened, and nothing else was logged.
    erasures = _events(engine, action="erase")
    assert [(e.record_type, e.record_id) for e in erasures] == [
        ("stakeholder", str(world["person"]))
    ]
    assert len(_events(engine)) == events_before + 1
    assert erasures[0].id == report.audit_event_id
    assert erasures[0].actor == world["manager"].email
    assert json.loads(erasures[0].after or "{}")["programme_id"] == world["programme"]
    assert report.name == "Erased stakeholder 1"
    assert report.audit_events_redacted > 0


def test_erasure_anonymises_the_record_and_redacts_every_copy_of_it(
    engine: Engine, world: dict[str, Any]
) -> None:
    person = world["person"]
    privacy.erase(engine, viewer=world["manager"], stakeholder_id=person)
    with db.read_session(engine) as session:
        erased = session.get(Stakeholder, person)
        assert erased is not None
        assert (erased.name, erased.role, erased.notes, erased.relationship_owner) == (
            "Erased stakeholder 1",
            "",
            "",
            "",
        )
        # Numbers are kept: they feed the aggregates.
        assert (erased.influence, erased.stance) == (5, -2)
        other = session.get(Stakeholder, world["other"])
        assert other is not None
        assert other.name == "Bo Other"
        assert other.notes == "Listens to [erased]"
        engagement = session.get(Engagement, world["engagement"])
        assert engagement is not None
        assert engagement.summary == "Met [erased] and Bo Other: training agreed"
        assert engagement.version == 3
    own = _events(engine, record_type="stakeholder", record_id=str(person))
    copies = [e for e in own if e.action != "erase"]
    assert copies and all(e.redacted for e in copies)
    for event in copies:
        for copy in (json.loads(event.before or "{}"), json.loads(event.after or "{}")):
            for field in ("name", "role", "notes", "relationship_owner"):
                assert copy.get(field, read.privacy.ERASED) in (read.privacy.ERASED, "")
    # The other person's own copies keep their name: only the mention is gone.
    theirs = _events(engine, record_type="stakeholder", record_id=str(world["other"]))
    assert all(json.loads(e.after or e.before or "{}")["name"] == "Bo Other" for e in theirs)


def test_erasing_twice_is_refused_and_changes_nothing(
    engine: Engine, world: dict[str, Any]
) -> None:
    privacy.erase(engine, viewer=world["manager"], stakeholder_id=world["person"])
    counts = _row_counts(engine)
    with pytest.raises(DomainError, match="already been erased"):
        privacy.erase(engine, viewer=world["manager"], stakeholder_id=world["person"])
    assert _row_counts(engine) == counts


def test_a_second_erasure_gets_its_own_name_and_may_redact_a_redacted_event_again(
    engine: Engine, world: dict[str, Any]
) -> None:
    privacy.erase(engine, viewer=world["manager"], stakeholder_id=world["person"])
    second = privacy.erase(engine, viewer=world["manager"], stakeholder_id=world["other"])
    assert second.name == "Erased stakeholder 2"
    assert _with_token(engine, "Bo Other") == []
    summary = [e for e in _events(engine, record_type="engagement") if e.redacted]
    assert summary and all("Bo Other" not in (e.after or "") for e in summary)


def test_a_deleted_stakeholders_audit_copies_can_still_be_erased(
    engine: Engine, world: dict[str, Any]
) -> None:
    person, token = world["person"], world["token"]
    with db.write_session(engine, actor=ACTOR) as session:
        current = session.get(Stakeholder, person)
        assert current is not None
        stakeholders.delete_stakeholder(
            viewer=SYSTEM,
            session=session,
            stakeholder_id=person,
            expected_version=current.version,
        )
    assert any(table == "audit_event" for table, _, _ in _with_token(engine, token))
    # What is still held (the audit copies) can be exported, then erased.
    with db.read_session(engine) as session:
        export = read.privacy.subject_access_export(
            session=session, viewer=world["manager"], stakeholder_id=person
        )
    assert export["stakeholder"]["record"].startswith("deleted")
    assert export["stakeholder"]["name"] == f"Alexandra {token} Smith"
    assert {e["record_type"] for e in export["audit_events"]} >= {"stakeholder", "influence_link"}
    report = privacy.erase(engine, viewer=world["manager"], stakeholder_id=person)
    assert report.name is None and report.compacted
    assert _with_token(engine, token) == []


@pytest.mark.parametrize("role", [Role.leadership, Role.staff])
def test_only_managers_and_admins_of_the_programme_can_erase(
    engine: Engine, world: dict[str, Any], role: Role
) -> None:
    not_manager = _manager(engine, world["organisation"], role=role)
    elsewhere = _manager(engine, factories.organisation(engine))
    counts = _row_counts(engine)
    for viewer in (not_manager, elsewhere):
        with pytest.raises(PermissionDeniedError):
            privacy.erase(engine, viewer=viewer, stakeholder_id=world["person"])
    with pytest.raises(NotFoundError):
        privacy.erase(engine, viewer=world["manager"], stakeholder_id=999_999)
    assert _row_counts(engine) == counts
    assert world["token"] in str(_with_token(engine, world["token"]))


# --- #11 Subject access -------------------------------------------------------------------------


def test_the_subject_access_export_holds_every_row_about_the_person(
    engine: Engine, world: dict[str, Any]
) -> None:
    person = world["person"]
    with db.read_session(engine) as session:
        export = read.privacy.subject_access_export(
            session=session, viewer=world["manager"], stakeholder_id=person
        )
        assessment_ids = set(
            session.exec(select(Assessment.id).where(Assessment.stakeholder_id == person))
        )
        engagement_ids = set(
            session.exec(
                select(EngagementStakeholder.engagement_id).where(
                    EngagementStakeholder.stakeholder_id == person
                )
            )
        )
        link_ids = set(
            session.exec(
                select(InfluenceLink.id).where(
                    sa.or_(
                        col(InfluenceLink.from_stakeholder_id) == person,
                        col(InfluenceLink.to_stakeholder_id) == person,
                    )
                )
            )
        )
        milestone_ids = set(
            session.exec(
                select(MilestoneDependency.milestone_id).where(
                    MilestoneDependency.stakeholder_id == person
                )
            )
        )
    assert export["stakeholder"]["id"] == person
    assert export["stakeholder"]["name"] == f"Alexandra {world['token']} Smith"
    assert export["stakeholder"]["notes"].startswith("Still worried")
    assert export["programme"]["lawful_basis"] == "public_task"
    assert export["programme"]["title"].startswith("Test programme")
    assert {a["id"] for a in export["assessments"]} == assessment_ids and len(assessment_ids) == 2
    assert {e["id"] for e in export["engagements"]} == engagement_ids == {world["engagement"]}
    assert export["engagements"][0]["other_attendees"] == [read.privacy.ANOTHER_STAKEHOLDER]
    assert {link["id"] for link in export["influence_links"]} == link_ids and len(link_ids) == 2
    assert {m["id"] for m in export["milestones_depending_on_them"]} == milestone_ids
    # Every audit event about their records is in it.
    exported = {(e["record_type"], e["record_id"], e["at"]) for e in export["audit_events"]}
    expected = set()
    for event in _events(engine):
        copies = [json.loads(event.before or "{}"), json.loads(event.after or "{}")]
        about = (
            (event.record_type == "stakeholder" and event.record_id == str(person))
            or (event.record_type == "engagement" and int(event.record_id) in engagement_ids)
            or any(
                copy.get(key) == person
                for copy in copies
                for key in ("stakeholder_id", "from_stakeholder_id", "to_stakeholder_id")
            )
        )
        if about:
            expected.add((event.record_type, event.record_id, event.at.isoformat()))
    assert exported == expected
    assert {e[0] for e in expected} == {
        "stakeholder",
        "assessment",
        "engagement",
        "engagement_stakeholder",
        "influence_link",
        "milestone_dependency",
    }


def test_the_subject_access_export_holds_nobody_elses_data(
    engine: Engine, world: dict[str, Any]
) -> None:
    _update_stakeholder(engine, world["third"], notes="Cy's private worries")
    _update_stakeholder(engine, world["person"], notes="Shares an office with Cy Third")
    with db.read_session(engine) as session:
        export = read.privacy.subject_access_export(
            session=session, viewer=world["manager"], stakeholder_id=world["person"]
        )
    for data in (subject_access.export_json(export), subject_access.export_csv(export)):
        text = data.decode("utf-8-sig")
        for other in ("Bo Other", "Cy Third", "Cy's private worries"):
            assert other not in text
        assert world["token"] in text
    assert export["stakeholder"]["notes"] == "Shares an office with another stakeholder"
    # Bo's old notes named the person ("Alex", part of the name they had then): that passage
    # is about them, so it is theirs to see (and what an erasure rewrites).
    assert "Close to Alex" in {mention["passage"] for mention in export["mentions"]}
    for event in export["audit_events"]:
        if event["record_type"] == "influence_link":
            copy = event["after"] or event["before"]
            ends = {copy["from_stakeholder_id"], copy["to_stakeholder_id"]}
            assert ends == {world["person"], read.privacy.ANOTHER_STAKEHOLDER}


def test_the_subject_access_export_downloads_as_json_and_csv(
    engine: Engine, world: dict[str, Any]
) -> None:
    with db.read_session(engine) as session:
        export = read.privacy.subject_access_export(
            session=session, viewer=world["manager"], stakeholder_id=world["person"]
        )
    assert json.loads(subject_access.export_json(export)) == export
    rows = list(csv.reader(io.StringIO(subject_access.export_csv(export).decode("utf-8-sig"))))
    assert rows[0] == ["section", "item", "field", "value"]
    assert ["stakeholder", "", "name", export["stakeholder"]["name"]] in rows
    assert {row[0] for row in rows[1:]} >= {"programme", "stakeholder", "assessments"}
    name = subject_access.export_filename(export)
    assert name == f"subject-access-stakeholder-{world['person']}-{TODAY.isoformat()}.json"


@pytest.mark.parametrize("role", [Role.leadership, Role.staff])
def test_only_managers_and_admins_of_the_programme_may_export(
    engine: Engine, world: dict[str, Any], role: Role
) -> None:
    viewers = [
        _manager(engine, world["organisation"], role=role),
        _manager(engine, factories.organisation(engine)),
    ]
    with db.read_session(engine) as session:
        for viewer in viewers:
            with pytest.raises(PermissionDeniedError):
                read.privacy.subject_access_export(
                    session=session, viewer=viewer, stakeholder_id=world["person"]
                )
        admin = _manager(engine, world["organisation"], role=Role.admin)
        export = read.privacy.subject_access_export(
            session=session, viewer=admin, stakeholder_id=world["person"]
        )
    assert export["stakeholder"]["id"] == world["person"]


# --- #21 Finding the person everywhere ----------------------------------------------------------


def _create(engine: Engine, table: Any, base: Any, data: dict[str, Any]) -> int:
    with db.write_session(engine, actor=ACTOR) as session:
        record = records.create(session, table, base, data)
        assert record.id is not None
        return int(record.id)


def _edit(engine: Engine, table: Any, base: Any, record_id: int, **changes: Any) -> None:
    """One audited edit (so the audit trail keeps a before and an after copy)."""
    with db.write_session(engine, actor=ACTOR) as session:
        current = records.get(session, table, record_id)
        records.update(
            session, table, base, record_id, expected_version=current.version, changes=changes
        )


@pytest.fixture
def named_everywhere(engine: Engine) -> dict[str, Any]:
    """A person named, by their whole name, first name or surname (and a surname they had
    before), in every free-text field of their programme's data, each edited at least once so
    the audit trail holds copies. `expected` is every (record type, record id, field) that names
    them now."""
    token = uuid.uuid4().hex[:10]
    first, surname, maiden = f"Priya{token}", f"Shah{token}", f"Khan{token}"
    full = f"{first} {surname}"
    organisation = factories.organisation(engine)
    programme = factories.programme(engine, organisation)
    person = factories.stakeholder(
        engine, programme, name=f"{first} {maiden}", role="Union representative", influence=4
    )
    _update_stakeholder(engine, person, name=full, notes="Prefers a call to an e-mail")
    other = factories.stakeholder(engine, programme, name="Bo Other", notes=f"Works with {first}")
    _update_stakeholder(engine, other, notes=f"Listens to {surname.upper()} above all")
    _update_stakeholder(engine, other, relationship_owner=full)
    engagement = _create(
        engine,
        Engagement,
        EngagementBase,
        {
            "programme_id": programme,
            "occurred_on": TODAY - dt.timedelta(days=3),
            "kind": "meeting",
            "summary": f"Met {full} about the rota",
            "outcome": f"{first} agreed to reply",
        },
    )
    _edit(engine, Engagement, EngagementBase, engagement, summary=f"Met {surname}'s team")
    _edit(engine, Engagement, EngagementBase, engagement, outcome=f"{first.lower()} will reply")
    narrative = _create(
        engine,
        Narrative,
        NarrativeBase,
        {
            "programme_id": programme,
            "title": f"Why {surname} backs the change",
            "body": f"# Rota\n\nWhat {first} said.\n\nFormerly {maiden}.",
            "author": "Comms team",
        },
    )
    _edit(engine, Narrative, NarrativeBase, narrative, body=f"{full}, formerly {maiden}, said so")
    barrier = _create(
        engine,
        Barrier,
        BarrierBase,
        {
            "programme_id": programme,
            "title": f"{first} may resign",
            "category": "capacity",
            "likelihood": 3,
            "impact": 4,
            "owner": "Programme office",
            "mitigation": f"Weekly call with {surname}",
        },
    )
    _edit(engine, Barrier, BarrierBase, barrier, owner=full, likelihood=2)
    milestone = factories.milestone(engine, programme, title=f"Sign-off by {surname}")
    _edit(engine, Milestone, MilestoneBase, milestone, owner=first)
    with db.read_session(engine) as session:
        stage = session.exec(
            select(StageRecord).where(
                StageRecord.programme_id == programme, StageRecord.stage == Stage.vision
            )
        ).one()
        assert stage.id is not None
        stage_id = stage.id
    _edit(engine, StageRecord, StageRecordBase, stage_id, narrative=f"{first} is sceptical")
    criterion = _create(
        engine,
        ExitCriterion,
        ExitCriterionBase,
        {"stage_record_id": stage_id, "text": f"{surname} signs the rota", "position": 0},
    )
    _edit(engine, ExitCriterion, ExitCriterionBase, criterion, met=True, text=f"{full} signs")
    metric = _create(
        engine,
        Metric,
        MetricBase,
        {"programme_id": programme, "name": f"{first}'s team trained", "baseline": 0, "target": 9},
    )
    reading = _create(
        engine,
        MetricReading,
        MetricReadingBase,
        {"metric_id": metric, "reading_on": TODAY, "value": 3, "note": "First count"},
    )
    _edit(engine, MetricReading, MetricReadingBase, reading, note=f"Counted by {surname}")
    _edit(engine, Programme, ProgrammeBase, programme, summary=f"Shaped with {full}")
    override = _create(
        engine,
        ConfidenceOverride,
        ConfidenceOverrideBase,
        {
            "programme_id": programme,
            "rating": "amber",
            "reason": f"{surname} raised the timing",
            "set_by": ACTOR,
            "set_at": dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC),
        },
    )
    assessment = _create(
        engine,
        Assessment,
        AssessmentBase,
        {"stakeholder_id": other, "assessed_on": TODAY, "stance": 1, "assessed_by": full},
    )
    expected = {
        ("stakeholder", other, "notes"),
        ("stakeholder", other, "relationship_owner"),
        ("engagement", engagement, "summary"),
        ("engagement", engagement, "outcome"),
        ("narrative", narrative, "title"),
        ("narrative", narrative, "body"),
        ("barrier", barrier, "title"),
        ("barrier", barrier, "owner"),
        ("barrier", barrier, "mitigation"),
        ("milestone", milestone, "title"),
        ("milestone", milestone, "owner"),
        ("stage_record", stage_id, "narrative"),
        ("exit_criterion", criterion, "text"),
        ("metric", metric, "name"),
        ("metric_reading", reading, "note"),
        ("programme", programme, "summary"),
        ("confidence_override", override, "reason"),
        ("assessment", assessment, "assessed_by"),
    }
    return {
        "terms": (full, first, surname, maiden),
        "organisation": organisation,
        "programme": programme,
        "person": person,
        "other": other,
        "expected": {(kind, str(record_id), name) for kind, record_id, name in expected},
        "manager": _manager(engine, organisation),
    }


def _names_them(text: str, terms: tuple[str, ...]) -> bool:
    return any(term.casefold() in text.casefold() for term in terms)


def _programme_texts(engine: Engine) -> dict[tuple[str, str, str], str]:
    """(table, id, column) -> text of every text column of every table the map covers."""
    found: dict[tuple[str, str, str], str] = {}
    with engine.connect() as connection:
        for name in read.privacy.WHERE_A_PERSON_APPEARS:
            table = SQLModel.metadata.tables[name]
            columns = read.privacy.text_columns(name)
            for row in connection.execute(sa.select(table.c.id, *(table.c[c] for c in columns))):
                for column in columns:
                    found[(name, str(row.id), column)] = row._mapping[column]
    return found


def _pg_stats_naming(engine: Engine, terms: tuple[str, ...]) -> list[tuple[str, str]]:
    """The (table, column) whose PostgreSQL planner statistics hold one of the terms."""
    query = sa.text(
        "SELECT tablename, attname, coalesce(most_common_vals::text, '') || ' ' || "
        "coalesce(histogram_bounds::text, '') FROM pg_stats WHERE schemaname = current_schema()"
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [(str(table), str(column)) for table, column, text in rows if _names_them(text, terms)]


def test_subject_access_lists_every_passage_and_erasure_rewrites_exactly_those(
    engine: Engine, named_everywhere: dict[str, Any]
) -> None:
    world = named_everywhere
    terms = world["terms"]
    with db.read_session(engine) as session:
        export = read.privacy.subject_access_export(
            session=session, viewer=world["manager"], stakeholder_id=world["person"]
        )
    mentions = export["mentions"]
    assert all(_names_them(m["passage"], terms) for m in mentions)
    in_records = {
        (m["record_type"], m["record_id"], m["field"])
        for m in mentions
        if m["held_in"] == "the record"
    }
    assert in_records == world["expected"]
    # Every audit copy of the programme's records that names them is listed too.
    in_copies = {
        (m["record_type"], m["record_id"], m["field"], m["held_in"])
        for m in mentions
        if m["held_in"] != "the record"
    }
    naming = set()
    for event in _events(engine):
        if event.record_type == "stakeholder" and event.record_id == str(world["person"]):
            continue  # their own record: exported whole under "stakeholder" and "audit_events"
        for side, text in (("before", event.before), ("after", event.after)):
            for name, value in json.loads(text or "{}").items():
                kept = {"stakeholder": {"name", "role"}}.get(event.record_type, set())
                if isinstance(value, str) and name not in kept and _names_them(value, terms):
                    naming.add(
                        (
                            event.record_type,
                            event.record_id,
                            name,
                            f"audit event {event.id} ({side} the change)",
                        )
                    )
    assert naming and in_copies == naming
    # Each edited field has at least one audit copy listed.
    assert {(kind, record_id, name) for kind, record_id, name, _ in in_copies} >= world["expected"]
    surname = terms[2]
    assert {
        "record_type": "engagement",
        "record_id": next(r for k, r, f in world["expected"] if k == "engagement"),
        "field": "summary",
        "held_in": "the record",
        "passage": f"Met {surname}'s team",
    } in mentions


def test_erasure_rewrites_exactly_what_subject_access_listed(
    engine: Engine, named_everywhere: dict[str, Any]
) -> None:
    world = named_everywhere
    with db.read_session(engine) as session:
        export = read.privacy.subject_access_export(
            session=session, viewer=world["manager"], stakeholder_id=world["person"]
        )
    listed = {
        (m["record_type"], m["record_id"], m["field"])
        for m in export["mentions"]
        if m["held_in"] == "the record"
    }
    redacted_listed = {
        int(match.group(1))
        for m in export["mentions"]
        if (match := re.match(r"audit event (\d+)", m["held_in"]))
    }
    before = _programme_texts(engine)
    report = privacy.erase(engine, viewer=world["manager"], stakeholder_id=world["person"])
    after = _programme_texts(engine)
    changed = {key for key in before if before[key] != after[key]}
    own = {("stakeholder", str(world["person"]), c) for c in ("relationship_owner", "notes")}
    assert changed - own == listed
    redacted = {e.id for e in _events(engine) if e.redacted}
    own_events = {
        e.id
        for e in _events(engine, record_type="stakeholder", record_id=str(world["person"]))
        if e.redacted
    }
    assert redacted - own_events == redacted_listed
    assert report.audit_events_redacted == len(redacted)
    with db.read_session(engine) as session:
        other = session.get(Stakeholder, world["other"])
        assert other is not None
        assert (other.name, other.notes) == ("Bo Other", "Listens to [erased] above all")
        assessment = session.exec(
            select(Assessment).where(Assessment.stakeholder_id == world["other"])
        ).all()
        assert {a.assessed_by for a in assessment} == {""}  # cleared, not partly replaced


def test_erasure_leaves_no_part_of_the_name_in_tables_audit_copies_files_or_statistics(
    engine: Engine, named_everywhere: dict[str, Any]
) -> None:
    world = named_everywhere
    terms = world["terms"]
    postgres = not db.is_sqlite(engine)
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
        # The statistics hold the names before the erasure (so the check below means something).
        assert _pg_stats_naming(engine, terms)
    assert any(_names_them(value, terms) for _, _, value in _every_text(engine))

    report = privacy.erase(engine, viewer=world["manager"], stakeholder_id=world["person"])

    assert report.compacted
    assert [hit for hit in _every_text(engine) if _names_them(hit[2], terms)] == []
    for event in _events(engine):
        assert not _names_them(f"{event.before} {event.after}", terms), event.id
    if postgres:
        assert _pg_stats_naming(engine, terms) == []
    else:
        path = Path(str(engine.url.database))
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
            if file.exists():
                data = file.read_bytes().lower()
                for term in terms:
                    assert term.lower().encode() not in data, (file.name, term)
    # The tables that held the person are the ones compacted and re-analysed.
    assert set(report.tables) >= {
        "stakeholder",
        "engagement",
        "narrative",
        "barrier",
        "milestone",
        "stage_record",
        "exit_criterion",
        "metric",
        "metric_reading",
        "programme",
        "confidence_override",
        "assessment",
        "audit_event",
    }


def test_a_namesake_in_another_programme_is_left_alone(
    engine: Engine, named_everywhere: dict[str, Any]
) -> None:
    world = named_everywhere
    first = world["terms"][1]
    elsewhere = factories.programme(engine, factories.organisation(engine))
    namesake = factories.stakeholder(engine, elsewhere, name=f"{first} Jones")
    _update_stakeholder(engine, namesake, notes=f"{first} likes the rota")
    engagement = _log_engagement(engine, elsewhere, f"Met {first} Jones", [namesake])
    events_before = {
        e.id: (e.before, e.after)
        for e in _events(engine, record_type="stakeholder", record_id=str(namesake))
    }
    with db.read_session(engine) as session:
        export = read.privacy.subject_access_export(
            session=session, viewer=world["manager"], stakeholder_id=world["person"]
        )
    assert all("Jones" not in m["passage"] for m in export["mentions"])

    privacy.erase(engine, viewer=world["manager"], stakeholder_id=world["person"])

    with db.read_session(engine) as session:
        kept = session.get(Stakeholder, namesake)
        assert kept is not None
        assert (kept.name, kept.notes) == (f"{first} Jones", f"{first} likes the rota")
        met = session.get(Engagement, engagement)
        assert met is not None and met.summary == f"Met {first} Jones"
    for event in _events(engine):
        if event.id in events_before:
            assert (event.before, event.after) == events_before[event.id]
            assert not event.redacted
        if event.record_type == "engagement" and event.record_id == str(engagement):
            assert not event.redacted and first in (event.after or "")


def test_the_subject_access_csv_never_hands_a_spreadsheet_a_formula(
    engine: Engine, world: dict[str, Any]
) -> None:
    formulas = {
        "notes": '=HYPERLINK("http://example.com/x","Click")',
        "role": "=cmd|' /C calc'!A0",
        "relationship_owner": "@SUM(1+1)",
    }
    _update_stakeholder(engine, world["person"], **formulas)
    with db.read_session(engine) as session:
        export = read.privacy.subject_access_export(
            session=session, viewer=world["manager"], stakeholder_id=world["person"]
        )
    rows = list(csv.reader(io.StringIO(subject_access.export_csv(export).decode("utf-8-sig"))))
    for row in rows:
        for cell in row:
            if re.fullmatch(r"-?\d+(\.\d+)?", cell) is None:  # numbers are numbers
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    values = {row[2]: row[3] for row in rows if row[0] == "stakeholder"}
    for name, formula in formulas.items():
        assert values[name] == "'" + formula
    # The JSON keeps the values as they are (no spreadsheet reads it).
    assert (
        json.loads(subject_access.export_json(export))["stakeholder"]["notes"] == formulas["notes"]
    )


def test_a_subject_access_file_is_recorded_in_the_audit_trail_without_personal_data(
    engine: Engine, world: dict[str, Any]
) -> None:
    manager = world["manager"]
    file = subject_access.subject_access_file(
        engine, viewer=manager, stakeholder_id=world["person"], file_format="csv"
    )
    assert world["token"] in file.data.decode("utf-8-sig")
    assert file.mime == "text/csv" and file.file_name.endswith(".csv")
    exports = _events(engine, action="subject_access")
    assert [(e.id, e.actor, e.record_type, e.record_id) for e in exports] == [
        (file.audit_event_id, manager.email, "stakeholder", str(world["person"]))
    ]
    assert exports[0].before is None
    assert json.loads(exports[0].after or "{}") == {
        "programme_id": world["programme"],
        "format": "csv",
    }
    # Refused: nothing is made, nothing recorded.
    elsewhere = _manager(engine, factories.organisation(engine))
    with pytest.raises(PermissionDeniedError):
        subject_access.subject_access_file(
            engine, viewer=elsewhere, stakeholder_id=world["person"], file_format="json"
        )
    assert len(_events(engine, action="subject_access")) == 1
    # The event is about the person's record, so it is in their next export; an erasure leaves
    # it as it is (it holds nothing to redact).
    second = subject_access.subject_access_file(
        engine, viewer=manager, stakeholder_id=world["person"], file_format="json"
    )
    actions = {e["action"] for e in json.loads(second.data)["audit_events"]}
    assert "subject_access" in actions
    privacy.erase(engine, viewer=manager, stakeholder_id=world["person"])
    assert not any(e.redacted for e in _events(engine, action="subject_access"))


# --- #12 Retention ------------------------------------------------------------------------------


def _closed_programme(engine: Engine, organisation: int, closed_on: dt.date | None) -> int:
    programme = factories.programme(
        engine, organisation, start_date=dt.date(2020, 1, 1), target_end_date=dt.date(2021, 1, 1)
    )
    if closed_on is not None:
        with db.write_session(engine, actor=ACTOR) as session:
            programmes.update_programme(
                viewer=SYSTEM,
                session=session,
                programme_id=programme,
                data=records.validated(
                    ProgrammeUpdate, {"status": "closed", "closed_on": closed_on, "version": 1}
                ),
            )
    return programme


def test_retention_anonymises_only_programmes_closed_longer_than_the_period_and_only_once(
    engine: Engine,
) -> None:
    organisation = factories.organisation(engine)
    # TODAY is 2026-06-15; with 24 months the cutoff is 2024-06-15.
    old = _closed_programme(engine, organisation, dt.date(2024, 6, 14))
    recent = _closed_programme(engine, organisation, dt.date(2024, 6, 15))
    running = _closed_programme(engine, organisation, None)
    token = uuid.uuid4().hex
    people = {
        programme: factories.stakeholder(
            engine, programme, name=f"Pat {token} {n}", notes=f"{token} notes {n}"
        )
        for n, programme in enumerate((old, recent, running))
    }
    _log_engagement(engine, old, f"Met Pat {token} 0", [people[old]])
    counts = _row_counts(engine)

    with db.write_session(engine, actor="system") as session:
        dry = privacy.run_retention(session=session, today=TODAY, months=24, dry_run=True)
    assert dry.cutoff == dt.date(2024, 6, 15)
    assert (dry.programme_ids, dry.stakeholder_ids) == ((old,), (people[old],))
    assert _row_counts(engine) == counts

    report = privacy.apply_retention(engine, today=TODAY, months=24)
    assert report.stakeholder_ids == (people[old],)
    assert "would be" not in report.describe()
    left = {value for _, _, value in _with_token(engine, token)}
    assert left and all(f"Pat {token} 0" not in value for value in left)
    with db.read_session(engine) as session:
        names = {s.id: s.name for s in session.exec(select(Stakeholder))}
    assert names[people[old]] == "Erased stakeholder 1"
    assert names[people[recent]] == f"Pat {token} 1"
    assert names[people[running]] == f"Pat {token} 2"

    after_first = _row_counts(engine)
    again = privacy.apply_retention(engine, today=TODAY, months=24)
    assert (again.programme_ids, again.stakeholder_ids) == ((old,), ())
    assert _row_counts(engine) == after_first


def test_the_retention_period_is_a_setting_only_administrators_change(engine: Engine) -> None:
    organisation = factories.organisation(engine)
    admin = _manager(engine, organisation, role=Role.admin)
    manager = _manager(engine, organisation)
    with db.read_session(engine) as session:
        assert privacy.retention_months(session=session) == privacy.DEFAULT_RETENTION_MONTHS == 24
    with db.write_session(engine, actor=admin.email) as session:
        privacy.set_retention_months(session=session, viewer=admin, months=36)
    with db.write_session(engine, actor=admin.email) as session:
        privacy.set_retention_months(session=session, viewer=admin, months=30)
    with pytest.raises(PermissionDeniedError), db.write_session(engine, actor=ACTOR) as session:
        privacy.set_retention_months(session=session, viewer=manager, months=1)
    for wrong in (0, 241, -5):
        with pytest.raises(DomainError, match="between 1 and 240"):
            with db.write_session(engine, actor=ACTOR) as session:
                privacy.set_retention_months(session=session, viewer=admin, months=wrong)
    with db.read_session(engine) as session:
        assert privacy.retention_months(session=session) == 30
    assert len(_events(engine, record_type="setting")) == 2
    # The stored period is the one a run uses when none is given.
    programme = _closed_programme(engine, organisation, dt.date(2024, 1, 1))
    factories.stakeholder(engine, programme)
    assert privacy.apply_retention(engine, today=TODAY, dry_run=True).months == 30
    with pytest.raises(DomainError), db.write_session(engine, actor=ACTOR) as session:
        privacy.run_retention(session=session, today=TODAY, months=0, dry_run=True)


def test_retention_cutoff_keeps_the_day_or_the_end_of_a_shorter_month() -> None:
    assert privacy.retention_cutoff(dt.date(2026, 6, 15), 24) == dt.date(2024, 6, 15)
    assert privacy.retention_cutoff(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert privacy.retention_cutoff(dt.date(2026, 1, 10), 13) == dt.date(2024, 12, 10)


# --- #13 Minimal personal data ------------------------------------------------------------------

STAKEHOLDER_COLUMNS = {
    "id",
    "version",
    "programme_id",
    "name",
    "role",
    "staff_group_id",
    "influence",
    "interest",
    "stance",
    "desired_stance",
    "relationship_owner",
    "notes",
}
TEXT_LIMITS = {"name": 120, "role": 120, "relationship_owner": 120, "notes": 2000}


def test_the_stakeholder_table_holds_a_fixed_set_of_limited_fields(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    columns = {column["name"]: column for column in inspector.get_columns("stakeholder")}
    assert set(columns) == STAKEHOLDER_COLUMNS
    text = {name for name, c in columns.items() if isinstance(c["type"], sa.String)}
    assert text == set(TEXT_LIMITS)
    for name, limit in TEXT_LIMITS.items():
        assert columns[name]["type"].length == limit
        limits = [
            meta.max_length
            for meta in StakeholderBase.model_fields[name].metadata
            if isinstance(meta, annotated_types.MaxLen)
        ]
        assert limits == [limit]
    checks = {check["name"] for check in inspector.get_check_constraints("stakeholder")}
    assert {f"ck_stakeholder_{name}_length" for name in TEXT_LIMITS} <= checks
    assert {
        f"ck_stakeholder_{name}_range" for name in ("influence", "interest", "stance")
    } <= checks
    assert "disclosed" in NOTES_WARNING


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x" * 121},
        {"name": "x"},
        {"role": "r" * 121},
        {"relationship_owner": "o" * 121},
        {"notes": "n" * 2001},
        {"influence": 6},
        {"interest": 0},
        {"stance": 3},
        {"desired_stance": -3},
        {"date_of_birth": "1970-01-01"},
    ],
)
def test_over_long_or_out_of_range_input_is_refused_and_nothing_is_written(
    engine: Engine, bad: dict[str, Any]
) -> None:
    programme = factories.programme(engine)
    person = factories.stakeholder(engine, programme)
    counts = _row_counts(engine)
    with pytest.raises(DomainError) as refused, db.write_session(engine, actor=ACTOR) as session:
        stakeholders.create_stakeholder(
            viewer=SYSTEM,
            session=session,
            data=records.validated(
                StakeholderCreate, {"programme_id": programme, "name": "New person"} | bad
            ),
        )
    assert refused.value.field == next(iter(bad))
    with pytest.raises(DomainError), db.write_session(engine, actor=ACTOR) as session:
        stakeholders.update_stakeholder(
            viewer=SYSTEM,
            session=session,
            stakeholder_id=person,
            data=records.validated(StakeholderUpdate, {**bad, "version": 1}),
        )
    assert _row_counts(engine) == counts


def test_the_database_refuses_over_long_stakeholder_text_on_its_own(engine: Engine) -> None:
    programme = factories.programme(engine)
    table = SQLModel.metadata.tables["stakeholder"]
    # SQLite: the length CHECK; PostgreSQL: the VARCHAR limit, before the CHECK.
    refused = (sa.exc.IntegrityError, sa.exc.DataError)
    with pytest.raises(refused), engine.begin() as connection:
        connection.execute(
            sa.insert(table).values(
                programme_id=programme,
                name="Fine name",
                role="",
                influence=3,
                interest=3,
                stance=0,
                desired_stance=1,
                relationship_owner="",
                notes="n" * 2001,
                version=1,
            )
        )


# --- The `tracker` command ----------------------------------------------------------------------


@pytest.fixture
def cli_world(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Engine, dict[str, Any]]]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    engine = db.make_engine(sqlite_url)
    organisation = factories.organisation(engine)
    programme = factories.programme(engine, organisation)
    person = factories.stakeholder(engine, programme, name="Robin Cli", notes="Prefers e-mail")
    manager = _manager(engine, organisation)
    yield engine, {"programme": programme, "person": person, "manager": manager}
    engine.dispose()


def test_tracker_sar_writes_the_export_for_the_owner_only(
    cli_world: tuple[Engine, dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tracker.cli import main

    _, world = cli_world
    out = tmp_path / "robin.json"
    assert (
        main(["sar", str(world["person"]), "--as", world["manager"].email, "--out", str(out)]) == 0
    )
    assert out.stat().st_mode & 0o777 == 0o600
    assert json.loads(out.read_text())["stakeholder"]["name"] == "Robin Cli"
    assert "(JSON: 1 assessment, 0 engagements," in capsys.readouterr().out
    csv_out = tmp_path / "robin.csv"
    assert (
        main(["sar", str(world["person"]), "--as", world["manager"].email, "--out", str(csv_out)])
        == 0
    )
    assert "Robin Cli" in csv_out.read_text(encoding="utf-8-sig")
    assert main(["sar", str(world["person"]), "--as", "nobody@example.org"]) == 1
    assert "no active user" in capsys.readouterr().err
    # Each file the command wrote is in the audit trail, by the manager, without the name.
    engine, _ = cli_world
    with db.read_session(engine) as session:
        exported = session.exec(
            select(AuditEvent).where(AuditEvent.action == AuditAction.subject_access)
        ).all()
    assert [(e.actor, e.record_id) for e in exported] == [
        (world["manager"].email, str(world["person"]))
    ] * 2
    assert not any("Robin" in (e.after or "") for e in exported)


def test_tracker_erase_asks_first_then_erases_with_yes(
    cli_world: tuple[Engine, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    from tracker.cli import main

    engine, world = cli_world
    args = ["erase", str(world["person"]), "--as", world["manager"].email]
    assert main(args) == 1  # not at a terminal, no --yes: refused
    assert "Not run: add --yes" in capsys.readouterr().err
    assert _with_token(engine, "Robin Cli")
    assert main([*args, "--yes"]) == 0
    assert "Erased stakeholder" in capsys.readouterr().out
    assert _with_token(engine, "Robin Cli") == []
    assert main([*args, "--yes"]) == 1
    assert "already been erased" in capsys.readouterr().err


def test_tracker_retention_dry_run_then_for_real(
    cli_world: tuple[Engine, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    from tracker.cli import main

    engine, world = cli_world
    old = _closed_programme(engine, factories.organisation(engine), dt.date(2025, 1, 1))
    person = factories.stakeholder(engine, old, name="Kim Retained")
    assert main(["retention", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "0 stakeholders would be anonymised" in out
    assert main(["retention", "--dry-run", "--months", "12"]) == 0
    out = capsys.readouterr().out
    assert "1 stakeholder would be anonymised" in out and f"stakeholders: {person}" in out
    assert _with_token(engine, "Kim Retained")
    assert main(["retention", "--months", "12"]) == 0
    assert "1 stakeholder anonymised" in capsys.readouterr().out
    assert _with_token(engine, "Kim Retained") == []
    assert main(["retention", "--months", "0"]) == 1
    assert "between 1 and 240" in capsys.readouterr().err


def test_retention_preview_flags_programmes_outside_the_admins_organisations(
    sqlite_engine: Engine,
) -> None:
    two_councils = two_councils_in(sqlite_engine)
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    pid = factories.programme(
        engine,
        two_councils["b"],
        start_date=dt.date(2019, 1, 1),
        target_end_date=dt.date(2020, 1, 1),
    )
    with db.write_session(engine, actor=OTHER) as session:
        programmes.update_programme(
            session=session,
            viewer=SYSTEM,
            programme_id=pid,
            data=records.validated(
                ProgrammeUpdate,
                {"status": "closed", "closed_on": dt.date(2020, 1, 1), "version": 1},
            ),
        )
    person = factories.stakeholder(engine, pid, name="Kept Person")
    with db.read_session(engine) as session:
        preview = privacy.retention_preview(session=session, viewer=viewer, today=clock.today())
        code = session.get(Programme, pid)
    assert code is not None and preview.outside == (code.code,)
    assert preview.report.stakeholder_ids == (person,)
    with pytest.raises(PermissionDeniedError):
        privacy.apply_retention(engine, viewer=viewer, today=clock.today())
    assert count_rows(engine, Stakeholder, Stakeholder.name == "Kept Person") == 1
