"""Three users' journeys end to end in a real browser, each asserting what the user sees.

1. Maya Manager imports a workbook of milestones, finds them in the Milestones table, renames
   one there, and writes and publishes a narrative for everyone.
2. Lena Leader opens a programme from the portfolio by selecting its row, and downloads its
   board pack: a PDF that names the programme.
3. Sam Staff reads, in News and updates, the narrative Maya published.

The journeys share one app, started for this module on a fresh demo database (so what they
write never reaches the other browser tests), and run in this order: the staff journey reads
what the manager's journey published. Each user has a browser context of their own (cookies
ignore the port, so none is shared with the other modules' apps either).

With TRACKER_JOURNEY_SCREENSHOTS=<folder>, screenshots of key moments are saved there.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import (
    RUN_TIMEOUT_MS,
    open_as,
    open_page,
    running_app,
    wait_for_app,
)
from tracker import clock
from tracker.seed.demo import seed_demo

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page
    from sqlalchemy.engine import Engine

pytestmark = pytest.mark.browser

MAYA = "maya.manager@demo.example"
LENA = "lena.leader@demo.example"
SAM = "sam.staff@demo.example"
# The first programme in Maya's list (so every Manage page opens on it), and one that Sam's
# organisation runs, so he reads its narratives.
CODE = "NCC-ASC-ONLINE"
TITLE = "Adult social care online self-assessment"

# What the manager's journey writes, all of it new to the demo data.
OWNER = "Jo Journey"
IMPORTED = ("Journey check: run the carers' online form pilot", "Journey check: train duty team")
RENAMED = "Journey check: duty team trained on the online form"
NARRATIVE_TITLE = "Journey check: carers can now start online"
NARRATIVE_BODY = (
    "From next month carers can start an assessment online at any hour.\n\n"
    "- Customer services advisers will see each request in the new queue"
)
MILESTONES_TABLE = "The programme's milestones, editable: one row per milestone"

# Streamlit's tables are drawn on a canvas: rows and the header are this tall (pixels), and a
# table with row markers (selection checkboxes) starts with a column this wide.
ROW_PX = 35
MARKER_PX = 33

# What the manager's journey published, for the staff journey to look for.
published: dict[str, str] = {}


# --- Fixtures --------------------------------------------------------------------------------


def _new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="en-GB", accept_downloads=True
    )
    context.set_default_timeout(RUN_TIMEOUT_MS)
    return context


@pytest.fixture(scope="module")
def journey_app(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of an app of this module's own, on a fresh demo database."""

    def prepare(engine: Engine) -> None:
        seed_demo(engine)

    context = _new_context(browser)  # only for running_app's first visit
    try:
        with running_app(context, tmp_path_factory.mktemp("journeys"), prepare) as base:
            yield base
    finally:
        context.close()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:
    """A tab in a browser context of its own: one user, no one else's cookies."""
    context = _new_context(browser)
    yield context.new_page()
    context.close()


# --- Helpers ---------------------------------------------------------------------------------


def screenshot(page: Page, name: str) -> None:
    folder = os.environ.get("TRACKER_JOURNEY_SCREENSHOTS")
    if folder:
        wait_for_app(page)
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def milestones_workbook(path: Path, today: dt.date) -> Path:
    """A small workbook as teams keep them: a title row, then columns the importer knows by
    name (Milestone, Stage, Owner, Due date, Status, Weight)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Milestones"
    sheet.append(["Milestones for the adult social care programme"])
    sheet.append(["Milestone", "Stage", "Owner", "Due date", "Status", "Weight"])
    sheet.append([IMPORTED[0], "Test", OWNER, today + dt.timedelta(days=40), "In progress", 3])
    sheet.append([IMPORTED[1], 4, OWNER, today + dt.timedelta(days=70), "Not started", 2])
    book.save(path)
    return path


def table_labelled(page: Page, label: str) -> Locator:
    """The table (st.dataframe or st.data_editor) whose accessible name is `label`."""
    return page.get_by_test_id("stDataFrame").filter(
        has=page.locator(f'[data-testid="stDataFrameResizable"][aria-label="{label}"]')
    )


def cells(table: Locator) -> Locator:
    """The cells of the table's accessible copy, which screen readers read: the canvas draws
    the same text. Only the rows in view are there."""
    return table.locator("td")


def cell_at(table: Locator, column: str, row: int) -> Locator:
    """The accessible cell of data row `row` (0 is the first) in the column headed `column`."""
    header = table.locator("th").filter(has_text=exactly(column))
    return table.get_by_test_id(f"glide-cell-{header.get_attribute('aria-colindex')}-{row}")


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")


def click_table(page: Page, table: Locator, row: int, x: float) -> None:
    """Click the canvas of `table` in data row `row` (0 is the first under the header), `x`
    pixels from its left edge."""
    from playwright.sync_api import expect

    canvas = table.locator("canvas").first
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + ROW_PX * (row + 1) + ROW_PX / 2)


def success(page: Page) -> Locator:
    return page.get_by_test_id("stAlertContentSuccess")


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


# --- The journeys ----------------------------------------------------------------------------


def test_a_manager_imports_milestones_edits_one_and_publishes_a_narrative(
    tab: Page, journey_app: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = tab
    open_as(page, journey_app, MAYA)

    # Import: the file is read, its columns guessed and every row checked before anything is
    # written; then all of it is imported.
    open_page(page, "Import")
    expect(page.get_by_role("radio", name="Milestones")).to_be_checked()
    expect(page.get_by_role("combobox", name="Programme")).to_have_value(f"{TITLE} ({CODE})")
    workbook = milestones_workbook(tmp_path / "milestones.xlsx", clock.today())
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Spreadsheet")
    uploader.locator('input[type="file"]').set_input_files(workbook)
    expect(page.get_by_role("heading", name="Check")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    expect(page.get_by_role("combobox", name="Title (required)")).to_have_value("Milestone")
    expect(page.get_by_role("combobox", name="Due date (required)")).to_have_value("Due date")
    # The title row above the header is skipped, with a warning that does not block.
    checked = "2 rows: 2 to create, 0 to update, 0 unchanged, 1 skipped, 1 warning"
    expect(page.get_by_text(checked, exact=True)).to_be_visible()
    page.get_by_role("button", name="Import all rows").click()
    expect(success(page)).to_contain_text(
        "Imported milestones: 2 created, 0 updated, 0 unchanged", timeout=RUN_TIMEOUT_MS
    )
    wait_for_app(page)

    # The imported rows, in the Milestones table (only their owner's, with the filter).
    open_page(page, "Milestones")
    page.get_by_test_id("stMultiSelect").filter(has_text="Owner").click()
    page.get_by_role("option", name=OWNER, exact=True).click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_have_count(0)
    showing = page.get_by_text(re.compile(r"^Showing 2 of \d+ milestones\.$"))
    expect(showing).to_be_visible(timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    table = table_labelled(page, MILESTONES_TABLE)
    for title in IMPORTED:
        expect(cells(table).filter(has_text=exactly(title))).to_have_count(1)
    expect(cells(table).filter(has_text=exactly(OWNER))).to_have_count(2)

    # Rename the first one: click its Row cell, then one cell right is its title. Each key
    # waits for the cell before it to be selected (the grid moves the focus to it meanwhile,
    # and a key pressed then is lost).
    click_table(page, table, 0, MARKER_PX + 15)
    expect(cell_at(table, "Row", 0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowRight")
    expect(cell_at(table, "Title", 0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    editor = page.locator("textarea.gdg-input")  # the cell's editor, over the table
    expect(editor).to_have_value(IMPORTED[0])
    editor.fill(RENAMED)
    editor.press("Enter")
    expect(editor).to_have_count(0)
    expect(cells(table).filter(has_text=exactly(RENAMED))).to_have_count(1)
    save = page.get_by_role("button", name="Save changes")
    expect(save).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    save.click()
    expect(success(page)).to_contain_text("Saved milestones: 1 changed.", timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    # Reloaded from the database: the new title, and the old one gone.
    expect(cells(table).filter(has_text=exactly(RENAMED))).to_have_count(1)
    expect(cells(table).filter(has_text=exactly(IMPORTED[0]))).to_have_count(0)
    expect(save).to_be_disabled()
    screenshot(page, "manager-milestones-after-rename")

    # Write a narrative for everyone and publish it at once.
    open_page(page, "Narratives")
    expect(page.get_by_role("combobox", name="Write or edit")).to_have_value("A new narrative")
    expect(page.get_by_role("combobox", name="Audience")).to_have_value(
        "Everyone (staff and leadership)"
    )
    title_box = page.get_by_role("textbox", name="Title")
    title_box.fill(NARRATIVE_TITLE)
    title_box.press("Enter")
    body_box = page.get_by_role("textbox", name="Body")
    body_box.fill(NARRATIVE_BODY)
    body_box.press("ControlOrMeta+Enter")
    # The preview follows the text.
    preview = page.get_by_role("heading", name=NARRATIVE_TITLE, exact=True)
    expect(preview).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(
        page.get_by_role("listitem").filter(has_text="Customer services advisers")
    ).to_be_visible(timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    page.get_by_role("button", name="Publish now").click()
    expect(success(page)).to_contain_text(
        f"Published today ({clock.today():%-d %b %Y}): “{NARRATIVE_TITLE}”.",
        timeout=RUN_TIMEOUT_MS,
    )
    wait_for_app(page)
    # The editor now holds the published narrative, and the list shows it published.
    expect(page.get_by_role("combobox", name="Write or edit")).to_have_value(
        f"{NARRATIVE_TITLE} (published)"
    )
    expect(page.get_by_text("its readers can see it")).to_be_visible()
    expect(page.get_by_role("button", name="Unpublish (back to draft)")).to_be_visible()
    narratives = cells(page.get_by_test_id("stDataFrame").first)
    expect(narratives.first).to_have_text(NARRATIVE_TITLE)  # newest first
    expect(narratives.nth(3)).to_have_text("Published")  # Title, Audience, Stage, Status
    published["title"] = NARRATIVE_TITLE
    screenshot(page, "manager-narrative-published")


def test_leadership_opens_a_programme_from_the_portfolio_and_downloads_its_board_pack(
    tab: Page, journey_app: str
) -> None:
    from playwright.sync_api import expect

    page = tab
    open_as(page, journey_app, LENA)
    expect(page.locator("h1").first).to_have_text("Portfolio")
    table = page.get_by_test_id("stDataFrame").first
    code_cell = cells(table).filter(has_text=exactly(CODE))
    expect(code_cell).to_have_count(1, timeout=RUN_TIMEOUT_MS)
    row = int((code_cell.get_attribute("id") or "").rsplit("-", 1)[1])  # glide-cell-<col>-<row>

    # Selecting the programme's row opens its dashboard.
    click_table(page, table, row, MARKER_PX / 2)
    expect(page.locator("h1").first).to_have_text("Programme dashboard", timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    expect(page.get_by_role("heading", name=TITLE, exact=True)).to_be_visible()
    expect(page.get_by_role("combobox", name="Programme")).to_have_value(f"{TITLE} ({CODE})")
    assert page.url.endswith(f"/programme?programme={CODE}"), page.url
    screenshot(page, "leadership-programme-dashboard")

    with page.expect_download(timeout=RUN_TIMEOUT_MS) as downloading:
        page.get_by_role("button", name="Download the board pack (PDF)").click()
    download = downloading.value
    assert re.fullmatch(rf"{CODE}-board-pack-\d{{4}}-\d\d-\d\d\.pdf", download.suggested_filename)
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    assert TITLE in pdf_text(data)


def test_staff_read_the_narrative_the_manager_published(tab: Page, journey_app: str) -> None:
    from playwright.sync_api import expect

    if "title" not in published:
        pytest.skip("the manager's journey (run first, in this module) did not publish")
    page = tab
    open_as(page, journey_app, SAM)
    open_page(page, "News and updates")
    # Each story is a bordered container (in Streamlit 1.67, a block in a layout wrapper).
    stories = page.get_by_test_id("stLayoutWrapper")
    story = stories.filter(has=page.get_by_role("heading", name=NARRATIVE_TITLE, exact=True))
    expect(story).to_have_count(1)
    expect(story).to_contain_text(f"{clock.today():%-d %B %Y} · {TITLE}")
    expect(story.get_by_role("paragraph").filter(has_text="carers can start")).to_have_text(
        "From next month carers can start an assessment online at any hour."
    )
    expect(story.get_by_role("listitem")).to_have_text(
        "Customer services advisers will see each request in the new queue"
    )
    # Published today, so the newest story: the first.
    expect(stories.get_by_role("heading", level=3).first).to_have_text(NARRATIVE_TITLE)
    screenshot(page, "staff-news")
