"""The Manage pages' reads of work records (tracker/read/manage.py): the tables the bulk
editors are built from, the choices a form offers, and what reads back after a save."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from tests import factories
from tests.factories import SYSTEM
from tracker import clock, db, read
from tracker.errors import DomainError
from tracker.models import (
    BarrierCreate,
    MetricCreate,
    MetricReadingCreate,
    MetricReadingUpdate,
    MilestoneUpdate,
    NarrativeCreate,
)
from tracker.services import barriers, metrics, milestones, narratives, programmes, records

ROOT = Path(__file__).resolve().parents[1]
PROGRAMME = "pages/manage_programme.py"
STAGES = "pages/manage_stages.py"
MILESTONES = "pages/manage_milestones.py"
MAYA = "maya.manager@demo.example"  # manager, Northmoor County Council
ADA = "ada.admin@demo.example"  # admin, every organisation
DEV = "dev.district@demo.example"  # manager, Eastbrook District
LENA = "lena.leader@demo.example"  # leadership
SAM = "sam.staff@demo.example"  # staff
CODE = "NCC-ASC-ONLINE"  # owned by the county, no partners
OTHER = "someone.else@example.org"

# demo_url and app_as come from tests/conftest.py.


def test_milestone_table_lists_the_programmes_milestones_in_stage_order_with_versions(
    sqlite_engine: Engine,
) -> None:
    pid = factories.programme(sqlite_engine)
    other = factories.programme(sqlite_engine)
    late = factories.milestone(sqlite_engine, pid, stage="launch", title="Go live")
    first = factories.milestone(
        sqlite_engine, pid, stage="vision", title="Agree the vision", due_date=dt.date(2026, 12, 1)
    )
    early = factories.milestone(
        sqlite_engine, pid, stage="vision", title="Listen to staff", due_date=dt.date(2026, 2, 1)
    )
    factories.milestone(sqlite_engine, other, title="Not this programme")
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        milestones.update_milestone(
            session=session,
            viewer=SYSTEM,
            milestone_id=late,
            data=records.validated(MilestoneUpdate, {"status": "done", "version": 1}),
        )
    with db.read_session(sqlite_engine) as session:
        table = read.manage.milestone_table(session=session, programme_id=pid)
    assert list(table.columns) == list(read.manage.MILESTONE_COLUMNS)
    assert list(table["id"]) == [early, first, late]
    assert list(table["version"]) == [1, 1, 2]
    assert list(table["stage"]) == ["vision", "vision", "launch"]
    assert list(table["status"]) == ["not_started", "not_started", "done"]
    assert table["completed_date"].iloc[0] is None
    assert table["completed_date"].iloc[2] == clock.today()


def test_milestone_table_of_a_programme_without_milestones_is_empty_with_its_columns(
    sqlite_engine: Engine,
) -> None:
    pid = factories.programme(sqlite_engine)
    with db.read_session(sqlite_engine) as session:
        table = read.manage.milestone_table(session=session, programme_id=pid)
    assert table.empty
    assert list(table.columns) == list(read.manage.MILESTONE_COLUMNS)


def _table() -> pd.DataFrame:
    today = dt.date(2026, 6, 15)
    rows = [
        # title, stage, owner, due, status
        ("late", "vision", "Ann", today - dt.timedelta(days=1), "in_progress"),
        ("due today", "vision", "Bob", today, "not_started"),
        ("late but done", "test", "Ann", today - dt.timedelta(days=9), "done"),
        ("late but cancelled", "test", "", today - dt.timedelta(days=9), "cancelled"),
        ("late and blocked", "launch", "Bob", today - dt.timedelta(days=30), "blocked"),
    ]
    return pd.DataFrame(
        [
            {"id": n, "version": 1, "title": t, "stage": s, "owner": o, "due_date": d, "status": st}
            for n, (t, s, o, d, st) in enumerate(rows, start=1)
        ]
    )


@pytest.mark.parametrize(
    ("filters", "titles"),
    [
        ({}, ["late", "due today", "late but done", "late but cancelled", "late and blocked"]),
        ({"stages": ["test"]}, ["late but done", "late but cancelled"]),
        ({"statuses": ["done", "blocked"]}, ["late but done", "late and blocked"]),
        ({"owners": ["Ann"]}, ["late", "late but done"]),
        ({"overdue_only": True}, ["late", "late and blocked"]),
        ({"overdue_only": True, "owners": ["Bob"]}, ["late and blocked"]),
        ({"stages": ["vision"], "statuses": ["done"]}, []),
    ],
)
def test_filtering_milestones_keeps_the_rows_matching_every_filter(
    filters: dict[str, Any], titles: list[str]
) -> None:
    shown = read.manage.filter_milestones(_table(), today=dt.date(2026, 6, 15), **filters)
    assert list(shown["title"]) == titles
    assert list(shown.index) == list(range(len(titles)))  # numbered as the editor counts rows


def test_staff_groups_offered_for_a_milestone_are_the_owners_and_partners_only(
    sqlite_engine: Engine,
) -> None:
    owner = factories.organisation(sqlite_engine, short_name="OWN")
    partner = factories.organisation(sqlite_engine, short_name="PRT")
    outsider = factories.organisation(sqlite_engine)
    ours = factories.staff_group(sqlite_engine, owner, name="Revenues")
    theirs = factories.staff_group(sqlite_engine, partner, name="Customer services")
    factories.staff_group(sqlite_engine, outsider, name="Not involved")
    pid = factories.programme(sqlite_engine, owner)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        programmes.set_partners(
            session=session, viewer=SYSTEM, programme_id=pid, organisation_ids=[partner]
        )
    with db.read_session(sqlite_engine) as session:
        groups = read.manage.staff_group_choices(session=session, programme_id=pid)
        assert read.manage.partner_ids(session=session, programme_id=pid) == [partner]
        choices = read.manage.organisation_choices(session=session)
    assert set(groups) == {ours, theirs}
    assert groups[ours] == "OWN: Revenues"
    assert groups[theirs] == "PRT: Customer services"
    assert {owner, partner, outsider} <= set(choices)
    assert list(choices.values()) == sorted(choices.values())


def test_impacts_dependencies_and_stakeholder_choices_read_back_what_was_set(
    sqlite_engine: Engine,
) -> None:
    org = factories.organisation(sqlite_engine)
    group = factories.staff_group(sqlite_engine, org)
    pid = factories.programme(sqlite_engine, org)
    mid = factories.milestone(sqlite_engine, pid)
    zoe = factories.stakeholder(sqlite_engine, pid, name="Zoe Head of Service")
    abe = factories.stakeholder(sqlite_engine, pid, name="Abe Union Rep")
    factories.stakeholder(sqlite_engine, factories.programme(sqlite_engine, org), name="Elsewhere")
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        milestones.set_impacts(
            session=session, viewer=SYSTEM, milestone_id=mid, impacts={group: "high"}
        )
        milestones.set_dependencies(
            session=session, viewer=SYSTEM, milestone_id=mid, stakeholder_ids=[zoe]
        )
    with db.read_session(sqlite_engine) as session:
        assert read.manage.milestone_impacts(session=session, milestone_id=mid) == {group: "high"}
        assert read.manage.milestone_dependencies(session=session, milestone_id=mid) == [zoe]
        people = read.manage.stakeholder_choices(session=session, viewer=SYSTEM, programme_id=pid)
    assert people == {abe: "Abe Union Rep", zoe: "Zoe Head of Service"}
    assert list(people) == [abe, zoe]


def test_exit_criteria_come_in_checklist_order(sqlite_engine: Engine) -> None:
    pid = factories.programme(sqlite_engine)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        record = read.manage.stage_record(session=session, programme_id=pid, stage="equip")
        assert record.id is not None
        rid = record.id
        for text in ("Training booked", "Guides published", "Buddies arranged"):
            programmes.add_exit_criterion(
                session=session, viewer=SYSTEM, stage_record_id=rid, text=text
            )
    with db.read_session(sqlite_engine) as session:
        texts = [c.text for c in read.manage.exit_criteria(session=session, stage_record_id=rid)]
    assert texts == ["Training booked", "Guides published", "Buddies arranged"]


def test_barrier_table_scores_and_orders_highest_first(sqlite_engine: Engine) -> None:
    programme_id = factories.programme(sqlite_engine)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        for title, likelihood, impact in (("Bravo", 2, 3), ("Alpha", 3, 2), ("Charlie", 5, 4)):
            barriers.create_barrier(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    BarrierCreate,
                    {"programme_id": programme_id, "title": title, "category": "technical"}
                    | {"likelihood": likelihood, "impact": impact},
                ),
            )
    with db.read_session(sqlite_engine) as session:
        table = read.manage.barrier_table(session=session, programme_id=programme_id)
        empty = read.manage.barrier_table(session=session, programme_id=programme_id + 1)
    # Charlie 5 x 4 = 20; Alpha 3 x 2 = 6 ties with Bravo 2 x 3 = 6, then by title.
    assert list(zip(table["title"], table["score"], strict=True)) == [
        ("Charlie", 20),
        ("Alpha", 6),
        ("Bravo", 6),
    ]
    assert set(table["kind"]) == {"risk"} and set(table["status"]) == {"open"}
    assert list(table.columns) == list(read.manage.BARRIER_COLUMNS)
    assert empty.empty and str(empty["likelihood"].dtype) == "int64"


def test_metric_table_gives_the_latest_reading_and_attainment(sqlite_engine: Engine) -> None:
    programme_id = factories.programme(sqlite_engine)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        down = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": "Days to assess", "unit": "days"}
                | {"baseline": 28.0, "target": 14.0, "direction": "down", "stage": "test"},
            ),
        )
        flat = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": "Flat line", "baseline": 5.0}
                | {"target": 5.0},
            ),
        )
        metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": "No readings", "target": 10.0}
                | {"baseline": 0.0},
            ),
        )
        for metric, day, value in ((down, 1, 26.0), (down, 2, 21.0), (flat, 1, 6.0)):
            metrics.record_reading(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    MetricReadingCreate,
                    {"metric_id": metric.id, "reading_on": dt.date(2026, day, 1), "value": value},
                ),
            )
    with db.read_session(sqlite_engine) as session:
        table = read.manage.metric_table(session=session, programme_id=programme_id)
    rows = table.set_index("name")
    # Down: (21 - 28) / (14 - 28) = -7 / -14 = 0.5.
    assert rows.loc["Days to assess", "attainment"] == pytest.approx(0.5)
    assert rows.loc["Days to assess", "latest_on"] == dt.date(2026, 2, 1)
    assert (rows.loc["Days to assess", "stage"], rows.loc["Days to assess", "version"]) == (
        "test",
        1,
    )
    assert rows.loc["Flat line", "attainment"] is None
    assert rows.loc["No readings", "latest"] is None
    listing = read.manage.metric_listing(table).set_index("Metric")
    assert listing.loc["Days to assess", "Attainment"] == "50%"
    assert listing.loc["Days to assess", "Latest reading"] == "21 days on 1 Feb 2026"
    assert listing.loc["Flat line", "Attainment"] == "Not defined (target equals baseline)"
    assert listing.loc["No readings", "Attainment"] == "No reading yet"
    assert listing.loc["No readings", "Stage"] == "Not tied to a stage"


def test_reading_table_lists_newest_first_and_one_reading_per_date(
    sqlite_engine: Engine,
) -> None:
    programme_id = factories.programme(sqlite_engine)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        metric = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": "Trained", "baseline": 0, "target": 9},
            ),
        )
        metric_id = metric.id
        for day in (3, 1, 2):
            metrics.record_reading(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    MetricReadingCreate,
                    {"metric_id": metric_id, "reading_on": dt.date(2026, day, 1), "value": day},
                ),
            )
    with db.read_session(sqlite_engine) as session:
        table = read.manage.reading_table(session=session, metric_id=metric_id)
    assert list(table["reading_on"]) == [dt.date(2026, m, 1) for m in (3, 2, 1)]
    march = int(table["id"][0])

    with (
        pytest.raises(DomainError, match="already has a reading on 1 February 2026") as refused,
        db.write_session(sqlite_engine, actor=factories.ACTOR) as session,
    ):
        metrics.record_reading(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricReadingCreate,
                {"metric_id": metric_id, "reading_on": dt.date(2026, 2, 1), "value": 5},
            ),
        )
    assert refused.value.field == "reading_on"
    with (
        pytest.raises(DomainError, match="already has a reading on 1 January 2026"),
        db.write_session(sqlite_engine, actor=factories.ACTOR) as session,
    ):
        metrics.update_reading(
            session=session,
            viewer=SYSTEM,
            reading_id=march,
            data=records.validated(MetricReadingUpdate, {"reading_on": "2026-01-01", "version": 1}),
        )
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        moved = metrics.update_reading(
            session=session,
            viewer=SYSTEM,
            reading_id=march,
            data=records.validated(
                MetricReadingUpdate, {"reading_on": dt.date(2026, 3, 1), "value": 4.0, "version": 1}
            ),
        )
        assert (moved.value, moved.version) == (4.0, 2)


def test_narrative_table_lists_drafts_and_published_newest_first(sqlite_engine: Engine) -> None:
    programme_id = factories.programme(sqlite_engine)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        first = narratives.write_narrative(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                NarrativeCreate,
                {"programme_id": programme_id, "title": "First story", "stage": "vision"},
            ),
        )
        narratives.write_narrative(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                NarrativeCreate,
                {"programme_id": programme_id, "title": "Second story", "audience": "staff"},
            ),
        )
        assert first.id is not None
        narratives.publish_narrative(
            session=session, viewer=SYSTEM, narrative_id=first.id, expected_version=1
        )
    with db.read_session(sqlite_engine) as session:
        table = read.manage.narrative_table(session=session, programme_id=programme_id)
    assert list(table["title"]) == ["Second story", "First story"]
    assert list(table["status"]) == ["draft", "published"]
    assert list(table["stage"]) == [None, "vision"]
    assert table["published_on"][0] is None and table["published_on"][1] is not None
    assert list(table["version"]) == [1, 2]
