"""Admin: Audit trail (pages/admin_audit.py) in AppTest on the demo database: the changes,
filtered and downloaded, and the sign-in attempts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.admin_screen import (
    ADA,
    AUDIT,
    MAYA,
    OTHER,
    count_rows,
    keep_downloads,
    matching_line,
    offered_file,
    open_as,
    record_attempt,
)
from tests.factories import SYSTEM
from tests.screen import shown_all
from tracker import clock, db, privacy
from tracker.models import (
    AuditEvent,
    Milestone,
    MilestoneUpdate,
    SignInAttempt,
    SignInOutcome,
    Stakeholder,
)
from tracker.services import milestones, records


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    return keep_downloads(monkeypatch)


def _rename_milestone(engine: Engine, title: str) -> int:
    with db.write_session(engine, actor=OTHER) as session:
        milestone = session.exec(select(Milestone).order_by("id")).first()
        assert milestone is not None and milestone.id is not None
        milestones.update_milestone(
            session=session,
            viewer=SYSTEM,
            milestone_id=milestone.id,
            data=records.validated(MilestoneUpdate, {"title": title, "version": milestone.version}),
        )
        return milestone.id


def test_audit_page_shows_the_last_30_days_newest_first_with_their_count(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_as(app_as, AUDIT)
    since = clock.today() - dt.timedelta(days=30)
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    total = count_rows(demo_engine, AuditEvent, AuditEvent.at >= start)
    assert matching_line(at).startswith(f"**{total} events match**")
    shown = at.dataframe[0].value
    assert len(shown) == 50
    assert list(shown["id"]) == sorted(shown["id"], reverse=True)


def test_audit_filters_narrow_the_rows_and_the_csv_export_holds_them(
    app_as: Callable[[str], AppTest], demo_engine: Engine, downloads: dict[str, bytes]
) -> None:
    mid = _rename_milestone(demo_engine, '=HYPERLINK("http://x")')
    at = open_as(app_as, AUDIT)
    at.selectbox(key="audit_actor").set_value(OTHER).run()
    expected = count_rows(demo_engine, AuditEvent, AuditEvent.actor == OTHER)
    assert expected == 1
    assert matching_line(at).startswith("**1 event matches**")
    row = at.dataframe[0].value.iloc[0]
    assert (row["actor"], row["action"], row["record_type"]) == (OTHER, "Changed", "milestone")
    assert "title:" in row["changes"] and '→ =HYPERLINK("http://x")' in row["changes"]
    offered = offered_file(at, downloads, "Download").decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(offered)))
    assert len(lines) == 2 and lines[1][1] == OTHER and lines[1][4] == str(mid)

    at.selectbox(key="audit_actor").set_value("").run()
    at.selectbox(key="audit_record_type").set_value("milestone").run()
    at.text_input(key="audit_record_id").set_value(str(mid)).run()
    expected = count_rows(
        demo_engine,
        AuditEvent,
        AuditEvent.record_type == "milestone",
        AuditEvent.record_id == str(mid),
    )
    assert expected == 2
    assert matching_line(at).startswith(f"**{expected} events match**")
    assert list(at.dataframe[0].value["action"]) == ["Changed", "Created"]

    at.date_input(key="audit_dates").set_value(
        (clock.today() - dt.timedelta(days=90), clock.today() - dt.timedelta(days=60))
    ).run()
    assert matching_line(at).startswith("**0 events match**")


def test_an_erasure_appears_in_the_audit_trail_as_such(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    with db.read_session(demo_engine) as session:
        person = session.exec(select(Stakeholder).order_by("id")).first()
    assert person is not None and person.id is not None
    privacy.erase(demo_engine, viewer=factories.viewer(demo_engine, ADA), stakeholder_id=person.id)
    at = open_as(app_as, AUDIT)
    at.selectbox(key="audit_actor").set_value(ADA).run()
    row = at.dataframe[0].value.iloc[0]
    assert (row["action"], row["record_type"], row["record_id"]) == (
        "Erased",
        "stakeholder",
        str(person.id),
    )
    assert row["changes"].startswith("Stakeholder erased (right to erasure)")
    at.selectbox(key="audit_actor").set_value("").run()
    at.selectbox(key="audit_record_type").set_value("stakeholder").run()
    at.text_input(key="audit_record_id").set_value(str(person.id)).run()
    texts = " ".join(at.dataframe[0].value["changes"])
    assert "[personal data erased]" in texts and person.name not in texts


def test_the_sign_in_attempts_tab_counts_and_filters_attempts_in_the_database(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    record_attempt(demo_engine, MAYA, "not her password")
    record_attempt(demo_engine, "guess@demo.example", "password123456")
    at = open_as(app_as, AUDIT)
    total = count_rows(demo_engine, SignInAttempt)
    assert total >= 3  # Ada's own sign-in, Maya's wrong password, the guess
    counts = [text for text in shown_all(at.markdown) if "sign-in attempt" in text]
    assert counts == [f"**{total} sign-in attempts**."]
    attempts = at.dataframe[1].value
    assert list(attempts["id"]) == sorted(attempts["id"], reverse=True)
    assert {"Wrong password", "No such account", "Signed in"} <= set(attempts["outcome"])

    at.selectbox(key="audit_signin_outcome").set_value(SignInOutcome.wrong_password).run()
    wrong = count_rows(demo_engine, SignInAttempt, SignInAttempt.outcome == "wrong_password")
    assert [t for t in shown_all(at.markdown) if "sign-in attempt" in t] == [
        f"**{wrong} sign-in {'attempt' if wrong == 1 else 'attempts'}**."
    ]
    assert set(at.dataframe[1].value["email"]) == {MAYA}
    at.selectbox(key="audit_signin_outcome").set_value(None)
    at.text_input(key="audit_signin_email").set_value("GUESS@demo.example").run()
    assert list(at.dataframe[1].value["email"]) == ["guess@demo.example"]
