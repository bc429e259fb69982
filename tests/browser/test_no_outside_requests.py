"""Pages make no request outside the installation (security issue item 6).

A server of its own runs the demo, plus a published narrative for everyone on NCC-ASC-ONLINE and
the same text as the narrative of each of its stages: a remote image (a tracking pixel), a remote
"sign in again" link and a data: image. A fresh browser context (no cache) logs every request
and WebSocket of every tab while one tab tours every page of every role: each page an
administrator's navigation offers, the programme dashboard's views of that programme for
leadership, staff News and What changes, and a manager's Narratives and Stages pages with the
narrative open. The tests read what the tour saw.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import select

from tests.browser.conftest import (
    RUN_TIMEOUT_MS,
    VIEWS,
    choose_view,
    open_as,
    open_page,
    running_app,
    wait_for_app,
)
from tracker import clock, db
from tracker.models import (
    Audience,
    Narrative,
    NarrativeBase,
    NarrativeStatus,
    Programme,
    StageRecord,
    StageRecordBase,
)
from tracker.seed.demo import seed_demo
from tracker.services import records

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page
    from sqlalchemy.engine import Engine

pytestmark = pytest.mark.browser

CODE = "NCC-ASC-ONLINE"  # a county programme: Lena leads it, Maya manages it, Sam reads it
TITLE = "Outside world test"
MARKER = "OUTSIDE-MARKER please read this"
REMOTE_IMAGE = "https://tracker.example.net/pixel.png"
REMOTE_LINK = "https://phish.example.org/sign-in"
DATA_IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
BODY = (
    f"{MARKER}.\n\n![pixel]({REMOTE_IMAGE})\n\n[Sign in again]({REMOTE_LINK})\n\n"
    f"![embedded]({DATA_IMAGE})\n"
)
ADMIN = "ada.admin@demo.example"
LEADER = "lena.leader@demo.example"
MANAGER = "maya.manager@demo.example"
STAFF = "sam.staff@demo.example"


def publish_payload(engine: Engine) -> None:
    """The narrative, published today for everyone, and the same text on every stage."""
    with db.write_session(engine, actor="outside@test.example") as session:
        programme = session.exec(select(Programme).where(Programme.code == CODE)).one()
        data = {
            "programme_id": programme.id,
            "title": TITLE,
            "body": BODY,
            "audience": Audience.everyone,
            "status": NarrativeStatus.published,
            "published_on": clock.today(),
            "author": "Outside test",
        }
        records.create(session, Narrative, NarrativeBase, data)
        stages = select(StageRecord).where(StageRecord.programme_id == programme.id)
        for stage in session.exec(stages).all():
            records.update(
                session,
                StageRecord,
                StageRecordBase,
                stage.id,
                expected_version=stage.version,
                changes={"narrative": BODY},
            )


# --- The tour --------------------------------------------------------------------------------

# What a look at a page records: images and links in Markdown, and the page's text.
_LOOK = r"""
() => {
    const markdown = [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')];
    const images = markdown.flatMap((block) => [...block.querySelectorAll('img')])
        .map((image) => image.getAttribute('src') || '');
    const links = markdown.flatMap((block) => [...block.querySelectorAll('a[href]')])
        .map((link) => ({
            href: link.getAttribute('href') || '',
            rel: link.getAttribute('rel') || '',
            target: link.getAttribute('target') || '',
            text: (link.textContent || '').trim(),
        }));
    const loaded = [...document.images].map((image) => image.currentSrc || image.src);
    return {images, links, loaded, text: document.body.innerText};
}
"""


@dataclass
class Look:
    where: str
    images: list[str]
    links: list[dict[str, str]]
    loaded: list[str]
    text: str


@dataclass
class Tour:
    base: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (url, page it came from)
    looks: list[Look] = field(default_factory=list)

    def look(self, page: Page, where: str) -> None:
        # Images are fetched after the run that shows them: give any request time to start.
        page.wait_for_timeout(400)
        found: dict[str, Any] = page.evaluate(_LOOK)
        self.looks.append(
            Look(where, found["images"], found["links"], found["loaded"], found["text"])
        )

    def seen(self, where: str) -> list[Look]:
        looks = [look for look in self.looks if look.where.startswith(where)]
        assert looks, f"the tour never looked at {where}"
        return looks


def _navigation_labels(page: Page) -> list[str]:
    """Every page the navigation offers the signed-in person, by its label."""
    labels = [_label(link) for link in page.get_by_test_id("stTopNavLink").all()]
    for section in page.get_by_test_id("stTopNavSection").all():
        section.click()
        links = page.get_by_test_id("stTopNavDropdownLink")
        links.first.wait_for(state="visible")
        labels += [_label(link) for link in links.all()]
        page.keyboard.press("Escape")
    return [label for label in labels if label]


def _label(link: Any) -> str:
    """A navigation link's label: its text after the icon (whose name is its text)."""
    return str(link.inner_text()).strip().split("\n")[-1].strip()


def _open_narrative(page: Page) -> None:
    """On the manager's Narratives page: open the payload narrative in the editor."""
    chooser = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(
        has_text="Write or edit"
    )
    chooser.scroll_into_view_if_needed()
    chooser.click()
    page.get_by_role("option").filter(has_text=TITLE).first.click()
    page.get_by_text(MARKER).first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)


def _tour(tour: Tour, page: Page) -> None:
    # Every page of the administrator's navigation (leadership, manage and admin pages).
    open_as(page, tour.base, ADMIN)
    for label in _navigation_labels(page):
        open_page(page, label)
        tour.look(page, f"admin: {label}")
    # Leadership: the portfolio, and every view of the programme's dashboard.
    open_as(page, tour.base, LEADER)
    open_page(page, "Portfolio")
    tour.look(page, "leadership: Portfolio")
    open_as(page, tour.base, LEADER, f"programme?programme={CODE}")
    for view in VIEWS:
        choose_view(page, view)
        tour.look(page, f"leadership: Programme dashboard, {view}")
    # Staff: What changes (the programme's stage narratives) and News.
    open_as(page, tour.base, STAFF, f"changes?programme={CODE}")
    tour.look(page, "staff: What changes for me")
    open_page(page, "News and updates")
    tour.look(page, "staff: News and updates")
    # A manager: the narrative's preview, and the stage narrative's.
    open_as(page, tour.base, MANAGER, f"manage-narratives?programme={CODE}")
    _open_narrative(page)
    tour.look(page, "manager: Narratives")
    open_as(page, tour.base, MANAGER, f"manage-stages?programme={CODE}")
    tour.look(page, "manager: Stages")
    page.wait_for_timeout(1000)


@pytest.fixture(scope="module")
def tour(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    context: BrowserContext = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(RUN_TIMEOUT_MS)
    requests: list[tuple[str, str]] = []
    # From the first visit on (running_app's warm-up tab included), every tab's requests.
    context.on("request", lambda request: requests.append((request.url, _page_of(request))))
    context.on(
        "page",
        lambda tab: tab.on("websocket", lambda socket: requests.append((socket.url, tab.url))),
    )
    try:
        with running_app(context, tmp_path_factory.mktemp("outside"), _prepare) as base:
            found = Tour(base, requests)
            _tour(found, context.new_page())
            yield found
    finally:
        context.close()


def _page_of(request: Any) -> str:
    try:
        return str(request.frame.url)
    except Exception:  # a request of a service worker has no frame
        return "(no page)"


def _prepare(engine: Engine) -> None:
    seed_demo(engine)
    publish_payload(engine)


def _outside(url: str, base: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return False
    return parts.netloc != urllib.parse.urlsplit(base).netloc


# --- The tests -------------------------------------------------------------------------------


def test_no_page_requests_anything_outside_the_installation(tour: Tour) -> None:
    assert len(tour.requests) > 50, "the tour logged almost no requests: is logging working?"
    outside = sorted(
        {f"{url} (from {where})" for url, where in tour.requests if _outside(url, tour.base)}
    )
    assert not outside, "requests outside the installation:\n" + "\n".join(outside)


def test_the_tour_saw_the_narrative_wherever_it_is_shown(tour: Tour) -> None:
    for where in (
        "leadership: Programme dashboard, Journey",
        "leadership: Programme dashboard, Narrative",
        "staff: What changes for me",
        "staff: News and updates",
        "manager: Narratives",
        "manager: Stages",
    ):
        assert any(MARKER in look.text for look in tour.seen(where)), f"{where} did not show it"
    assert len({look.where for look in tour.looks if look.where.startswith("admin: ")}) >= 15


def test_remote_and_data_images_are_not_images_and_the_remote_one_is_named(tour: Tour) -> None:
    requested = [url for url, _ in tour.requests]
    assert REMOTE_IMAGE not in requested
    for look in tour.looks:
        assert not [src for src in look.images if "example.net" in src or src.startswith("data:")]
        assert REMOTE_IMAGE not in look.loaded
        if MARKER in look.text:
            assert "[image not shown: tracker.example.net]" in look.text, look.where
            assert "[image not shown: embedded image]" in look.text, look.where


def test_links_outside_show_their_address_and_open_with_noopener_noreferrer(tour: Tour) -> None:
    phishing = [
        (look.where, link)
        for look in tour.looks
        for link in look.links
        if link["href"] == REMOTE_LINK
    ]
    assert phishing, "the remote link was never shown"
    for where, link in phishing:
        assert set(link["rel"].split()) >= {"noopener", "noreferrer"}, (where, link)
        assert link["target"] == "_blank", (where, link)
        assert link["text"] == REMOTE_LINK, (where, link)  # the address, not "Sign in again"
    for look in tour.looks:
        if MARKER in look.text:
            assert f"Sign in again ({REMOTE_LINK})" in look.text, look.where
