"""Manage → Stages (pages/manage_stages.py): each stage's story, dates and exit criteria."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
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
from tracker import db, read
from tracker.models import (
    ExitCriterion,
    ExitCriterionUpdate,
    StageRecord,
    StageRecordUpdate,
)
from tracker.safe_text import plain_text
from tracker.services import programmes, records

ROOT = Path(__file__).resolve().parents[1]
PROGRAMME = "pages/manage_programme.py"
STAGES = "pages/manage_stages.py"
MILESTONES = "pages/manage_milestones.py"
OTHER = "someone.else@example.org"

# demo_url and app_as come from tests/conftest.py.


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
    at = open_page(app_as, STAGES, email, code=CODE)
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
    at = open_page(app_as, STAGES, code=CODE)
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
    at = open_page(app_as, STAGES, code=CODE)
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
    at = open_page(app_as, STAGES, code=CODE)
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
    at = open_page(app_as, STAGES, code=CODE)
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
    at = open_page(app_as, STAGES, code=CODE)
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
    at = open_page(app_as, STAGES, code=CODE)
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
