"""Admin: Users (pages/admin_users.py) in AppTest on the demo database: the users of the
administrator's organisations, adding a user, changing, deactivating and setting passwords."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.admin_screen import (
    ADA,
    LENA,
    LONG_PASSWORD,
    MAYA,
    OTHER,
    ROOT,
    SAM,
    USERS,
    click_button,
    count_rows,
    error_text,
    find_user,
    open_as,
    org_id_of,
    success_text,
    text_field,
)
from tests.factories import SYSTEM
from tests.screen import shown_all
from tracker import db, read
from tracker.models import (
    AuditEvent,
    Role,
    User,
    UserOrganisation,
)
from tracker.models.organisation import UserUpdate
from tracker.passwords import password_matches
from tracker.services import organisations, records


def test_users_page_lists_the_admins_users_with_password_set_or_not_and_never_the_hash(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    with db.write_session(demo_engine, actor=OTHER) as session:
        sam = session.exec(select(User).where(User.email == SAM)).one()
        assert sam.id is not None
        organisations.set_password(
            session=session, viewer=SYSTEM, user_id=sam.id, password=LONG_PASSWORD
        )
    at = open_as(app_as, USERS)
    assert at.title[0].value == "Users"
    shown = at.dataframe[0].value
    with db.read_session(demo_engine) as session:
        expected = read.admin.user_table(session=session, viewer=factories.viewer(demo_engine, ADA))
    assert list(shown["email"]) == [user.email for user in expected]
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
    ncc = org_id_of(demo_engine, "NCC")
    at = open_as(app_as, USERS)
    at.text_input(key="users_new_email").set_value("  New.Person@Council.example ")
    at.text_input(key="users_new_name").set_value("New Person")
    at.selectbox(key="users_new_role").set_value("manager")
    at.multiselect(key="users_new_orgs").set_value([ncc])
    at.text_input(key="users_new_password").set_value(LONG_PASSWORD)
    click_button(at, "Add user")
    assert not at.error, error_text(at)
    assert "Added new.person@council.example" in success_text(at)
    user = find_user(demo_engine, "new.person@council.example")
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
    before = count_rows(demo_engine, User)
    events = count_rows(demo_engine, AuditEvent)
    at = open_as(app_as, USERS)
    at.text_input(key="users_new_email").set_value(email)
    at.text_input(key="users_new_name").set_value("Someone")
    at.multiselect(key="users_new_orgs").set_value([org_id_of(demo_engine, "NCC")])
    at.text_input(key="users_new_password").set_value(password)
    click_button(at, "Add user")
    assert message in error_text(at)
    assert (count_rows(demo_engine, User), count_rows(demo_engine, AuditEvent)) == (before, events)
    assert at.text_input(key="users_new_email").value == email


def _choose_user(at: AppTest, engine: Engine, email: str) -> int:
    user = find_user(engine, email)
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
    at = open_as(app_as, USERS)
    uid = _choose_user(at, demo_engine, MAYA)
    at.checkbox(key=f"users_active_{uid}").uncheck()
    click_button(at, "Save user")
    saved = "Saved Maya Manager: active. The change applies from their next click."
    assert saved in success_text(at)
    user = find_user(demo_engine, MAYA)
    assert user is not None and not user.active

    app = _next_run(maya, "streamlit_app.py")
    assert app.title[0].value == "Sign in to Change Tracker"
    assert "Your account is no longer active." in "\n".join(shown_all(app.info))
    page = _next_run(maya, "pages/portfolio.py")
    assert "You are not signed in, or your account is not active." in error_text(page)
    assert not page.dataframe

    at.checkbox(key=f"users_active_{uid}").check()
    click_button(at, "Save user")
    assert app_as(MAYA).title[0].value == "Portfolio"


def test_an_admin_cannot_deactivate_themselves(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_as(app_as, USERS)
    uid = _choose_user(at, demo_engine, ADA)
    at.checkbox(key=f"users_active_{uid}").uncheck()
    click_button(at, "Save user")
    assert "Active: you cannot deactivate your own account" in error_text(at)
    user = find_user(demo_engine, ADA)
    assert user is not None and user.active and user.version == 1


def test_a_concurrent_edit_of_a_user_is_refused_and_the_draft_kept(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_as(app_as, USERS)
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
    click_button(at, "Save user")
    assert "Someone else saved this user after you opened it" in error_text(at)
    user = find_user(demo_engine, LENA)
    assert user is not None and (user.name, user.role) == ("Lena Leader-Ng", Role.leadership)
    assert at.text_input(key=f"users_name_{uid}").value == "Lena L. Leader"
    assert at.selectbox(key=f"users_role_{uid}").value == "manager"

    click_button(at, "Reload (discard my unsaved changes)")
    assert at.text_input(key=f"users_name_{uid}").value == "Lena Leader-Ng"


def test_changing_a_users_organisations_and_password(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    ncc, edc = org_id_of(demo_engine, "NCC"), org_id_of(demo_engine, "EDC")
    at = open_as(app_as, USERS)
    uid = _choose_user(at, demo_engine, MAYA)
    at.multiselect(key=f"users_orgs_{uid}").set_value([ncc, edc])
    click_button(at, "Save organisations")
    assert factories.viewer(demo_engine, MAYA).organisation_ids == {ncc, edc}

    text_field(at, "New password").set_value(LONG_PASSWORD)
    text_field(at, "The same password again").set_value(LONG_PASSWORD + "!")
    click_button(at, "Set password")
    assert "The two passwords differ" in error_text(at)
    text_field(at, "New password").set_value(LONG_PASSWORD)
    text_field(at, "The same password again").set_value(LONG_PASSWORD)
    click_button(at, "Set password")
    assert "Set a new password for Maya Manager." in success_text(at)
    user = find_user(demo_engine, MAYA)
    assert user is not None and password_matches(user.password_hash, LONG_PASSWORD)
    # The user form stands on the version the password moved it to: a save still works.
    at.text_input(key=f"users_name_{uid}").set_value("Maya Manager-Okafor")
    click_button(at, "Save user")
    assert not at.error, error_text(at)
    assert factories.viewer(demo_engine, MAYA).name == "Maya Manager-Okafor"
