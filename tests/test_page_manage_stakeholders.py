"""Manage → Stakeholders (pages/manage_stakeholders.py): the stakeholder register (bulk edit),
assessments, notes and influence links, in AppTest on the demo database. Stakeholder data is
personal data: only managers and administrators reach the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.conftest import sign_in
from tests.factories import SYSTEM
from tests.manage_screen import ADA, LENA, MAYA, SAM, click, first_programme, open_page
from tests.screen import shown_all
from tracker import clock, db, figures, read
from tracker.models import (
    NOTES_WARNING,
    Assessment,
    InfluenceLink,
    Stakeholder,
    StakeholderBase,
)
from tracker.models.base import max_length
from tracker.models.people import (
    StakeholderUpdate,
)
from tracker.services import records, stakeholders

ROOT = Path(__file__).resolve().parents[1]
STAKEHOLDERS = "pages/manage_stakeholders.py"
OTHER = "other@example.org"


def _stakeholders(engine: Engine, programme_id: int) -> dict[str, Stakeholder]:
    with db.read_session(engine) as session:
        rows = session.exec(select(Stakeholder).where(Stakeholder.programme_id == programme_id))
        return {row.name: row for row in rows}


def _register(engine: Engine, programme_id: int) -> Any:
    with db.read_session(engine) as session:
        return read.people.stakeholder_table(
            session=session, viewer=SYSTEM, programme_id=programme_id
        )


def _errors(at: AppTest) -> str:
    problems = [frame.value.to_string() for frame in at.dataframe if "Problem" in frame.value]
    return "\n".join(shown_all(at.error) + problems)


def _success(at: AppTest) -> str:
    return "\n".join(message.value for message in at.success)


# --- Stakeholders page ----------------------------------------------------------------------


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_stakeholders_page_shows_the_register_with_stance_words_and_quadrants(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, STAKEHOLDERS, email)
    expected = _register(demo_engine, first_programme(demo_engine, email).programme_id)
    shown = at.data_editor[0].value
    assert list(shown["name"]) == list(expected["name"])
    for _, row in shown.iterrows():
        quadrant = figures.quadrant(influence=row["influence"], interest=row["interest"])
        assert row["quadrant"] == quadrant.label
        assert row["current"].startswith(row["stance_label"])
        assert row["assessed"] == row["assessed_on"].strftime("%-d %b %Y")
    assert "notes" not in shown.columns
    assert NOTES_WARNING in [warning.value for warning in at.warning]
    notes = at.text_area[0]
    assert notes.proto.max_chars == 2000 == max_length(StakeholderBase, "notes")


def test_editing_the_register_adds_changes_and_deletes_stakeholders_in_one_save(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    at = open_page(app_as, STAKEHOLDERS)
    before = _register(demo_engine, pid)
    first, third = before.iloc[0], before.iloc[2]
    at.session_state[f"stakeholders_register_editor_{pid}"] = {
        "edited_rows": {0: {"influence": 5, "role": "Head of service", "desired_stance": 2}},
        "added_rows": [{"name": "Nadia Brook", "influence": 2, "interest": 4}],
        "deleted_rows": [2],
    }
    click(at, "Save the register")

    assert "Saved the register: 1 added, 1 changed, 1 deleted." in _success(at)
    after = _stakeholders(demo_engine, pid)
    assert third["name"] not in after
    changed = after[first["name"]]
    assert (changed.influence, changed.role, changed.desired_stance) == (5, "Head of service", 2)
    assert changed.version == first["version"] + 1
    added = after["Nadia Brook"]
    assert (added.influence, added.interest, added.stance) == (2, 4, 0)
    with db.read_session(demo_engine) as session:
        first_assessment = session.exec(
            select(Assessment).where(Assessment.stakeholder_id == added.id)
        ).one()
    assert (first_assessment.assessed_on, first_assessment.stance) == (clock.today(), 0)
    assert "Nadia Brook" in list(at.data_editor[0].value["name"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"influence": 9}, "must be 5 or less"),
        ({"name": "N" * 121}, "must be at most 120 characters"),
        ({"staff_group_id": 999_999}, "choose a staff group of this programme's organisations"),
    ],
    ids=["influence 9", "name too long", "staff group of another organisation"],
)
def test_the_register_refuses_a_bad_value_and_saves_nothing_at_all(
    app_as: Callable[[str], AppTest], demo_engine: Engine, edit: dict[str, Any], message: str
) -> None:
    pid = first_programme(demo_engine).programme_id
    at = open_page(app_as, STAKEHOLDERS)
    before = _register(demo_engine, pid)
    at.session_state[f"stakeholders_register_editor_{pid}"] = {
        "edited_rows": {0: {"role": "A fine change"}, 1: edit},
        "added_rows": [],
        "deleted_rows": [],
    }
    click(at, "Save the register")

    assert "Nothing was saved: 1 row needs correcting first." in _errors(at)
    assert message in _errors(at)
    assert _register(demo_engine, pid).equals(before)
    assert not at.success


def test_the_register_refuses_a_row_someone_else_saved_after_it_was_opened(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    at = open_page(app_as, STAKEHOLDERS)
    row = _register(demo_engine, pid).iloc[0]
    with db.write_session(demo_engine, actor=OTHER) as session:
        stakeholders.update_stakeholder(
            session=session,
            viewer=SYSTEM,
            stakeholder_id=int(row["id"]),
            data=records.validated(
                StakeholderUpdate, {"version": int(row["version"]), "role": "Their role"}
            ),
        )
    at.session_state[f"stakeholders_register_editor_{pid}"] = {
        "edited_rows": {0: {"role": "My role"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    click(at, "Save the register")

    assert "Someone else saved this stakeholder after you opened it" in _errors(at)
    assert _stakeholders(demo_engine, pid)[row["name"]].role == "Their role"


def test_recording_an_assessment_changes_the_current_stance_shown_on_the_page(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    at = open_page(app_as, STAKEHOLDERS)
    person = _register(demo_engine, pid).iloc[0]
    new_stance = -2 if person["stance"] != -2 else 2
    sid = int(person["id"])
    at.select_slider(key=f"stakeholders_assess_stance_{sid}").set_value(new_stance)
    at.selectbox(key=f"stakeholders_assess_desire_{sid}").set_value(2)
    click(at, "Record the assessment")

    words = {-2: "Active resistor (-2)", 2: "Champion (+2)"}[new_stance]
    assert f"Saved the assessment of {person['name']}" in _success(at)
    assert f"**{words}**" in at.markdown[0].value
    assert at.data_editor[0].value.iloc[0]["current"] == words
    history = next(frame.value for frame in at.dataframe if "assessed_by" in frame.value)
    assert history.iloc[0]["stance"] == words
    assert history.iloc[0]["desire"] == 2
    saved = _stakeholders(demo_engine, pid)[person["name"]]
    assert saved.stance == new_stance


def test_an_assessment_dated_in_the_future_is_refused_and_nothing_is_written(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    at = open_page(app_as, STAKEHOLDERS)
    sid = int(_register(demo_engine, pid).iloc[0]["id"])
    with db.read_session(demo_engine) as session:
        before = len(
            read.people.assessment_history(session=session, viewer=SYSTEM, stakeholder_id=sid)
        )
    tomorrow = clock.today() + dt.timedelta(days=1)
    at.date_input(key=f"stakeholders_assess_assessed_on_{sid}").set_value(tomorrow)
    click(at, "Record the assessment")

    assert "Date: an assessment cannot be dated in the future" in _errors(at)
    with db.read_session(demo_engine) as session:
        assert (
            len(read.people.assessment_history(session=session, viewer=SYSTEM, stakeholder_id=sid))
            == before
        )
    assert at.date_input(key=f"stakeholders_assess_assessed_on_{sid}").value == tomorrow


def test_notes_are_saved_and_a_stale_save_is_refused_keeping_the_draft(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    at = open_page(app_as, STAKEHOLDERS)
    person = _register(demo_engine, pid).iloc[0]
    sid, key = int(person["id"]), f"stakeholders_notes_{int(person['id'])}"
    at.text_area(key=key).input("Prefers a short written brief before meetings.")
    click(at, "Save the notes")
    assert f"Saved the notes about {person['name']}." in _success(at)
    saved = _stakeholders(demo_engine, pid)[person["name"]]
    assert saved.notes == "Prefers a short written brief before meetings."

    with db.write_session(demo_engine, actor=OTHER) as session:
        stakeholders.update_stakeholder(
            session=session,
            viewer=SYSTEM,
            stakeholder_id=sid,
            data=records.validated(
                StakeholderUpdate, {"version": saved.version, "notes": "Their notes."}
            ),
        )
    at.text_area(key=key).input("My draft notes.")
    click(at, "Save the notes")

    assert "Someone else saved this stakeholder after you opened it" in _errors(at)
    assert _stakeholders(demo_engine, pid)[person["name"]].notes == "Their notes."
    assert at.text_area(key=key).value == "My draft notes."
    at.button(key=f"stakeholders_notes_reload_{sid}").click().run()
    assert at.text_area(key=key).value == "Their notes."
    click(at, "Save the notes")
    assert "Saved the notes" in _success(at)


def test_notes_can_be_saved_after_recording_an_assessment_without_a_false_conflict(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    at = open_page(app_as, STAKEHOLDERS)
    person = _register(demo_engine, pid).iloc[0]
    sid = int(person["id"])
    at.select_slider(key=f"stakeholders_assess_stance_{sid}").set_value(
        -1 if person["stance"] != -1 else 1
    )
    click(at, "Record the assessment")
    at.text_area(key=f"stakeholders_notes_{sid}").input("Noted after the assessment.")
    click(at, "Save the notes")

    assert not _errors(at)
    assert _stakeholders(demo_engine, pid)[person["name"]].notes == "Noted after the assessment."


def test_influence_links_can_be_added_changed_and_deleted(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    at = open_page(app_as, STAKEHOLDERS)
    register = _register(demo_engine, pid)
    sid = int(register.iloc[0]["id"])
    with db.read_session(demo_engine) as session:
        linked = set(
            read.people.influence_links(session=session, viewer=SYSTEM, stakeholder_id=sid)[
                "other_id"
            ]
        )
    other = next(int(i) for i in register["id"] if int(i) != sid and int(i) not in linked)
    at.selectbox(key=f"stakeholders_link_other_{sid}").set_value(other)
    at.select_slider(key=f"stakeholders_link_strength_{sid}").set_value(3)
    click(at, "Add the link")

    assert "Added a link between" in _success(at)
    with db.read_session(demo_engine) as session:
        link = session.exec(
            select(InfluenceLink).where(
                InfluenceLink.from_stakeholder_id == other, InfluenceLink.to_stakeholder_id == sid
            )
        ).one()
        links = read.people.influence_links(session=session, viewer=SYSTEM, stakeholder_id=sid)
    assert link.strength == 3
    position = list(links["id"]).index(link.id)
    assert list(at.data_editor[1].value["other"]) == list(links["other"])

    at.session_state[f"stakeholders_links_editor_{sid}"] = {
        "edited_rows": {position: {"strength": 1}},
        "added_rows": [],
        "deleted_rows": [],
    }
    click(at, "Save link changes")
    with db.read_session(demo_engine) as session:
        assert session.get(InfluenceLink, link.id).strength == 1  # type: ignore[union-attr]

    at.session_state[f"stakeholders_links_editor_{sid}"] = {
        "edited_rows": {},
        "added_rows": [],
        "deleted_rows": [position],
    }
    click(at, "Save link changes")
    assert "1 deleted" in _success(at)
    with db.read_session(demo_engine) as session:
        assert session.get(InfluenceLink, link.id) is None


def test_adding_a_link_without_choosing_the_other_stakeholder_is_refused(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, STAKEHOLDERS)
    with db.read_session(demo_engine) as session:
        before = len(session.exec(select(InfluenceLink)).all())
    click(at, "Add the link")
    assert "Other stakeholder: choose the other stakeholder" in _errors(at)
    with db.read_session(demo_engine) as session:
        assert len(session.exec(select(InfluenceLink)).all()) == before


# --- Engagements page -----------------------------------------------------------------------


@pytest.mark.parametrize("email", [LENA, SAM])
def test_leadership_and_staff_are_told_the_page_is_not_for_their_role(
    demo_url: str, email: str
) -> None:
    # Their navigation does not list the page (tests/test_permissions.py); opened by its
    # address, it stops itself with the message they see.
    at = AppTest.from_file(str(ROOT / STAKEHOLDERS), default_timeout=60)
    sign_in(at, email)
    at.run()
    assert not at.exception
    assert "This page is not available to your role." in [error.value for error in at.error]
    assert not at.title
    assert not at.dataframe


# --- The read functions ---------------------------------------------------------------------
