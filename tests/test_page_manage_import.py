"""Manage → Import (pages/manage_import.py), driven with AppTest on the demo portfolio: upload,
column mapping, every problem by row and column, all-or-nothing import, the exchange file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.conftest import sign_in
from tests.screen import shown, shown_all
from tracker import db
from tracker.access import load_viewer
from tracker.io import exchange, imports
from tracker.models import ImportKind, Milestone, Programme
from tracker.workspace import ProgrammeChoice, managed_programmes

MAYA = "maya.manager@demo.example"
LENA = "lena.leader@demo.example"
SAM = "sam.staff@demo.example"
ROOT = Path(__file__).resolve().parents[1]
IMPORT = "pages/manage_import.py"
PAGE = IMPORT


def _first_programme(engine: Engine) -> ProgrammeChoice:
    with db.read_session(engine) as session:
        viewer = load_viewer(session, email=MAYA)
        assert viewer is not None
        return managed_programmes(session=session, viewer=viewer)[0]


def _milestone_count(engine: Engine, programme_id: int) -> int:
    with db.read_session(engine) as session:
        query = sa.select(sa.func.count()).where(Milestone.programme_id == programme_id)
        return int(session.execute(query).scalar_one())


def _open_import(app_as: Callable[[str], AppTest]) -> AppTest:
    at = app_as(MAYA)
    at.switch_page(IMPORT).run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="import_file_milestones").set_value((name, data, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    return at


# A real-world export: Windows-1252 (the £ and the é), semicolons, dd.mm.yyyy dates, a title row.
MILESTONES_CSV = (
    "Milestones exported from the team's tracker;;;;\n"
    "Milestone;Stage;Lead officer;Deadline;Status\n"
    "Publish the £ savings case for the café pilot;Test;Asha Patel;31.03.2027;Not started\n"
    "Train the duty team on the new form;4;Tom Reyes;15/04/2027;In progress\n"
).encode("cp1252")


def test_a_messy_file_is_read_its_columns_guessed_and_every_row_imported(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    programme = _first_programme(demo_engine)
    before = _milestone_count(demo_engine, programme.programme_id)
    at = _upload(_open_import(app_as), "tracker.csv", MILESTONES_CSV)

    guessed = {box.label: box.value for box in at.selectbox if box.key.startswith("import_map_")}
    assert guessed["Title (required)"] == "Milestone"
    assert guessed["Due date (required)"] == "Deadline"
    assert "2 rows: 2 to create" in shown(at.markdown[-1].value) or any(
        "2 rows: 2 to create" in text for text in shown_all(at.markdown)
    )
    at.button(key="import_commit").click().run()
    assert not at.exception, at.exception
    assert any("Imported milestones: 2 created" in text for text in shown_all(at.success))
    assert _milestone_count(demo_engine, programme.programme_id) == before + 2
    with db.read_session(demo_engine) as session:
        titles = session.exec(
            select(Milestone.title).where(Milestone.programme_id == programme.programme_id)
        ).all()
    assert "Publish the £ savings case for the café pilot" in titles


def test_importing_the_same_file_twice_updates_instead_of_duplicating(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    programme = _first_programme(demo_engine)
    at = _upload(_open_import(app_as), "tracker.csv", MILESTONES_CSV)
    at.button(key="import_commit").click().run()
    after_first = _milestone_count(demo_engine, programme.programme_id)
    at = _upload(_open_import(app_as), "tracker.csv", MILESTONES_CSV)
    assert any("2 unchanged" in text for text in shown_all(at.markdown))
    at.button(key="import_commit").click().run()
    assert _milestone_count(demo_engine, programme.programme_id) == after_first


def test_a_formula_cell_is_listed_by_row_and_column_and_nothing_can_be_imported(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    programme = _first_programme(demo_engine)
    before = _milestone_count(demo_engine, programme.programme_id)
    data = (
        b"Title,Stage,Due date\n"
        b"Fine row,vision,01/02/2027\n"
        b'"=HYPERLINK(""http://evil.example"",""click"")",vision,01/02/2027\n'
    )
    at = _upload(_open_import(app_as), "evil.csv", data)
    problems = at.dataframe[0].value
    blocking = problems[problems["Blocks the import"] == "Yes"]
    assert list(blocking["Row"]) == [3]
    assert list(blocking["Column"]) == ["Title"]
    assert "formula" in blocking["Problem"].iloc[0]
    assert not [button for button in at.button if button.key == "import_commit"]
    assert any("Nothing can be imported" in text for text in shown_all(at.error))
    assert _milestone_count(demo_engine, programme.programme_id) == before


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.csv", b"", "empty"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a spreadsheet"),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_gets_a_clear_message_and_writes_nothing(
    app_as: Callable[[str], AppTest], demo_engine: Engine, name: str, data: bytes, reason: str
) -> None:
    programme = _first_programme(demo_engine)
    before = _milestone_count(demo_engine, programme.programme_id)
    at = _upload(_open_import(app_as), name, data)
    message = " ".join(shown_all(at.error))
    assert message.startswith("This file cannot be imported:")
    assert reason in message.lower() or reason in message
    assert _milestone_count(demo_engine, programme.programme_id) == before


def test_a_chosen_column_mapping_is_remembered_for_the_organisation(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    data = b"Task,Phase,Finish by,Who\nWrite the guide,equip,01/06/2027,Jo\n"
    at = _upload(_open_import(app_as), "odd.csv", data)
    title = next(box for box in at.selectbox if box.label == "Title (required)")
    title.set_value("Task").run()
    at.button(key="import_save_mapping").click().run()
    assert not at.exception, at.exception
    assert any("Saved." in text for text in shown_all(at.success))
    programme = _first_programme(demo_engine)
    with db.read_session(demo_engine) as session:
        owner = session.get(Programme, programme.programme_id)
        assert owner is not None
        saved = imports.saved_mapping(
            session=session, organisation_id=owner.organisation_id, kind=ImportKind.milestones
        )
    assert saved is not None and saved["title"] == "Task"


def test_an_exchange_file_creates_the_programme_and_opens_it(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    programme = _first_programme(demo_engine)
    with db.read_session(demo_engine) as session:
        viewer = load_viewer(session, email=MAYA)
        assert viewer is not None
        document = exchange.export_programme(
            session=session, viewer=viewer, programme_id=programme.programme_id
        )
    document["programme"]["code"] = "NCC-COPY"
    at = _open_import(app_as)
    at.file_uploader(key="import_exchange_file").set_value(
        ("copy.json", json.dumps(document).encode(), "application/json")
    )
    at.run()
    at.button(key="import_exchange_commit").click().run()
    assert not at.exception, at.exception
    assert at.query_params["programme"] == "NCC-COPY"
    assert any("Created programme NCC-COPY" in text for text in shown_all(at.success))
    with db.read_session(demo_engine) as session:
        copy = session.exec(select(Programme).where(Programme.code == "NCC-COPY")).one()
    assert copy.title == programme.title
    assert _milestone_count(demo_engine, copy.id or 0) == len(document["milestones"]) > 0


def test_a_broken_exchange_file_is_refused_with_its_reason(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    with db.read_session(demo_engine) as session:
        before = int(session.execute(sa.select(sa.func.count()).select_from(Programme)).scalar())
    at = _open_import(app_as)
    at.file_uploader(key="import_exchange_file").set_value(
        ("wrong.json", b'{"format": "something-else", "version": 1}', "application/json")
    )
    at.run()
    at.button(key="import_exchange_commit").click().run()
    assert any(text.startswith("Not saved.") for text in shown_all(at.error))
    with db.read_session(demo_engine) as session:
        after = int(session.execute(sa.select(sa.func.count()).select_from(Programme)).scalar())
    assert after == before


def test_an_exchange_file_name_is_shown_as_plain_text(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    with db.read_session(demo_engine) as session:
        viewer = load_viewer(session, email=MAYA)
        programme = session.exec(select(Programme).where(Programme.code == "NCC-ASC-ONLINE")).one()
        assert viewer is not None and programme.id is not None
        document = exchange.export_programme(
            session=session, viewer=viewer, programme_id=programme.id
        )
    document["programme"]["code"] = "NCC-NAMED"
    at = _open_import(app_as)
    name = "**Urgent** [sign in again](https://phish.example/login).json"
    at.file_uploader(key="import_exchange_file").set_value(
        (name, json.dumps(document).encode(), "application/json")
    )
    at.run()
    at.button(key="import_exchange_commit").click().run()
    assert not at.exception, at.exception
    (message,) = [
        str(box.value) for box in at.success if "Created programme NCC-NAMED" in shown(box.value)
    ]
    # Markdown would make a bold word and a live link of it: every mark is escaped instead, so
    # the name reads on screen exactly as the file was called.
    assert "[sign in again](https://" not in message and "**Urgent**" not in message
    assert name in shown(message)


@pytest.mark.parametrize("email", [LENA, SAM])
def test_leadership_and_staff_are_told_the_page_is_not_for_their_role(
    demo_url: str, email: str
) -> None:
    # Their navigation does not list the page (tests/test_permissions.py); opened by its
    # address, it stops itself with the message they see.
    at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    sign_in(at, email)
    at.run()
    assert not at.exception
    assert "This page is not available to your role." in shown_all(at.error)
    assert not at.title
