"""Every demo user can open every page in their navigation in a real browser: the page shows its
heading and no error, and axe-core finds nothing serious or critical on it (on the programme
dashboard, in every view for the first demo user of each role).

The run also writes docs/accessibility.md: axe-core's findings of every impact, one row per role
and page (and programme dashboard view), plus the navigation. It is written at the end of the
session, and only when every page of every demo user was checked, so a partial run (`-k`, or a
page that failed to open) leaves the file as it was.

With TRACKER_SCREENSHOTS=1, a full-page screenshot of each page is saved for the first demo user
of each role, as docs/screenshots/<role>-<page>.png (CI leaves it unset, so the tree stays clean).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import (
    ROOT,
    VIEWS,
    axe_violations,
    choose_demo_user,
    choose_view,
    describe_violations,
    open_as,
    open_page,
    serious,
    wait_for_app,
)
from tracker.seed.demo import DEMO_USERS, DemoUser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "docs" / "screenshots"
REPORT = ROOT / "docs" / "accessibility.md"
DASHBOARD = "Programme dashboard"
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


# --- The accessibility table ----------------------------------------------------------------

IMPACTS = ("critical", "serious", "moderate", "minor")
NAVIGATION_ROW = "Top navigation"


@dataclass(frozen=True)
class Finding:
    """A rule axe-core found broken: its impact, and on how many elements (the most on any one
    user's page, when several users of a role share a row)."""

    impact: str
    elements: int


@dataclass
class AccessibilityLog:
    """axe-core's findings gathered over the session, by (role, page, view) and then by rule id.
    `finished` holds the tests that checked all their pages."""

    chromium: str
    axe_core: str = "unknown"
    rows: dict[tuple[str, str, str], dict[str, Finding]] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)

    def record(
        self, role: str, page: str, violations: list[dict[str, Any]], view: str = ""
    ) -> None:
        rules = self.rows.setdefault((role, page, view), {})
        for violation in violations:
            before = rules.get(violation["id"])
            rules[violation["id"]] = Finding(
                str(violation.get("impact") or "minor"),
                max(len(violation["nodes"]), before.elements if before else 0),
            )

    def _order(self) -> list[tuple[str, str, str]]:
        """Rows by role (as in DEMO_USERS), then page (as the navigation lists them, the
        navigation itself last), then view (as on the dashboard)."""
        roles = [user.role.value for user in FIRST_OF_EACH_ROLE]
        pages: dict[str, int] = {}
        for _role, page, _view in self.rows:
            pages.setdefault(page, len(pages))

        def key(row: tuple[str, str, str]) -> tuple[int, bool, int, int]:
            role, page, view = row
            return (
                roles.index(role) if role in roles else len(roles),
                page == NAVIGATION_ROW,
                pages[page],
                VIEWS.index(view) if view in VIEWS else -1,
            )

        return sorted(self.rows, key=key)

    def markdown(self, today: dt.date) -> str:
        """The table, and what produced it."""
        users = ", ".join(f"{user.name} ({user.role.value})" for user in DEMO_USERS)
        lines = [
            "# Accessibility: axe-core findings per page",
            "",
            "Generated by `tests/browser/test_smoke.py`: do not edit by hand. To regenerate, run",
            "`.venv/bin/pytest tests/browser/test_smoke.py` (the file is rewritten only when every",
            "page of every demo user was checked).",
            "",
            f"- Date: {today.isoformat()}",
            f"- Streamlit {metadata.version('streamlit')}, Chromium {self.chromium}, "
            f"axe-core {self.axe_core} (axe-playwright-python "
            f"{metadata.version('axe-playwright-python')})",
            f"- Data: the demo portfolio, seen by each demo user: {users}. A role's row joins "
            "what axe-core found for all its users. The programme dashboard is checked in every "
            "view for the first user of each role, on the first programme in their list, after "
            "choosing the view (so the view's button has the focus).",
            "- Each page is checked without Streamlit's top navigation, which has rows of its "
            f"own ({NAVIGATION_ROW}).",
            "- The counts are of rules broken, by impact; each rule names how many elements broke "
            "it. The suite fails on any serious or critical finding.",
            "",
            "| Role | Page | View | Critical | Serious | Moderate | Minor | Rules |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for key in self._order():
            rules = self.rows[key]
            counts = [sum(1 for found in rules.values() if found.impact == i) for i in IMPACTS]
            named = ", ".join(
                f"`{rule}` ({found.impact}, {found.elements} "
                f"{'element' if found.elements == 1 else 'elements'})"
                for rule, found in sorted(rules.items())
            )
            role, page, view = key
            cells = [role, page, view or "-", *map(str, counts), named or "none"]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


EXPECTED_TESTS = {*(f"user:{user.email}" for user in DEMO_USERS), "navigation"}


@pytest.fixture(scope="session")
def accessibility_log(browser: Browser) -> Iterator[AccessibilityLog]:
    """Collects axe-core's findings; at the end of the session writes docs/accessibility.md,
    when every test that feeds it checked all its pages."""
    log = AccessibilityLog(chromium=browser.version)
    yield log
    if log.finished >= EXPECTED_TESTS:
        REPORT.write_text(log.markdown(dt.date.today()), encoding="utf-8")


def check_page(
    page: Page, log: AccessibilityLog, user: DemoUser, label: str, view: str = ""
) -> list[str]:
    """Run axe-core on the page as it is now (without the navigation), log what it found, and
    say what was serious or critical.

    A serious finding is checked once more after the page has settled: a widget caught in the
    middle of drawing itself (seen once in CI: an empty multiselect's placeholder, greyed for a
    moment) is not what a user reads, while a real fault is found again."""
    violations = axe_violations(page, exclude=NAVIGATION)
    if serious(violations):
        page.wait_for_timeout(1000)
        wait_for_app(page)
        violations = axe_violations(page, exclude=NAVIGATION)
    if log.axe_core == "unknown":
        log.axe_core = str(page.evaluate("window.axe ? axe.version : 'unknown'"))
    log.record(user.role.value, label, violations, view)
    found = serious(violations)
    where = f"{label} ({view})" if view else label
    return [f"axe on {where} for {user.name}:\n{describe_violations(found)}"] if found else []


@pytest.mark.parametrize("user", DEMO_USERS, ids=user_id)
def test_every_page_in_the_navigation_opens_with_its_heading_no_error_and_no_axe_violation(
    page: Page, app_url: str, accessibility_log: AccessibilityLog, user: DemoUser
) -> None:
    open_as(page, app_url, user.email)
    labels = nav_labels(page)
    assert labels, f"{user.name} sees no pages in the navigation"
    first = user in FIRST_OF_EACH_ROLE
    screenshots = os.environ.get("TRACKER_SCREENSHOTS") == "1" and first
    problems: list[str] = []
    for label in labels:
        open_page(page, label)
        assert page.locator("h1").first.inner_text().strip() == label
        errors = page.get_by_test_id("stException")
        assert errors.count() == 0, (
            f"{label} shows {user.name} an error: {errors.all_inner_texts()}"
        )
        if screenshots:
            save_screenshot(page, SCREENSHOTS / f"{user.role.value}-{slug(label)}.png")
        if label != DASHBOARD:
            problems += check_page(page, accessibility_log, user, label)
            continue
        for number, view in enumerate(VIEWS if first else VIEWS[:1]):
            if number:  # the dashboard opens on the first view
                choose_view(page, view)
                assert page.get_by_test_id("stException").count() == 0, (
                    f"{label} ({view}) shows {user.name} an error"
                )
            problems += check_page(page, accessibility_log, user, label, view)
    accessibility_log.finished.add(f"user:{user.email}")
    assert not problems, "\n".join(problems)


def test_navigation_has_no_serious_accessibility_violations_for_any_role(
    page: Page, app_url: str, accessibility_log: AccessibilityLog
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for number, user in enumerate(FIRST_OF_EACH_ROLE):
        if number == 0:
            open_as(page, app_url, user.email)
        else:
            choose_demo_user(page, user.email)
        violations = axe_violations(page, include=NAVIGATION)
        accessibility_log.record(user.role.value, NAVIGATION_ROW, violations)
        found[user.role.value] = serious(violations)
    accessibility_log.finished.add("navigation")
    assert not any(found.values()), "axe on the navigation:\n" + "\n".join(
        f"{role}: {describe_violations(violations)}" for role, violations in found.items()
    )
