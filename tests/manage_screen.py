"""What the Manage page tests share: the demo people they sign in as, opening a Manage page
(optionally on a programme named in the URL), pressing a button, and reading what it said."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.screen import shown_all
from tracker import db
from tracker.access import load_viewer
from tracker.models import Programme
from tracker.workspace import ProgrammeChoice, managed_programmes

MAYA = "maya.manager@demo.example"  # manager, Northmoor County Council
ADA = "ada.admin@demo.example"  # admin, every organisation
DEV = "dev.district@demo.example"  # manager, Eastbrook District
LENA = "lena.leader@demo.example"  # leadership
SAM = "sam.staff@demo.example"  # staff
CODE = "NCC-ASC-ONLINE"  # owned by the county, no partners
# An unchanged st.data_editor, as its state reads before any edit.
NO_EDITS: dict[str, Any] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}


def open_page(
    app_as: Callable[[str], AppTest], page: str, email: str = MAYA, *, code: str | None = None
) -> AppTest:
    """`page` as `email` sees it, on the programme `code` names in the URL (or the first one)."""
    at = app_as(email)
    at.switch_page(page)
    if code is not None:
        at.query_params["programme"] = code
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


def texts(elements: Any) -> list[str]:
    return [element.value for element in elements]


def first_programme(engine: Engine, email: str = MAYA) -> ProgrammeChoice:
    """The programme a Manage page opens on for this person (the first by title)."""
    with db.read_session(engine) as session:
        viewer = load_viewer(session, email=email)
        assert viewer is not None
        return managed_programmes(session=session, viewer=viewer)[0]


def programme_row(engine: Engine, code: str = CODE) -> Programme:
    with db.read_session(engine) as session:
        found = session.exec(select(Programme).where(Programme.code == code)).one()
        return found


def by_id(engine: Engine, table: type[Any], record_id: int) -> Any:
    with db.read_session(engine) as session:
        record = session.get(table, record_id)
        assert record is not None
        session.expunge(record)
        return record
