"""Manage → Engagements (pages/manage_engagements.py): log a contact, follow-ups, correct and
delete, in AppTest on the demo database. Only managers and administrators reach the page."""

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
from tracker import clock, db, read
from tracker.models import (
    Engagement,
    EngagementStakeholder,
)
from tracker.models.people import (
    EngagementCreate,
    EngagementUpdate,
)
from tracker.services import engagements, records

ROOT = Path(__file__).resolve().parents[1]
ENGAGEMENTS = "pages/manage_engagements.py"
OTHER = "other@example.org"


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


def _engagements(engine: Engine, programme_id: int) -> Any:
    with db.read_session(engine) as session:
        return read.people.engagement_table(
            session=session, viewer=SYSTEM, programme_id=programme_id
        )


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_engagements_page_lists_the_programmes_engagements_newest_first_with_who_attended(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, ENGAGEMENTS, email)
    expected = _engagements(demo_engine, first_programme(demo_engine, email).programme_id)
    shown = at.dataframe[-1].value
    assert list(shown["summary"]) == list(expected["summary"])
    assert list(shown["attendees"]) == list(expected["attendees"])
    assert all(shown["attendees"])
    assert at.text_area[0].proto.max_chars == 2000


def test_logging_a_contact_saves_it_with_the_stakeholders_present(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    people = list(_register(demo_engine, pid)["id"][:2].astype(int))
    at = open_page(app_as, ENGAGEMENTS)
    follow_up = clock.today() + dt.timedelta(days=14)
    at.selectbox(key=f"engagements_log_kind_{pid}").set_value("workshop")
    at.multiselect(key=f"engagements_log_stakeholders_{pid}").set_value(people)
    at.text_area(key=f"engagements_log_summary_{pid}").input("Workshop on the new rota")
    at.text_area(key=f"engagements_log_outcome_{pid}").input("Agreed a trial month.")
    at.date_input(key=f"engagements_log_follow_up_on_{pid}").set_value(follow_up)
    click(at, "Log the engagement")

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
    pid = first_programme(demo_engine).programme_id
    before = _engagements(demo_engine, pid)
    at = open_page(app_as, ENGAGEMENTS)
    if people:
        first = int(_register(demo_engine, pid).iloc[0]["id"])
        at.multiselect(key=f"engagements_log_stakeholders_{pid}").set_value([first])
    at.text_area(key=f"engagements_log_summary_{pid}").input(summary)
    click(at, "Log the engagement")

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
    pid = first_programme(demo_engine).programme_id
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
    at = open_page(app_as, ENGAGEMENTS)

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
    pid = first_programme(demo_engine).programme_id
    with db.read_session(demo_engine) as session:
        due = read.people.follow_ups(
            session=session, viewer=SYSTEM, programme_id=pid, today=clock.today()
        )
    target = int(due.iloc[0]["id"])
    at = open_page(app_as, ENGAGEMENTS)
    at.button(key=f"engagements_done_{target}").click().run()

    assert "Marked the follow-up done." in _success(at)
    with db.read_session(demo_engine) as session:
        assert session.get(Engagement, target).follow_up_done  # type: ignore[union-attr]
    assert not any(f"engagements_done_{target}" == button.key for button in at.button)


def test_an_engagement_can_be_corrected_and_a_stale_correction_is_refused_keeping_the_draft(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    newest = _engagements(demo_engine, pid).iloc[0]
    eid = int(newest["id"])
    assert newest["follow_up_on"] is not None
    at = open_page(app_as, ENGAGEMENTS)
    at.text_area(key=f"engagements_outcome_{eid}").input("Agreed to meet monthly.")
    at.date_input(key=f"engagements_follow_up_on_{eid}").set_value(None)
    click(at, "Save the changes")
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
    click(at, "Save the changes")

    assert "Someone else saved this engagement after you opened it" in _errors(at)
    with db.read_session(demo_engine) as session:
        assert session.get(Engagement, eid).summary == "Their summary"  # type: ignore[union-attr]
    assert at.text_area(key=f"engagements_summary_{eid}").value == "My summary"


def test_an_engagement_can_be_deleted_once_confirmed(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    pid = first_programme(demo_engine).programme_id
    eid = int(_engagements(demo_engine, pid).iloc[0]["id"])
    at = open_page(app_as, ENGAGEMENTS)
    assert at.button(key=f"engagements_delete_{eid}").disabled
    at.checkbox(key=f"engagements_delete_sure_{eid}").check().run()
    at.button(key=f"engagements_delete_{eid}").click().run()

    assert not at.exception
    assert "Deleted the engagement." in _success(at)
    with db.read_session(demo_engine) as session:
        assert session.get(Engagement, eid) is None


# --- Who may open them ----------------------------------------------------------------------


@pytest.mark.parametrize("email", [LENA, SAM])
def test_leadership_and_staff_are_told_the_page_is_not_for_their_role(
    demo_url: str, email: str
) -> None:
    # Their navigation does not list the page (tests/test_permissions.py); opened by its
    # address, it stops itself with the message they see.
    at = AppTest.from_file(str(ROOT / ENGAGEMENTS), default_timeout=60)
    sign_in(at, email)
    at.run()
    assert not at.exception
    assert "This page is not available to your role." in [error.value for error in at.error]
    assert not at.title
    assert not at.dataframe


# --- The read functions ---------------------------------------------------------------------
