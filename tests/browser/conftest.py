"""The app, started for real with `streamlit run` on a seeded demo database, and Debian's
Chromium driven by Playwright.

One server and one browser serve every browser test; each test gets a fresh browser context
(so a fresh Streamlit session). Without Chromium or Playwright the tests skip, unless
TRACKER_REQUIRE_BROWSER=1 (CI sets it), when they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tracker import db

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page
    from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = "Chromium not installed: .ci/run installs it; apt-get install chromium to run locally"
NO_PLAYWRIGHT = (
    "Playwright not installed: .ci/run installs it; pip install -e '.[test]' to run locally"
)
# A ceiling, not a wait: the server's start and its first (cold, importing) script run. Under a
# loaded CI machine the XSS tour's first run has been seen to pass 60 s while two workers and
# another app server share two cores.
START_TIMEOUT_S = 120
# Milliseconds: one Streamlit rerun of a page on the demo data takes well under a second.
RUN_TIMEOUT_MS = 30_000
SERIOUS = {"serious", "critical"}


# The programme dashboard's views (pages/programme.py).
VIEWS = ("Journey", "Milestones", "People", "Barriers", "Metrics", "Narrative")
# A heading each view shows at once, to know the view has replaced the previous one.
VIEW_HEADINGS = {
    "Journey": "The six-stage journey",
    "Milestones": "Milestone burn-up",
    "People": "Power and interest",
    "Barriers": "Barriers by likelihood and impact",
    "Metrics": "Metrics against baseline and target",
    "Narrative": "Latest narrative",
}


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return NO_CHROMIUM
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return NO_PLAYWRIGHT
    return None


def _require_browser() -> None:
    """Skip the test when the browser is missing, or fail when TRACKER_REQUIRE_BROWSER=1."""
    missing = _missing_browser()
    if missing is None:
        return
    if os.environ.get("TRACKER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TRACKER_REQUIRE_BROWSER=1 but {missing}", pytrace=False)
    pytest.skip(missing)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            body: bytes = response.read()
            return response.status == 200 and body.strip() == b"ok"
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the server and anything it started (its own process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched once for the session."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    """One context for the session, so its HTTP cache spares each test loading Streamlit's
    scripts again (about two seconds)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(RUN_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(scope="session")
def app_url(
    browser_context: BrowserContext, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL of the app, running with `streamlit run` in demo mode on a fresh SQLite
    database seeded with the demo portfolio, already visited once. Stopped at the end of the
    session, whatever happens."""
    from tracker.seed.demo import seed_demo

    def prepare(engine: Engine) -> None:
        seed_demo(engine)

    with running_app(browser_context, tmp_path_factory.mktemp("browser"), prepare) as base:
        yield base


@contextlib.contextmanager
def running_app(
    context: BrowserContext,
    folder: Path,
    prepare: Callable[[Engine], object],
    *,
    port: int | None = None,
    env: Mapping[str, str | None] | None = None,
    args: Sequence[str] = (),
) -> Iterator[str]:
    """Start the app with `streamlit run` in demo mode on a fresh SQLite database in `folder`
    (its URL: `app_database_url(folder)`), migrated and then filled by `prepare(engine)`, and give
    its base URL once it has been visited once. The server is stopped on leaving, whatever
    happens; its log is `folder/streamlit.log`.

    Optionally: the `port` to listen on (default: a free one); `env`, environment variables to
    set, or with None to remove (`{"TRACKER_DEMO": None}`: not in demo mode); and `args`, more
    arguments for `streamlit run` (`["--secrets.files", path]`)."""
    database_url = app_database_url(folder)
    port = port or _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = folder / "streamlit.log"
    environment = {**os.environ, "DATABASE_URL": database_url, "TRACKER_DEMO": "1"}
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    command = [
        *(sys.executable, "-m", "streamlit", "run", "streamlit_app.py"),
        *("--server.headless", "true", "--server.port", str(port)),
        *("--server.address", "127.0.0.1", "--server.fileWatcherType", "none"),
        *("--browser.gatherUsageStats", "false"),
        *args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # The server reads the database only when the first page is opened: fill it meanwhile.
        engine = db.make_engine(database_url)
        try:
            db.migrate(engine)
            prepare(engine)
        finally:
            engine.dispose()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(base):
            if process.poll() is not None or time.monotonic() > deadline:
                log_tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"streamlit did not start on {base}:\n{log_tail}", pytrace=False)
            time.sleep(0.2)
        _warm_up(context, base)
        yield base
    finally:
        _stop(process)


def app_database_url(folder: Path) -> str:
    """The database of the app `running_app` started in `folder`."""
    return f"sqlite:///{folder / 'tracker.db'}"


def _warm_up(context: BrowserContext, base: str) -> None:
    # The first script run after the server starts is slow (imports), and in it Streamlit 1.67
    # gives the entry file's widgets other ids than in later runs when a pages/ folder sits
    # beside it, so the first click on the sign-in screen would be lost. One visit absorbs both,
    # and fills the context's cache with Streamlit's scripts.
    tab = context.new_page()
    try:
        tab.set_default_timeout(START_TIMEOUT_S * 1000)
        tab.goto(base)
        wait_for_app(tab)
    finally:
        tab.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Iterator[Page]:
    """A fresh tab: a new Streamlit session, with nothing chosen yet."""
    tab = browser_context.new_page()
    yield tab
    tab.close()


# --- Helpers ---------------------------------------------------------------------------------


def wait_for_app(page: Page) -> None:
    """Wait until Streamlit is connected, has finished running the script, has cleared what
    the previous run left (elements marked stale), and shows the page's main heading."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
        '[data-test-script-state="notRunning"]'
    )
    page.locator(
        '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'
    ).wait_for(state="detached")
    page.locator('[data-stale="true"]').first.wait_for(state="detached")
    page.locator("h1").first.wait_for(state="visible")


def open_as(page: Page, base_url: str, demo_email: str, path: str = "") -> None:
    """Load the app at `path`, sign in with the demo account `demo_email` on the sign-in
    screen, then wait until the page has run for them."""
    page.goto(f"{base_url}/{path.lstrip('/')}", wait_until="commit")
    wait_for_app(page)
    choose_demo_user(page, demo_email)


def choose_demo_user(page: Page, demo_email: str) -> None:
    """Sign in as the demo user `demo_email` in the app already open in `page` (signing out
    whoever is signed in first), and wait until the page has run for them."""
    from playwright.sync_api import expect

    from tracker.seed.demo import DEMO_USERS

    user = next(user for user in DEMO_USERS if user.email == demo_email)
    sign_out = page.get_by_role("button", name="Sign out")
    if sign_out.count():
        sign_out.click()
        expect(page.locator("h1").first).to_have_text(
            "Sign in to Change Tracker", timeout=RUN_TIMEOUT_MS
        )
        wait_for_app(page)
    page.get_by_role("button", name=f"Sign in as {user.name}", exact=True).click()
    # The app's own sign that the sign-in took effect (pages read the viewer on every run).
    expect(page.get_by_test_id("stSidebar")).to_contain_text(
        f"Signed in as {user.name}", timeout=RUN_TIMEOUT_MS
    )
    wait_for_app(page)


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


def choose_view(page: Page, view: str) -> None:
    """Choose `view` on the programme dashboard and wait until it has run."""
    from playwright.sync_api import expect

    choice = page.get_by_role("radiogroup", name="View").get_by_role("radio", name=view)
    choice.click()
    expect(choice).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("heading", name=VIEW_HEADINGS[view], exact=True)).to_be_visible()
    wait_for_app(page)


def axe_violations(
    page: Page, *, include: str | None = None, exclude: str | None = None
) -> list[dict[str, Any]]:
    """Every violation axe-core finds on the page as it is now, whatever its impact, within the
    CSS selector `include` (default: the whole page) and outside `exclude`. Each is a dict with
    `id`, `impact` (minor, moderate, serious or critical), `help` and `nodes` (each node's
    `target` selectors and `html`)."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    context: dict[str, list[str]] = {}
    if include:
        context["include"] = [include]
    if exclude:
        context["exclude"] = [exclude]
    violations: list[dict[str, Any]] = (
        Axe().run(page, context=context or None).response["violations"]
    )
    return violations


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The serious and critical ones among axe-core's `violations`."""
    return [violation for violation in violations if violation.get("impact") in SERIOUS]


def axe_results(
    page: Page, *, include: str | None = None, exclude: str | None = None
) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now, within the CSS
    selector `include` (default: the whole page) and outside `exclude` (as axe_violations)."""
    return serious(axe_violations(page, include=include, exclude=exclude))


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violated rule, with the elements it failed on: for assertion messages."""
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}: {targets}")
    return "\n".join(lines)
