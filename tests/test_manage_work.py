"""The Manage pages for the work itself: programme details, the six stages and the milestones.
Driven with AppTest on a seeded demo database, as the demo managers; plus the read functions
those pages use, tested without Streamlit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.conftest import sign_in
from tests.factories import SYSTEM
from tests.screen import shown_all
from tracker import clock, db, read
from tracker.models import (
    ExitCriterion,
    ExitCriterionUpdate,
    Milestone,
    MilestoneUpdate,
    Organisation,
    Programme,
    ProgrammeUpdate,
    StageRecord,
    StageRecordUpdate,
    Stakeholder,
)
from tracker.safe_text import plain_text
from tracker.services import milestones, programmes, records

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


def open_page(app_as: Callable[[str], AppTest], page: str, email: str = MAYA) -> AppTest:
    at = app_as(email)
    at.switch_page(page)
    at.query_params["programme"] = CODE
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click().run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return " | ".join(shown_all(at.error))


def successes(at: AppTest) -> str:
    return " | ".join(success.value for success in at.success)


def programme_row(engine: Engine, code: str = CODE) -> Programme:
    with db.read_session(engine) as session:
        found = session.exec(select(Programme).where(Programme.code == code)).one()
        return found


def organisation_id(engine: Engine, short_name: str) -> int:
    with db.read_session(engine) as session:
        org = session.exec(select(Organisation).where(Organisation.short_name == short_name)).one()
        assert org.id is not None
        return org.id


# --- Read functions, without Streamlit -------------------------------------------------------


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


# --- Who may open the pages ------------------------------------------------------------------


@pytest.mark.parametrize("page", [PROGRAMME, STAGES, MILESTONES])
@pytest.mark.parametrize("email", [LENA, SAM])
def test_leadership_and_staff_cannot_reach_the_work_pages(
    app_as: Callable[[str], AppTest], page: str, email: str
) -> None:
    at = app_as(email)
    with pytest.raises(ValueError):
        at.switch_page(page).run()


@pytest.mark.parametrize("page", [PROGRAMME, STAGES, MILESTONES])
@pytest.mark.parametrize("email", [LENA, SAM])
def test_the_work_pages_stop_for_leadership_and_staff_even_when_run_directly(
    demo_url: str, page: str, email: str
) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    sign_in(at, email)
    at.run()
    assert not at.exception, at.exception
    assert "not available to your role" in errors(at)
    assert not at.title
    assert not at.text_input and not at.data_editor


def test_a_manager_cannot_open_another_councils_programme_by_its_link(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, MILESTONES, DEV)  # the link names a county programme
    assert "not yours to change" in at.warning[0].value
    shown = at.selectbox(key="manage_programme_choice").value
    assert shown != CODE
    county = programme_row(demo_engine)
    assert not any(county.title in str(title) for title in at.data_editor[0].value["title"])


# --- Programme details -----------------------------------------------------------------------


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_programme_details_show_the_programme_for_managers_and_admins(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, PROGRAMME, email)
    programme = programme_row(demo_engine)
    assert at.title[0].value == "Programme details"
    assert at.text_input(key=f"programme_title_{programme.id}").value == programme.title
    assert at.text_input(key=f"programme_sponsor_{programme.id}").value == programme.sponsor
    assert at.selectbox(key=f"programme_lawful_basis_{programme.id}").value == "public_task"
    assert any("UK GDPR" in caption.value for caption in at.caption)


def test_saving_programme_details_changes_the_programme_and_says_what_changed(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = programme_row(demo_engine)
    pid = before.id
    district = organisation_id(demo_engine, "EDC")
    # Ada administers the county and the district, so she may pool the one with the other.
    at = open_page(app_as, PROGRAMME, ADA)
    at.text_input(key=f"programme_title_{pid}").input("Adult social care online")
    at.text_input(key=f"programme_sponsor_{pid}").input("Director of Adult Social Services")
    at.selectbox(key=f"programme_lawful_basis_{pid}").select("legitimate_interests")
    at.number_input(key=f"programme_budget_{pid}").set_value(750000.5)
    at.multiselect(key=f"programme_partners_{pid}").select(district)
    click(at, "Save programme details")

    after = programme_row(demo_engine)
    assert after.title == "Adult social care online"
    assert after.sponsor == "Director of Adult Social Services"
    assert after.lawful_basis == "legitimate_interests"
    assert after.budget == Decimal("750000.50")
    assert after.summary == before.summary
    assert after.version == before.version + 1
    with db.read_session(demo_engine) as session:
        assert read.manage.partner_ids(session=session, programme_id=after.id) == [district]
    assert successes(at) == (
        "Saved programme details: title, senior responsible owner, lawful basis, budget, partners."
    )


def test_a_manager_pools_a_programme_only_with_organisations_they_act_for(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = programme_row(demo_engine).id
    district = organisation_id(demo_engine, "EDC")
    at = open_page(app_as, PROGRAMME)  # Maya: the county only
    assert district not in at.multiselect(key=f"programme_partners_{pid}").options


def test_the_owner_records_a_data_sharing_agreement_with_a_partner(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = programme_row(demo_engine).id
    district = organisation_id(demo_engine, "EDC")
    at = open_page(app_as, PROGRAMME, ADA)
    at.multiselect(key=f"programme_partners_{pid}").select(district)
    at.multiselect(key=f"programme_sharing_{pid}").select(district)
    click(at, "Save programme details")
    with db.read_session(demo_engine) as session:
        assert read.manage.sharing_partner_ids(session=session, programme_id=pid) == [district]
    assert "data-sharing agreements" in successes(at)


def test_a_target_end_before_the_start_is_refused_and_nothing_changes(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = programme_row(demo_engine)
    at = open_page(app_as, PROGRAMME)
    at.text_input(key=f"programme_title_{before.id}").input("A title that must not be saved")
    early = before.start_date - dt.timedelta(days=1)
    at.date_input(key=f"programme_target_end_date_{before.id}").set_value(early)
    click(at, "Save programme details")

    assert "Target end date: must not be before the start date" in errors(at)
    after = programme_row(demo_engine)
    assert (after.title, after.target_end_date, after.version) == (
        before.title,
        before.target_end_date,
        before.version,
    )
    assert (
        at.text_input(key=f"programme_title_{before.id}").value == "A title that must not be saved"
    )


def test_programme_details_saved_by_someone_else_meanwhile_are_kept_and_the_draft_stays(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = programme_row(demo_engine)
    assert before.id is not None
    at = open_page(app_as, PROGRAMME)
    with db.write_session(demo_engine, actor=OTHER) as session:
        programmes.update_programme(
            session=session,
            viewer=SYSTEM,
            programme_id=before.id,
            data=records.validated(
                ProgrammeUpdate, {"title": "Their new title", "version": before.version}
            ),
        )
    title = at.text_input(key=f"programme_title_{before.id}")
    title.input("My draft title")
    click(at, "Save programme details")

    assert "Someone else saved this programme" in errors(at)
    assert programme_row(demo_engine).title == "Their new title"
    assert at.text_input(key=f"programme_title_{before.id}").value == "My draft title"
    click(at, "Reload (discard my unsaved changes)")
    assert at.text_input(key=f"programme_title_{before.id}").value == "Their new title"


def test_creating_a_programme_makes_its_six_stages_and_opens_it(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, PROGRAMME)
    at.text_input(key="programme_new_code").input("ncc-libraries")
    at.text_input(key="programme_new_title").input("Libraries self-service")
    click(at, "Create programme")

    created = programme_row(demo_engine, "NCC-LIBRARIES")
    assert created.organisation_id == organisation_id(demo_engine, "NCC")
    with db.read_session(demo_engine) as session:
        stages = session.exec(
            select(StageRecord.stage).where(StageRecord.programme_id == created.id)
        ).all()
    assert len(stages) == 6
    assert at.query_params["programme"] == "NCC-LIBRARIES"
    assert at.selectbox(key="manage_programme_choice").value == "NCC-LIBRARIES"
    assert at.text_input(key=f"programme_title_{created.id}").value == "Libraries self-service"
    made = f"Created {plain_text('Libraries self-service')} ({plain_text('NCC-LIBRARIES')})"
    assert made in successes(at)


def test_a_new_programme_with_a_code_in_use_is_refused(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    with db.read_session(demo_engine) as session:
        count = len(session.exec(select(Programme.id)).all())
    at = open_page(app_as, PROGRAMME)
    at.text_input(key="programme_new_code").input(CODE)
    at.text_input(key="programme_new_title").input("A second programme with the same code")
    click(at, "Create programme")

    assert "Code: another programme already has this code" in errors(at)
    with db.read_session(demo_engine) as session:
        assert len(session.exec(select(Programme.id)).all()) == count
    assert at.text_input(key="programme_new_title").value == "A second programme with the same code"


# --- Stages ----------------------------------------------------------------------------------


def stage_row(engine: Engine, stage: str = "vision") -> StageRecord:
    with db.read_session(engine) as session:
        pid = programme_row(engine).id
        assert pid is not None
        return read.manage.stage_record(session=session, programme_id=pid, stage=stage)


def criteria_of(engine: Engine, record_id: int) -> list[ExitCriterion]:
    with db.read_session(engine) as session:
        return read.manage.exit_criteria(session=session, stage_record_id=record_id)


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_stages_show_all_six_in_order_and_the_chosen_stages_record(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, STAGES, email)
    overview = at.dataframe[0].value
    assert list(overview["Stage"].str[:2]) == ["1.", "2.", "3.", "4.", "5.", "6."]
    vision = stage_row(demo_engine)
    assert at.text_area(key=f"stages_narrative_{vision.id}").value == vision.narrative
    assert at.header[0].value == "1. Get the vision and narrative right"

    at.segmented_control(key="stages_stage").set_value("equip").run()
    equip = stage_row(demo_engine, "equip")
    assert at.header[0].value == "4. Equip people with skills and resources"
    assert at.text_area(key=f"stages_narrative_{equip.id}").value == equip.narrative
    assert equip.id is not None
    texts = [plain_text(c.text) for c in criteria_of(demo_engine, equip.id)]
    assert texts and [box.label for box in at.checkbox] == texts


def test_saving_a_stage_narrative_and_dates_shows_a_safe_preview(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = stage_row(demo_engine)
    rid = before.id
    at = open_page(app_as, STAGES)
    story = "**Agreed** by the sponsor. <script>alert(1)</script> [x](javascript:alert(1))"
    at.text_area(key=f"stages_narrative_{rid}").input(story)
    assert before.planned_start is not None
    at.date_input(key=f"stages_planned_end_{rid}").set_value(before.planned_start)
    click(at, "Save narrative and dates")

    after = stage_row(demo_engine)
    assert after.narrative == story
    assert after.planned_end == before.planned_start
    assert after.version == before.version + 1
    assert successes(at) == (
        "Saved stage 1, Get the vision and narrative right: narrative, planned end."
    )
    preview = [m.value for m in at.markdown if "Agreed" in m.value]
    assert preview and "&lt;script" in preview[0]
    assert not any("<script" in m.value or "javascript:" in m.value for m in at.markdown)


def test_a_stage_ending_before_it_starts_is_refused_and_nothing_changes(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = stage_row(demo_engine)
    assert before.actual_start is not None
    at = open_page(app_as, STAGES)
    at.date_input(key=f"stages_actual_end_{before.id}").set_value(
        before.actual_start - dt.timedelta(days=1)
    )
    click(at, "Save narrative and dates")

    assert "Actual end: must not be before the start date" in errors(at)
    after = stage_row(demo_engine)
    assert (after.actual_end, after.version) == (before.actual_end, before.version)


def test_a_stage_saved_by_someone_else_meanwhile_is_kept_and_the_draft_stays(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = stage_row(demo_engine)
    assert before.id is not None
    at = open_page(app_as, STAGES)
    with db.write_session(demo_engine, actor=OTHER) as session:
        programmes.update_stage_record(
            session=session,
            viewer=SYSTEM,
            stage_record_id=before.id,
            data=records.validated(
                StageRecordUpdate, {"narrative": "Their story", "version": before.version}
            ),
        )
    at.text_area(key=f"stages_narrative_{before.id}").input("My story")
    click(at, "Save narrative and dates")

    assert "Someone else saved this stage record" in errors(at)
    assert stage_row(demo_engine).narrative == "Their story"
    assert at.text_area(key=f"stages_narrative_{before.id}").value == "My story"


def test_exit_criteria_can_be_ticked_deleted_and_added(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    record = stage_row(demo_engine)
    assert record.id is not None
    first, second, third = criteria_of(demo_engine, record.id)
    at = open_page(app_as, STAGES)
    box = at.checkbox(key=f"stages_met_{first.id}")
    box.uncheck() if first.met else box.check()
    at.multiselect(key=f"stages_delete_{record.id}").select(second.id)
    click(at, "Save checklist")

    now = {c.id: c for c in criteria_of(demo_engine, record.id)}
    assert set(now) == {first.id, third.id}
    assert now[first.id].met is not first.met
    assert now[third.id].version == third.version
    flipped = "1 unticked" if first.met else "1 ticked"
    assert successes(at) == f"Saved exit criteria: {flipped}, 1 deleted."

    at.text_input(key=f"stages_new_{record.id}").input("Sponsor signs off the narrative")
    click(at, "Add criterion")
    texts = [c.text for c in criteria_of(demo_engine, record.id)]
    assert texts[-1] == "Sponsor signs off the narrative"
    assert "Added the exit criterion" in successes(at)
    assert at.text_input(key=f"stages_new_{record.id}").value == ""


def test_an_exit_criterion_too_short_is_refused(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    record = stage_row(demo_engine)
    assert record.id is not None
    count = len(criteria_of(demo_engine, record.id))
    at = open_page(app_as, STAGES)
    at.text_input(key=f"stages_new_{record.id}").input("ok")
    click(at, "Add criterion")
    assert "Exit criterion: must be at least 3 characters" in errors(at)
    assert len(criteria_of(demo_engine, record.id)) == count
    assert at.text_input(key=f"stages_new_{record.id}").value == "ok"


def test_ticking_a_criterion_someone_else_changed_meanwhile_is_refused(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    record = stage_row(demo_engine)
    assert record.id is not None
    first = criteria_of(demo_engine, record.id)[0]
    assert first.id is not None
    at = open_page(app_as, STAGES)
    with db.write_session(demo_engine, actor=OTHER) as session:
        programmes.update_exit_criterion(
            session=session,
            viewer=SYSTEM,
            criterion_id=first.id,
            data=records.validated(
                ExitCriterionUpdate,
                {"text": "Their wording of the criterion", "version": first.version},
            ),
        )
    box = at.checkbox(key=f"stages_met_{first.id}")
    box.uncheck() if first.met else box.check()
    click(at, "Save checklist")

    assert "Someone else saved this exit criterion" in errors(at)
    now = criteria_of(demo_engine, record.id)[0]
    assert (now.text, now.met) == ("Their wording of the criterion", first.met)
    assert at.checkbox(key=f"stages_met_{first.id}").value is not first.met


# --- Milestones ------------------------------------------------------------------------------


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
    at = open_page(app_as, MILESTONES, email)
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
    at = open_page(app_as, MILESTONES)
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
    at = open_page(app_as, MILESTONES)
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
    at = open_page(app_as, MILESTONES)
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
    at = open_page(app_as, MILESTONES)
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
    at = open_page(app_as, MILESTONES)

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
    at = open_page(app_as, MILESTONES)
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
    at = open_page(app_as, MILESTONES)
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
