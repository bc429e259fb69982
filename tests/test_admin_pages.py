"""The Admin pages (users, organisations, the audit trail, data protection) in AppTest on the
demo database, the read functions behind them (tracker/read/admin.py) and the administrator's
services (tracker/services/organisations.py). Only administrators reach these pages, and an
administrator manages only their own organisations."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.factories import SYSTEM
from tests.screen import navigation, shown_all
from tracker import clock, db, privacy, read, signin
from tracker.errors import ConflictError, DomainError, PermissionDeniedError
from tracker.models import (
    AuditEvent,
    Milestone,
    MilestoneImpact,
    MilestoneUpdate,
    Organisation,
    Programme,
    ProgrammeUpdate,
    Role,
    SignInAttempt,
    SignInMethod,
    SignInOutcome,
    StaffGroup,
    Stakeholder,
    User,
    UserOrganisation,
)
from tracker.models.organisation import OrganisationCreate, StaffGroupCreate, UserCreate, UserUpdate
from tracker.passwords import password_matches
from tracker.services import milestones, organisations, programmes, records

ROOT = Path(__file__).resolve().parents[1]
USERS = "pages/admin_users.py"
ORGANISATIONS = "pages/admin_organisations.py"
AUDIT = "pages/admin_audit.py"
DATA_PROTECTION = "pages/admin_data_protection.py"
SETTINGS = "pages/admin_settings.py"
PAGES = [USERS, ORGANISATIONS, AUDIT, DATA_PROTECTION, SETTINGS]
# How the navigation names each page (streamlit_app.py).
ADMIN_TITLES = {
    USERS: "Users",
    ORGANISATIONS: "Organisations",
    AUDIT: "Audit trail",
    DATA_PROTECTION: "Data protection",
    SETTINGS: "Installation settings",
}
ADA = "ada.admin@demo.example"
MAYA = "maya.manager@demo.example"
LENA = "lena.leader@demo.example"
SAM = "sam.staff@demo.example"
OTHER = "other@example.org"
LONG_PASSWORD = "correct horse battery staple"


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What each download button offers, by its file id (AppTest keeps files in memory)."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self: MemoryMediaFileStorage, path_or_data: Any, *args: Any, **kwargs: Any) -> str:
        file_id = original(self, path_or_data, *args, **kwargs)
        if isinstance(path_or_data, bytes):
            files[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


def _offered(at: AppTest, files: dict[str, bytes], label_start: str) -> bytes:
    button = next(b for b in at.get("download_button") if b.label.startswith(label_start))
    return files[button.proto.url.rsplit("/", 1)[-1].split(".")[0]]


def _open(app_as: Callable[[str], AppTest], page: str, email: str = ADA) -> AppTest:
    at = app_as(email)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def _field(at: AppTest, label: str) -> Any:
    return next(widget for widget in at.text_input if widget.label == label)


def _errors(at: AppTest) -> str:
    return "\n".join(shown_all(at.error))


def _success(at: AppTest) -> str:
    return "\n".join(shown_all(at.success))


def _matching(at: AppTest) -> str:
    """The audit page's line saying how many events match."""
    return next(text for text in shown_all(at.markdown) if " match" in text)


def _stakeholder_choice(at: AppTest) -> int:
    return int(next(box for box in at.selectbox if box.label == "Stakeholder").value)


def _user(engine: Engine, email: str) -> User | None:
    with db.read_session(engine) as session:
        return session.exec(select(User).where(User.email == email)).first()


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with db.read_session(engine) as session:
        statement = sa.select(sa.func.count()).select_from(table).where(*where)
        return int(session.execute(statement).scalar_one())


def _org_id(engine: Engine, short_name: str) -> int:
    with db.read_session(engine) as session:
        org = session.exec(select(Organisation).where(Organisation.short_name == short_name)).one()
    assert org.id is not None
    return org.id


# --- Users ----------------------------------------------------------------------------------


def test_users_page_lists_the_admins_users_with_password_set_or_not_and_never_the_hash(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    with db.write_session(demo_engine, actor=OTHER) as session:
        sam = session.exec(select(User).where(User.email == SAM)).one()
        assert sam.id is not None
        organisations.set_password(
            session=session, viewer=SYSTEM, user_id=sam.id, password=LONG_PASSWORD
        )
    at = _open(app_as, USERS)
    assert at.title[0].value == "Users"
    shown = at.dataframe[0].value
    with db.read_session(demo_engine) as session:
        expected = read.admin.user_table(session=session, viewer=factories.viewer(demo_engine, ADA))
    assert list(shown["email"]) == list(expected["email"])
    assert len(shown) == 6
    by_email = shown.set_index("email")
    assert by_email.loc[SAM, "password_set"] == "Yes"
    assert by_email.loc[MAYA, "password_set"] == "No"
    assert by_email.loc[SAM, "staff_group"] == "NCC: Customer services"
    assert "password_hash" not in shown.columns
    assert not any("argon2" in str(value) for value in shown.to_numpy().ravel())
    assert any("next click" in caption.value for caption in at.caption)


def test_adding_a_user_saves_them_with_their_organisations_and_a_hashed_password(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    ncc = _org_id(demo_engine, "NCC")
    at = _open(app_as, USERS)
    at.text_input(key="users_new_email").set_value("  New.Person@Council.example ")
    at.text_input(key="users_new_name").set_value("New Person")
    at.selectbox(key="users_new_role").set_value("manager")
    at.multiselect(key="users_new_orgs").set_value([ncc])
    at.text_input(key="users_new_password").set_value(LONG_PASSWORD)
    _click(at, "Add user")
    assert not at.error, _errors(at)
    assert "Added new.person@council.example" in _success(at)
    user = _user(demo_engine, "new.person@council.example")
    assert user is not None and user.role is Role.manager and user.active
    assert password_matches(user.password_hash, LONG_PASSWORD)
    with db.read_session(demo_engine) as session:
        linked = session.exec(
            select(UserOrganisation.organisation_id).where(UserOrganisation.user_id == user.id)
        ).all()
    assert linked == [ncc]
    assert "new.person@council.example" in list(at.dataframe[0].value["email"])


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        (MAYA.upper(), "", "E-mail: another user already has this email"),
        ("someone@council.example", "short", "Password: must be at least 12 characters"),
        ("not-an-address", "", "E-mail: must be an e-mail address"),
    ],
)
def test_adding_a_user_with_a_bad_value_is_refused_and_nothing_is_written(
    app_as: Callable[[str], AppTest],
    demo_engine: Engine,
    email: str,
    password: str,
    message: str,
) -> None:
    before = _count(demo_engine, User)
    events = _count(demo_engine, AuditEvent)
    at = _open(app_as, USERS)
    at.text_input(key="users_new_email").set_value(email)
    at.text_input(key="users_new_name").set_value("Someone")
    at.multiselect(key="users_new_orgs").set_value([_org_id(demo_engine, "NCC")])
    at.text_input(key="users_new_password").set_value(password)
    _click(at, "Add user")
    assert message in _errors(at)
    assert (_count(demo_engine, User), _count(demo_engine, AuditEvent)) == (before, events)
    assert at.text_input(key="users_new_email").value == email


def _choose_user(at: AppTest, engine: Engine, email: str) -> int:
    user = _user(engine, email)
    assert user is not None and user.id is not None
    at.selectbox(key="users_choice").set_value(user.id).run()
    assert not at.exception, at.exception
    return user.id


def _next_run(at: AppTest, script: str) -> AppTest:
    """The next rerun of the browser tab `at` stands for, through `script` (the entry file or
    a page): the same sign-in, the same session token. (AppTest re-runs only the page after
    its first run, so a fresh AppTest is how the entry file's checks run again.)"""
    again = AppTest.from_file(str(ROOT / script), default_timeout=60)
    again.user = {"is_logged_in": True, "email": MAYA}  # type: ignore[assignment]
    again.session_state["signin_token"] = at.session_state["signin_token"]
    again.run()
    assert not again.exception, again.exception
    return again


def test_a_deactivated_user_is_stopped_on_their_next_run(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    maya = app_as(MAYA)
    assert not maya.error and maya.title[0].value == "Portfolio"
    at = _open(app_as, USERS)
    uid = _choose_user(at, demo_engine, MAYA)
    at.checkbox(key=f"users_active_{uid}").uncheck()
    _click(at, "Save user")
    assert "Saved Maya Manager: active. The change applies from their next click." in _success(at)
    user = _user(demo_engine, MAYA)
    assert user is not None and not user.active

    app = _next_run(maya, "streamlit_app.py")
    assert app.title[0].value == "Sign in to Change Tracker"
    assert "Your account is no longer active." in "\n".join(shown_all(app.info))
    page = _next_run(maya, "pages/portfolio.py")
    assert "You are not signed in, or your account is not active." in _errors(page)
    assert not page.dataframe

    at.checkbox(key=f"users_active_{uid}").check()
    _click(at, "Save user")
    assert app_as(MAYA).title[0].value == "Portfolio"


def test_an_admin_cannot_deactivate_themselves(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = _open(app_as, USERS)
    uid = _choose_user(at, demo_engine, ADA)
    at.checkbox(key=f"users_active_{uid}").uncheck()
    _click(at, "Save user")
    assert "Active: you cannot deactivate your own account" in _errors(at)
    user = _user(demo_engine, ADA)
    assert user is not None and user.active and user.version == 1


def test_a_concurrent_edit_of_a_user_is_refused_and_the_draft_kept(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = _open(app_as, USERS)
    uid = _choose_user(at, demo_engine, LENA)
    with db.write_session(demo_engine, actor=OTHER) as session:
        organisations.update_user(
            session=session,
            viewer=SYSTEM,
            user_id=uid,
            data=records.validated(UserUpdate, {"version": 1, "name": "Lena Leader-Ng"}),
        )
    at.text_input(key=f"users_name_{uid}").set_value("Lena L. Leader")
    at.selectbox(key=f"users_role_{uid}").set_value("manager")
    _click(at, "Save user")
    assert "Someone else saved this user after you opened it" in _errors(at)
    user = _user(demo_engine, LENA)
    assert user is not None and (user.name, user.role) == ("Lena Leader-Ng", Role.leadership)
    assert at.text_input(key=f"users_name_{uid}").value == "Lena L. Leader"
    assert at.selectbox(key=f"users_role_{uid}").value == "manager"

    _click(at, "Reload (discard my unsaved changes)")
    assert at.text_input(key=f"users_name_{uid}").value == "Lena Leader-Ng"


def test_changing_a_users_organisations_and_password(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    ncc, edc = _org_id(demo_engine, "NCC"), _org_id(demo_engine, "EDC")
    at = _open(app_as, USERS)
    uid = _choose_user(at, demo_engine, MAYA)
    at.multiselect(key=f"users_orgs_{uid}").set_value([ncc, edc])
    _click(at, "Save organisations")
    assert factories.viewer(demo_engine, MAYA).organisation_ids == {ncc, edc}

    _field(at, "New password").set_value(LONG_PASSWORD)
    _field(at, "The same password again").set_value(LONG_PASSWORD + "!")
    _click(at, "Set password")
    assert "The two passwords differ" in _errors(at)
    _field(at, "New password").set_value(LONG_PASSWORD)
    _field(at, "The same password again").set_value(LONG_PASSWORD)
    _click(at, "Set password")
    assert "Set a new password for Maya Manager." in _success(at)
    user = _user(demo_engine, MAYA)
    assert user is not None and password_matches(user.password_hash, LONG_PASSWORD)
    # The user form stands on the version the password moved it to: a save still works.
    at.text_input(key=f"users_name_{uid}").set_value("Maya Manager-Okafor")
    _click(at, "Save user")
    assert not at.error, _errors(at)
    assert factories.viewer(demo_engine, MAYA).name == "Maya Manager-Okafor"


# --- Organisations --------------------------------------------------------------------------


def test_organisations_page_shows_organisations_and_what_uses_each_staff_group(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = _open(app_as, ORGANISATIONS)
    organisations_shown, groups_shown = (frame.value for frame in at.dataframe)
    assert set(organisations_shown["short_name"]) == {"NCC", "EDC", "NICB"}
    first = int(at.selectbox(key="organisations_choice").value)
    with db.read_session(demo_engine) as session:
        expected = read.admin.staff_group_table(session=session, organisation_id=first)
    pd.testing.assert_frame_equal(
        groups_shown.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )


def test_adding_and_renaming_an_organisation_and_a_staff_group(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = _open(app_as, ORGANISATIONS)
    at.text_input(key="organisations_new_name").set_value("Westvale Borough Council")
    at.text_input(key="organisations_new_short").set_value("WBC")
    _click(at, "Add organisation")
    assert "Added Westvale Borough Council." in _success(at)
    wbc = _org_id(demo_engine, "WBC")
    assert wbc in factories.viewer(demo_engine, ADA).organisation_ids

    at.selectbox(key="organisations_choice").set_value(wbc).run()
    at.text_input(key=f"organisations_name_{wbc}").set_value("Westvale Council")
    _click(at, "Rename organisation")
    at.text_input(key=f"organisations_new_group_name_{wbc}").set_value("Housing")
    _click(at, "Add staff group")
    assert "Added the staff group Housing." in _success(at)
    with db.read_session(demo_engine) as session:
        org = session.get(Organisation, wbc)
        group = session.exec(select(StaffGroup).where(StaffGroup.organisation_id == wbc)).one()
    assert org is not None and org.name == "Westvale Council"
    at.text_input(key=f"organisations_group_name_{group.id}").set_value("Housing services")
    _click(at, "Rename staff group")
    with db.read_session(demo_engine) as session:
        renamed = session.get(StaffGroup, group.id)
    assert renamed is not None and renamed.name == "Housing services"


def test_a_duplicate_short_name_is_refused_and_nothing_is_written(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    before = _count(demo_engine, Organisation)
    at = _open(app_as, ORGANISATIONS)
    at.text_input(key="organisations_new_name").set_value("Another Council")
    at.text_input(key="organisations_new_short").set_value("NCC")
    _click(at, "Add organisation")
    assert "Short name: another organisation already has this short name" in _errors(at)
    assert _count(demo_engine, Organisation) == before


def test_deleting_a_staff_group_asks_for_confirmation_and_then_clears_it_everywhere(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    ncc = _org_id(demo_engine, "NCC")
    with db.read_session(demo_engine) as session:
        group = session.exec(
            select(StaffGroup).where(
                StaffGroup.organisation_id == ncc, StaffGroup.name == "Customer services"
            )
        ).one()
    gid = group.id
    used = (
        _count(demo_engine, User, User.staff_group_id == gid),
        _count(demo_engine, Stakeholder, Stakeholder.staff_group_id == gid),
        _count(demo_engine, MilestoneImpact, MilestoneImpact.staff_group_id == gid),
    )
    assert used[0] == 1 and used[1] > 0 and used[2] > 0
    at = _open(app_as, ORGANISATIONS)
    at.selectbox(key="organisations_choice").set_value(ncc).run()
    at.selectbox(key=f"organisations_group_choice_{ncc}").set_value(gid).run()
    warning = "\n".join(shown_all(at.warning))
    assert f"{used[0]} user(s) lose their staff group" in warning
    assert f"{used[1]} stakeholder(s) keep their record without a group" in warning
    assert f"{used[2]} milestone impact(s) on it are deleted" in warning

    _click(at, "Delete staff group")
    assert "Tick the box to confirm first" in _errors(at)
    assert _count(demo_engine, StaffGroup, StaffGroup.id == gid) == 1

    at.checkbox(key=f"organisations_delete_confirm_{gid}").check()
    _click(at, "Delete staff group")
    assert "Deleted the staff group Customer services." in _success(at)
    assert _count(demo_engine, StaffGroup, StaffGroup.id == gid) == 0
    assert _count(demo_engine, User, User.staff_group_id == gid) == 0
    assert _count(demo_engine, Stakeholder, Stakeholder.staff_group_id == gid) == 0
    assert _count(demo_engine, MilestoneImpact, MilestoneImpact.staff_group_id == gid) == 0
    assert _count(demo_engine, Stakeholder) > 0


# --- Audit trail ----------------------------------------------------------------------------


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
    at = _open(app_as, AUDIT)
    since = clock.today() - dt.timedelta(days=30)
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    total = _count(demo_engine, AuditEvent, AuditEvent.at >= start)
    assert _matching(at).startswith(f"**{total} events match**")
    shown = at.dataframe[0].value
    assert len(shown) == 50
    assert list(shown["id"]) == sorted(shown["id"], reverse=True)


def test_audit_filters_narrow_the_rows_and_the_csv_export_holds_them(
    app_as: Callable[[str], AppTest], demo_engine: Engine, downloads: dict[str, bytes]
) -> None:
    mid = _rename_milestone(demo_engine, '=HYPERLINK("http://x")')
    at = _open(app_as, AUDIT)
    at.selectbox(key="audit_actor").set_value(OTHER).run()
    expected = _count(demo_engine, AuditEvent, AuditEvent.actor == OTHER)
    assert expected == 1
    assert _matching(at).startswith("**1 event matches**")
    row = at.dataframe[0].value.iloc[0]
    assert (row["actor"], row["action"], row["record_type"]) == (OTHER, "Changed", "milestone")
    assert "title:" in row["changes"] and '→ =HYPERLINK("http://x")' in row["changes"]
    lines = list(csv.reader(io.StringIO(_offered(at, downloads, "Download").decode("utf-8-sig"))))
    assert len(lines) == 2 and lines[1][1] == OTHER and lines[1][4] == str(mid)

    at.selectbox(key="audit_actor").set_value("").run()
    at.selectbox(key="audit_record_type").set_value("milestone").run()
    at.text_input(key="audit_record_id").set_value(str(mid)).run()
    expected = _count(
        demo_engine,
        AuditEvent,
        AuditEvent.record_type == "milestone",
        AuditEvent.record_id == str(mid),
    )
    assert expected == 2
    assert _matching(at).startswith(f"**{expected} events match**")
    assert list(at.dataframe[0].value["action"]) == ["Changed", "Created"]

    at.date_input(key="audit_dates").set_value(
        (clock.today() - dt.timedelta(days=90), clock.today() - dt.timedelta(days=60))
    ).run()
    assert _matching(at).startswith("**0 events match**")


def test_an_erasure_appears_in_the_audit_trail_as_such(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    with db.read_session(demo_engine) as session:
        person = session.exec(select(Stakeholder).order_by("id")).first()
    assert person is not None and person.id is not None
    privacy.erase(demo_engine, viewer=factories.viewer(demo_engine, ADA), stakeholder_id=person.id)
    at = _open(app_as, AUDIT)
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


def _attempt(engine: Engine, email: str, password: str | None = None) -> None:
    """One sign-in attempt as the app makes it: with a password, or by single sign-on."""
    with db.write_session(engine, actor="sign-in") as session:
        try:
            if password is None:
                signin.check_identity(
                    session=session, email=email, method=SignInMethod.sso, now=clock.now()
                )
            else:
                signin.check_password(engine, email=email, password=password, now=clock.now())
        except signin.SignInRefused:
            pass


def test_the_sign_in_attempts_tab_counts_and_filters_attempts_in_the_database(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    _attempt(demo_engine, MAYA, "not her password")
    _attempt(demo_engine, "guess@demo.example", "password123456")
    at = _open(app_as, AUDIT)
    total = _count(demo_engine, SignInAttempt)
    assert total >= 3  # Ada's own sign-in, Maya's wrong password, the guess
    counts = [text for text in shown_all(at.markdown) if "sign-in attempt" in text]
    assert counts == [f"**{total} sign-in attempts**."]
    attempts = at.dataframe[1].value
    assert list(attempts["id"]) == sorted(attempts["id"], reverse=True)
    assert {"Wrong password", "No such account", "Signed in"} <= set(attempts["outcome"])

    at.selectbox(key="audit_signin_outcome").set_value(SignInOutcome.wrong_password).run()
    wrong = _count(demo_engine, SignInAttempt, SignInAttempt.outcome == "wrong_password")
    assert [t for t in shown_all(at.markdown) if "sign-in attempt" in t] == [
        f"**{wrong} sign-in {'attempt' if wrong == 1 else 'attempts'}**."
    ]
    assert set(at.dataframe[1].value["email"]) == {MAYA}
    at.selectbox(key="audit_signin_outcome").set_value(None)
    at.text_input(key="audit_signin_email").set_value("GUESS@demo.example").run()
    assert list(at.dataframe[1].value["email"]) == ["guess@demo.example"]


# --- Data protection ------------------------------------------------------------------------


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Any]]:
    """The callables download buttons register to make their file on a click, by file id."""
    found: dict[str, Callable[[], Any]] = {}
    original = MediaFileManager.add_deferred

    def keep(self: MediaFileManager, data_callable: Any, *args: Any, **kwargs: Any) -> str:
        file_id = original(self, data_callable, *args, **kwargs)
        found[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    return found


def test_the_subject_access_file_is_made_only_on_a_click_by_a_live_session_and_audited(
    app_as: Callable[[str], AppTest],
    demo_engine: Engine,
    downloads: dict[str, bytes],
    deferred: dict[str, Callable[[], Any]],
) -> None:
    at = _open(app_as, DATA_PROTECTION)
    buttons = {button.label: button.proto for button in at.get("download_button")}
    assert list(buttons) == ["Download as JSON", "Download as CSV (for a spreadsheet)"]
    sid = _stakeholder_choice(at)
    with db.read_session(demo_engine) as session:
        person = session.get(Stakeholder, sid)
    assert person is not None
    # Nothing sits at a media URL before it is asked for.
    assert all(not proto.url and proto.deferred_file_id for proto in buttons.values())
    assert not any(person.name.encode() in data for data in downloads.values())
    assert _count(demo_engine, AuditEvent, AuditEvent.action == "subject_access") == 0

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
    assert _count(demo_engine, AuditEvent, AuditEvent.action == "subject_access") == 2


def test_erasure_needs_the_typed_name_then_the_name_is_gone_from_the_database(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = _open(app_as, DATA_PROTECTION)
    sid = _stakeholder_choice(at)
    with db.read_session(demo_engine) as session:
        person = session.get(Stakeholder, sid)
    assert person is not None
    name = person.name
    at.text_input(key=f"dp_erase_confirm_{sid}").set_value(name.upper() + "x")
    _click(at, "Erase this stakeholder")
    assert "does not match the stakeholder's name" in _errors(at)
    assert _count(demo_engine, Stakeholder, Stakeholder.name == name) == 1

    at.text_input(key=f"dp_erase_confirm_{sid}").set_value(name)
    _click(at, "Erase this stakeholder")
    assert f"Stakeholder {sid} erased" in _success(at)
    assert _count(demo_engine, Stakeholder, Stakeholder.name == name) == 0
    contains = sa.or_(AuditEvent.before.contains(name), AuditEvent.after.contains(name))
    assert _count(demo_engine, AuditEvent, contains) == 0
    assert "Records rewritten" in at.dataframe[0].value.columns


def _closed_programme_with_people(engine: Engine) -> tuple[int, list[int]]:
    ncc = _org_id(engine, "NCC")
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
    at = _open(app_as, DATA_PROTECTION)
    at.toggle(key="dp_retention_preview").set_value(True).run()
    preview = next(f.value for f in at.dataframe if "stakeholders" in f.value.columns)
    assert list(preview["code"]) == ["NCC-OLD"] and list(preview["stakeholders"]) == [2]
    assert list(preview["closed_on"]) == ["1 Jan 2020"]
    assert _count(demo_engine, Stakeholder, Stakeholder.name.startswith("Retained")) == 2

    _click(at, "Run retention now")
    assert "Tick the box to confirm first" in _errors(at)
    assert _count(demo_engine, Stakeholder, Stakeholder.name.startswith("Retained")) == 2
    at.checkbox(key="dp_retention_confirm").check()
    _click(at, "Run retention now")
    assert "2 stakeholders anonymised" in _success(at)
    assert _count(demo_engine, Stakeholder, Stakeholder.name.startswith("Retained")) == 0
    assert _count(demo_engine, Stakeholder, Stakeholder.id.in_(people)) == 2


def test_the_retention_period_can_be_changed(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = _open(app_as, DATA_PROTECTION)
    assert at.number_input(key="dp_retention_months").value == privacy.DEFAULT_RETENTION_MONTHS
    at.number_input(key="dp_retention_months").set_value(36)
    _click(at, "Save retention period")
    assert "kept for 36 months" in _success(at)
    with db.read_session(demo_engine) as session:
        assert privacy.retention_months(session=session) == 36


# --- Who may open them ----------------------------------------------------------------------


def test_an_administrator_finds_every_admin_page_in_the_navigation(
    app_as: Callable[[str], AppTest],
) -> None:
    assert set(ADMIN_TITLES.values()) <= set(navigation(app_as(ADA)))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("email", [MAYA, LENA, SAM])
def test_managers_leadership_and_staff_cannot_reach_the_admin_pages(
    app_as: Callable[[str], AppTest], email: str, page: str
) -> None:
    at = app_as(email)
    assert ADMIN_TITLES[page] not in navigation(at)
    assert navigation(at), "the person still has pages of their own"


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("email", [MAYA, LENA, SAM])
def test_the_admin_pages_stop_themselves_for_other_roles(
    demo_url: str, email: str, page: str
) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.user = {"is_logged_in": True, "email": email}  # type: ignore[assignment]
    at.run()
    assert not at.exception
    assert "not available to your role" in _errors(at)
    assert not at.title
    assert not at.dataframe
    assert not at.get("download_button")


# --- The read functions and the administrator's services ------------------------------------


@pytest.fixture
def two_councils(sqlite_engine: Engine) -> dict[str, Any]:
    """An administrator of council A only; users in A, in B, and in both."""
    a, b = factories.organisation(sqlite_engine), factories.organisation(sqlite_engine)
    group_a = factories.staff_group(sqlite_engine, a, name="Housing")
    admin = factories.user(sqlite_engine, [a], role=Role.admin, email="admin@a.example")
    in_a = factories.user(
        sqlite_engine, [a], role=Role.staff, email="staff@a.example", staff_group_id=group_a
    )
    in_b = factories.user(sqlite_engine, [b], email="manager@b.example")
    both = factories.user(sqlite_engine, [a, b], email="both@example.org")
    return {
        "engine": sqlite_engine,
        "a": a,
        "b": b,
        "group_a": group_a,
        "viewer": factories.viewer(sqlite_engine, "admin@a.example"),
        "ids": {"admin": admin, "in_a": in_a, "in_b": in_b, "both": both},
    }


def test_user_table_lists_only_users_sharing_an_organisation_with_the_admin(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    with db.write_session(engine, actor=OTHER) as session:
        organisations.set_password(
            session=session,
            viewer=SYSTEM,
            user_id=two_councils["ids"]["both"],
            password=LONG_PASSWORD,
        )
    with db.read_session(engine) as session:
        table = read.admin.user_table(session=session, viewer=viewer).set_index("email")
        names = read.admin.organisation_names(session=session, viewer=viewer)
    assert set(table.index) == {"admin@a.example", "staff@a.example", "both@example.org"}
    a_name = names[two_councils["a"]]
    assert table.loc["both@example.org", "organisations"] == f"{a_name} (and 1 other)"
    assert table.loc["both@example.org", "organisation_ids"] == [two_councils["a"]]
    assert table.loc["both@example.org", "local_password"]
    assert not table.loc["staff@a.example", "local_password"]
    assert table.loc["staff@a.example", "staff_group"].endswith(": Housing")
    assert list(names) == [two_councils["a"]]


def test_an_admin_manages_only_users_and_groups_of_their_own_organisations(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    group_b = factories.staff_group(engine, two_councils["b"])
    with db.write_session(engine, actor=viewer.email) as session:
        with pytest.raises(PermissionDeniedError):
            organisations.change_user(
                session=session,
                viewer=viewer,
                user_id=two_councils["ids"]["in_b"],
                data=records.validated(UserUpdate, {"version": 1, "active": False}),
            )
        with pytest.raises(PermissionDeniedError):
            organisations.add_user(
                session=session,
                viewer=viewer,
                data=records.validated(
                    UserCreate, {"email": "x@b.example", "name": "X", "role": "manager"}
                ),
                organisation_ids=[two_councils["b"]],
            )
        with pytest.raises(PermissionDeniedError):
            organisations.delete_staff_group(
                session=session, viewer=viewer, staff_group_id=group_b, expected_version=1
            )
    manager = factories.viewer(engine, "manager@b.example")
    with db.write_session(engine, actor=manager.email) as session:
        with pytest.raises(PermissionDeniedError):
            organisations.add_organisation(
                session=session,
                viewer=manager,
                data=records.validated(OrganisationCreate, {"name": "Nope", "short_name": "NP"}),
            )


def test_an_admin_changes_only_users_wholly_within_their_organisations(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    ids = two_councils["ids"]
    with db.write_session(engine, actor=viewer.email) as session:
        with pytest.raises(DomainError, match="at least one organisation"):
            organisations.change_user_organisations(
                session=session, viewer=viewer, user_id=ids["in_a"], organisation_ids=[]
            )
    # A user who also works at council B is B's administrators' too: council A's alone cannot
    # change them, reset their password or take them off B.
    for change in (
        lambda s: organisations.change_user_organisations(
            session=s, viewer=viewer, user_id=ids["both"], organisation_ids=[two_councils["a"]]
        ),
        lambda s: organisations.reset_password(
            session=s, viewer=viewer, user_id=ids["both"], password=LONG_PASSWORD
        ),
        lambda s: organisations.change_user(
            session=s,
            viewer=viewer,
            user_id=ids["both"],
            data=records.validated(UserUpdate, {"version": 1, "active": False}),
        ),
    ):
        with pytest.raises(PermissionDeniedError, match="all yours to administer"):
            with db.write_session(engine, actor=viewer.email) as session:
                change(session)
    assert factories.viewer(engine, "both@example.org").organisation_ids == {
        two_councils["a"],
        two_councils["b"],
    }
    with db.read_session(engine) as session:
        table = read.admin.user_table(session=session, viewer=viewer).set_index("email")
    assert not table.loc["both@example.org", "administrable"]
    assert table.loc["staff@a.example", "administrable"]


def test_a_staff_user_needs_a_staff_group_and_stale_edits_are_refused(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    in_a = two_councils["ids"]["in_a"]
    with db.write_session(engine, actor=viewer.email) as session:
        with pytest.raises(DomainError, match="a staff user needs a staff group"):
            organisations.change_user(
                session=session,
                viewer=viewer,
                user_id=in_a,
                data=records.validated(UserUpdate, {"version": 1, "staff_group_id": None}),
            )
    with db.write_session(engine, actor=viewer.email) as session:
        with pytest.raises(ConflictError):
            organisations.change_user(
                session=session,
                viewer=viewer,
                user_id=in_a,
                data=records.validated(
                    UserUpdate,
                    {
                        "version": 7,
                    },
                ),
            )


def test_staff_group_table_counts_users_stakeholders_and_milestone_impacts(
    two_councils: dict[str, Any],
) -> None:
    engine = two_councils["engine"]
    pid = factories.programme(engine, two_councils["a"])
    factories.stakeholder(engine, pid, staff_group_id=two_councils["group_a"])
    factories.staff_group(engine, two_councils["a"], name="Unused")
    with db.read_session(engine) as session:
        table = read.admin.staff_group_table(session=session, organisation_id=two_councils["a"])
    counts = table.set_index("name")[["users", "stakeholders", "milestone_impacts"]]
    assert counts.loc["Housing"].tolist() == [1, 1, 0]
    assert counts.loc["Unused"].tolist() == [0, 0, 0]


def test_audit_count_and_events_filter_in_the_database(sqlite_engine: Engine) -> None:
    org = factories.organisation(sqlite_engine)
    with db.write_session(sqlite_engine, actor=OTHER) as session:
        organisations.create_staff_group(
            session=session,
            viewer=SYSTEM,
            data=records.validated(StaffGroupCreate, {"organisation_id": org, "name": "Aa"}),
        )
    today = clock.today()
    everything = read.admin.AuditFilter(since=today, until=today)
    by_other = read.admin.AuditFilter(since=today, until=today, actor=OTHER)
    about_org = read.admin.AuditFilter(
        since=today, until=today, record_type="organisation", record_id=str(org)
    )
    past = read.admin.AuditFilter(since=today - dt.timedelta(days=9), until=today - dt.timedelta(1))
    with db.read_session(sqlite_engine) as session:
        counts = [
            read.admin.audit_count(session=session, viewer=SYSTEM, where=where)
            for where in (everything, by_other, about_org, past)
        ]
        events = read.admin.audit_events(session=session, viewer=SYSTEM, where=by_other)
        with pytest.raises(DomainError):
            read.admin.audit_count(
                session=session,
                viewer=SYSTEM,
                where=read.admin.AuditFilter(since=today, until=past.since),
            )
    assert counts == [2, 1, 1, 0]
    assert events[0].changes.startswith("name: Aa; organisation id:")


def test_changes_text_reads_each_changed_field_and_never_shows_a_password_hash() -> None:
    before = json.dumps({"id": 3, "title": "Old", "version": 1, "password_hash": "$argon2id$a"})
    after = json.dumps({"id": 3, "title": "New", "version": 2, "password_hash": "$argon2id$b"})
    assert (
        read.admin.changes_text("update", before, after) == "password: replaced; title: Old → New"
    )
    created = read.admin.changes_text("create", None, after)
    assert created == "password: (set); title: New"
    assert "argon2" not in read.admin.changes_text("delete", before, None)
    erased = json.dumps({"records_changed": {"stakeholder": 1, "engagement": 2}})
    assert read.admin.changes_text("erase", None, erased).endswith(
        "3 records rewritten, 0 audit events redacted"
    )


def test_the_audit_csv_neutralises_cells_a_spreadsheet_would_run() -> None:
    at = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)
    events = [
        read.admin.AuditEntry(
            id=1,
            at=at,
            when="15 Jun 2026 10:00:00",
            actor="=cmd|'/c calc'!A1",
            action="Changed",
            record_type="milestone",
            record_id="-1",
            changes="@SUM(1)",
            redacted=False,
        )
    ]
    rows = list(csv.reader(io.StringIO(read.admin.audit_csv(events).decode("utf-8-sig"))))
    assert rows[1] == [
        "2026-06-15 10:00:00",
        "'=cmd|'/c calc'!A1",
        "Changed",
        "milestone",
        "'-1",
        "'@SUM(1)",
    ]


def test_retention_preview_flags_programmes_outside_the_admins_organisations(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    pid = factories.programme(
        engine,
        two_councils["b"],
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
    person = factories.stakeholder(engine, pid, name="Kept Person")
    with db.read_session(engine) as session:
        preview = read.admin.retention_preview(session=session, viewer=viewer, today=clock.today())
        code = session.get(Programme, pid)
    assert code is not None and preview.outside == (code.code,)
    assert preview.report.stakeholder_ids == (person,)
    with pytest.raises(PermissionDeniedError):
        read.admin.apply_retention(engine, viewer=viewer, today=clock.today())
    assert _count(engine, Stakeholder, Stakeholder.name == "Kept Person") == 1


def test_sign_in_attempts_of_people_outside_the_admins_organisations_are_not_shown(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    for email in ("staff@a.example", "manager@b.example", "both@example.org", "who@x.example"):
        _attempt(engine, email)
    today = clock.today()
    with db.read_session(engine) as session:
        shown = read.admin.sign_in_attempts(
            session=session, viewer=viewer, where=read.admin.SignInFilter(today, today)
        )
        count = read.admin.sign_in_count(
            session=session, viewer=viewer, where=read.admin.SignInFilter(today, today)
        )
    assert {a.email for a in shown} == {"staff@a.example", "both@example.org", "who@x.example"}
    assert count == 3
    assert {a.outcome for a in shown} == {"Signed in", "No such account"}
