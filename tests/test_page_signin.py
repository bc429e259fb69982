"""The sign-in screen and sessions in the app (AppTest on the demo portfolio): demo accounts,
local passwords, single sign-on e-mails, sign-out, and sessions that end (RELIABILITY.md #17)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, sign_in
from tests.factories import SYSTEM
from tests.screen import shown_all
from tracker import db
from tracker.models import SignInAttempt, User, UserSession
from tracker.models.organisation import UserUpdate
from tracker.services import organisations, records

MAYA = "maya.manager@demo.example"
PASSWORD = "a long enough passphrase"


def _signed_out(at: AppTest) -> bool:
    """After the first run AppTest reruns only the page, which stops at its own check: in the
    browser the entry file runs too and shows the sign-in screen with the reason."""
    return (
        "You are not signed in, or your account is not active." in shown_all(at.error)
        and not at.dataframe
        and not at.metric
    )


def _ended(engine: Engine) -> list[str | None]:
    with db.read_session(engine) as session:
        return list(session.execute(sa.select(UserSession.end_reason)).scalars())


def _fresh() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _outcomes(engine: Engine) -> list[str]:
    with db.read_session(engine) as session:
        rows = session.exec(select(SignInAttempt).order_by(SignInAttempt.id)).all()
        return [f"{row.method}:{row.outcome}" for row in rows]


def _set_password(engine: Engine, email: str) -> None:
    with db.write_session(engine, actor="admin@example.org") as session:
        user = session.exec(select(User).where(User.email == email)).one()
        organisations.set_password(
            session=session, viewer=SYSTEM, user_id=user.id or 0, password=PASSWORD
        )


def _deactivate(engine: Engine, email: str) -> None:
    with db.write_session(engine, actor="admin@example.org") as session:
        user = session.exec(select(User).where(User.email == email)).one()
        organisations.update_user(
            session=session,
            viewer=SYSTEM,
            user_id=user.id or 0,
            data=records.validated(UserUpdate, {"version": user.version, "active": False}),
        )


def test_nobody_signed_in_sees_the_sign_in_screen_and_no_data(demo_url: str) -> None:
    at = _fresh()
    assert at.title[0].value == "Sign in to Change Tracker"
    assert not at.dataframe and not at.metric
    assert [b.label for b in at.button if b.key.startswith("signin_demo_")][:2] == [
        "Sign in as Ada Admin",
        "Sign in as Maya Manager",
    ]


def test_a_demo_account_signs_in_with_one_click_and_signs_out_again(
    demo_url: str, demo_engine: Engine
) -> None:
    at = _fresh()
    at.button(key=f"signin_demo_{MAYA}").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Portfolio"
    assert any("Signed in as **Maya Manager**" in c.value for c in at.sidebar.caption)
    at.button(key="signout").click().run()
    assert _signed_out(at)
    assert _outcomes(demo_engine) == ["demo:ok"]
    with db.read_session(demo_engine) as session:
        ended = session.exec(select(UserSession)).one()
    assert ended.end_reason == "signed_out"


def test_a_local_account_signs_in_with_its_password(demo_url: str, demo_engine: Engine) -> None:
    _set_password(demo_engine, MAYA)
    at = _fresh()
    at.text_input(key="signin_email").input(MAYA)
    at.text_input(key="signin_password").input(PASSWORD)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Portfolio"
    assert _outcomes(demo_engine) == ["local:ok"]


@pytest.mark.parametrize(
    ("email", "password", "outcome"),
    [
        (MAYA, "not the password at all", "local:wrong_password"),
        ("nobody@demo.example", PASSWORD, "local:unknown_email"),
    ],
)
def test_a_wrong_password_or_unknown_address_gets_one_message_and_is_recorded(
    demo_url: str, demo_engine: Engine, email: str, password: str, outcome: str
) -> None:
    _set_password(demo_engine, MAYA)
    at = _fresh()
    at.text_input(key="signin_email").input(email)
    at.text_input(key="signin_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert shown_all(at.error) == [
        "That e-mail address and password do not match an active account."
    ]
    assert at.title[0].value == "Sign in to Change Tracker"
    assert _outcomes(demo_engine) == [outcome]


def test_a_deactivated_account_cannot_sign_in_by_password(
    demo_url: str, demo_engine: Engine
) -> None:
    _set_password(demo_engine, MAYA)
    _deactivate(demo_engine, MAYA)
    at = _fresh()
    at.text_input(key="signin_email").input(MAYA)
    at.text_input(key="signin_password").input(PASSWORD)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert at.title[0].value == "Sign in to Change Tracker"
    assert _outcomes(demo_engine) == ["local:deactivated"]


def test_single_sign_on_with_an_unknown_address_shows_no_data_and_is_recorded(
    demo_url: str, demo_engine: Engine
) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, "stranger@elsewhere.example")
    at.run()
    assert at.title[0].value == "Sign in to Change Tracker"
    assert any("no active Change Tracker account" in text for text in shown_all(at.info))
    assert not at.dataframe
    at.run()  # a rerun does not record the same refusal twice
    assert _outcomes(demo_engine) == ["sso:unknown_email"]


def test_deactivating_a_signed_in_user_signs_them_out_on_their_next_click(
    app_as: object, demo_engine: Engine
) -> None:
    at = app_as(MAYA)  # type: ignore[operator]
    assert at.title[0].value == "Portfolio"
    _deactivate(demo_engine, MAYA)
    at.run()
    assert _signed_out(at)
    assert _ended(demo_engine) == ["deactivated"]


def test_an_idle_session_is_ended_and_the_person_signed_out(
    app_as: object, monkeypatch: pytest.MonkeyPatch, demo_engine: Engine
) -> None:
    at = app_as(MAYA)  # type: ignore[operator]
    assert at.title[0].value == "Portfolio"
    # Any gap is now longer than the idle limit.
    monkeypatch.setenv("TRACKER_IDLE_MINUTES", "0.00001")
    at.run()
    assert _signed_out(at)
    assert _ended(demo_engine) == ["idle_timeout"]


def test_a_session_past_its_time_limit_is_ended(
    app_as: object, monkeypatch: pytest.MonkeyPatch, demo_engine: Engine
) -> None:
    at = app_as(MAYA)  # type: ignore[operator]
    monkeypatch.setenv("TRACKER_SESSION_HOURS", "0.0000001")
    at.run()
    assert _signed_out(at)
    assert _ended(demo_engine) == ["absolute_timeout"]


def test_the_sign_in_screen_says_why_a_session_ended(
    demo_url: str, demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _fresh()
    at.button(key=f"signin_demo_{MAYA}").click().run()
    assert at.title[0].value == "Portfolio"
    monkeypatch.setenv("TRACKER_IDLE_MINUTES", "0.00001")
    # Run the entry file afresh with this tab's session state, as the browser's rerun does.
    token = at.session_state["signin_token"]
    again = AppTest.from_file(APP, default_timeout=60)
    again.session_state["signin_token"] = token
    again.run()
    assert again.title[0].value == "Sign in to Change Tracker"
    assert any("period of inactivity" in text for text in shown_all(again.info))


def test_a_tampered_session_token_is_refused(app_as: object) -> None:
    at = app_as(MAYA)  # type: ignore[operator]
    again = AppTest.from_file(APP, default_timeout=60)
    again.session_state["signin_token"] = at.session_state["signin_token"] + "x"
    again.run()
    assert again.title[0].value == "Sign in to Change Tracker"
    assert any("not recognised" in text for text in shown_all(again.info))


def test_a_single_sign_on_older_than_the_time_limit_shows_no_page(
    demo_url: str, demo_engine: Engine
) -> None:
    import time

    at = AppTest.from_file(APP, default_timeout=60)
    # The provider signed Maya in 13 hours ago; its cookie would still vouch for her.
    at.user = {"is_logged_in": True, "email": MAYA, "iat": int(time.time()) - 13 * 3600}
    at.run()
    assert at.title[0].value == "Sign in to Change Tracker"
    assert any("time limit" in text for text in shown_all(at.info))
    assert not at.dataframe and not at.metric
    assert _ended(demo_engine) == ["absolute_timeout"]
