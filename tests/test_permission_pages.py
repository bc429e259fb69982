"""The permission matrix through the pages (RELIABILITY.md #4, #5, #18): every action x role x
relation of tests/permission_cells.py on the page that offers the action. Each role whose
navigation holds that page sees the action offered or withheld exactly as the cell says; every
other role is refused by the page itself when it reaches it by its address."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from tests import permission_cells as cells
from tests.conftest import sign_in
from tests.screen import shown_all
from tracker import clock, db
from tracker.models import Role

ROOT = Path(__file__).resolve().parents[1]
_LONG_AGO = dt.date(2000, 1, 1)
_TOMORROW = clock.today() + dt.timedelta(days=1)
REFUSED_ROLE = "This page is not available to your role."
NOT_YOURS = "not yours to see"


def _programme_chosen(at: AppTest, key: str, code: str) -> bool:
    try:
        return bool(at.selectbox(key=key).value == code)
    except KeyError:
        return False


def _sees_programme(at: AppTest, world: cells.World) -> bool:
    warned = any(NOT_YOURS in text for text in shown_all(at.warning))
    return not warned and _programme_chosen(at, "programme_choice", world.programme_code)


def _manages(at: AppTest, world: cells.World) -> bool:
    warned = any(
        NOT_YOURS in text or "not yours to change" in text for text in shown_all(at.warning)
    )
    return not warned and _programme_chosen(at, "manage_programme_choice", world.programme_code)


def _can_override(at: AppTest, world: cells.World) -> bool:
    labels = [expander.label for expander in at.expander]
    return _sees_programme(at, world) and "Override the suggested rating" in labels


def _chooses_partners(at: AppTest, world: cells.World) -> bool:
    if not _manages(at, world):
        return False
    partners = at.multiselect(key=f"programme_partners_{world.programme_id}")
    return not partners.disabled


def _sees_register(at: AppTest, world: cells.World) -> bool:
    return _manages(at, world) and bool(at.get("data_editor"))


def _sees_notes(at: AppTest, world: cells.World) -> bool:
    if not _manages(at, world):
        return False
    return any(area.label == "Notes" for area in at.text_area)


def _offers_a_person(at: AppTest, world: cells.World) -> bool:
    """Admin → Data protection: the programme is chosen and its stakeholders are offered for
    subject access and erasure."""
    if not _manages(at, world):
        return False
    try:
        return bool(at.selectbox(key=f"dp_stakeholder_{world.programme_id}").options)
    except KeyError:
        return False


def _reads_audit(at: AppTest, world: cells.World) -> bool:
    record_types = at.selectbox(key="audit_record_type")
    if "Stakeholder" not in record_types.options:
        return False  # not one stakeholder event is in this administrator's trail
    record_types.set_value("stakeholder")
    at.text_input(key="audit_record_id").set_value(str(world.stakeholder_id))
    at.date_input(key="audit_dates").set_value((_LONG_AGO, _TOMORROW))
    at.run()
    counted = [
        int(found.group(1))
        for text in shown_all(at.markdown)
        if (found := re.search(r"\*\*(\d+) events? match", text))
    ]
    return bool(counted) and counted[0] > 0


def _imports(at: AppTest, world: cells.World, engine: Engine) -> bool:
    with db.read_session(engine) as session:
        document = cells.exchange_document(session, world, "MATRIX-PAGE")
    at.file_uploader(key="import_exchange_file").set_value(
        ("programme.json", json.dumps(document).encode(), "application/json")
    )
    at.run()
    at.button(key="import_exchange_commit").click().run()
    return any("Created programme MATRIX-PAGE" in text for text in shown_all(at.success))


def _administers(at: AppTest, world: cells.World) -> bool:
    try:
        options = at.selectbox(key="users_choice").options
    except KeyError:
        return False
    return any(world.target_email in str(option) for option in options)


# action -> (the page that offers it, the roles whose navigation holds that page, the check)
PAGES: dict[str, tuple[str, set[Role], Callable[..., bool]]] = {
    "programme.read": (
        "pages/programme.py",
        {Role.admin, Role.manager, Role.leadership},
        _sees_programme,
    ),
    "programme.edit": ("pages/manage_milestones.py", cells.MANAGING, _manages),
    "programme.share": ("pages/manage_programme.py", cells.MANAGING, _chooses_partners),
    "confidence.override": (
        "pages/programme.py",
        {Role.admin, Role.manager, Role.leadership},
        _can_override,
    ),
    "stakeholder.read": ("pages/manage_stakeholders.py", cells.MANAGING, _sees_register),
    "stakeholder.notes.read": ("pages/manage_stakeholders.py", cells.MANAGING, _sees_notes),
    "stakeholder.edit": ("pages/manage_stakeholders.py", cells.MANAGING, _sees_register),
    "stakeholder.erase": ("pages/admin_data_protection.py", cells.ADMIN, _offers_a_person),
    "audit.read": ("pages/admin_audit.py", cells.ADMIN, _reads_audit),
    "exchange.import": ("pages/manage_import.py", cells.MANAGING, _imports),
    "user.administer": ("pages/admin_users.py", cells.ADMIN, _administers),
}
PAGE_CELLS = [cell for cell in cells.CELLS if cell.action in PAGES]


@pytest.mark.parametrize("cell", PAGE_CELLS, ids=lambda c: c.id)
def test_every_page_offers_an_action_exactly_where_the_resolver_allows_it(
    demo_url: str, cell: cells.Cell
) -> None:
    engine = db.make_engine(demo_url)
    try:
        world = cells.make_world(engine, cell)
        page, roles, check = PAGES[cell.action]
        at = AppTest.from_file(str(ROOT / page), default_timeout=60)
        sign_in(at, world.email)
        at.query_params["programme"] = world.programme_code
        at.run()
        assert not at.exception, at.exception
        if cell.role not in roles:
            # The page is not in this role's navigation, and refuses them when reached by its
            # address: the action is not offered (the service refuses it too, whatever the
            # service matrix allows through other pages, e.g. staff reading a programme's news).
            assert REFUSED_ROLE in shown_all(at.error)
            assert not at.title and not at.dataframe and not at.get("data_editor")
            return
        assert REFUSED_ROLE not in shown_all(at.error)
        if check is _imports:
            offered = check(at, world, engine)
        else:
            offered = check(at, world)
        assert not at.exception, at.exception
    finally:
        engine.dispose()
    assert offered is cell.allowed, f"{cell.id}: {'withheld' if cell.allowed else 'offered'}"


def test_every_action_of_the_matrix_is_checked_on_a_page() -> None:
    assert set(PAGES) == set(cells.EXPECTED)
