"""The Manage pages about people: the stakeholder register (bulk edit, assessments, notes,
influence links) and engagements (log, follow-ups, correct, delete), in AppTest on the demo
database, and the read functions behind them. Stakeholder data is personal data: only managers
and administrators reach these pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.conftest import sign_in
from tests.factories import SYSTEM
from tests.screen import shown_all
from tracker import clock, db, figures, read
from tracker.access import load_viewer
from tracker.errors import DomainError
from tracker.models import (
    NOTES_WARNING,
    Assessment,
    Engagement,
    EngagementStakeholder,
    InfluenceLink,
    Stakeholder,
    StakeholderBase,
)
from tracker.models.base import max_length
from tracker.models.people import (
    AssessmentCreate,
    EngagementCreate,
    EngagementUpdate,
    StakeholderUpdate,
)
from tracker.services import engagements, programmes, records, stakeholders
from tracker.workspace import TableEditError, managed_programmes

ROOT = Path(__file__).resolve().parents[1]
STAKEHOLDERS = "pages/manage_stakeholders.py"
ENGAGEMENTS = "pages/manage_engagements.py"
MAYA = "maya.manager@demo.example"
ADA = "ada.admin@demo.example"
LENA = "lena.leader@demo.example"
SAM = "sam.staff@demo.example"
OTHER = "other@example.org"


def _programme_id(engine: Engine, email: str = MAYA) -> int:
    """The programme the Manage pages open first for this user."""
    with db.read_session(engine) as session:
        viewer = load_viewer(session, email=email)
        assert viewer is not None
        return managed_programmes(session=session, viewer=viewer)[0].programme_id


def _open(app_as: Callable[[str], AppTest], page: str, email: str = MAYA) -> AppTest:
    at = app_as(email)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click()
    at.run()
    assert not at.exception, at.exception
    return at


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
    at = _open(app_as, STAKEHOLDERS, email)
    expected = _register(demo_engine, _programme_id(demo_engine, email))
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
    pid = _programme_id(demo_engine)
    at = _open(app_as, STAKEHOLDERS)
    before = _register(demo_engine, pid)
    first, third = before.iloc[0], before.iloc[2]
    at.session_state[f"stakeholders_register_editor_{pid}"] = {
        "edited_rows": {0: {"influence": 5, "role": "Head of service", "desired_stance": 2}},
        "added_rows": [{"name": "Nadia Brook", "influence": 2, "interest": 4}],
        "deleted_rows": [2],
    }
    _click(at, "Save the register")

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
    pid = _programme_id(demo_engine)
    at = _open(app_as, STAKEHOLDERS)
    before = _register(demo_engine, pid)
    at.session_state[f"stakeholders_register_editor_{pid}"] = {
        "edited_rows": {0: {"role": "A fine change"}, 1: edit},
        "added_rows": [],
        "deleted_rows": [],
    }
    _click(at, "Save the register")

    assert "Nothing was saved: 1 row needs correcting first." in _errors(at)
    assert message in _errors(at)
    assert _register(demo_engine, pid).equals(before)
    assert not at.success


def test_the_register_refuses_a_row_someone_else_saved_after_it_was_opened(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = _programme_id(demo_engine)
    at = _open(app_as, STAKEHOLDERS)
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
    _click(at, "Save the register")

    assert "Someone else saved this stakeholder after you opened it" in _errors(at)
    assert _stakeholders(demo_engine, pid)[row["name"]].role == "Their role"


def test_recording_an_assessment_changes_the_current_stance_shown_on_the_page(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = _programme_id(demo_engine)
    at = _open(app_as, STAKEHOLDERS)
    person = _register(demo_engine, pid).iloc[0]
    new_stance = -2 if person["stance"] != -2 else 2
    sid = int(person["id"])
    at.select_slider(key=f"stakeholders_assess_stance_{sid}").set_value(new_stance)
    at.selectbox(key=f"stakeholders_assess_desire_{sid}").set_value(2)
    _click(at, "Record the assessment")

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
    pid = _programme_id(demo_engine)
    at = _open(app_as, STAKEHOLDERS)
    sid = int(_register(demo_engine, pid).iloc[0]["id"])
    with db.read_session(demo_engine) as session:
        before = len(
            read.people.assessment_history(session=session, viewer=SYSTEM, stakeholder_id=sid)
        )
    tomorrow = clock.today() + dt.timedelta(days=1)
    at.date_input(key=f"stakeholders_assess_assessed_on_{sid}").set_value(tomorrow)
    _click(at, "Record the assessment")

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
    pid = _programme_id(demo_engine)
    at = _open(app_as, STAKEHOLDERS)
    person = _register(demo_engine, pid).iloc[0]
    sid, key = int(person["id"]), f"stakeholders_notes_{int(person['id'])}"
    at.text_area(key=key).input("Prefers a short written brief before meetings.")
    _click(at, "Save the notes")
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
    _click(at, "Save the notes")

    assert "Someone else saved this stakeholder after you opened it" in _errors(at)
    assert _stakeholders(demo_engine, pid)[person["name"]].notes == "Their notes."
    assert at.text_area(key=key).value == "My draft notes."
    at.button(key=f"stakeholders_notes_reload_{sid}").click().run()
    assert at.text_area(key=key).value == "Their notes."
    _click(at, "Save the notes")
    assert "Saved the notes" in _success(at)


def test_notes_can_be_saved_after_recording_an_assessment_without_a_false_conflict(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = _programme_id(demo_engine)
    at = _open(app_as, STAKEHOLDERS)
    person = _register(demo_engine, pid).iloc[0]
    sid = int(person["id"])
    at.select_slider(key=f"stakeholders_assess_stance_{sid}").set_value(
        -1 if person["stance"] != -1 else 1
    )
    _click(at, "Record the assessment")
    at.text_area(key=f"stakeholders_notes_{sid}").input("Noted after the assessment.")
    _click(at, "Save the notes")

    assert not _errors(at)
    assert _stakeholders(demo_engine, pid)[person["name"]].notes == "Noted after the assessment."


def test_influence_links_can_be_added_changed_and_deleted(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = _programme_id(demo_engine)
    at = _open(app_as, STAKEHOLDERS)
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
    _click(at, "Add the link")

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
    _click(at, "Save link changes")
    with db.read_session(demo_engine) as session:
        assert session.get(InfluenceLink, link.id).strength == 1  # type: ignore[union-attr]

    at.session_state[f"stakeholders_links_editor_{sid}"] = {
        "edited_rows": {},
        "added_rows": [],
        "deleted_rows": [position],
    }
    _click(at, "Save link changes")
    assert "1 deleted" in _success(at)
    with db.read_session(demo_engine) as session:
        assert session.get(InfluenceLink, link.id) is None


def test_adding_a_link_without_choosing_the_other_stakeholder_is_refused(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = _open(app_as, STAKEHOLDERS)
    with db.read_session(demo_engine) as session:
        before = len(session.exec(select(InfluenceLink)).all())
    _click(at, "Add the link")
    assert "Other stakeholder: choose the other stakeholder" in _errors(at)
    with db.read_session(demo_engine) as session:
        assert len(session.exec(select(InfluenceLink)).all()) == before


# --- Engagements page -----------------------------------------------------------------------


def _engagements(engine: Engine, programme_id: int) -> Any:
    with db.read_session(engine) as session:
        return read.people.engagement_table(
            session=session, viewer=SYSTEM, programme_id=programme_id
        )


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_engagements_page_lists_the_programmes_engagements_newest_first_with_who_attended(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = _open(app_as, ENGAGEMENTS, email)
    expected = _engagements(demo_engine, _programme_id(demo_engine, email))
    shown = at.dataframe[-1].value
    assert list(shown["summary"]) == list(expected["summary"])
    assert list(shown["attendees"]) == list(expected["attendees"])
    assert all(shown["attendees"])
    assert at.text_area[0].proto.max_chars == 2000


def test_logging_a_contact_saves_it_with_the_stakeholders_present(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = _programme_id(demo_engine)
    people = list(_register(demo_engine, pid)["id"][:2].astype(int))
    at = _open(app_as, ENGAGEMENTS)
    follow_up = clock.today() + dt.timedelta(days=14)
    at.selectbox(key=f"engagements_log_kind_{pid}").set_value("workshop")
    at.multiselect(key=f"engagements_log_stakeholders_{pid}").set_value(people)
    at.text_area(key=f"engagements_log_summary_{pid}").input("Workshop on the new rota")
    at.text_area(key=f"engagements_log_outcome_{pid}").input("Agreed a trial month.")
    at.date_input(key=f"engagements_log_follow_up_on_{pid}").set_value(follow_up)
    _click(at, "Log the engagement")

    assert "Logged the workshop" in _success(at)
    with db.read_session(demo_engine) as session:
        saved = session.exec(
            select(Engagement).where(Engagement.summary == "Workshop on the new rota")
        ).one()
        present = session.exec(
            select(EngagementStakeholder.stakeholder_id).where(
                EngagementStakeholder.engagement_id == saved.id
            )
        ).all()
    assert (saved.kind, saved.outcome, saved.follow_up_on) == (
        "workshop",
        "Agreed a trial month.",
        follow_up,
    )
    assert sorted(present) == sorted(people)
    assert at.text_area(key=f"engagements_log_summary_{pid}").value == ""


@pytest.mark.parametrize(
    ("people", "summary", "message"),
    [
        (False, "A meeting about rotas", "Who was there: choose at least one stakeholder"),
        (True, "Hi", "Summary: must be at least 3 characters"),
    ],
    ids=["no stakeholders", "summary too short"],
)
def test_logging_a_contact_with_a_bad_value_is_refused_and_nothing_is_written(
    app_as: Callable[[str], AppTest],
    demo_engine: Engine,
    people: bool,
    summary: str,
    message: str,
) -> None:
    pid = _programme_id(demo_engine)
    before = _engagements(demo_engine, pid)
    at = _open(app_as, ENGAGEMENTS)
    if people:
        first = int(_register(demo_engine, pid).iloc[0]["id"])
        at.multiselect(key=f"engagements_log_stakeholders_{pid}").set_value([first])
    at.text_area(key=f"engagements_log_summary_{pid}").input(summary)
    _click(at, "Log the engagement")

    assert message in _errors(at)
    assert _engagements(demo_engine, pid).equals(before)
    assert at.text_area(key=f"engagements_log_summary_{pid}").value == summary


def _sections(at: AppTest) -> dict[str, list[str]]:
    """The follow-up lines under each heading of the Follow-ups section."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for element in at.markdown:
        text = element.value
        if text.startswith(("**Overdue**", "**Due today or later**")):
            current = sections.setdefault(text.split("**")[1], [])
        elif current is not None and "follow up by" in text:
            current.append(text)
    return sections


def test_follow_ups_are_listed_as_due_or_overdue_against_a_fixed_today(
    app_as: Callable[[str], AppTest], demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = clock.today() + dt.timedelta(days=10)
    monkeypatch.setenv("TRACKER_TODAY", fixed.isoformat())
    pid = _programme_id(demo_engine)
    person = int(_register(demo_engine, pid).iloc[0]["id"])
    for summary, follow_up, closed in (
        ("Due today exactly", fixed, False),
        ("Overdue by a day", fixed - dt.timedelta(days=1), False),
        ("Done already", fixed - dt.timedelta(days=5), True),
    ):
        with db.write_session(demo_engine, actor=OTHER) as session:
            engagements.log_engagement(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    EngagementCreate,
                    {
                        "programme_id": pid,
                        "occurred_on": fixed - dt.timedelta(days=20),
                        "kind": "meeting",
                        "summary": summary,
                        "follow_up_on": follow_up,
                        "follow_up_done": closed,
                    },
                ),
                stakeholder_ids=[person],
            )
    at = _open(app_as, ENGAGEMENTS)

    sections = _sections(at)
    table = _engagements(demo_engine, pid)
    open_ones = table[table["follow_up_on"].notna() & ~table["follow_up_done"]]
    overdue = open_ones[[day < fixed for day in open_ones["follow_up_on"]]]
    assert len(sections["Overdue"]) == len(overdue)
    assert len(sections["Due today or later"]) == len(open_ones) - len(overdue)
    assert any("Overdue by a day" in line for line in sections["Overdue"])
    assert any("Due today exactly" in line for line in sections["Due today or later"])
    assert not any("Done already" in line for lines in sections.values() for line in lines)
    assert any(f"as of {fixed.strftime('%-d %b %Y')}" in caption.value for caption in at.caption)


def test_a_follow_up_can_be_marked_done(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = _programme_id(demo_engine)
    with db.read_session(demo_engine) as session:
        due = read.people.follow_ups(
            session=session, viewer=SYSTEM, programme_id=pid, today=clock.today()
        )
    target = int(due.iloc[0]["id"])
    at = _open(app_as, ENGAGEMENTS)
    at.button(key=f"engagements_done_{target}").click().run()

    assert "Marked the follow-up done." in _success(at)
    with db.read_session(demo_engine) as session:
        assert session.get(Engagement, target).follow_up_done  # type: ignore[union-attr]
    assert not any(f"engagements_done_{target}" == button.key for button in at.button)


def test_an_engagement_can_be_corrected_and_a_stale_correction_is_refused_keeping_the_draft(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = _programme_id(demo_engine)
    newest = _engagements(demo_engine, pid).iloc[0]
    eid = int(newest["id"])
    assert newest["follow_up_on"] is not None
    at = _open(app_as, ENGAGEMENTS)
    at.text_area(key=f"engagements_outcome_{eid}").input("Agreed to meet monthly.")
    at.date_input(key=f"engagements_follow_up_on_{eid}").set_value(None)
    _click(at, "Save the changes")
    assert "Saved the engagement." in _success(at)
    with db.read_session(demo_engine) as session:
        saved = session.get(Engagement, eid)
        assert saved is not None
        assert (saved.outcome, saved.follow_up_on) == ("Agreed to meet monthly.", None)

    with db.write_session(demo_engine, actor=OTHER) as session:
        engagements.update_engagement(
            session=session,
            viewer=SYSTEM,
            engagement_id=eid,
            data=records.validated(
                EngagementUpdate, {"version": saved.version, "summary": "Their summary"}
            ),
        )
    at.text_area(key=f"engagements_summary_{eid}").input("My summary")
    _click(at, "Save the changes")

    assert "Someone else saved this engagement after you opened it" in _errors(at)
    with db.read_session(demo_engine) as session:
        assert session.get(Engagement, eid).summary == "Their summary"  # type: ignore[union-attr]
    assert at.text_area(key=f"engagements_summary_{eid}").value == "My summary"


def test_an_engagement_can_be_deleted_once_confirmed(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = _programme_id(demo_engine)
    eid = int(_engagements(demo_engine, pid).iloc[0]["id"])
    at = _open(app_as, ENGAGEMENTS)
    assert at.button(key=f"engagements_delete_{eid}").disabled
    at.checkbox(key=f"engagements_delete_sure_{eid}").check().run()
    at.button(key=f"engagements_delete_{eid}").click().run()

    assert not at.exception
    assert "Deleted the engagement." in _success(at)
    with db.read_session(demo_engine) as session:
        assert session.get(Engagement, eid) is None


# --- Who may open them ----------------------------------------------------------------------


@pytest.mark.parametrize("page", [STAKEHOLDERS, ENGAGEMENTS])
@pytest.mark.parametrize("email", [LENA, SAM])
def test_leadership_and_staff_cannot_reach_the_people_pages(
    app_as: Callable[[str], AppTest], email: str, page: str
) -> None:
    at = app_as(email)
    with pytest.raises(ValueError):
        at.switch_page(page).run()


@pytest.mark.parametrize("page", [STAKEHOLDERS, ENGAGEMENTS])
@pytest.mark.parametrize("email", [LENA, SAM])
def test_the_people_pages_stop_themselves_for_leadership_and_staff(
    demo_url: str, email: str, page: str
) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    sign_in(at, email)
    at.run()
    assert not at.exception
    assert "This page is not available to your role." in [error.value for error in at.error]
    assert not at.title
    assert not at.dataframe


# --- The read functions ---------------------------------------------------------------------


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
