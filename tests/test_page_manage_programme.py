"""Manage → Programme (pages/manage_programme.py): details, partners, a new programme; and
the work pages refuse leadership and staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.conftest import sign_in
from tests.factories import SYSTEM
from tests.manage_screen import (
    ADA,
    CODE,
    DEV,
    LENA,
    MAYA,
    SAM,
    click,
    errors,
    open_page,
    programme_row,
    successes,
)
from tracker import db, read
from tracker.models import (
    Organisation,
    Programme,
    ProgrammeUpdate,
    StageRecord,
)
from tracker.safe_text import plain_text
from tracker.services import programmes, records

ROOT = Path(__file__).resolve().parents[1]
PROGRAMME = "pages/manage_programme.py"
STAGES = "pages/manage_stages.py"
MILESTONES = "pages/manage_milestones.py"
OTHER = "someone.else@example.org"

# demo_url and app_as come from tests/conftest.py.


def organisation_id(engine: Engine, short_name: str) -> int:
    with db.read_session(engine) as session:
        org = session.exec(select(Organisation).where(Organisation.short_name == short_name)).one()
        assert org.id is not None
        return org.id


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
    at = open_page(app_as, MILESTONES, DEV, code=CODE)  # the link names a county programme
    assert "not yours to change" in at.warning[0].value
    shown = at.selectbox(key="manage_programme_choice").value
    assert shown != CODE
    county = programme_row(demo_engine)
    assert not any(county.title in str(title) for title in at.data_editor[0].value["title"])


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_programme_details_show_the_programme_for_managers_and_admins(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, PROGRAMME, email, code=CODE)
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
    at = open_page(app_as, PROGRAMME, ADA, code=CODE)
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
    at = open_page(app_as, PROGRAMME, code=CODE)  # Maya: the county only
    assert district not in at.multiselect(key=f"programme_partners_{pid}").options


def test_the_owner_records_a_data_sharing_agreement_with_a_partner(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = programme_row(demo_engine).id
    district = organisation_id(demo_engine, "EDC")
    at = open_page(app_as, PROGRAMME, ADA, code=CODE)
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
    at = open_page(app_as, PROGRAMME, code=CODE)
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
    at = open_page(app_as, PROGRAMME, code=CODE)
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
    at = open_page(app_as, PROGRAMME, code=CODE)
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
    at = open_page(app_as, PROGRAMME, code=CODE)
    at.text_input(key="programme_new_code").input(CODE)
    at.text_input(key="programme_new_title").input("A second programme with the same code")
    click(at, "Create programme")

    assert "Code: another programme already has this code" in errors(at)
    with db.read_session(demo_engine) as session:
        assert len(session.exec(select(Programme.id)).all()) == count
    assert at.text_input(key="programme_new_title").value == "A second programme with the same code"
