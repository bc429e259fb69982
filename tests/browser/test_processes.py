"""Two `streamlit run` processes on one PostgreSQL database, as the app runs behind a load
balancer: a save made through process A shows in process B on B's next rerun, although B had
already read (and cached) the old value. The cached loaders key on the data version
(pages/_common.py), read from the database on every rerun, so a save in any process must move it.

Each process gets its own browser context (cookies ignore the port, so one context would share
Streamlit's session cookie between the two).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlmodel import select

from tests.browser.conftest import (
    RUN_TIMEOUT_MS,
    _require_browser,
    choose_view,
    open_as,
    running_app,
    wait_for_app,
)
from tests.conftest import (
    NO_POSTGRES,
    POSTGRES_URL,
    _create_postgres_database,
    _drop_postgres_database,
    _postgres_url,
)
from tracker import db
from tracker.models import Programme
from tracker.seed.demo import seed_demo

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page
    from sqlalchemy.engine import Engine

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

MANAGER = "maya.manager@demo.example"
CODE = "NCC-ASC-ONLINE"
OLD_SPONSOR = "Dr Miriam Achebe, Director of Adult Social Services"
NEW_SPONSOR = "Priya Natarajan, Interim Director of Adult Social Services"


@pytest.fixture
def demo_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, migrated and seeded with the demo portfolio, dropped
    afterwards (with the servers' connections still open: WITH (FORCE))."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    _require_browser()  # before the seconds spent seeding
    name = _create_postgres_database()
    try:
        url = _postgres_url(name)
        engine = db.make_engine(url)
        try:
            db.migrate(engine)
            seed_demo(engine)
        finally:
            engine.dispose()
        yield url
    finally:
        _drop_postgres_database(name)


@pytest.fixture
def contexts(
    demo_postgres_url: str, request: pytest.FixtureRequest
) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """Two separate browser contexts (requested after the database, so a missing PostgreSQL
    skips before Chromium is launched)."""
    browser: Browser = request.getfixturevalue("browser")
    made = [
        browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
        for _ in range(2)
    ]
    for context in made:
        context.set_default_timeout(RUN_TIMEOUT_MS)
    try:
        yield made[0], made[1]
    finally:
        for context in made:
            context.close()


def _leave_the_database_alone(_engine: Engine) -> None:
    """running_app fills its own SQLite file; these servers use PostgreSQL instead."""


def _sponsor_line(page: Page) -> Locator:
    """The dashboard's line under the programme's title: owner, status, sponsor, dates."""
    return page.get_by_test_id("stMarkdown").filter(has_text="senior responsible owner").first


def _sponsor_in_database(url: str) -> str | None:
    engine = db.make_engine(url)
    try:
        with db.read_session(engine) as session:
            programme = session.exec(select(Programme).where(Programme.code == CODE)).one()
            return programme.sponsor
    finally:
        engine.dispose()


def test_a_save_in_one_process_shows_in_another_on_its_next_rerun(
    contexts: tuple[BrowserContext, BrowserContext],
    demo_postgres_url: str,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    context_a, context_b = contexts
    env = {"DATABASE_URL": demo_postgres_url}
    folders = {name: tmp_path / name for name in ("a", "b")}
    for folder in folders.values():
        folder.mkdir()
    with contextlib.ExitStack() as servers:
        base_a = servers.enter_context(
            running_app(context_a, folders["a"], _leave_the_database_alone, env=env)
        )
        base_b = servers.enter_context(
            running_app(context_b, folders["b"], _leave_the_database_alone, env=env)
        )
        assert base_a != base_b

        # B: the programme dashboard, read (and cached) in process B. A second run of the page
        # (another view) is served from B's cache, and still shows the old sponsor.
        page_b = context_b.new_page()
        open_as(page_b, base_b, MANAGER, f"programme?programme={CODE}")
        expect(page_b.locator("h1").first).to_have_text("Programme dashboard")
        expect(page_b).to_have_url(re.compile(rf"[?&]programme={CODE}(&|$)"))
        expect(_sponsor_line(page_b)).to_contain_text(f"senior responsible owner {OLD_SPONSOR}")
        choose_view(page_b, "Milestones")
        expect(_sponsor_line(page_b)).to_contain_text(f"senior responsible owner {OLD_SPONSOR}")

        # A: the manager changes the sponsor on Programme details, in process A.
        page_a = context_a.new_page()
        open_as(page_a, base_a, MANAGER, f"manage-programme?programme={CODE}")
        expect(page_a.locator("h1").first).to_have_text("Programme details")
        sponsor = page_a.get_by_role(
            "textbox", name="Senior responsible owner (sponsor)", exact=True
        )
        expect(sponsor).to_have_value(OLD_SPONSOR)
        sponsor.fill(NEW_SPONSOR)
        page_a.get_by_role("button", name="Save programme details").click()
        expect(page_a.get_by_test_id("stAlertContentSuccess")).to_contain_text(
            "Saved programme details: senior responsible owner."
        )
        wait_for_app(page_a)
        assert _sponsor_in_database(demo_postgres_url) == NEW_SPONSOR

        # B: the next rerun (another view, no reload, so the session and its sign-in stay)
        # shows the new sponsor: the save in process A invalidated process B's cached read.
        choose_view(page_b, "People")
        expect(
            _sponsor_line(page_b),
            "process B still shows what it cached before process A's save",
        ).to_contain_text(f"senior responsible owner {NEW_SPONSOR}")
        expect(_sponsor_line(page_b)).not_to_contain_text(OLD_SPONSOR)
