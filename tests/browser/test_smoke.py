"""Every demo user can open every page in their navigation in a real browser: the page shows its
heading and no error, and axe-core finds nothing serious or critical on it.

With TRACKER_SCREENSHOTS=1, a full-page screenshot of each page is saved for the first demo user
of each role, as docs/screenshots/<role>-<page>.png (CI leaves it unset, so the tree stays clean).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import (
    ROOT,
    RUN_TIMEOUT_MS,
    axe_results,
    choose_demo_user,
    describe_violations,
    open_as,
    wait_for_app,
)
from tracker.demo import DEMO_USERS, DemoUser

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "docs" / "screenshots"
FIRST_OF_EACH_ROLE = list({user.role: user for user in reversed(DEMO_USERS)}.values())[::-1]
# Streamlit's own page navigation, checked on its own so a known fault there cannot hide one
# on the pages.
NAVIGATION = '[data-testid="stTopNav"]'


def user_id(user: DemoUser) -> str:
    return user.email.split("@")[0]


def nav_labels(page: Page) -> list[str]:
    """The page names in the top navigation, in order (without their icons): plain links, and
    the links inside each group's menu."""
    texts = page.get_by_test_id("stTopNavLink").all_inner_texts()
    for section in page.get_by_test_id("stTopNavSection").all():
        section.click()
        texts += page.get_by_test_id("stTopNavDropdownLink").all_inner_texts()
        page.keyboard.press("Escape")
    # A link's text starts with its icon's ligature name ("dashboard"); the label is last.
    return [text.strip().splitlines()[-1].strip() for text in texts if text.strip()]


def open_page(page: Page, label: str) -> None:
    """Follow the navigation link `label` (opening its group's menu if need be) and wait until
    its page has run."""
    from playwright.sync_api import expect

    direct = page.get_by_test_id("stTopNavLink").filter(has_text=label)
    if direct.count():
        direct.first.click()
    else:
        for section in page.get_by_test_id("stTopNavSection").all():
            section.click()
            link = page.get_by_test_id("stTopNavDropdownLink").filter(has_text=label)
            if link.count():
                link.first.click()
                break
            page.keyboard.press("Escape")
    expect(page.locator("h1").first).to_have_text(label, timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)


def save_screenshot(page: Page, path: Path) -> None:
    """The whole page, not just the window: Streamlit scrolls inside its main block, so the
    window is made as tall as the content first."""
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
    )
    size = page.viewport_size or {"width": 1366, "height": 900}
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height))})
    wait_for_app(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


@pytest.mark.parametrize("user", DEMO_USERS, ids=user_id)
def test_every_page_in_the_navigation_opens_with_its_heading_no_error_and_no_axe_violation(
    page: Page, app_url: str, user: DemoUser
) -> None:
    open_as(page, app_url, user.email)
    labels = nav_labels(page)
    assert labels, f"{user.name} sees no pages in the navigation"
    screenshots = os.environ.get("TRACKER_SCREENSHOTS") == "1" and user in FIRST_OF_EACH_ROLE
    for label in labels:
        open_page(page, label)
        assert page.locator("h1").first.inner_text().strip() == label
        errors = page.get_by_test_id("stException")
        assert errors.count() == 0, (
            f"{label} shows {user.name} an error: {errors.all_inner_texts()}"
        )
        if screenshots:
            save_screenshot(page, SCREENSHOTS / f"{user.role.value}-{slug(label)}.png")
        violations = axe_results(page, exclude=NAVIGATION)
        assert not violations, f"axe on {label} for {user.name}:\n{describe_violations(violations)}"


def test_navigation_has_no_serious_accessibility_violations_for_any_role(
    page: Page, app_url: str
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for number, user in enumerate(FIRST_OF_EACH_ROLE):
        if number == 0:
            open_as(page, app_url, user.email)
        else:
            choose_demo_user(page, user.email)
        found[user.role.value] = axe_results(page, include=NAVIGATION)
    assert not any(found.values()), "axe on the navigation:\n" + "\n".join(
        f"{role}: {describe_violations(violations)}" for role, violations in found.items()
    )
