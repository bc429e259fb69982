"""Who may do what (RELIABILITY.md #4, #5, #6): every role x page x action, allowed and denied,
checked on the server: through the navigation, by URL (the page file run on its own), and in
the services the pages call."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests import permission_cells as cells
from tests.conftest import sign_in
from tests.factories import SYSTEM
from tests.screen import shown_all
from tracker import clock, db, permissions, privacy, read
from tracker.access import Viewer, load_viewer
from tracker.errors import PermissionDeniedError
from tracker.io import exchange, exports, imports, reading
from tracker.models import MilestoneCreate, Organisation, Programme, Role, Stakeholder, User
from tracker.models.organisation import UserUpdate
from tracker.models.people import StakeholderCreate
from tracker.seed.demo import DEMO_USERS
from tracker.services import milestones, organisations, programmes, records, stakeholders

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
    f"pages/admin_{name}.py"
    for name in ("users", "organisations", "audit", "data_protection", "settings")
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
            viewer=SYSTEM,
            user_id=user.id or 0,
            data=records.validated(UserUpdate, {"version": user.version, "role": Role.leadership}),
        )
    engine.dispose()
    at.run()
    # The page is no longer in their navigation: they are taken off it, or it refuses them.
    assert not at.get("data_editor")
    assert [title.value for title in at.title] != ["Milestones"]


# --- Actions in the services: the pages are not the only door --------------------------------


def _county_programme(session: Session) -> Programme:
    return session.exec(select(Programme).where(Programme.code == "NCC-ASC-ONLINE")).one()


def _stakeholder(session: Session) -> int:
    programme = _county_programme(session)
    row = session.exec(select(Stakeholder).where(Stakeholder.programme_id == programme.id)).first()
    assert row is not None and row.id is not None
    return row.id


ACTIONS: dict[str, Callable[[Session, Viewer], Any]] = {
    "change the programme": lambda s, v: permissions.require_programme(
        s, v, permissions.Action.programme_edit, _county_programme(s).id or 0
    ),
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
    "read a person's data (subject access)": lambda s, v: read.privacy.subject_access_export(
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
            permissions.require_programme(
                session,
                district,
                permissions.Action.programme_edit,
                _county_programme(session).id or 0,
            )


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


# --- The matrix: every action x role x relation, through the services --------------------------
# (through the pages: tests/test_permission_pages.py; the cells: tests/permission_cells.py)


@pytest.fixture(scope="module")
def matrix_engine(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One demo database for every service cell: each cell adds its own people, then tries its
    action in a transaction that is always rolled back."""
    path = tmp_path_factory.mktemp("matrix") / "tracker.db"
    shutil.copy(demo_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _audit_of_the_stakeholder(session: Session, viewer: Viewer, world: cells.World) -> None:
    where = read.admin.AuditFilter(
        since=dt.date(2000, 1, 1),
        until=clock.today() + dt.timedelta(days=1),
        record_type="stakeholder",
        record_id=str(world.stakeholder_id),
    )
    if not read.admin.audit_events(session=session, viewer=viewer, where=where):
        raise PermissionDeniedError(None, "the events are not shown to this administrator")


def _partners_again(session: Session, viewer: Viewer, world: cells.World) -> None:
    """Save the programme's partners as they are."""
    pid = world.programme_id
    programmes.set_partners(
        session=session,
        viewer=viewer,
        programme_id=pid,
        organisation_ids=read.manage.partner_ids(session=session, programme_id=pid),
        sharing_ids=read.manage.sharing_partner_ids(session=session, programme_id=pid),
    )


SERVICE: dict[str, Callable[[Session, Viewer, cells.World], Any]] = {
    "programme.read": lambda s, v, w: permissions.require_programme(
        s, v, permissions.Action.programme_read, w.programme_id
    ),
    "programme.edit": lambda s, v, w: milestones.create_milestone(
        session=s,
        viewer=v,
        data=records.validated(
            MilestoneCreate,
            {
                "programme_id": w.programme_id,
                "stage": "vision",
                "title": "Added by the permission matrix",
                "due_date": clock.today(),
                "weight": 3,
            },
        ),
    ),
    "programme.share": _partners_again,
    "confidence.override": lambda s, v, w: programmes.override_confidence(
        session=s,
        viewer=v,
        programme_id=w.programme_id,
        rating="amber",
        reason="Tried by the permission matrix",
    ),
    "stakeholder.read": lambda s, v, w: read.people.stakeholder_table(
        session=s, viewer=v, programme_id=w.programme_id
    ),
    "stakeholder.notes.read": lambda s, v, w: read.people.stakeholder_notes(
        session=s, viewer=v, stakeholder_id=w.stakeholder_id
    ),
    "stakeholder.edit": lambda s, v, w: stakeholders.create_stakeholder(
        session=s,
        viewer=v,
        data=records.validated(
            StakeholderCreate,
            {
                "programme_id": w.programme_id,
                "name": "Matrix Person",
                "influence": 2,
            },
        ),
    ),
    "stakeholder.erase": lambda s, v, w: read.privacy.subject_access_export(
        session=s, viewer=v, stakeholder_id=w.stakeholder_id
    ),
    "audit.read": _audit_of_the_stakeholder,
    "exchange.import": lambda s, v, w: exchange.import_programme(
        session=s, viewer=v, document=cells.exchange_document(s, w, "MATRIX-COPY")
    ),
    "user.administer": lambda s, v, w: organisations.change_user(
        session=s,
        viewer=v,
        user_id=w.target_user_id,
        data=records.validated(
            UserUpdate, {"version": 1, "name": "Renamed by the permission matrix"}
        ),
    ),
}


@pytest.mark.parametrize("cell", cells.CELLS, ids=lambda c: c.id)
def test_every_action_role_and_relation_is_decided_in_the_service(
    matrix_engine: Engine, cell: cells.Cell
) -> None:
    world = cells.make_world(matrix_engine, cell, tag=f"-{cells.CELLS.index(cell)}")
    with db.read_session(matrix_engine) as session:
        viewer = load_viewer(session, email=world.email)
    assert viewer is not None
    refused: PermissionDeniedError | None = None
    with pytest.raises(_Undo), db.write_session(matrix_engine, actor=viewer.email) as session:
        try:
            SERVICE[cell.action](session, viewer, world)
        except PermissionDeniedError as error:
            refused = error
        raise _Undo
    if cell.allowed:
        assert refused is None, f"{cell.id} was refused: {refused and refused.reason}"
    else:
        assert refused is not None, f"{cell.id} was allowed"
        assert refused.reason  # a sentence the person can read


def test_the_matrix_covers_every_action_the_resolver_names() -> None:
    named = {action.value for action in permissions.Action}
    # Creating programmes is exchange.import's rule; adding an organisation and installation
    # settings have their own tests (tests/test_page_admin_*.py, tests/test_content_policy.py).
    assert named - set(cells.EXPECTED) == {
        "programme.create",
        "organisation.create",
        "organisation.administer",
        "installation.administer",
    }
    assert set(SERVICE) == set(cells.EXPECTED)


def test_no_page_acts_as_the_installation() -> None:
    # The installation's own viewer is allowed everything: only the demo loader, the generator
    # and the set-up commands may make one, never a page.
    for path in [ROOT / "streamlit_app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        assert "system_viewer" not in text and "system=True" not in text, path.name
        # Nor reads the installation's whole list of users or organisations, which take no
        # viewer and serve the `tracker` command run on the server.
        for whole in ("user_accounts", "user_account(", "installation_organisations"):
            assert whole not in text, f"{path.name} reads {whole} (the command line's read)"


def test_only_an_admin_of_every_organisation_changes_an_installation_setting(
    demo_engine: Engine,
) -> None:
    with db.read_session(demo_engine) as session:
        eastbrook = session.exec(select(Organisation).where(Organisation.short_name == "EDC")).one()
    factories.user(demo_engine, [eastbrook.id or 0], role=Role.admin, email="eve@edc.example")
    for email, allowed in (("eve@edc.example", False), ("ada.admin@demo.example", True)):
        with db.read_session(demo_engine) as session:
            viewer = load_viewer(session, email=email)
        assert viewer is not None
        with db.write_session(demo_engine, actor=email) as session:
            if allowed:
                assert privacy.set_retention_months(session=session, viewer=viewer, months=48)
            else:
                with pytest.raises(PermissionDeniedError, match="every organisation"):
                    privacy.set_retention_months(session=session, viewer=viewer, months=1)
    with db.read_session(demo_engine) as session:
        assert privacy.retention_months(session=session) == 48
