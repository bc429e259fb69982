"""Signing in and out in a real browser, on an app that is not in demo mode (no demo accounts).

Single sign-on runs the whole OpenID Connect round trip: the app's st.login sends the browser to
a local provider (oidc-provider-mock, started as a subprocess with two users: Maya Manager's
address, and an address no user has), whose authorise page picks the user; the provider sends
the browser back to the app's /oauth2callback, and the app matches the e-mail to an active user.
Signing out ends the session and goes through the provider's end-session page back to the
sign-in screen. Local accounts type an e-mail address and the password an administrator set.

One provider and one app (its [auth] section in a secrets.toml of the test's own, passed with
`--secrets.files`) serve every test here; each test starts with no cookies, so signed out.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.browser.conftest import (
    RUN_TIMEOUT_MS,
    START_TIMEOUT_S,
    _free_port,
    _stop,
    app_database_url,
    open_page,
    running_app,
    wait_for_app,
)
from tests.factories import SYSTEM
from tracker import db, signin
from tracker.models import SignInAttempt, User, UserSession
from tracker.seed.demo import seed_demo
from tracker.services import organisations

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page
    from sqlalchemy.engine import Engine

pytestmark = pytest.mark.browser

MAYA = "maya.manager@demo.example"
LENA = "lena.leader@demo.example"
STRANGER = "stranger@elsewhere.example"
LENA_PASSWORD = "lena's local pass phrase"
# The provider's users: its authorise page offers one button per subject.
PROVIDER_USERS = [
    {"sub": "maya", "email": MAYA, "name": "Maya Manager"},
    {"sub": "stranger", "email": STRANGER, "name": "Somebody Else"},
]
SIGN_IN_HEADING = "Sign in to Change Tracker"
SSO_BUTTON = "Sign in with your organisation's account"


@dataclass(frozen=True)
class SignInApp:
    base: str  # the app
    provider: str  # the OpenID Connect provider
    database_url: str


def _wait_for_provider(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                pytest.fail(f"oidc-provider-mock did not start on {url}:\n{tail}", pytrace=False)
            time.sleep(0.2)


@pytest.fixture(scope="module")
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A context of this module's own, so the sign-on cookies never reach other tests' apps
    (cookies ignore the port)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(RUN_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(scope="module")
def app(context: BrowserContext, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInApp]:
    """The provider and the app, not in demo mode, on the demo data with a password for Lena."""
    folder = tmp_path_factory.mktemp("signin")
    provider = f"http://127.0.0.1:{_free_port()}"
    provider_log = folder / "oidc-provider.log"
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", provider.rsplit(":", 1)[1]]
    for claims in PROVIDER_USERS:
        command += ["--user-claims", json.dumps(claims)]
    with provider_log.open("wb") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, "NO_COLOR": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        port = _free_port()
        secrets_file = folder / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            # The provider accepts any client that has not registered, with any secret.
            'client_id = "change-tracker-tests"\n'
            'client_secret = "any-secret"\n'
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )

        def prepare(engine: Engine) -> None:
            seed_demo(engine)
            with db.write_session(engine, actor="tests") as session:
                lena = session.exec(select(User).where(User.email == LENA)).one()
                assert lena.id is not None
                organisations.set_password(
                    session=session, viewer=SYSTEM, user_id=lena.id, password=LENA_PASSWORD
                )

        with running_app(
            context,
            folder,
            prepare,
            port=port,
            env={"TRACKER_DEMO": None},
            args=["--secrets.files", str(secrets_file)],
        ) as base:
            # The provider has started meanwhile; the app asks it for its metadata only when
            # someone signs on.
            _wait_for_provider(provider, process, provider_log)
            yield SignInApp(base, provider, app_database_url(folder))
    finally:
        _stop(process)


@pytest.fixture
def tab(context: BrowserContext, app: SignInApp) -> Iterator[Page]:
    """A new tab with no cookies (so nobody signed in to the provider or the app), showing the
    app's sign-in screen."""
    from playwright.sync_api import expect

    context.clear_cookies()
    page = context.new_page()
    page.goto(app.base, wait_until="commit")
    wait_for_app(page)
    expect(page.locator("h1").first).to_have_text(SIGN_IN_HEADING)
    yield page
    page.close()


def _signed_in_as(page: Page, name: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Signed in as {name}")
    wait_for_app(page)


def _signed_out(page: Page) -> None:
    """The sign-in screen and nothing else: no one signed in, no navigation, no sidebar."""
    from playwright.sync_api import expect

    expect(page.locator("h1").first).to_have_text(SIGN_IN_HEADING)
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as")).to_have_count(0)
    expect(page.get_by_test_id("stTopNav")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_have_count(0)


def _sign_on_as(page: Page, app: SignInApp, subject: str) -> None:
    """Single sign-on: the app's button, then the provider's authorise page, as `subject`."""
    from playwright.sync_api import expect

    page.get_by_role("button", name=SSO_BUTTON).click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    assert page.url.startswith(f"{app.provider}/oauth2/authorize?")
    page.get_by_role("button", name=subject, exact=True).click()
    page.wait_for_url(f"{app.base}/**")
    wait_for_app(page)


def _end_provider_session(page: Page, app: SignInApp) -> None:
    """The provider's end-session page, which the app's sign-out leads to: confirm it."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="End Session")).to_be_visible()
    assert page.url.startswith(f"{app.provider}/oauth2/end_session?")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app.base}/**")
    wait_for_app(page)


def _sign_in_log(app: SignInApp, email: str) -> tuple[list[tuple[str, str]], list[UserSession]]:
    """(method, outcome) of every sign-in attempt for `email`, and its sessions, oldest first."""
    engine = db.make_engine(app.database_url)
    try:
        with db.read_session(engine) as session:
            attempts = session.execute(
                sa.select(SignInAttempt.method, SignInAttempt.outcome)
                .where(SignInAttempt.email == email)
                .order_by(SignInAttempt.id)
            ).all()
            sessions = session.exec(
                select(UserSession)
                .where(UserSession.email == email)
                .order_by(sa.asc(UserSession.started_at))
            ).all()
            for row in sessions:
                session.expunge(row)
        return [(str(method), str(outcome)) for method, outcome in attempts], list(sessions)
    finally:
        engine.dispose()


def _next_attempt(app: SignInApp, email: str, before: int) -> tuple[str, str]:
    """The sign-in attempt for `email` after the first `before`, once it has been recorded."""
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while True:
        attempts = _sign_in_log(app, email)[0]
        if len(attempts) > before:
            return attempts[before]
        assert time.monotonic() < deadline, f"no sign-in attempt recorded for {email}"
        time.sleep(0.1)


def test_single_sign_on_signs_in_the_matching_user_for_every_page_until_sign_out(
    tab: Page, app: SignInApp
) -> None:
    from playwright.sync_api import expect

    # Not in demo mode: no list of demo accounts to pick from.
    expect(tab.get_by_text("Demo accounts")).to_have_count(0)
    _sign_on_as(tab, app, "maya")
    _signed_in_as(tab, "Maya Manager")
    expect(tab.locator("h1").first).to_have_text("Portfolio")

    open_page(tab, "Programme dashboard")
    open_page(tab, "Milestones")
    _signed_in_as(tab, "Maya Manager")

    tab.get_by_role("button", name="Sign out", exact=True).click()
    _end_provider_session(tab, app)
    _signed_out(tab)
    # The identity cookie went with the session: a fresh load does not sign her in again.
    tab.reload(wait_until="commit")
    wait_for_app(tab)
    _signed_out(tab)

    attempts, sessions = _sign_in_log(app, MAYA)
    assert attempts == [("sso", "ok")]
    assert [(str(row.method), row.end_reason) for row in sessions] == [("sso", "signed_out")]


def test_single_sign_on_with_an_address_no_user_has_is_refused_and_shows_no_data(
    tab: Page, app: SignInApp
) -> None:
    from playwright.sync_api import expect

    _sign_on_as(tab, app, "stranger")
    _signed_out(tab)
    expect(tab.get_by_test_id("stAlert")).to_contain_text(signin.NO_ACCOUNT.format(email=STRANGER))
    expect(tab.get_by_test_id("stSidebar")).to_have_count(0)
    expect(tab.get_by_role("button", name=SSO_BUTTON)).to_have_count(0)
    attempts, sessions = _sign_in_log(app, STRANGER)
    assert (attempts, sessions) == ([("sso", "unknown_email")], [])

    # Ending the provider's sign-in too offers single sign-on again, for another account.
    tab.get_by_role("button", name="Sign out of single sign-on").click()
    _end_provider_session(tab, app)
    _signed_out(tab)
    expect(tab.get_by_role("button", name=SSO_BUTTON)).to_be_visible()


def _sign_in_locally(page: Page, email: str, password: str) -> None:
    page.get_by_role("textbox", name="E-mail address", exact=True).fill(email)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_a_local_account_signs_in_with_its_password(tab: Page, app: SignInApp) -> None:
    from playwright.sync_api import expect

    _sign_in_locally(tab, LENA, LENA_PASSWORD)
    _signed_in_as(tab, "Lena Leader")
    expect(tab.locator("h1").first).to_have_text("Portfolio")
    assert ("local", "ok") in _sign_in_log(app, LENA)[0]


def test_a_wrong_password_is_refused_with_the_same_message_as_an_unknown_address(
    tab: Page, app: SignInApp
) -> None:
    from playwright.sync_api import expect

    for email, password, outcome in [
        (LENA, "not lena's pass phrase", "wrong_password"),
        (STRANGER, LENA_PASSWORD, "unknown_email"),
    ]:
        before = len(_sign_in_log(app, email)[0])
        _sign_in_locally(tab, email, password)
        # The attempt is recorded before the refusal shows (which the second time is already
        # on screen from the first).
        assert _next_attempt(app, email, before) == ("local", outcome)
        expect(tab.get_by_test_id("stAlert")).to_contain_text(signin.REFUSED)
        _signed_out(tab)
