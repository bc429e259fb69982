"""The front door (streamlit_app.py): the navigation each role is offered. Only administrators
find the Admin pages there, and each Admin page refuses anyone else by itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.admin_screen import ADA, ADMIN_TITLES, LENA, MAYA, PAGES, ROOT, SAM, error_text
from tests.screen import navigation


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
    assert "not available to your role" in error_text(at)
    assert not at.title
    assert not at.dataframe
    assert not at.get("download_button")
