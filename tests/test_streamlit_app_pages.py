"""The app shell and its pages, driven with Streamlit's AppTest on a seeded demo database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tracker import clock, db, read
from tracker.access import load_viewer
from tracker.models import Role
from tracker.safe_text import plain_text
from tracker.seed.demo import DEMO_USERS

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
PAGES_BY_ROLE = {
    Role.admin: ["pages/portfolio.py", "pages/programme.py"],
    Role.manager: ["pages/portfolio.py", "pages/programme.py"],
    Role.leadership: ["pages/portfolio.py", "pages/programme.py"],
    Role.staff: ["pages/staff_changes.py", "pages/staff_news.py"],
}
ALL_PAGES = sorted({page for pages in PAGES_BY_ROLE.values() for page in pages})


def _demo_user(role: Role) -> str:
    return next(user.email for user in DEMO_USERS if user.role is role)


@pytest.mark.parametrize("email", [user.email for user in DEMO_USERS])
def test_every_page_in_the_navigation_runs_for_every_demo_user(
    app_as: Callable[[str], AppTest], email: str
) -> None:
    role = next(user.role for user in DEMO_USERS if user.email == email)
    at = app_as(email)
    for page in PAGES_BY_ROLE[role]:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert at.title, f"{page} shows no title for {email}"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_pages_outside_a_role_navigation_cannot_be_opened(
    app_as: Callable[[str], AppTest], page: str
) -> None:
    at = app_as(_demo_user(Role.staff))
    if page in PAGES_BY_ROLE[Role.staff]:
        at.switch_page(page).run()
        assert not at.exception
    else:
        with pytest.raises(ValueError):
            at.switch_page(page).run()


def test_programme_link_opens_the_named_programme(
    app_as: Callable[[str], AppTest], demo_url: str
) -> None:
    at = app_as(_demo_user(Role.manager))
    at.switch_page("pages/programme.py")
    rows = _portfolio_for(demo_url, _demo_user(Role.manager))
    last = rows.iloc[-1]
    at.query_params["programme"] = last["code"]
    at.run()
    assert not at.exception
    assert at.header[0].value == plain_text(last["title"])
    assert [s.value for s in at.markdown if s.value.startswith("#### ")][0].startswith("#### 1. ")


def test_unknown_programme_in_the_link_shows_a_message_and_the_first_programme(
    app_as: Callable[[str], AppTest], demo_url: str
) -> None:
    at = app_as(_demo_user(Role.manager))
    at.switch_page("pages/programme.py")
    at.query_params["programme"] = "<script>NOPE"
    at.run()
    assert not at.exception
    assert "does not exist or is not yours" in at.warning[0].value
    first = _portfolio_for(demo_url, _demo_user(Role.manager)).iloc[0]
    assert at.header[0].value == plain_text(first["title"])


def test_staff_see_the_journey_without_stakeholder_figures(
    app_as: Callable[[str], AppTest],
) -> None:
    # Staff land on their own page (tests/test_page_staff_changes.py covers it in depth).
    at = app_as(_demo_user(Role.staff))
    assert at.title[0].value == "What changes for me"
    assert "Stance index" not in [metric.label for metric in at.metric]
    stages = next(table.value for table in at.table if "Where we are" in table.value.columns)
    assert len(stages) == 6


def test_without_demo_mode_the_sign_in_screen_lists_no_demo_accounts(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRACKER_DEMO")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Sign in to Change Tracker"
    assert not [header for header in at.subheader if header.value == "Demo accounts"]
    assert not [button for button in at.button if button.key.startswith("signin_demo_")]

    at = AppTest.from_file(APP, default_timeout=60)
    at.user = {"is_logged_in": True, "email": _demo_user(Role.leadership)}  # type: ignore[assignment]
    at.run()
    assert not at.exception
    assert at.title[0].value == "Portfolio"


def _portfolio_for(url: str, email: str):  # type: ignore[no-untyped-def]
    engine = db.make_engine(url)
    with db.read_session(engine) as session:
        viewer = load_viewer(session, email=email)
        assert viewer is not None
        return read.portfolio.portfolio(session=session, viewer=viewer, today=clock.today())
