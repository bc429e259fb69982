"""Admin: Data protection (pages/admin_data_protection.py) in AppTest on the demo database:
subject access, erasure and retention."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.admin_screen import (
    ADA,
    DATA_PROTECTION,
    OTHER,
    chosen_stakeholder,
    click_button,
    count_rows,
    error_text,
    keep_deferred,
    keep_downloads,
    open_as,
    org_id_of,
    success_text,
)
from tests.factories import SYSTEM
from tracker import clock, db, privacy, signin
from tracker.errors import PermissionDeniedError
from tracker.models import (
    AuditEvent,
    ProgrammeUpdate,
    Stakeholder,
)
from tracker.services import programmes, records


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    return keep_downloads(monkeypatch)


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Any]]:
    return keep_deferred(monkeypatch)


def test_the_subject_access_file_is_made_only_on_a_click_by_a_live_session_and_audited(
    app_as: Callable[[str], AppTest],
    demo_engine: Engine,
    downloads: dict[str, bytes],
    deferred: dict[str, Callable[[], Any]],
) -> None:
    at = open_as(app_as, DATA_PROTECTION)
    buttons = {button.label: button.proto for button in at.get("download_button")}
    assert list(buttons) == ["Download as JSON", "Download as CSV (for a spreadsheet)"]
    sid = chosen_stakeholder(at)
    with db.read_session(demo_engine) as session:
        person = session.get(Stakeholder, sid)
    assert person is not None
    # Nothing sits at a media URL before it is asked for.
    assert all(not proto.url and proto.deferred_file_id for proto in buttons.values())
    assert not any(person.name.encode() in data for data in downloads.values())
    assert count_rows(demo_engine, AuditEvent, AuditEvent.action == "subject_access") == 0

    # The click: Streamlit runs the callable in a worker thread, outside the script's run.
    export = json.loads(deferred[buttons["Download as JSON"].deferred_file_id]())
    assert export["stakeholder"]["id"] == sid and export["stakeholder"]["name"] == person.name
    as_csv = deferred[buttons["Download as CSV (for a spreadsheet)"].deferred_file_id]()
    assert as_csv.decode("utf-8-sig").startswith("section,")
    with db.read_session(demo_engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "subject_access").order_by("id")
        ).all()
    assert [(e.actor, e.record_type, e.record_id) for e in events] == [
        (ADA, "stakeholder", str(sid)),
        (ADA, "stakeholder", str(sid)),
    ]
    assert [json.loads(e.after or "{}")["format"] for e in events] == ["json", "csv"]
    assert all(person.name not in (e.after or "") for e in events)

    # Once the session has ended, a click makes nothing and records nothing.
    with db.write_session(demo_engine, actor="sign-in") as session:
        signin.end_session(
            session=session,
            token=str(at.session_state["signin_token"]),
            now=clock.now(),
            reason="signed_out",
        )
    with pytest.raises(PermissionDeniedError):
        deferred[buttons["Download as JSON"].deferred_file_id]()
    assert count_rows(demo_engine, AuditEvent, AuditEvent.action == "subject_access") == 2


def test_erasure_needs_the_typed_name_then_the_name_is_gone_from_the_database(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_as(app_as, DATA_PROTECTION)
    sid = chosen_stakeholder(at)
    with db.read_session(demo_engine) as session:
        person = session.get(Stakeholder, sid)
    assert person is not None
    name = person.name
    at.text_input(key=f"dp_erase_confirm_{sid}").set_value(name.upper() + "x")
    click_button(at, "Erase this stakeholder")
    assert "does not match the stakeholder's name" in error_text(at)
    assert count_rows(demo_engine, Stakeholder, Stakeholder.name == name) == 1

    at.text_input(key=f"dp_erase_confirm_{sid}").set_value(name)
    click_button(at, "Erase this stakeholder")
    assert f"Stakeholder {sid} erased" in success_text(at)
    assert count_rows(demo_engine, Stakeholder, Stakeholder.name == name) == 0
    contains = sa.or_(AuditEvent.before.contains(name), AuditEvent.after.contains(name))
    assert count_rows(demo_engine, AuditEvent, contains) == 0
    assert "Records rewritten" in at.dataframe[0].value.columns


def _closed_programme_with_people(engine: Engine) -> tuple[int, list[int]]:
    ncc = org_id_of(engine, "NCC")
    pid = factories.programme(
        engine,
        ncc,
        code="NCC-OLD",
        start_date=dt.date(2019, 1, 1),
        target_end_date=dt.date(2020, 1, 1),
    )
    with db.write_session(engine, actor=OTHER) as session:
        programmes.update_programme(
            session=session,
            viewer=SYSTEM,
            programme_id=pid,
            data=records.validated(
                ProgrammeUpdate,
                {"status": "closed", "closed_on": dt.date(2020, 1, 1), "version": 1},
            ),
        )
    people = [factories.stakeholder(engine, pid, name=f"Retained Person {n}") for n in (1, 2)]
    return pid, people


def test_retention_preview_lists_what_a_run_would_anonymise_and_the_run_does_it(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    _, people = _closed_programme_with_people(demo_engine)
    at = open_as(app_as, DATA_PROTECTION)
    at.toggle(key="dp_retention_preview").set_value(True).run()
    preview = next(f.value for f in at.dataframe if "stakeholders" in f.value.columns)
    assert list(preview["code"]) == ["NCC-OLD"] and list(preview["stakeholders"]) == [2]
    assert list(preview["closed_on"]) == ["1 Jan 2020"]
    assert count_rows(demo_engine, Stakeholder, Stakeholder.name.startswith("Retained")) == 2

    click_button(at, "Run retention now")
    assert "Tick the box to confirm first" in error_text(at)
    assert count_rows(demo_engine, Stakeholder, Stakeholder.name.startswith("Retained")) == 2
    at.checkbox(key="dp_retention_confirm").check()
    click_button(at, "Run retention now")
    assert "2 stakeholders anonymised" in success_text(at)
    assert count_rows(demo_engine, Stakeholder, Stakeholder.name.startswith("Retained")) == 0
    assert count_rows(demo_engine, Stakeholder, Stakeholder.id.in_(people)) == 2


def test_the_retention_period_can_be_changed(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_as(app_as, DATA_PROTECTION)
    assert at.number_input(key="dp_retention_months").value == privacy.DEFAULT_RETENTION_MONTHS
    at.number_input(key="dp_retention_months").set_value(36)
    click_button(at, "Save retention period")
    assert "kept for 36 months" in success_text(at)
    with db.read_session(demo_engine) as session:
        assert privacy.retention_months(session=session) == 36
