"""Who may do what (RELIABILITY.md #4, #5, #6): every role x page x action, allowed and denied,
checked on the server: through the navigation, by URL (the page file run on its own), and in
the services the pages call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from tests.conftest import sign_in
from tests.screen import shown_all
from tracker import access, db, privacy
from tracker.access import Viewer, load_viewer
from tracker.demo import DEMO_USERS
from tracker.errors import PermissionDeniedError
from tracker.io import exchange, exports, imports, reading
from tracker.models import Programme, Role, Stakeholder, User
from tracker.services import organisations

ROOT = Path(__file__).resolve().parents[1]
MANAGE = [
    f"pages/manage_{name}.py"
    for name in (
        "programme",
        "stages",
        "milestones",
        "stakeholders",
        "engagements",
        "barriers",
        "metrics",
        "narratives",
        "import",
        "export",
    )
]
ADMIN = [
    f"pages/admin_{name}.py" for name in ("users", "organisations", "audit", "data_protection")
]
EVERYONE = {Role.admin, Role.manager, Role.leadership, Role.staff}
# page -> (roles whose navigation holds it, roles the page itself lets in when reached by URL)
PAGES: dict[str, tuple[set[Role], set[Role]]] = {
    "pages/portfolio.py": ({Role.admin, Role.manager, Role.leadership},) * 2,
    "pages/programme.py": ({Role.admin, Role.manager, Role.leadership},) * 2,
    # Staff pages are staff's navigation; others may read them (the narrative is for everyone).
    "pages/staff_changes.py": ({Role.staff}, EVERYONE),
    "pages/staff_news.py": ({Role.staff}, EVERYONE),
    **{page: ({Role.admin, Role.manager},) * 2 for page in MANAGE},
    **{page: ({Role.admin},) * 2 for page in ADMIN},
}
USER_OF = {user.role: user.email for user in reversed(DEMO_USERS)}  # the first of each role
CELLS = [(role, page) for page in PAGES for role in Role]


def _cell_id(cell: tuple[Role, str]) -> str:
    return f"{cell[0].value}-{Path(cell[1]).stem}"


@pytest.mark.parametrize("cell", CELLS, ids=_cell_id)
def test_the_navigation_holds_exactly_the_pages_of_the_role(
    app_as: Callable[[str], AppTest], cell: tuple[Role, str]
) -> None:
    role, page = cell
    at = app_as(USER_OF[role])
    if role in PAGES[page][0]:
        at.switch_page(page).run()
        assert not at.exception, at.exception
        assert at.title, f"{page} shows no title to {role.value}"
        assert "This page is not available to your role." not in shown_all(at.error)
    else:
        with pytest.raises(ValueError):
            at.switch_page(page).run()


@pytest.mark.parametrize("cell", CELLS, ids=_cell_id)
def test_a_page_reached_by_url_checks_the_role_itself(
    demo_url: str, cell: tuple[Role, str]
) -> None:
    role, page = cell
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    sign_in(at, USER_OF[role])
    at.run()
    assert not at.exception, at.exception
    refused = "This page is not available to your role." in shown_all(at.error)
    if role in PAGES[page][1]:
        assert not refused and at.title
    else:
        assert refused
        assert not at.title and not at.dataframe and not at.metric and not at.get("data_editor")


@pytest.mark.parametrize("page", sorted(PAGES))
def test_nobody_signed_in_sees_nothing_of_any_page(demo_url: str, page: str) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.run()
    assert "You are not signed in, or your account is not active." in shown_all(at.error)
    assert not at.title and not at.dataframe and not at.metric


def test_taking_a_role_away_takes_effect_on_the_next_rerun(
    app_as: Callable[[str], AppTest], demo_url: str
) -> None:
    at = app_as(USER_OF[Role.manager])
    at.switch_page("pages/manage_milestones.py").run()
    assert at.get("data_editor")
    engine = db.make_engine(demo_url)
    with db.write_session(engine, actor="ada.admin@demo.example") as session:
        user = session.exec(select(User).where(User.email == USER_OF[Role.manager])).one()
        organisations.update_user(
            session=session,
            user_id=user.id or 0,
            expected_version=user.version,
            changes={"role": Role.leadership},
        )
    engine.dispose()
    at.run()
    # The page is no longer in their navigation: they are taken off it, or it refuses them.
    assert not at.get("data_editor")
    assert [title.value for title in at.title] != ["Milestones"]


# --- Actions in the services: the pages are not the only door --------------------------------


@pytest.fixture
def demo_engine(demo_url: str) -> Iterator[Engine]:
    engine = db.make_engine(demo_url)
    yield engine
    engine.dispose()


def _county_programme(session: Session) -> Programme:
    return session.exec(select(Programme).where(Programme.code == "NCC-ASC-ONLINE")).one()


def _stakeholder(session: Session) -> int:
    programme = _county_programme(session)
    row = session.exec(select(Stakeholder).where(Stakeholder.programme_id == programme.id)).first()
    assert row is not None and row.id is not None
    return row.id


ACTIONS: dict[str, Callable[[Session, Viewer], Any]] = {
    "change the programme": lambda s, v: access.require_manager(s, v, _county_programme(s).id or 0),
    "export people's data": lambda s, v: exports.export_csv_files(
        session=s, viewer=v, programme_ids=[_county_programme(s).id or 0], personal_data=True
    ),
    "export the exchange file": lambda s, v: exchange.export_programme(
        session=s, viewer=v, programme_id=_county_programme(s).id or 0
    ),
    "check an import": lambda s, v: imports.preview(
        session=s,
        viewer=v,
        kind="milestones",
        table=reading.read_table(b"Title,Stage,Due\nX,vision,01/01/2027\n", "m.csv"),
        mapping={"title": "Title", "stage": "Stage", "due_date": "Due"},
        programme_id=_county_programme(s).id,
    ),
    "read a person's data (subject access)": lambda s, v: privacy.subject_access_export(
        session=s, viewer=v, stakeholder_id=_stakeholder(s)
    ),
    "erase a person": lambda s, v: privacy.erase_stakeholder(
        session=s, viewer=v, stakeholder_id=_stakeholder(s)
    ),
    "set the retention period": lambda s, v: privacy.set_retention_months(
        session=s, viewer=v, months=36
    ),
}
ALLOWED = {
    "set the retention period": {Role.admin},
}
# Demo users of each role who belong to the county (which owns NCC-ASC-ONLINE).
COUNTY_USER = {
    Role.admin: "ada.admin@demo.example",
    Role.manager: "maya.manager@demo.example",
    Role.leadership: "lena.leader@demo.example",
    Role.staff: "sam.staff@demo.example",
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_service_action_checks_the_role_itself(
    demo_engine: Engine, role: Role, action: str
) -> None:
    allowed = role in ALLOWED.get(action, {Role.admin, Role.manager})
    with db.read_session(demo_engine) as session:
        viewer = load_viewer(session, email=COUNTY_USER[role])
    assert viewer is not None
    denied = False
    # A write session that is always rolled back: the action is tried, nothing is kept.
    with pytest.raises(_Undo), db.write_session(demo_engine, actor=viewer.email) as session:
        try:
            ACTIONS[action](session, viewer)
        except PermissionDeniedError:
            denied = True
        raise _Undo
    assert denied is not allowed, f"{role.value} {'may not' if allowed else 'may'} {action}"


class _Undo(Exception):
    """Raised to roll a test's write session back."""


def test_a_manager_cannot_reach_another_organisations_programme(demo_engine: Engine) -> None:
    with db.read_session(demo_engine) as session:
        district = load_viewer(session, email="dev.district@demo.example")
        assert district is not None
        with pytest.raises(PermissionDeniedError):
            access.require_manager(session, district, _county_programme(session).id or 0)


def test_two_people_with_different_scopes_never_see_each_others_rows(
    app_as: Callable[[str], AppTest],
) -> None:
    # Both run in one process, so they share Streamlit's caches (RELIABILITY.md #6).
    county = app_as("maya.manager@demo.example")
    district = app_as("dev.district@demo.example")
    county.run()

    def codes(at: AppTest) -> set[str]:
        table = next(frame.value for frame in at.dataframe if "code" in frame.value.columns)
        return {str(code) for code in table["code"]}

    mine, theirs = codes(county), codes(district)
    assert "NCC-ASC-ONLINE" in mine and "NCC-ASC-ONLINE" not in theirs
    assert "EDC-SHARED-PLAT" in mine and "EDC-SHARED-PLAT" in theirs  # pooled by both
    assert theirs - mine, "the district has programmes of its own that the county must not see"
    for at, hidden in ((county, theirs - mine), (district, mine - theirs)):
        at.switch_page("pages/manage_milestones.py").run()
        offered = set(at.selectbox(key="manage_programme_choice").options)
        assert not any(code in option for option in offered for code in hidden)


def test_reaching_outside_ones_role_or_scope_is_recorded(
    app_as: Callable[[str], AppTest], demo_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    at = AppTest.from_file(str(ROOT / "pages/manage_milestones.py"), default_timeout=60)
    sign_in(at, USER_OF[Role.leadership])
    at.run()
    district = app_as("dev.district@demo.example")
    district.query_params["programme"] = "NCC-ASC-ONLINE"
    district.switch_page("pages/programme.py").run()
    assert "not yours to see" in " ".join(shown_all(district.warning))
    refusals = [r.getMessage() for r in caplog.records if r.name == "tracker.access"]
    assert any(
        USER_OF[Role.leadership] in message and "admin/manager page" in message
        for message in refusals
    )
    assert any(
        "dev.district@demo.example" in message and "'NCC-ASC-ONLINE'" in message
        for message in refusals
    )
