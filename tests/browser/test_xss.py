"""User text stays inert in a real browser (RELIABILITY.md #1; issue 5).

A second app server runs on a database of its own: the demo portfolio, then every user-text
field of every organisation and staff group, and of every record of three of its programmes
(PAYLOAD_PROGRAMMES), overwritten through the services with a marker and a mix of payloads
(`<script>`, `<img onerror>`, a `javascript:` Markdown link and `<b>`; more in long fields).
One browser tab tours every page that shows them, as leadership, as managers and as staff,
and after each page records the dialogs that fired, whether `window.__xss` got set, the
elements the payloads managed to make, and the markers on the page. The tests read that record.

A marker is "Q", two letters naming the field and three digits numbering the record, e.g.
"QMT007" for the seventh milestone title written; seeing one on a page proves the field was
shown there.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import Session, SQLModel, col, select

from tests.browser.conftest import (
    RUN_TIMEOUT_MS,
    VIEWS,
    choose_demo_user,
    choose_view,
    open_as,
    open_page,
    running_app,
    wait_for_app,
)
from tests.factories import SYSTEM
from tracker import clock, db, read
from tracker.access import load_viewer
from tracker.models import (
    Barrier,
    BarrierBase,
    BarrierUpdate,
    ConfidenceOverride,
    ConfidenceOverrideBase,
    Engagement,
    EngagementBase,
    ExitCriterion,
    ExitCriterionBase,
    ExitCriterionUpdate,
    Metric,
    MetricBase,
    MetricReading,
    MetricReadingBase,
    MetricReadingUpdate,
    MetricUpdate,
    Milestone,
    MilestoneBase,
    MilestoneUpdate,
    Narrative,
    NarrativeBase,
    NarrativeUpdate,
    Organisation,
    OrganisationBase,
    Programme,
    ProgrammeBase,
    ProgrammeUpdate,
    StaffGroup,
    StaffGroupBase,
    StageRecord,
    StageRecordBase,
    StageRecordUpdate,
    Stakeholder,
    StakeholderBase,
)
from tracker.models.people import EngagementUpdate, StakeholderUpdate
from tracker.seed.demo import seed_demo
from tracker.services import (
    barriers,
    engagements,
    metrics,
    milestones,
    narratives,
    programmes,
    records,
    stakeholders,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page
    from sqlalchemy.engine import Engine

pytestmark = pytest.mark.browser

# --- The payloads -----------------------------------------------------------------------------

SCRIPT = "<script>window.__xss=1</script>"
IMAGE = '<img src=x onerror="window.__xss=1">'
LINK = "[x](javascript:window.__xss=1)"
BOLD = "<b>bold</b>"
PAYLOADS = (SCRIPT, IMAGE, LINK, BOLD)
# Every ordering of one to four of them (64): each field starts at a different one.
COMBINATIONS = tuple(
    combination
    for size in range(1, len(PAYLOADS) + 1)
    for combination in itertools.permutations(PAYLOADS, size)
)
# More ways in, for the long fields (Markdown on some pages). Link texts are "x" too, so the
# same check finds any link made from user text.
EXTRAS = "\n\n".join(
    (
        "![x](javascript:window.__xss=1)",
        '<a href="javascript:window.__xss=1">x</a>',
        '<svg onload="window.__xss=1"></svg>',
        '<iframe src="javascript:window.__xss=1"></iframe>',
        "[x](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)",
        "<javascript:window.__xss=1>",
        "[x][evil]\n\n[evil]: javascript:window.__xss=1",
        "[x](&#106;avascript:window.__xss=1)",
    )
)
# Short fields: a payload that fits, after the marker.
SHORT_PAYLOADS = (BOLD, "<img src=x>")


@dataclass(frozen=True)
class Field:
    """A user-text field, `model.attribute`; `code` (two capital letters) names it in markers."""

    code: str
    label: str
    model: type[SQLModel]
    attribute: str

    @property
    def limit(self) -> int:
        """The most characters the model accepts."""
        metadata = self.model.model_fields[self.attribute].metadata
        return min(int(item.max_length) for item in metadata if hasattr(item, "max_length"))

    @property
    def pattern(self) -> re.Pattern[str]:
        """Its markers, as they show on a page."""
        if self.code == "OS":  # too short for a marker: the literal short name is the marker
            return re.compile(re.escape(BOLD) + r"\d")
        return re.compile(rf"Q{self.code}\d{{3}}")


_FIELD_LIST = (
    Field("PT", "programme title", ProgrammeBase, "title"),
    Field("PS", "programme summary", ProgrammeBase, "summary"),
    Field("PV", "programme vision statement", ProgrammeBase, "vision_statement"),
    Field("SP", "programme sponsor", ProgrammeBase, "sponsor"),
    Field("PM", "programme manager", ProgrammeBase, "manager"),
    Field("SN", "stage narrative", StageRecordBase, "narrative"),
    Field("EC", "exit criterion text", ExitCriterionBase, "text"),
    Field("MT", "milestone title", MilestoneBase, "title"),
    Field("MO", "milestone owner", MilestoneBase, "owner"),
    Field("KN", "stakeholder name", StakeholderBase, "name"),
    Field("KR", "stakeholder role", StakeholderBase, "role"),
    Field("KO", "stakeholder relationship owner", StakeholderBase, "relationship_owner"),
    Field("KX", "stakeholder notes", StakeholderBase, "notes"),
    Field("BT", "barrier title", BarrierBase, "title"),
    Field("BO", "barrier owner", BarrierBase, "owner"),
    Field("BM", "barrier mitigation", BarrierBase, "mitigation"),
    Field("MN", "metric name", MetricBase, "name"),
    Field("MU", "metric unit", MetricBase, "unit"),
    Field("RN", "metric reading note", MetricReadingBase, "note"),
    Field("NT", "narrative title", NarrativeBase, "title"),
    Field("NB", "narrative body", NarrativeBase, "body"),
    Field("ON", "organisation name", OrganisationBase, "name"),
    Field("OS", "organisation short name", OrganisationBase, "short_name"),
    Field("GN", "staff group name", StaffGroupBase, "name"),
    Field("ES", "engagement summary", EngagementBase, "summary"),
    Field("EO", "engagement outcome", EngagementBase, "outcome"),
    Field("CR", "delivery confidence override reason", ConfidenceOverrideBase, "reason"),
    Field("CB", "delivery confidence override set by", ConfidenceOverrideBase, "set_by"),
)
FIELDS = {item.code: item for item in _FIELD_LIST}
# Saved, but shown on no page today (only counted, or kept for managers' forms and packs).
NOT_SHOWN = frozenset({"PM", "EC", "KO", "KX", "BO", "BM", "RN", "ES", "EO"})


class Payloads:
    """Hands out each field's values: the marker, then a mix of payloads within its limit."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, code: str) -> str:
        item = FIELDS[code]
        number = self.counts[code] = self.counts.get(code, 0) + 1
        if code == "OS":
            return f"{BOLD}{number}"
        marker = f"Q{code}{number:03d}"
        if item.limit < 40:
            return marker + SHORT_PAYLOADS[number % len(SHORT_PAYLOADS)]
        start = 2 * list(FIELDS).index(code)
        mix = list(COMBINATIONS[(start + number) % len(COMBINATIONS)])
        value = " ".join([marker, *mix])
        if item.limit >= 1000:
            value = f"{value}\n\n{EXTRAS}"
        while len(value) > item.limit:  # never: 4 payloads and a marker fit in 120
            mix.pop()
            value = " ".join([marker, *mix])
        return value


# The programmes whose records carry payloads (organisations and staff groups all do). Three
# of the five demo programmes, so the tour stays short; between them: both councils, partners
# (NCC-CARE-RECORD, EDC-SHARED-PLAT), a delivery confidence override (NCC-CARE-RECORD), named
# resistance hotspots, overdue milestones, metrics, published narratives for every audience,
# and programmes for both demo staff users and both demo managers.
PAYLOAD_PROGRAMMES = ("EDC-DIGITAL-PLAN", "NCC-CARE-RECORD", "EDC-SHARED-PLAT")


def every(session: Session, table: type[SQLModel]) -> list[Any]:
    """All the table's rows, oldest first."""
    return list(session.exec(select(table).order_by(table.id)).all())  # type: ignore[attr-defined]


def write_payloads(engine: Engine) -> None:
    """Overwrite every user-text field of every organisation, staff group and record of the
    PAYLOAD_PROGRAMMES with payloads, through the services, in one audited write. Those with a
    delivery confidence override get a newer one with the same rating and a payload reason."""
    value = Payloads()
    with db.write_session(engine, actor="xss@test.example") as session:
        chosen = select(Programme.id).where(col(Programme.code).in_(PAYLOAD_PROGRAMMES))
        ids = set(session.exec(chosen).all())
        assert len(ids) == len(PAYLOAD_PROGRAMMES), "a payload programme is not in the demo"
        stage_records = {row.id for row in every(session, StageRecord) if row.programme_id in ids}
        metric_ids = {row.id for row in every(session, Metric) if row.programme_id in ids}

        def mine(table: type[SQLModel]) -> list[Any]:
            """The table's rows that belong to a payload programme, oldest first."""
            return [
                row
                for row in every(session, table)
                if getattr(row, "programme_id", None) in ids
                or getattr(row, "stage_record_id", None) in stage_records
                or getattr(row, "metric_id", None) in metric_ids
                or (table is Programme and row.id in ids)
            ]

        for row in every(session, Organisation):
            records.update(
                session,
                Organisation,
                OrganisationBase,
                row.id,
                expected_version=row.version,
                changes={"name": value("ON"), "short_name": value("OS")},
            )
        for row in every(session, StaffGroup):
            records.update(
                session,
                StaffGroup,
                StaffGroupBase,
                row.id,
                expected_version=row.version,
                changes={"name": value("GN")},
            )
        for row in mine(Programme):
            programmes.update_programme(
                session=session,
                viewer=SYSTEM,
                programme_id=row.id,
                data=records.validated(
                    ProgrammeUpdate,
                    {
                        "title": value("PT"),
                        "summary": value("PS"),
                        "vision_statement": value("PV"),
                        "sponsor": value("SP"),
                        "manager": value("PM"),
                        "version": row.version,
                    },
                ),
            )
        for row in mine(StageRecord):
            programmes.update_stage_record(
                session=session,
                viewer=SYSTEM,
                stage_record_id=row.id,
                data=records.validated(
                    StageRecordUpdate, {"narrative": value("SN"), "version": row.version}
                ),
            )
        for row in mine(ExitCriterion):
            programmes.update_exit_criterion(
                session=session,
                viewer=SYSTEM,
                criterion_id=row.id,
                data=records.validated(
                    ExitCriterionUpdate, {"text": value("EC"), "version": row.version}
                ),
            )
        for row in mine(Milestone):
            milestones.update_milestone(
                session=session,
                viewer=SYSTEM,
                milestone_id=row.id,
                data=records.validated(
                    MilestoneUpdate,
                    {"title": value("MT"), "owner": value("MO"), "version": row.version},
                ),
            )
        for row in mine(Stakeholder):
            stakeholders.update_stakeholder(
                session=session,
                viewer=SYSTEM,
                stakeholder_id=row.id,
                data=records.validated(
                    StakeholderUpdate,
                    {
                        "version": row.version,
                        "name": value("KN"),
                        "role": value("KR"),
                        "relationship_owner": value("KO"),
                        "notes": value("KX"),
                    },
                ),
            )
        for row in mine(Barrier):
            barriers.update_barrier(
                session=session,
                viewer=SYSTEM,
                barrier_id=row.id,
                data=records.validated(
                    BarrierUpdate,
                    {
                        "title": value("BT"),
                        "owner": value("BO"),
                        "mitigation": value("BM"),
                        "version": row.version,
                    },
                ),
            )
        for row in mine(Metric):
            metrics.update_metric(
                session=session,
                viewer=SYSTEM,
                metric_id=row.id,
                data=records.validated(
                    MetricUpdate, {"name": value("MN"), "unit": value("MU"), "version": row.version}
                ),
            )
        # One note per metric is enough: readings are many.
        noted: set[int] = set()
        for row in mine(MetricReading):
            if row.metric_id not in noted:
                noted.add(row.metric_id)
                metrics.update_reading(
                    session=session,
                    viewer=SYSTEM,
                    reading_id=row.id,
                    data=records.validated(
                        MetricReadingUpdate, {"note": value("RN"), "version": row.version}
                    ),
                )
        for row in mine(Narrative):
            narratives.update_narrative(
                session=session,
                viewer=SYSTEM,
                narrative_id=row.id,
                data=records.validated(
                    NarrativeUpdate,
                    {"title": value("NT"), "body": value("NB"), "version": row.version},
                ),
            )
        for row in mine(Engagement):
            engagements.update_engagement(
                session=session,
                viewer=SYSTEM,
                engagement_id=row.id,
                data=records.validated(
                    EngagementUpdate,
                    {"version": row.version, "summary": value("ES"), "outcome": value("EO")},
                ),
            )
        overridden = {row.programme_id: row.rating for row in mine(ConfidenceOverride)}
        for programme_id, rating in sorted(overridden.items()):
            programmes.override_confidence(
                session=session,
                viewer=SYSTEM,
                programme_id=programme_id,
                rating=rating,
                reason=value("CR"),
                set_by=value("CB"),
            )


# --- The server and what each demo user may open -------------------------------------------


@dataclass(frozen=True)
class PayloadApp:
    """The payload server, and for each demo user the payload programmes their "Programme"
    selectbox offers, as (position in its list, code)."""

    url: str
    programmes: dict[str, list[tuple[int, str]]]


LEADER = "lena.leader@demo.example"
MANAGERS = ("maya.manager@demo.example", "dev.district@demo.example")
STAFF = ("sam.staff@demo.example", "rita.revenues@demo.example")


def _programmes_offered(engine: Engine) -> dict[str, list[tuple[int, str]]]:
    today = clock.today()
    offered: dict[str, list[tuple[int, str]]] = {}
    with db.read_session(engine) as session:
        for email in (LEADER, *MANAGERS):
            viewer = load_viewer(session, email=email)
            assert viewer is not None
            rows = read.portfolio.portfolio(session=session, viewer=viewer, today=today)
            offered[email] = _with_payloads(rows["code"])
        for email in STAFF:
            viewer = load_viewer(session, email=email)
            assert viewer is not None
            staff = read.staff.programmes_for_staff(session=session, viewer=viewer, today=today)
            offered[email] = _with_payloads(row.code for row in staff)
    return offered


def _with_payloads(codes: Iterable[str]) -> list[tuple[int, str]]:
    return [(position, code) for position, code in enumerate(codes) if code in PAYLOAD_PROGRAMMES]


@pytest.fixture(scope="module")
def payload_app(
    browser_context: BrowserContext, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PayloadApp]:
    """The app on a database of its own: the demo, with payloads in every user-text field."""
    offered: dict[str, list[tuple[int, str]]] = {}

    def prepare(engine: Engine) -> None:
        seed_demo(engine)
        write_payloads(engine)
        offered.update(_programmes_offered(engine))

    with running_app(browser_context, tmp_path_factory.mktemp("xss"), prepare) as url:
        yield PayloadApp(url, offered)


# --- Looking at a page ----------------------------------------------------------------------

# Injected elements that could run script: any one fails the test outright.
SCRIPT_KINDS = frozenset({"script", "image", "event handler", "script address", "frame"})

# One pass over the document. Each finding names the marker nearest before the element, so a
# report can say which field it came from. Text drawn on a canvas (dataframe cells) is read
# from the grid's accessible copy; a selectbox's choice is its input's value.
_INSPECT = r"""
() => {
    const marker = /Q[A-Z]{2}\d{3}|<b>bold<\/b>\d/g;
    const nearest = (element) => {
        const block = element.closest('[data-testid="stMarkdownContainer"]')
            || element.parentElement || document.body;
        const range = document.createRange();
        range.setStart(block, 0);
        range.setEndBefore(element);
        const before = range.toString().match(marker);
        if (before) return before[before.length - 1];
        const inside = (block.textContent || '').match(marker);
        return inside ? inside[0] : '';
    };
    const found = [];
    const report = (kind, element) => found.push({
        kind, marker: nearest(element), html: element.outerHTML.slice(0, 160),
    });
    const scheme = (value) => value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
    for (const element of document.querySelectorAll('*')) {
        const tag = element.tagName.toLowerCase();
        if (tag === 'script' && (element.textContent || '').includes('__xss')) {
            report('script', element);
        }
        if (tag === 'img' && element.getAttribute('src') === 'x') report('image', element);
        if (['iframe', 'object', 'embed', 'frame'].includes(tag)
                && element.closest('[data-testid="stMarkdownContainer"]')) {
            report('frame', element);
        }
        for (const attribute of element.attributes) {
            const name = attribute.name.toLowerCase();
            if (name.startsWith('on') && attribute.value.includes('__xss')) {
                report('event handler', element);
            }
            if (['href', 'src', 'action', 'formaction', 'xlink:href', 'srcdoc'].includes(name)) {
                const target = scheme(attribute.value);
                if (target.startsWith('javascript:') || target.startsWith('data:text/html')
                        || target.startsWith('vbscript:')) {
                    report('script address', element);
                }
            }
        }
        if (tag === 'b' && (element.textContent || '').trim() === 'bold') report('bold', element);
    }
    for (const element of document.querySelectorAll('[data-testid="stMarkdownContainer"] a')) {
        if ((element.textContent || '').trim() === 'x') report('link', element);
    }
    for (const element of document.querySelectorAll('[data-testid="stMarkdownContainer"] img')) {
        if (element.getAttribute('alt') === 'x') report('Markdown image', element);
    }
    const cells = [...document.querySelectorAll('[role="gridcell"], [role="columnheader"]')]
        .map((cell) => cell.textContent || '');
    const inputs = [...document.querySelectorAll('input')].map((input) => input.value);
    return {
        xss: typeof window.__xss !== 'undefined',
        found,
        text: [document.body.innerText, ...cells, ...inputs].join('\n'),
    };
}
"""

EXPANDERS = ("Show the data behind this chart", "Why: every rule")


@dataclass
class Visit:
    """What one look at a page found."""

    kind: str  # who saw which page (and view), e.g. "leadership programme: People"
    where: str  # the same, with the programme
    dialogs: list[str]
    xss: bool
    found: list[dict[str, str]]
    markers: set[str] = field(default_factory=set)

    def describe(self, kinds: frozenset[str] | None = None) -> list[str]:
        return [
            f"{self.where}: {item['kind']} from {field_label(item['marker'])}: {item['html']}"
            for item in self.found
            if kinds is None or item["kind"] in kinds
        ]


def field_label(marker: str) -> str:
    for item in FIELDS.values():
        if marker and item.pattern.fullmatch(marker):
            return f"{item.label} ({marker})"
    return "an unknown field"


class Tour:
    """Visits pages in one tab and keeps what each look found."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.visits: list[Visit] = []

        def record(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", record)

    def look(self, kind: str, where: str) -> None:
        """Inspect the page as it is now; the first time a kind of page is seen, open its
        chart-data and "Why" expanders first (their tables are drawn on a canvas, so nothing
        in them can run: once is enough, and it saves a second or two a page)."""
        from playwright.sync_api import expect

        page = self.page
        first = kind not in {visit.kind for visit in self.visits}
        for label in EXPANDERS if first else ():
            for expander in page.get_by_test_id("stExpander").filter(has_text=label).all():
                details = expander.locator("details")
                if details.get_attribute("open") is None:
                    expander.locator("summary").click()
                expect(details).to_have_attribute("open", "")
                # The table inside draws on a canvas, and keeps an accessible copy: wait for it.
                expander.locator('[role="grid"]').first.wait_for(state="attached")
        result = page.evaluate(_INSPECT)
        markers = {
            match.group(0)
            for item in FIELDS.values()
            for match in item.pattern.finditer(result["text"])
        }
        self.visits.append(
            Visit(kind, where, list(self.dialogs), result["xss"], result["found"], markers)
        )
        self.dialogs.clear()


def choose_programme(page: Page, position: int, code: str) -> None:
    """Choose the `position`th option of the page's "Programme" selectbox, programme `code`,
    and wait for the rerun that puts it in the address."""
    if re.search(rf"[?&]programme={re.escape(code)}(&|$)", page.url):
        return
    selector = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').filter(
        has_text="Programme"
    )
    # By position: option names full of payloads make poor selectors. A page opened from the
    # navigation keeps the scroll position of the one before (the staff page opens about 190
    # px down after the demo sign-in list), and when the click has to scroll the list closes
    # again at once: open it again, a few times.
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    option = page.get_by_role("option").nth(position)
    for _attempt in range(4):
        # Scroll first: the list closes again when the page scrolls under it.
        selector.scroll_into_view_if_needed()
        selector.click()
        try:
            option.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            wait_for_app(page)
    option.click()
    page.wait_for_url(re.compile(rf"[?&]programme={re.escape(code)}(&|$)"), timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)


def _dashboard(
    tour: Tour, app: PayloadApp, email: str, kind: str, views: tuple[str, ...], skip: set[str]
) -> None:
    """Each view of each payload programme `email` may see, except those in `skip`; the
    programmes seen are added to `skip`."""
    open_page(tour.page, "Programme dashboard")
    for position, code in app.programmes[email]:
        if code in skip:
            continue
        skip.add(code)
        choose_programme(tour.page, position, code)
        for view in views:
            choose_view(tour.page, view)
            tour.look(f"{kind} programme: {view}", f"{email} on {code}, {view}")


def _staff(tour: Tour, app: PayloadApp, email: str) -> None:
    who = email.split("@")[0]
    open_page(tour.page, "What changes for me")
    for position, code in app.programmes[email]:
        choose_programme(tour.page, position, code)
        tour.look(f"{who}: What changes for me", f"{email} on What changes for me, {code}")
    open_page(tour.page, "News and updates")
    tour.look(f"{who}: News and updates", f"{email} on News and updates")


@pytest.fixture(scope="module")
def tour(payload_app: PayloadApp, browser_context: BrowserContext) -> Iterator[list[Visit]]:
    """Every page showing user text, looked at once, in one tab: leadership's portfolio and
    every view of the dashboard of each payload programme, the managers' People view of each
    (every stakeholder named), and each staff user's pages for each of theirs."""
    page = browser_context.new_page()
    try:
        yield _tour(payload_app, page)
    finally:
        page.close()


def _tour(payload_app: PayloadApp, page: Page) -> list[Visit]:
    visits = Tour(page)
    open_as(page, payload_app.url, LEADER)
    open_page(page, "Portfolio")
    visits.look("leadership: Portfolio", f"{LEADER} on Portfolio")
    _dashboard(visits, payload_app, LEADER, "leadership", VIEWS, set())
    # Managers see every stakeholder named: once per programme is enough.
    named: set[str] = set()
    for email in MANAGERS:
        choose_demo_user(page, email)
        _dashboard(visits, payload_app, email, "manager", ("People",), named)
    for email in STAFF:
        choose_demo_user(page, email)
        _staff(visits, payload_app, email)
    return visits.visits


# --- What each kind of page must show, and what is known to be unsafe -------------------------

HEADER = {"PT", "SP", "ON", "OS", "CR", "CB"}  # every view of the programme dashboard
SHOWS: dict[str, set[str]] = {
    "leadership: Portfolio": {"PT", "GN", "ON", "KN", "KR", "MT", "MO", "CR", "CB"},
    "leadership programme: Journey": HEADER | {"SN"},
    "leadership programme: Milestones": HEADER | {"MT", "MO"},
    "leadership programme: People": HEADER | {"KN", "KR", "GN"},
    "leadership programme: Barriers": HEADER | {"BT"},
    "leadership programme: Metrics": HEADER | {"MN", "MU"},
    "leadership programme: Narrative": HEADER | {"NT", "NB"},
    "manager programme: People": HEADER | {"KN", "KR", "GN"},
    "sam.staff: What changes for me": {"PT", "PS", "PV", "SN", "MT", "GN", "MN"},
    "sam.staff: News and updates": {"PT", "NT", "NB"},
    "rita.revenues: What changes for me": {"PT", "PS", "PV", "SN", "MT", "GN", "MN"},
    "rita.revenues: News and updates": {"PT", "NT", "NB"},
}
STAFF_KINDS = {kind for kind in SHOWS if kind.startswith(("sam.", "rita."))}

# Pages where user text is known to reach the screen unsafely, as {kind: why}; each is an
# xfail(strict) so a fix shows as XPASS. Empty: the charts' "In short" sentences are now
# shown through plain_text.
KNOWN_UNSAFE: dict[str, str] = {}


def _of_kind(tour: list[Visit], kind: str) -> list[Visit]:
    visits = [visit for visit in tour if visit.kind == kind]
    assert visits, f"the tour never looked at {kind}"
    return visits


def _with_known_unsafe(kind: str) -> Any:
    reason = KNOWN_UNSAFE.get(kind)
    if reason is None:
        return kind
    return pytest.param(kind, marks=pytest.mark.xfail(reason=reason, strict=True))


# --- The tests --------------------------------------------------------------------------------


def test_no_payload_runs_script_or_opens_a_dialog_on_any_page(tour: list[Visit]) -> None:
    problems = [f"{visit.where}: dialog {dialog}" for visit in tour for dialog in visit.dialogs] + [
        f"{visit.where}: window.__xss was set" for visit in tour if visit.xss
    ]
    problems += [line for visit in tour for line in visit.describe(SCRIPT_KINDS)]
    assert not problems, "user text ran as script:\n" + "\n".join(problems)


@pytest.mark.parametrize("kind", [_with_known_unsafe(kind) for kind in SHOWS])
def test_user_text_shows_as_text_with_no_element_made_from_it(tour: list[Visit], kind: str) -> None:
    problems = [line for visit in _of_kind(tour, kind) for line in visit.describe()]
    assert not problems, f"user text made elements on {kind}:\n" + "\n".join(problems)


@pytest.mark.parametrize("kind", list(SHOWS))
def test_every_field_the_page_shows_was_seen_on_it(tour: list[Visit], kind: str) -> None:
    seen = {
        code
        for visit in _of_kind(tour, kind)
        for code, item in FIELDS.items()
        if any(item.pattern.fullmatch(marker) for marker in visit.markers)
    }
    missing = sorted(FIELDS[code].label for code in SHOWS[kind] - seen)
    assert not missing, f"{kind} never showed: {', '.join(missing)}"


def test_every_field_is_either_checked_on_a_page_or_shown_on_none(tour: list[Visit]) -> None:
    assert set().union(*SHOWS.values()) == set(FIELDS) - NOT_SHOWN
    # A field listed as shown nowhere that turns up on a page belongs in SHOWS.
    now_shown = {
        f"{FIELDS[code].label} on {visit.kind}"
        for visit in tour
        for code in NOT_SHOWN
        if any(FIELDS[code].pattern.fullmatch(marker) for marker in visit.markers)
    }
    assert not now_shown, "shown after all (add to SHOWS): " + "; ".join(sorted(now_shown))


def test_staff_pages_name_no_stakeholder_and_no_page_shows_notes(tour: list[Visit]) -> None:
    private = {"KN", "KR", "KO", "KX", "ES", "EO"}
    leaks = [
        f"{visit.where}: {marker}"
        for visit in tour
        for marker in sorted(visit.markers)
        if marker[1:3] == "KX" or (visit.kind in STAFF_KINDS and marker[1:3] in private)
    ]
    assert not leaks, "private text shown:\n" + "\n".join(leaks)
