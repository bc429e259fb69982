"""Admin: Organisations (pages/admin_organisations.py) in AppTest on the demo database:
organisations and their staff groups, added, renamed and deleted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.admin_screen import (
    ADA,
    ORGANISATIONS,
    click_button,
    count_rows,
    error_text,
    open_as,
    org_id_of,
    success_text,
)
from tests.screen import shown_all
from tracker import db, read
from tracker.models import (
    MilestoneImpact,
    Organisation,
    StaffGroup,
    Stakeholder,
    User,
)


def test_organisations_page_shows_organisations_and_what_uses_each_staff_group(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_as(app_as, ORGANISATIONS)
    organisations_shown, groups_shown = (frame.value for frame in at.dataframe)
    assert set(organisations_shown["short_name"]) == {"NCC", "EDC", "NICB"}
    first = int(at.selectbox(key="organisations_choice").value)
    with db.read_session(demo_engine) as session:
        expected = read.admin.staff_group_table(session=session, organisation_id=first)
    pd.testing.assert_frame_equal(
        groups_shown.reset_index(drop=True),
        pd.DataFrame([asdict(group) for group in expected]),
        check_dtype=False,
    )


def test_adding_and_renaming_an_organisation_and_a_staff_group(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_as(app_as, ORGANISATIONS)
    at.text_input(key="organisations_new_name").set_value("Westvale Borough Council")
    at.text_input(key="organisations_new_short").set_value("WBC")
    click_button(at, "Add organisation")
    assert "Added Westvale Borough Council." in success_text(at)
    wbc = org_id_of(demo_engine, "WBC")
    assert wbc in factories.viewer(demo_engine, ADA).organisation_ids

    at.selectbox(key="organisations_choice").set_value(wbc).run()
    at.text_input(key=f"organisations_name_{wbc}").set_value("Westvale Council")
    click_button(at, "Rename organisation")
    at.text_input(key=f"organisations_new_group_name_{wbc}").set_value("Housing")
    click_button(at, "Add staff group")
    assert "Added the staff group Housing." in success_text(at)
    with db.read_session(demo_engine) as session:
        org = session.get(Organisation, wbc)
        group = session.exec(select(StaffGroup).where(StaffGroup.organisation_id == wbc)).one()
    assert org is not None and org.name == "Westvale Council"
    at.text_input(key=f"organisations_group_name_{group.id}").set_value("Housing services")
    click_button(at, "Rename staff group")
    with db.read_session(demo_engine) as session:
        renamed = session.get(StaffGroup, group.id)
    assert renamed is not None and renamed.name == "Housing services"


def test_a_duplicate_short_name_is_refused_and_nothing_is_written(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = count_rows(demo_engine, Organisation)
    at = open_as(app_as, ORGANISATIONS)
    at.text_input(key="organisations_new_name").set_value("Another Council")
    at.text_input(key="organisations_new_short").set_value("NCC")
    click_button(at, "Add organisation")
    assert "Short name: another organisation already has this short name" in error_text(at)
    assert count_rows(demo_engine, Organisation) == before


def test_deleting_a_staff_group_asks_for_confirmation_and_then_clears_it_everywhere(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    ncc = org_id_of(demo_engine, "NCC")
    with db.read_session(demo_engine) as session:
        group = session.exec(
            select(StaffGroup).where(
                StaffGroup.organisation_id == ncc, StaffGroup.name == "Customer services"
            )
        ).one()
    gid = group.id
    used = (
        count_rows(demo_engine, User, User.staff_group_id == gid),
        count_rows(demo_engine, Stakeholder, Stakeholder.staff_group_id == gid),
        count_rows(demo_engine, MilestoneImpact, MilestoneImpact.staff_group_id == gid),
    )
    assert used[0] == 1 and used[1] > 0 and used[2] > 0
    at = open_as(app_as, ORGANISATIONS)
    at.selectbox(key="organisations_choice").set_value(ncc).run()
    at.selectbox(key=f"organisations_group_choice_{ncc}").set_value(gid).run()
    warning = "\n".join(shown_all(at.warning))
    assert f"{used[0]} user(s) lose their staff group" in warning
    assert f"{used[1]} stakeholder(s) keep their record without a group" in warning
    assert f"{used[2]} milestone impact(s) on it are deleted" in warning

    click_button(at, "Delete staff group")
    assert "Tick the box to confirm first" in error_text(at)
    assert count_rows(demo_engine, StaffGroup, StaffGroup.id == gid) == 1

    at.checkbox(key=f"organisations_delete_confirm_{gid}").check()
    click_button(at, "Delete staff group")
    assert "Deleted the staff group Customer services." in success_text(at)
    assert count_rows(demo_engine, StaffGroup, StaffGroup.id == gid) == 0
    assert count_rows(demo_engine, User, User.staff_group_id == gid) == 0
    assert count_rows(demo_engine, Stakeholder, Stakeholder.staff_group_id == gid) == 0
    assert count_rows(demo_engine, MilestoneImpact, MilestoneImpact.staff_group_id == gid) == 0
    assert count_rows(demo_engine, Stakeholder) > 0
