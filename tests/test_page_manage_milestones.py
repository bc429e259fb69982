"""Manage → Milestones (pages/manage_milestones.py): the bulk editor, its filters, and who a
milestone lands on and depends on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.factories import SYSTEM
from tests.manage_screen import (
    ADA,
    CODE,
    MAYA,
    click,
    errors,
    open_page,
    programme_row,
    successes,
)
from tracker import clock, db, read
from tracker.models import (
    Milestone,
    MilestoneUpdate,
    Stakeholder,
)
from tracker.safe_text import plain_text
from tracker.services import milestones, records

ROOT = Path(__file__).resolve().parents[1]
PROGRAMME = "pages/manage_programme.py"
STAGES = "pages/manage_stages.py"
MILESTONES = "pages/manage_milestones.py"
OTHER = "someone.else@example.org"

# demo_url and app_as come from tests/conftest.py.


def table_of(engine: Engine) -> pd.DataFrame:
    with db.read_session(engine) as session:
        pid = programme_row(engine).id
        assert pid is not None
        return read.manage.milestone_table(session=session, programme_id=pid)


def milestone_row(engine: Engine, milestone_id: int) -> Milestone | None:
    with db.read_session(engine) as session:
        return session.get(Milestone, milestone_id)


def editor_key(engine: Engine) -> str:
    return f"milestones_editor_{programme_row(engine).id}"


def edit(at: AppTest, key: str, **changes: Any) -> AppTest:
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []} | changes
    return at


def problems(at: AppTest) -> list[tuple[int, str, str]]:
    table = next(d.value for d in at.dataframe if "Problem" in d.value.columns)
    return [(int(r.Row), r.Column, r.Problem) for r in table.itertuples()]


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_milestones_show_the_programmes_milestones_in_an_editor(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, MILESTONES, email, code=CODE)
    shown = at.data_editor[0].value
    expected = table_of(demo_engine)
    assert at.data_editor[0].editing_mode == "dynamic"
    assert list(shown["id"]) == list(expected["id"])
    assert list(shown["title"]) == list(expected["title"])
    assert list(shown["row"]) == list(range(1, len(expected) + 1))
    assert f"Showing {len(expected)} of {len(expected)} milestones." in at.caption[0].value


def test_editing_a_milestone_in_the_table_saves_it(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    first = table_of(demo_engine).iloc[0]
    at = open_page(app_as, MILESTONES, code=CODE)
    key = editor_key(demo_engine)
    edit(at, key, edited_rows={0: {"title": "Agree the case for change", "weight": 5}}).run()
    click(at, "Save changes")

    saved = milestone_row(demo_engine, int(first["id"]))
    assert saved is not None
    assert (saved.title, saved.weight) == ("Agree the case for change", 5)
    assert saved.version == first["version"] + 1
    assert successes(at) == "Saved milestones: 1 changed."
    assert at.data_editor[0].value["title"].iloc[0] == "Agree the case for change"


def test_rows_can_be_added_and_deleted_through_the_editor(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = table_of(demo_engine)
    doomed = int(before["id"].iloc[0])  # also the milestone chosen below the table
    at = open_page(app_as, MILESTONES, code=CODE)
    new = {
        "title": "Run drop-in sessions in libraries",
        "stage": "equip",
        "owner": "Rosa Lindqvist",
        "due_date": "2027-01-15",
        "status": "not_started",
        "weight": 2,
    }
    edit(at, editor_key(demo_engine), added_rows=[new], deleted_rows=[0]).run()
    click(at, "Save changes")

    assert milestone_row(demo_engine, doomed) is None
    after = table_of(demo_engine)
    added = after[after["title"] == "Run drop-in sessions in libraries"].iloc[0]
    assert (added["stage"], added["owner"], added["due_date"], added["weight"]) == (
        "equip",
        "Rosa Lindqvist",
        dt.date(2027, 1, 15),
        2,
    )
    assert len(after) == len(before)
    assert successes(at) == "Saved milestones: 1 added, 1 deleted."
    assert at.selectbox(key="milestones_focus").value == int(after["id"].iloc[0])


def test_bad_rows_are_all_listed_with_row_and_column_and_nothing_is_saved(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = table_of(demo_engine)
    at = open_page(app_as, MILESTONES, code=CODE)
    key = editor_key(demo_engine)
    draft = {0: {"title": "x" * 201}, 1: {"weight": 9}, 2: {"owner": "A fine change"}}
    edit(at, key, edited_rows=draft, added_rows=[{"title": "No stage or due date"}]).run()
    click(at, "Save changes")

    assert "Nothing was saved: 3 rows need correcting first." in errors(at)
    listed = problems(at)
    assert listed[:2] == [
        (1, "Title", "must be at most 200 characters"),
        (2, "Weight", "must be 5 or less"),
    ]
    assert listed[2][0] == len(before) + 1
    assert table_of(demo_engine).equals(before)
    assert at.session_state[key]["edited_rows"] == draft  # the draft is kept


def test_a_row_someone_else_saved_since_the_table_opened_is_refused_as_a_conflict(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    first = table_of(demo_engine).iloc[0]
    at = open_page(app_as, MILESTONES, code=CODE)
    with db.write_session(demo_engine, actor=OTHER) as session:
        milestones.update_milestone(
            session=session,
            viewer=SYSTEM,
            milestone_id=int(first["id"]),
            data=records.validated(
                MilestoneUpdate, {"owner": "Their owner", "version": int(first["version"])}
            ),
        )
    key = editor_key(demo_engine)
    edit(at, key, edited_rows={0: {"owner": "My owner"}}).run()
    click(at, "Save changes")

    assert "Nothing was saved: 1 row needs correcting first." in errors(at)
    ((row, column, reason),) = problems(at)
    assert (row, column) == (1, "(whole row)")
    assert "Someone else saved this milestone" in reason
    saved = milestone_row(demo_engine, int(first["id"]))
    assert saved is not None and saved.owner == "Their owner"
    assert at.session_state[key]["edited_rows"] == {0: {"owner": "My owner"}}

    click(at, "Reload (discard my unsaved changes)")
    assert at.data_editor[0].value["owner"].iloc[0] == "Their owner"


def test_filters_narrow_the_table_by_stage_status_owner_and_overdue(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    everything = table_of(demo_engine)
    at = open_page(app_as, MILESTONES, code=CODE)

    def shown() -> pd.DataFrame:
        assert not at.exception, at.exception
        return at.data_editor[0].value

    at.multiselect(key="milestones_stage_filter").select("equip").run()
    assert list(shown()["id"]) == list(everything[everything["stage"] == "equip"]["id"])
    assert 0 < len(shown()) < len(everything)

    at.multiselect(key="milestones_stage_filter").unselect("equip")
    at.multiselect(key="milestones_status_filter").select("done").run()
    assert set(shown()["status"]) == {"done"}
    assert len(shown()) == (everything["status"] == "done").sum()

    at.multiselect(key="milestones_status_filter").unselect("done")
    owner = everything["owner"].iloc[0]
    at.multiselect(key="milestones_owner_filter").select(owner).run()
    assert list(shown()["id"]) == list(everything[everything["owner"] == owner]["id"])

    at.multiselect(key="milestones_owner_filter").unselect(owner)
    at.toggle(key="milestones_overdue_filter").set_value(True).run()
    with db.read_session(demo_engine) as session:
        overdue = read.programme.overdue_milestones(
            session=session, programme_id=programme_row(demo_engine).id, today=clock.today()
        )
    assert len(overdue) > 0
    assert set(shown()["id"]) == set(overdue["id"])
    assert f"Showing {len(overdue)} of {len(everything)} milestones." in at.caption[0].value


def test_an_edit_with_a_filter_on_changes_the_row_shown_and_fixes_the_filters(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    everything = table_of(demo_engine)
    launch = everything[everything["stage"] == "launch"].iloc[0]
    at = open_page(app_as, MILESTONES, code=CODE)
    at.multiselect(key="milestones_stage_filter").select("launch").run()
    edit(at, editor_key(demo_engine), edited_rows={0: {"owner": "New owner"}}).run()
    assert at.multiselect(key="milestones_stage_filter").disabled
    click(at, "Save changes")

    saved = milestone_row(demo_engine, int(launch["id"]))
    assert saved is not None and saved.owner == "New owner"
    assert table_of(demo_engine).drop(index=launch.name).equals(everything.drop(index=launch.name))
    assert not at.multiselect(key="milestones_stage_filter").disabled


def test_staff_groups_and_stakeholders_of_one_milestone_are_saved(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    first = table_of(demo_engine).iloc[0]
    mid = int(first["id"])
    with db.read_session(demo_engine) as session:
        pid = programme_row(demo_engine).id
        assert pid is not None
        group = next(iter(read.manage.staff_group_choices(session=session, programme_id=pid)))
        person = session.exec(select(Stakeholder.id).where(Stakeholder.programme_id == pid)).first()
    at = open_page(app_as, MILESTONES, code=CODE)
    assert at.selectbox(key="milestones_focus").value == mid
    for box in at.selectbox:
        if box.key and box.key.startswith(f"milestones_impact_{mid}_"):
            box.select("none")
    at.selectbox(key=f"milestones_impact_{mid}_{group}").select("high")
    at.multiselect(key=f"milestones_dependencies_{mid}").set_value([person])
    click(at, "Save staff groups and stakeholders")

    with db.read_session(demo_engine) as session:
        assert read.manage.milestone_impacts(session=session, milestone_id=mid) == {group: "high"}
        assert read.manage.milestone_dependencies(session=session, milestone_id=mid) == [person]
    assert successes(at) == (
        f"Saved who '{plain_text(first['title'])}' affects: "
        "it lands on 1 staff group and needs 1 stakeholder."
    )
