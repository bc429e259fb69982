"""The manager workspace's shared rules: which programmes a manager may change, and bulk edits
that either all land or change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests import factories
from tests.factories import SYSTEM
from tracker import db
from tracker.access import Viewer
from tracker.models import Milestone, MilestoneCreate, MilestoneUpdate, Role
from tracker.services import milestones, records
from tracker.workspace import (
    TableEditError,
    apply_table_edits,
    clean_cell,
    managed_programmes,
)

COLUMNS = ("title", "stage", "due_date", "weight", "status", "programme_id")


def _viewer(role: Role, organisation_ids: set[int]) -> Viewer:
    return Viewer(1, "someone@example.org", "Someone", role, frozenset(organisation_ids))


def _snapshot(engine: Engine, programme_id: int) -> list[dict[str, Any]]:
    with db.read_session(engine) as session:
        rows = session.exec(
            select(Milestone).where(Milestone.programme_id == programme_id).order_by(Milestone.id)
        ).all()
        return [{"id": m.id, "version": m.version, "title": m.title} for m in rows]


def _apply(engine: Engine, programme_id: int, snapshot: list[dict[str, Any]], changes: Any) -> Any:
    with db.write_session(engine, actor=factories.ACTOR) as session:

        def create(values: dict[str, Any]) -> object:
            return milestones.create_milestone(
                session=session,
                viewer=SYSTEM,
                data=records.validated(MilestoneCreate, {**values, "programme_id": programme_id}),
            )

        def update(record_id: int, version: int, values: dict[str, Any]) -> object:
            return milestones.update_milestone(
                session=session,
                viewer=SYSTEM,
                milestone_id=record_id,
                data=records.validated(MilestoneUpdate, {**values, "version": version}),
            )

        def delete(record_id: int, version: int) -> None:
            milestones.delete_milestone(
                session=session, viewer=SYSTEM, milestone_id=record_id, expected_version=version
            )

        return apply_table_edits(
            session=session,
            snapshot=snapshot,
            changes=changes,
            columns=COLUMNS,
            create=create,
            update=update,
            delete=delete,
        )


def _titles(engine: Engine, programme_id: int) -> list[str]:
    return [row["title"] for row in _snapshot(engine, programme_id)]


def test_managers_see_the_programmes_of_their_organisations_and_leadership_none(
    sqlite_engine: Engine,
) -> None:
    mine = factories.organisation(sqlite_engine)
    theirs = factories.organisation(sqlite_engine)
    owned = factories.programme(sqlite_engine, mine, title="Owned by us")
    factories.programme(sqlite_engine, theirs, title="Not ours")
    with db.read_session(sqlite_engine) as session:
        as_manager = managed_programmes(session=session, viewer=_viewer(Role.manager, {mine}))
        as_leader = managed_programmes(session=session, viewer=_viewer(Role.leadership, {mine}))
    assert [c.programme_id for c in as_manager] == [owned]
    assert as_leader == []


def test_a_bulk_edit_adds_changes_and_deletes_rows_in_one_save(sqlite_engine: Engine) -> None:
    programme = factories.programme(sqlite_engine)
    factories.milestone(sqlite_engine, programme, title="Keep me")
    factories.milestone(sqlite_engine, programme, title="Delete me")
    snapshot = _snapshot(sqlite_engine, programme)
    counts = _apply(
        sqlite_engine,
        programme,
        snapshot,
        {
            "edited_rows": {0: {"title": "Kept and renamed", "weight": 5}},
            "added_rows": [
                {"title": "Brand new", "stage": "test", "due_date": "2026-10-01T00:00:00"},
                {},
            ],
            "deleted_rows": [1],
        },
    )
    assert (counts.created, counts.updated, counts.deleted) == (1, 1, 1)
    assert counts.describe("milestones") == "Saved milestones: 1 added, 1 changed, 1 deleted."
    assert _titles(sqlite_engine, programme) == ["Kept and renamed", "Brand new"]


def test_one_bad_row_saves_nothing_and_every_problem_is_listed(sqlite_engine: Engine) -> None:
    programme = factories.programme(sqlite_engine)
    factories.milestone(sqlite_engine, programme, title="First")
    factories.milestone(sqlite_engine, programme, title="Second")
    snapshot = _snapshot(sqlite_engine, programme)
    with pytest.raises(TableEditError) as refused:
        _apply(
            sqlite_engine,
            programme,
            snapshot,
            {
                "edited_rows": {0: {"title": "Fine change"}, 1: {"weight": 9}},
                "added_rows": [{"title": "x", "stage": "vision", "due_date": "2026-10-01"}],
                "deleted_rows": [],
            },
        )
    problems = [(p.row, p.field) for p in refused.value.problems]
    assert problems == [(2, "weight"), (3, "title")]
    assert "Nothing was saved: 2 rows need correcting" in refused.value.reason
    assert _titles(sqlite_engine, programme) == ["First", "Second"]


def test_a_row_someone_else_saved_since_the_table_opened_is_refused(
    sqlite_engine: Engine,
) -> None:
    programme = factories.programme(sqlite_engine)
    milestone_id = factories.milestone(sqlite_engine, programme, title="Shared row")
    snapshot = _snapshot(sqlite_engine, programme)
    with db.write_session(sqlite_engine, actor="other@example.org") as session:
        milestones.update_milestone(
            session=session,
            viewer=SYSTEM,
            milestone_id=milestone_id,
            data=records.validated(MilestoneUpdate, {"title": "Their title", "version": 1}),
        )
    with pytest.raises(TableEditError) as refused:
        _apply(sqlite_engine, programme, snapshot, {"edited_rows": {0: {"title": "Mine"}}})
    assert "Someone else saved this milestone" in refused.value.problems[0].reason
    assert _titles(sqlite_engine, programme) == ["Their title"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (None, None),
        (float("nan"), None),
        ("   ", None),
        ("2026-03-31T00:00:00.000", dt.date(2026, 3, 31)),
        (dt.datetime(2026, 3, 31, 12, 0), dt.date(2026, 3, 31)),
        ("  Owner name ", "Owner name"),
        ("2026-13-45", "2026-13-45"),
        (3, 3),
    ],
)
def test_editor_cells_become_plain_values(cell: Any, expected: Any) -> None:
    assert clean_cell(cell) == expected
