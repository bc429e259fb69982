"""Generated data at scale, for trying the tracker (and timing it) with a portfolio far bigger
than the demo's: `tracker generate --size S|M|L [--seed N] [--reset]`.

| size | organisations | programmes | milestones | stakeholders | assessments | readings |
|------|---------------|------------|------------|--------------|-------------|----------|
| S    | 2             | 2          | 200        | 200          | 2,000       | 5,000    |
| M    | 5             | 20         | 2,000      | 2,000        | 20,000      | 50,000   |
| L    | 10            | 200        | 20,000     | 20,000       | 200,000     | 500,000  |

The counts in the table are exact. Around them comes what a real portfolio has, so every page
works on the data: staff groups (6 to 8 per organisation), partner organisations on about a
fifth of the programmes, six stage records with three exit criteria each per programme, the
staff groups each milestone lands on, milestones that need a stakeholder's support, engagements
with stakeholders, influence links, barriers, three to six metrics per programme, a published
narrative for everyone per programme (and some leadership updates and drafts), and a few
managers' overrides of the suggested delivery confidence.

Users (all @generated.example; no local passwords, so they sign in by single sign-on, or add
yourself with `tracker users add ... --password-stdin`):
- `admin@generated.example`: administrator of every organisation;
- `leader@generated.example`: leadership across every organisation (the whole portfolio);
- for organisation N (1, 2, ... in the order of ORGANISATIONS): `managerN@` (manager),
  `leadershipN@` (leadership) and `staffN@` (staff, in the organisation's customer services).

Shapes: stance is skewed towards neutral and support (resistors are a minority, high-influence
resistors a small one, more of them on struggling programmes); each stakeholder's assessments
run over months and trend (mostly towards support, some away); milestones are done, overdue,
blocked, cancelled or ahead as each programme's health and dates make them; stages are at
different points; metric readings move towards their targets, or away on struggling programmes.

Deterministic: the same size, seed and day give the same rows, ids included (into an empty
database). The only randomness is one `random.Random(seed)`; every date counts from `today`
(tracker.clock.today() unless given). The one audit event recording the run carries the real
time, as every audit event does.

Fast: rows go in with SQLAlchemy Core executemany in chunks, in one transaction, with primary
keys assigned here (from the tables' current maximum), so children reference parents without a
round trip. This bypasses the per-row audit listener on purpose; one audit event records the
generation instead (size, seed, rows per table), and the transaction raises the data version
(db.data_version) as any audited change does, so cached pages refresh. On PostgreSQL the id
sequences are moved past the new rows afterwards, and the tables analysed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from tracker import audit, clock, db
from tracker.errors import DomainError
from tracker.models import (
    Audience,
    AuditAction,
    BarrierCategory,
    DeliveryConfidence,
    MilestoneStatus,
    NarrativeStatus,
    ProgrammeStatus,
    Role,
    Stage,
)
from tracker.stages import STAGE_INFO

GENERATOR_ACTOR = "generator"
EMAIL_DOMAIN = "generated.example"
# Rows per executemany: big enough that round trips do not matter, small enough to stream.
CHUNK_ROWS = 5_000

# Exit criteria every programme's stages share; {affected} names the programme's staff.
EXIT_CRITERIA: dict[str, tuple[str, ...]] = {
    "vision": (
        "Vision statement agreed by the sponsor",
        "Change narrative tested with {affected}",
        "Case for change published to staff",
    ),
    "influencers": (
        "Key influencers mapped, with their stance",
        "Every high-influence stakeholder engaged at least once",
        "Change champions recruited among {affected}",
    ),
    "test": (
        "Discovery or pilot completed with the people affected",
        "Key decisions recorded with their evidence",
        "Data protection impact assessment completed",
    ),
    "equip": (
        "Training delivered to {affected}",
        "Plain-English guides and help published",
        "Floor-walkers or buddies arranged for go-live",
    ),
    "launch": (
        "New way of working live for everyone affected",
        "Old routes closed or scaled back",
        "Support in place for the first month",
    ),
    "celebrate": (
        "Wins shared with staff and residents",
        "Benefits measured against the baseline",
        "Lessons fed back into the next programme",
    ),
}

Row = dict[str, Any]
# progress(table, rows written so far, rows it will have): called as each table fills.
Progress = Callable[[str, int, int], None]


def _record(record_id: int, programme_id: int) -> Row:
    """The columns every new record of a programme starts with (version 1: never edited)."""
    return {"id": record_id, "version": 1, "programme_id": programme_id}


class Size(StrEnum):
    S = "S"
    M = "M"
    L = "L"


@dataclass(frozen=True)
class Scale:
    """How many of each record a size generates (the five big tables exactly)."""

    organisations: int
    programmes: int
    milestones: int
    stakeholders: int
    assessments: int
    readings: int


SCALES: dict[Size, Scale] = {
    Size.S: Scale(2, 2, 200, 200, 2_000, 5_000),
    Size.M: Scale(5, 20, 2_000, 2_000, 20_000, 50_000),
    Size.L: Scale(10, 200, 20_000, 20_000, 200_000, 500_000),
}


# Someone to sign in as on the generated data.
@dataclass(frozen=True)
class GeneratedUser:
    email: str
    name: str
    role: Role
    # Indexes into ORGANISATIONS.
    organisations: tuple[int, ...]
    description: str


# --- The words the data is made of -----------------------------------------------------------

# (name, short name); a size takes the first few. Short names stay at 4 letters or fewer, so
# programme codes fit in 20 characters.
ORGANISATIONS: tuple[tuple[str, str], ...] = (
    ("Ashcombe County Council", "ACC"),
    ("Brackley District Council", "BDC"),
    ("Calder Vale Borough Council", "CVBC"),
    ("Dunmere City Council", "DMCC"),
    ("Elmsworth District Council", "EWDC"),
    ("Fenbridge Metropolitan Borough Council", "FMBC"),
    ("Glenholt Council", "GHC"),
    ("Harwood Integrated Care Board", "HICB"),
    ("Ivelford Fire and Rescue Service", "IFRS"),
    ("Kestrel Homes Housing Association", "KHHA"),
)

# Every organisation has customer services (where its staff user works), and some of these.
_FIRST_GROUP = "Customer services"
_OTHER_GROUPS = (
    "Revenues and benefits",
    "Adult social care",
    "Children's services",
    "Highways and transport",
    "ICT",
    "Planning",
    "Waste and recycling",
    "Libraries",
    "Housing",
    "Finance",
    "Human resources",
    "Community nursing",
    "Information governance",
    "Legal services",
    "Environmental health",
)


# A kind of programme: code part (10 letters at most), title, who it affects, summary, vision.
@dataclass(frozen=True)
class _Topic:
    code: str
    title: str
    affected: str
    summary: str
    vision: str


_TOPICS: tuple[_Topic, ...] = (
    _Topic(
        "PORTAL",
        "Customer portal and online accounts",
        "customer services",
        "One online account for residents to request, pay for and track council services.",
        "Residents do simple things online at any hour, and staff help those who need it most.",
    ),
    _Topic(
        "CARERECORD",
        "Shared care record",
        "social workers and community nurses",
        "A single record shared by social care and health, so people tell their story once.",
        "Everyone caring for a person sees the same, current record.",
    ),
    _Topic(
        "WASTE",
        "Digital waste and recycling service",
        "waste crews and customer services",
        "In-cab devices and online reporting for missed bins, bulky waste and new containers.",
        "Crews and residents see the same information, and missed bins are fixed the same week.",
    ),
    _Topic(
        "REVBENS",
        "Revenues and benefits automation",
        "revenues and benefits officers",
        "Automating routine changes of circumstance so officers focus on complex claims.",
        "Routine changes take minutes, not weeks, and officers spend time on people in hardship.",
    ),
    _Topic(
        "PLANNING",
        "Digital planning service",
        "planning officers",
        "Planning applications, advice and enquiries online, with case tracking for applicants.",
        "Less paperwork, more planning.",
    ),
    _Topic(
        "HYBRID",
        "Hybrid working and office estate",
        "every office-based team",
        "Laptops, collaboration tools and fewer, better offices.",
        "Staff work where they work best, and the estate costs less to run.",
    ),
    _Topic(
        "CASEMGMT",
        "Children's services case management",
        "children's social workers",
        "Replacing the case management system with one designed around social work practice.",
        "Social workers spend more time with families and less time on forms.",
    ),
    _Topic(
        "REPORTIT",
        "Report-it highways reporting",
        "highways inspectors and customer services",
        "Residents report potholes and street lighting faults online, with photos and updates.",
        "Every report is tracked from the first photo to the repair.",
    ),
    _Topic(
        "LIBRARIES",
        "Libraries as digital hubs",
        "library staff",
        "Libraries become places where residents get help to get online.",
        "No resident is left behind by services moving online.",
    ),
    _Topic(
        "DATAHUB",
        "Shared data platform",
        "analysts and information governance",
        "One governed data platform shared with partners, with agreements in place.",
        "Decisions use shared, trusted data, lawfully and safely.",
    ),
    _Topic(
        "REPAIRS",
        "Housing repairs online",
        "housing officers and repairs teams",
        "Tenants book and track repairs online; operatives see jobs on mobile devices.",
        "Repairs are right first time and tenants always know what happens next.",
    ),
    _Topic(
        "SELFSERVE",
        "HR and payroll self-service",
        "managers and HR advisers",
        "Staff and managers update records, book leave and claim expenses themselves.",
        "HR advisers advise, rather than re-key forms.",
    ),
    _Topic(
        "TELECARE",
        "Digital telecare switchover",
        "telecare and adult social care teams",
        "Moving telecare alarms from analogue lines before the switch-off.",
        "Every alarm keeps working through the switchover, and no one is left unprotected.",
    ),
    _Topic(
        "CONTACT",
        "Contact centre redesign",
        "contact centre advisers",
        "Fewer calls about simple things, more time for calls that need a person.",
        "A resident's first contact resolves their query.",
    ),
    _Topic(
        "DISCHARGE",
        "Hospital discharge coordination",
        "the discharge team and community nurses",
        "A shared view of patients ready to leave hospital and the care they need at home.",
        "Nobody waits in hospital for care that could be at home.",
    ),
    _Topic(
        "SKILLS",
        "Digital skills for staff",
        "frontline staff",
        "Basic and advanced digital skills training for every member of staff.",
        "Every member of staff is confident with the tools of their job.",
    ),
    _Topic(
        "CLOUD",
        "Move to the cloud",
        "ICT and every service that uses the old servers",
        "Closing the data centre and moving services to the cloud.",
        "Systems are available, secure and paid for by use.",
    ),
    _Topic(
        "LICENSING",
        "Licensing online",
        "licensing officers",
        "Licence applications, payments and renewals online.",
        "Businesses apply once, online, and know where their application stands.",
    ),
)

_FIRST_NAMES = (
    "Aisha", "Alex", "Amir", "Anna", "Ben", "Bethan", "Callum", "Chloe", "Connor", "Daniel",
    "Deepa", "Eilidh", "Emma", "Fatima", "Gareth", "Grace", "Hannah", "Harry", "Imran", "Isla",
    "Jack", "Jade", "James", "Kwame", "Laura", "Liam", "Lucy", "Megan", "Mohammed", "Niamh",
    "Oliver", "Priya", "Rhys", "Ruth", "Sam", "Sian", "Tom", "Usha", "Yusuf", "Zoe",
)  # fmt: skip
_LAST_NAMES = (
    "Ahmed", "Allen", "Baker", "Begum", "Campbell", "Chen", "Clarke", "Davies", "Evans", "Fraser",
    "Green", "Hall", "Hughes", "Jones", "Kaur", "Khan", "Lewis", "Lloyd", "Martin", "Morgan",
    "Murphy", "Nowak", "Okafor", "Owen", "Patel", "Price", "Quinn", "Roberts", "Robinson", "Shah",
    "Singh", "Smith", "Taylor", "Thomas", "Turner", "Walker", "Ward", "Williams", "Wilson",
    "Wright",
)  # fmt: skip

_SPONSOR_TITLES = (
    "Chief Executive",
    "Director of Place",
    "Director of Resources",
    "Director of Adult Social Care",
    "Director of Children's Services",
    "Chief Digital Officer",
    "Director of Customer Services",
)

# (role, typical influence, works in a staff group), with how common each is.
_ROLES: tuple[tuple[str, int, bool, int], ...] = (
    ("Head of service", 4, True, 8),
    ("Service manager", 3, True, 12),
    ("Team leader", 3, True, 16),
    ("Senior practitioner", 2, True, 12),
    ("Frontline officer", 2, True, 20),
    ("Business support officer", 1, True, 8),
    ("Trade union representative", 4, True, 4),
    ("Cabinet member", 5, False, 2),
    ("Ward councillor", 3, False, 4),
    ("Director", 5, False, 3),
    ("Information governance lead", 4, False, 2),
    ("Finance business partner", 3, False, 3),
    ("ICT architect", 3, False, 3),
    ("Partner organisation lead", 3, False, 3),
    ("Resident representative", 2, False, 2),
)

_NOTES = (
    "",
    "",
    "",
    "Prefers a short briefing in person to long e-mails.",
    "Wants to see the training plan before committing the team.",
    "Asked to be kept informed about changes to rotas.",
    "Supportive in principle; worried about the timing.",
)

# Milestone titles by stage; {group} is a staff group the programme affects.
_MILESTONE_TITLES: dict[Stage, tuple[str, ...]] = {
    Stage.vision: (
        "Agree the vision statement with the sponsor",
        "Hold a vision session with {group}",
        "Publish the case for change",
        "Test the change narrative with {group}",
        "Agree the benefits the programme must deliver",
        "Write down the commitments made to staff",
    ),
    Stage.influencers: (
        "Map influencers in {group}",
        "One-to-ones with {group} team leaders",
        "Recruit change champions in {group}",
        "Brief the trade unions",
        "Present the business case to members",
        "Run a staff forum for {group}",
    ),
    Stage.test: (
        "Run discovery with {group}",
        "Pilot the new process in {group}",
        "Record the decision on the supplier",
        "Complete the data protection impact assessment",
        "Map where today's process stalls for {group}",
        "Agree the data sharing agreement",
    ),
    Stage.equip: (
        "Train {group} on the new system",
        "Publish plain-English guides for {group}",
        "Arrange floor-walkers for {group}",
        "Set up the help desk for go-live",
        "Run drop-in sessions for {group}",
        "Update procedures for {group}",
    ),
    Stage.launch: (
        "Go live for {group}",
        "Close the old paper route for {group}",
        "Switch off the legacy system",
        "Move {group} to the new phone menu",
        "Open the online service to residents",
        "Support {group} through the first month",
    ),
    Stage.celebrate: (
        "Share the first results with {group}",
        "Measure benefits against the baseline",
        "Hold a lessons-learned review",
        "Thank the change champions",
        "Publish the case study",
        "Feed lessons into the next programme",
    ),
}
# Stage n is planned from n * _STAGE_STEP to n * _STAGE_STEP + _STAGE_LENGTH of the programme's
# time, so neighbouring stages overlap (DOMAIN.md: a programme works in several at once).
_STAGE_STEP = 0.15
_STAGE_LENGTH = 0.25

_ENGAGEMENTS: dict[str, tuple[str, ...]] = {
    "meeting": ("One-to-one about what changes for {group}", "Meeting with {group} managers"),
    "workshop": ("Workshop with {group} on the new process", "Design workshop on today's process"),
    "briefing": ("Briefing for {group}", "Briefing for the programme board"),
    "email": ("Update e-mail to {group}", "E-mail with answers to the questions raised"),
    "survey": ("Pulse survey of {group}", "Readiness survey before go-live"),
}
_ENGAGEMENT_WEIGHTS = (35, 20, 20, 15, 10)
_OUTCOMES = (
    "Agreed the next steps.",
    "Concerns about workload raised; follow-up agreed.",
    "Support confirmed.",
    "Asked for more detail on training.",
    "No change in position.",
    "",
)

# (category, title, mitigation)
_BARRIERS: tuple[tuple[BarrierCategory, str, str], ...] = (
    (
        BarrierCategory.financial,
        "Savings target assumes staff reductions not yet agreed",
        "Phase the savings; agree the workforce plan with the unions first.",
    ),
    (
        BarrierCategory.financial,
        "Capital funding for the new system not confirmed",
        "Bid to the transformation fund; phase the rollout.",
    ),
    (
        BarrierCategory.financial,
        "Licence costs rise at renewal",
        "Negotiate a multi-year deal through the framework.",
    ),
    (
        BarrierCategory.cultural,
        "Staff fear the change is about cutting jobs",
        "Written no-redundancy commitment; open question-and-answer sessions.",
    ),
    (
        BarrierCategory.cultural,
        "Managers see digital as a channel shift only",
        "Leadership session on redesigning the service, not just the website.",
    ),
    (
        BarrierCategory.cultural,
        "Teams prefer the old paper process",
        "Champions in each team; share early wins.",
    ),
    (
        BarrierCategory.cultural,
        "Low trust after the last failed system",
        "Say what is different this time; pilot before rolling out.",
    ),
    (
        BarrierCategory.legal_data_protection,
        "Officers cite data protection as a reason not to share data",
        "Information sharing agreement and impact assessment signed off early.",
    ),
    (
        BarrierCategory.legal_data_protection,
        "Data protection impact assessment not started",
        "Information governance lead assigned; workshop booked.",
    ),
    (
        BarrierCategory.legal_data_protection,
        "Unclear lawful basis for sharing with partners",
        "Legal advice sought; privacy notices to be updated.",
    ),
    (
        BarrierCategory.technical,
        "Legacy system has no interface for the new platform",
        "Interim file transfer; interface in the next release.",
    ),
    (
        BarrierCategory.technical,
        "Poor mobile signal in rural areas",
        "Offline mode on devices; signal boosters in vehicles.",
    ),
    (
        BarrierCategory.technical,
        "Data quality in the old records is poor",
        "Data cleansing sprint before migration.",
    ),
    (
        BarrierCategory.capacity,
        "Key staff on other priorities during winter pressures",
        "Backfill posts; move training outside the peak months.",
    ),
    (
        BarrierCategory.capacity,
        "No budget for backfill during training",
        "Stagger training; use e-learning for the basics.",
    ),
    (
        BarrierCategory.capacity,
        "Only one person knows the old system",
        "Pair them with a second officer; write the knowledge down.",
    ),
    (
        BarrierCategory.other,
        "Election period delays decisions",
        "Plan key decisions around the pre-election period.",
    ),
    (
        BarrierCategory.other,
        "Supplier is in financial difficulty",
        "Escrow agreement and an exit plan.",
    ),
)


# A metric a programme can promise: baseline and target ranges, direction, stage, decimals.
@dataclass(frozen=True)
class _MetricKind:
    name: str
    unit: str
    baseline: tuple[float, float]
    target: tuple[float, float]
    direction: str
    stage: Stage
    decimals: int


_METRICS: tuple[_MetricKind, ...] = (
    _MetricKind("Staff trained", "%", (0, 5), (90, 100), "up", Stage.equip, 1),
    _MetricKind(
        "Transactions through the digital channel", "%", (15, 35), (60, 80), "up", Stage.launch, 1
    ),
    _MetricKind("Cost per transaction", "£", (6, 12), (2, 4), "down", Stage.launch, 2),
    _MetricKind("Savings delivered", "£k", (0, 0), (250, 900), "up", Stage.celebrate, 0),
    _MetricKind("Staff sentiment score", "/100", (45, 58), (68, 78), "up", Stage.influencers, 0),
    _MetricKind(
        "Average days to process a case", "days", (18, 32), (6, 12), "down", Stage.launch, 1
    ),
    _MetricKind("Calls per week", "calls", (3500, 6500), (2000, 3200), "down", Stage.launch, 0),
    _MetricKind("Residents with an online account", "%", (8, 22), (45, 70), "up", Stage.launch, 1),
    _MetricKind(
        "Paper forms per month", "forms", (1200, 3200), (150, 500), "down", Stage.launch, 0
    ),
    _MetricKind("Staff using the new system weekly", "%", (0, 10), (80, 95), "up", Stage.equip, 1),
    _MetricKind(
        "Complaints per month", "complaints", (60, 140), (25, 55), "down", Stage.celebrate, 0
    ),
    _MetricKind(
        "Change champions recruited", "people", (0, 2), (20, 40), "up", Stage.influencers, 0
    ),
    _MetricKind("Cases resolved at first contact", "%", (40, 60), (70, 85), "up", Stage.launch, 1),
    _MetricKind("Pilot sites live", "sites", (0, 0), (4, 12), "up", Stage.test, 0),
)

_OVERRIDE_REASONS = (
    "The board has agreed extra funding, which the figures do not show yet.",
    "Go-live was moved by agreement with the supplier; the new plan is realistic.",
    "Resistance is concentrated in one team and a plan to address it is agreed.",
    "The overdue milestones are administrative and are being closed this week.",
)

# Tables in the order they are written (parents before children); the counts come back in it.
TABLES: tuple[str, ...] = (
    "organisation",
    "staff_group",
    "app_user",
    "user_organisation",
    "programme",
    "programme_partner",
    "stage_record",
    "exit_criterion",
    "stakeholder",
    "assessment",
    "milestone",
    "milestone_impact",
    "milestone_dependency",
    "engagement",
    "engagement_stakeholder",
    "influence_link",
    "barrier",
    "metric",
    "metric_reading",
    "narrative",
    "confidence_override",
    "audit_event",
)


# --- Public functions --------------------------------------------------------------------------


def generated_users(organisations: int) -> list[GeneratedUser]:
    """The users a size with `organisations` organisations gets (see the module docstring)."""
    every = tuple(range(organisations))
    users = [
        GeneratedUser(
            f"admin@{EMAIL_DOMAIN}",
            "Generated Administrator",
            Role.admin,
            every,
            "administrator of every organisation",
        ),
        GeneratedUser(
            f"leader@{EMAIL_DOMAIN}",
            "Generated Leader",
            Role.leadership,
            every,
            "leadership across every organisation (the whole portfolio)",
        ),
    ]
    for index in every:
        name, short = ORGANISATIONS[index]
        n = index + 1
        users += [
            GeneratedUser(
                f"manager{n}@{EMAIL_DOMAIN}",
                f"{short} Manager",
                Role.manager,
                (index,),
                f"manager at {name}",
            ),
            GeneratedUser(
                f"leadership{n}@{EMAIL_DOMAIN}",
                f"{short} Leadership",
                Role.leadership,
                (index,),
                f"leadership at {name}",
            ),
            GeneratedUser(
                f"staff{n}@{EMAIL_DOMAIN}",
                f"{short} Staff",
                Role.staff,
                (index,),
                f"staff at {name}, in {_FIRST_GROUP.lower()}",
            ),
        ]
    return users


def generate(
    engine: Engine,
    size: Size | str,
    seed: int = 1,
    *,
    reset: bool = False,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> dict[str, int]:
    """Fill a migrated database with generated data of `size` (S, M or L; see the module
    docstring) in one transaction, and return the rows written per table, in the order written
    (TABLES, the one audit event included).

    The same size, seed and `today` (default tracker.clock.today(), which every date counts
    from) give the same rows. Raises DomainError, having changed nothing, when the database
    already holds a programme, unless `reset`: then every row of every table (users and the
    audit trail included; not the data version's counter) is deleted first, in the same
    transaction. Also refuses when one of
    the generated organisations or users already exists. `progress(table, done, total)` is
    called as each table fills. The schema must already be migrated.
    """
    chosen = Size(str(size).upper())
    scale = SCALES[chosen]
    anchor = today or clock.today()
    with db.write_session(engine, actor=GENERATOR_ACTOR) as session:
        connection = session.connection()
        # Read before a reset empties the audit trail, so audit ids keep growing on SQLite too
        # (which would otherwise hand out id 1 again).
        audit_id = _max_id(connection, "audit_event") + 1
        if reset:
            _delete_everything(connection, progress)
        else:
            _refuse_when_in_use(connection)
        _refuse_clashes(connection, scale)
        writer = _Writer(connection, progress)
        _Generator(writer, scale, random.Random(seed), anchor).run()
        counts = dict(writer.counts)
        counts["audit_event"] = 1
        summary = {"size": chosen.value, "seed": seed, "today": anchor.isoformat(), **counts}
        writer.load(
            "audit_event",
            [
                {
                    "id": audit_id,
                    "at": clock.now(),
                    "actor": GENERATOR_ACTOR,
                    "action": AuditAction.create.value,
                    "record_type": "database",
                    "record_id": f"generated {chosen.value}, seed {seed}"[:60],
                    "before": None,
                    "after": json.dumps(summary),
                    "redacted": False,
                }
            ],
        )
        audit.mark_changed(session)
        if not db.is_sqlite(engine):
            _move_sequences(connection, TABLES)
            # Planner statistics for the new rows now rather than when autovacuum gets round to
            # it, so timings taken straight after generating are those of a settled database.
            connection.exec_driver_sql(f"ANALYZE {', '.join(TABLES)}")
    return {name: counts[name] for name in TABLES}


def describe(
    counts: Mapping[str, int], *, size: Size | str, seed: int, seconds: float | None = None
) -> str:
    """The summary a person reads: rows per table, the total and, given, how long it took."""
    took = "" if seconds is None else f" in {seconds:,.1f} seconds"
    width = max(len(name) for name in counts)
    lines = [f"Generated size {Size(str(size).upper()).value} (seed {seed}){took}:"]
    lines += [f"  {name:<{width}}  {count:>9,}" for name, count in counts.items()]
    lines.append(f"  {'total':<{width}}  {sum(counts.values()):>9,} rows")
    return "\n".join(lines)


class TextProgress:
    """A `progress` callback drawing one bar per table on `stream`, e.g.
    `[##########..........]  50%  milestone  10,000/20,000`. At a terminal the bar is redrawn in
    place; elsewhere (a log) only each table's finished line is written."""

    def __init__(self, stream: TextIO, *, width: int = 24) -> None:
        self.stream = stream
        self.width = width
        self.live = stream.isatty()

    def __call__(self, table: str, done: int, total: int) -> None:
        finished = done >= total
        if not (self.live or finished):
            return
        share = 1.0 if total <= 0 else min(1.0, done / total)
        filled = round(self.width * share)
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {share:>4.0%}  {table:<22} {done:>9,}/{total:,}"
        self.stream.write(("\r" if self.live else "") + line + ("\n" if finished else ""))
        self.stream.flush()


# --- The transaction around the rows -----------------------------------------------------------


def _table(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


def _max_id(connection: sa.Connection, name: str) -> int:
    return int(connection.execute(sa.select(sa.func.max(_table(name).c.id))).scalar() or 0)


def _delete_everything(connection: sa.Connection, progress: Progress | None) -> None:
    # As `tracker demo --reset` (see db.tables_to_empty).
    tables = db.tables_to_empty()
    for done, table in enumerate(tables, start=1):
        connection.execute(sa.delete(table))
        if progress is not None:
            progress("deleting existing rows", done, len(tables))


def _refuse_when_in_use(connection: sa.Connection) -> None:
    count = connection.execute(sa.select(sa.func.count()).select_from(_table("programme"))).scalar()
    if count:
        noun = "programme" if count == 1 else "programmes"
        raise DomainError(
            None,
            f"the database already holds {count} {noun}, so nothing was generated or changed. "
            "Generate into an empty database, or add --reset to delete every row of every "
            "table first (programmes, users and the audit trail included).",
        )


def _refuse_clashes(connection: sa.Connection, scale: Scale) -> None:
    organisation, user = _table("organisation"), _table("app_user")
    names = [name for name, _ in ORGANISATIONS[: scale.organisations]]
    shorts = [short for _, short in ORGANISATIONS[: scale.organisations]]
    emails = [u.email for u in generated_users(scale.organisations)]
    found = sorted(
        {
            *connection.execute(
                sa.select(organisation.c.name).where(
                    sa.or_(organisation.c.name.in_(names), organisation.c.short_name.in_(shorts))
                )
            ).scalars(),
            *connection.execute(
                sa.select(user.c.email).where(sa.func.lower(user.c.email).in_(emails))
            ).scalars(),
        }
    )
    if found:
        raise DomainError(
            None,
            f"the database already has {', '.join(found)}, which the generator would create; "
            "nothing was changed. Use an empty database, or add --reset.",
        )


def _move_sequences(connection: sa.Connection, names: Iterable[str]) -> None:
    """Set each table's id sequence past its largest id, so the next ORM insert does not collide
    with a row written here (PostgreSQL only)."""
    for name in names:
        if "id" not in _table(name).c:
            continue
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f'COALESCE((SELECT max(id) FROM "{name}"), 0) + 1, false)'
        )


class _Writer:
    """Writes rows with executemany in chunks, counting them and reporting progress."""

    def __init__(self, connection: sa.Connection, progress: Progress | None) -> None:
        self.connection = connection
        self.progress = progress
        self.counts: Counter[str] = Counter()
        self.next_ids: dict[str, int] = {}

    def new_id(self, name: str) -> int:
        """The next primary key of table `name` (after the largest already there)."""
        if name not in self.next_ids:
            self.next_ids[name] = _max_id(self.connection, name) + 1
        value = self.next_ids[name]
        self.next_ids[name] = value + 1
        return value

    def load(self, name: str, rows: Iterable[Row], total: int | None = None) -> None:
        """Insert `rows` (dicts with the same keys) into table `name`; `total` is how many there
        will be (for progress), needed when `rows` is not a sequence."""
        if total is None:
            assert isinstance(rows, Sequence)
            total = len(rows)
        report = self.progress or _no_progress
        statement = sa.insert(_table(name))
        done = 0
        if total:
            report(name, done, total)
        iterator = iter(rows)
        while chunk := list(islice(iterator, CHUNK_ROWS)):
            self.connection.execute(statement, chunk)
            done += len(chunk)
            report(name, done, total)
        if done != total:
            raise RuntimeError(f"generated {done} rows of {name}, not the {total} planned")
        if not total:
            report(name, done, total)
        self.counts[name] += done


def _no_progress(table: str, done: int, total: int) -> None:
    pass


# --- The plan: who, what and when --------------------------------------------------------------


@dataclass
class _Organisation:
    index: int
    id: int
    short_name: str
    group_ids: list[int]
    manager_email: str


@dataclass
class _Person:
    id: int
    influence: int
    interest: int
    owner: str
    # Stance at each assessment, oldest first; the last is the current stance.
    stances: list[int]
    first: dt.date
    last: dt.date


@dataclass
class _StagePlan:
    stage: Stage
    planned_start: dt.date
    planned_end: dt.date
    # Days behind plan.
    slip: int
    actual_start: dt.date | None
    actual_end: dt.date | None


@dataclass
class _Plan:
    id: int
    index: int
    owner: _Organisation
    partners: list[_Organisation]
    topic: _Topic
    code: str
    title: str
    status: ProgrammeStatus
    start: dt.date
    end: dt.date
    closed_on: dt.date | None
    # 0 (failing) to 1 (going well): drives overdue work, resistance and metric trends.
    health: float
    # Relative size among the programmes.
    weight: float
    sponsor: str
    manager: str
    team: list[str]
    group_ids: list[int]
    group_names: dict[int, str]
    stages: list[_StagePlan] = field(default_factory=list)
    milestones: int = 0
    stakeholders: int = 0
    metrics: int = 0
    readings: int = 0
    people: list[_Person] = field(default_factory=list)


@dataclass(frozen=True)
class _MetricPlan:
    id: int
    kind: _MetricKind
    baseline: float
    target: float
    readings: int
    # Attainment reached by the last reading, and how it bends over time (exponent).
    reached: float
    bend: float
    start: dt.date
    last: dt.date


def _shares(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainders), adding up exactly."""
    whole = sum(weights)
    raw = [total * weight / whole for weight in weights]
    parts = [int(value) for value in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _weekday(day: dt.date, *, forward: bool = False) -> dt.date:
    """`day` if Monday to Friday; otherwise the Friday before (or, `forward`, the Monday after)."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=1 if forward else -1)
    return day


def _days(n: float) -> dt.timedelta:
    return dt.timedelta(days=int(n))


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _group_words(name: str) -> str:
    """A staff group's name inside a sentence: "customer services", but "ICT"."""
    return name if name.isupper() else name[0].lower() + name[1:]


class _Generator:
    """Makes the rows, table by table, from one random.Random, and hands them to the writer."""

    def __init__(self, writer: _Writer, scale: Scale, rng: random.Random, today: dt.date) -> None:
        self.writer = writer
        self.scale = scale
        self.rng = rng
        self.today = today
        self.organisations: list[_Organisation] = []
        self.group_names: dict[int, str] = {}
        self.plans: list[_Plan] = []
        self.metric_plans: list[_MetricPlan] = []

    def run(self) -> None:
        self._organisations()
        self._users()
        self._plan_programmes()
        self._programmes()
        self._stages()
        self._stakeholders()
        self.writer.load("assessment", self._assessments(), self.scale.assessments)
        self._milestones()
        self._engagements()
        self._influence_links()
        self._barriers()
        self._metrics()
        self.writer.load("metric_reading", self._readings(), self.scale.readings)
        self._narratives()
        self._overrides()

    def _id(self, table: str) -> int:
        return self.writer.new_id(table)

    # --- Organisations, staff groups and users ---

    def _organisations(self) -> None:
        rng = self.rng
        organisations: list[Row] = []
        groups: list[Row] = []
        for index, (name, short) in enumerate(ORGANISATIONS[: self.scale.organisations]):
            org_id = self._id("organisation")
            organisations.append({"id": org_id, "version": 1, "name": name, "short_name": short})
            names = [_FIRST_GROUP, *rng.sample(_OTHER_GROUPS, rng.randint(5, 7))]
            group_ids = []
            for group in names:
                group_id = self._id("staff_group")
                group_ids.append(group_id)
                groups.append(
                    {"id": group_id, "version": 1, "organisation_id": org_id, "name": group}
                )
            self.organisations.append(
                _Organisation(index, org_id, short, group_ids, f"manager{index + 1}@{EMAIL_DOMAIN}")
            )
        self.group_names = {row["id"]: str(row["name"]) for row in groups}
        self.writer.load("organisation", organisations)
        self.writer.load("staff_group", groups)

    def _users(self) -> None:
        users: list[Row] = []
        links: list[Row] = []
        for user in generated_users(self.scale.organisations):
            user_id = self._id("app_user")
            group = (
                self.organisations[user.organisations[0]].group_ids[0]
                if user.role is Role.staff
                else None
            )
            users.append(
                {
                    "id": user_id,
                    "version": 1,
                    "email": user.email,
                    "name": user.name,
                    "role": user.role.value,
                    "staff_group_id": group,
                    "active": True,
                    "password_hash": None,
                }
            )
            links += [
                {"user_id": user_id, "organisation_id": self.organisations[index].id}
                for index in user.organisations
            ]
        self.writer.load("app_user", users)
        self.writer.load("user_organisation", links)

    # --- Programmes ---

    def _plan_programmes(self) -> None:
        rng = self.rng
        count = self.scale.programmes
        org_weights = [rng.uniform(0.5, 1.5) for _ in self.organisations]
        topics_used: Counter[tuple[int, str]] = Counter()
        for index in range(1, count + 1):
            # Every organisation owns at least one programme; the rest go by size.
            if index <= len(self.organisations):
                owner = self.organisations[index - 1]
            else:
                owner = rng.choices(self.organisations, org_weights)[0]
            others = [o for o in self.organisations if o is not owner]
            partners = []
            if others and rng.random() < 0.2:
                partners = sorted(
                    rng.sample(others, min(len(others), rng.choice((1, 1, 2)))),
                    key=lambda o: o.index,
                )
            topic = rng.choice(_TOPICS)
            topics_used[(owner.index, topic.code)] += 1
            repeat = topics_used[(owner.index, topic.code)]
            title = topic.title if repeat == 1 else f"{topic.title}, phase {repeat}"
            status, start, end, closed_on = self._timeline()
            health = rng.betavariate(6, 2) * (0.7 if status is ProgrammeStatus.paused else 1.0)
            names = self._names(rng.randint(3, 5))
            group_ids = [g for org in (owner, *partners) for g in org.group_ids]
            plan = _Plan(
                id=self._id("programme"),
                index=index,
                owner=owner,
                partners=partners,
                topic=topic,
                code=f"{owner.short_name}-{topic.code}-{index:03d}",
                title=title,
                status=status,
                start=start,
                end=end,
                closed_on=closed_on,
                health=health,
                weight=rng.uniform(0.6, 1.4),
                sponsor=f"{self._names(1)[0]}, {rng.choice(_SPONSOR_TITLES)}",
                manager=names[0],
                team=names,
                group_ids=group_ids,
                group_names={g: self.group_names[g] for g in group_ids},
            )
            plan.stages = self._stage_plans(plan)
            plan.metrics = rng.randint(3, 6)
            self.plans.append(plan)
        weights = [plan.weight for plan in self.plans]
        reading_weights = [plan.weight * plan.metrics for plan in self.plans]
        for plan, milestones, people, readings in zip(
            self.plans,
            _shares(self.scale.milestones, weights),
            _shares(self.scale.stakeholders, weights),
            _shares(self.scale.readings, reading_weights),
            strict=True,
        ):
            plan.milestones, plan.stakeholders, plan.readings = milestones, people, readings

    def _timeline(self) -> tuple[ProgrammeStatus, dt.date, dt.date, dt.date | None]:
        """Status, start, target end and closing day of a programme. Every programme started at
        least six months ago, so its history has months of readings and assessments."""
        rng, today = self.rng, self.today
        roll = rng.random()
        if roll < 0.05:
            end = today - _days(rng.randint(30, 240))
            start = end - _days(rng.randint(540, 1100))
            closed_on = min(today - _days(1), end + _days(rng.randint(0, 45)))
            return ProgrammeStatus.closed, start, end, closed_on
        if roll < 0.13:
            # Business case still awaiting approval.
            start = today - _days(rng.randint(180, 300))
            return ProgrammeStatus.planned, start, start + _days(rng.randint(540, 1100)), None
        status = ProgrammeStatus.paused if roll < 0.2 else ProgrammeStatus.active
        start = today - _days(rng.randint(180, 1100))
        elapsed = (today - start).days
        if rng.random() < 0.1:
            # Past its target end date and still going.
            duration = max(365, elapsed - rng.randint(10, 120))
        else:
            duration = max(rng.randint(540, 1460), elapsed + rng.randint(60, 540))
        return status, start, start + _days(duration), None

    def _stage_plans(self, plan: _Plan) -> list[_StagePlan]:
        """Six overlapping stage windows across the programme; a struggling programme runs
        later than planned, each stage a little more behind than the last."""
        rng = self.rng
        duration = (plan.end - plan.start).days
        behind = 0 if plan.closed_on else int(max(0.0, 0.65 - plan.health) * 0.6 * duration)
        last = plan.closed_on or self.today
        stages = []
        for number, stage in enumerate(Stage):
            planned_start = plan.start + _days(duration * number * _STAGE_STEP)
            planned_end = plan.start + _days(duration * (number * _STAGE_STEP + _STAGE_LENGTH))
            slip = int(behind * (0.3 + 0.7 * number / 5)) + rng.randint(0, 14)
            if plan.closed_on:
                slip = 0
            actual_start = planned_start + _days(slip)
            actual_end = planned_end + _days(slip)
            stages.append(
                _StagePlan(
                    stage,
                    planned_start,
                    planned_end,
                    slip,
                    actual_start if actual_start <= last else None,
                    actual_end if actual_end <= last else None,
                )
            )
        return stages

    def _names(self, count: int) -> list[str]:
        picks = self.rng.sample(range(len(_FIRST_NAMES) * len(_LAST_NAMES)), count)
        return [
            f"{_FIRST_NAMES[n % len(_FIRST_NAMES)]} {_LAST_NAMES[n // len(_FIRST_NAMES)]}"
            for n in picks
        ]

    def _programmes(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        partners: list[Row] = []
        for plan in self.plans:
            budget = rng.randrange(150, 4_000) * 1_000
            rows.append(
                {
                    "id": plan.id,
                    "version": 1,
                    "code": plan.code,
                    "title": plan.title,
                    "organisation_id": plan.owner.id,
                    "summary": plan.topic.summary,
                    "vision_statement": plan.topic.vision,
                    "sponsor": plan.sponsor,
                    "manager": plan.manager,
                    "start_date": plan.start,
                    "target_end_date": plan.end,
                    "status": plan.status.value,
                    "closed_on": plan.closed_on,
                    "lawful_basis": "public_task",
                    "budget": budget,
                    "expected_benefits": int(budget * rng.uniform(0.8, 2.5)) // 1_000 * 1_000,
                }
            )
            partners += [
                {"programme_id": plan.id, "organisation_id": org.id} for org in plan.partners
            ]
        self.writer.load("programme", rows)
        self.writer.load("programme_partner", partners)

    def _stages(self) -> None:
        records: list[Row] = []
        criteria: list[Row] = []
        for plan in self.plans:
            for stage in plan.stages:
                record_id = self._id("stage_record")
                info = STAGE_INFO[stage.stage]
                if stage.actual_end is not None:
                    narrative = f"Done: {info.done_looks_like} Lessons are recorded for what next."
                elif stage.actual_start is not None:
                    narrative = (
                        f"Under way since {stage.actual_start:%B %Y}. What done looks like: "
                        f"{info.done_looks_like}"
                    )
                else:
                    narrative = f"Planned from {stage.planned_start:%B %Y}: {info.done_looks_like}"
                records.append(
                    {
                        **_record(record_id, plan.id),
                        "stage": stage.stage.value,
                        "narrative": narrative,
                        "planned_start": stage.planned_start,
                        "planned_end": stage.planned_end,
                        "actual_start": stage.actual_start,
                        "actual_end": stage.actual_end,
                    }
                )
                finished = stage.actual_end is not None
                started = stage.actual_start is not None
                for position, text in enumerate(EXIT_CRITERIA[stage.stage.value]):
                    criteria.append(
                        {
                            "id": self._id("exit_criterion"),
                            "version": 1,
                            "stage_record_id": record_id,
                            "position": position,
                            "text": text.format(affected=plan.topic.affected),
                            # Under way: the first criterion met; finished: all of them.
                            "met": finished or (started and position == 0),
                        }
                    )
        self.writer.load("stage_record", records)
        self.writer.load("exit_criterion", criteria)

    # --- People ---

    def _stakeholders(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        roles = [role for role, *_ in _ROLES]
        role_weights = [weight for *_, weight in _ROLES]
        details = {role: (influence, internal) for role, influence, internal, _ in _ROLES}
        per_person = _shares(self.scale.assessments, [1] * self.scale.stakeholders)
        counts = iter(per_person)
        for plan in self.plans:
            last_day = plan.closed_on or self.today
            elapsed = (last_day - plan.start).days
            struggling = 1 - plan.health
            # Current stance from active resistor (-2) to champion (+2): mostly neutral or
            # supportive, with more resistance where the programme struggles.
            stance_weights = (
                2 + 8 * struggling,
                7 + 14 * struggling,
                34,
                36 - 12 * struggling,
                16 - 8 * struggling,
            )
            # Senior people resist mostly where the programme struggles.
            senior_weights = (
                stance_weights[0] * min(1.0, 2 * struggling),
                stance_weights[1] * min(1.0, 2 * struggling),
                *stance_weights[2:],
            )
            for name in self._names(plan.stakeholders):
                role = rng.choices(roles, role_weights)[0]
                typical, internal = details[role]
                influence = _clamp(typical + rng.choice((-1, 0, 0, 1)), 1, 5)
                interest = rng.choices((1, 2, 3, 4, 5), (5, 15, 30, 30, 20))[0]
                weights = senior_weights if influence >= 4 else stance_weights
                now = rng.choices((-2, -1, 0, 1, 2), weights)[0]
                trend = rng.random()
                if trend < 0.55 + 0.25 * plan.health:
                    then = now - rng.choice((1, 1, 2))  # won over
                elif trend < 0.8 + 0.1 * plan.health:
                    then = now  # steady
                else:
                    then = now + 1  # hardening
                then = _clamp(then, -2, 2)
                assessments = next(counts)
                stances = [
                    _clamp(
                        round(then + (now - then) * k / max(1, assessments - 1))
                        + (rng.choice((-1, 1)) if rng.random() < 0.1 else 0),
                        -2,
                        2,
                    )
                    for k in range(assessments - 1)
                ] + [now]
                first = plan.start + _days(rng.randint(0, int(0.3 * elapsed)))
                last = last_day - _days(rng.randint(0, 35))
                first = min(first, last - _days(assessments - 1))
                person = _Person(
                    id=self._id("stakeholder"),
                    influence=influence,
                    interest=interest,
                    owner=rng.choice(plan.team),
                    stances=stances,
                    first=first,
                    last=last,
                )
                plan.people.append(person)
                rows.append(
                    {
                        **_record(person.id, plan.id),
                        "name": name,
                        "role": role,
                        "staff_group_id": rng.choice(plan.group_ids) if internal else None,
                        "influence": influence,
                        "interest": interest,
                        "stance": now,
                        "desired_stance": 2 if influence >= 4 and rng.random() < 0.5 else 1,
                        "relationship_owner": person.owner,
                        "notes": rng.choice(_NOTES),
                    }
                )
        self.writer.load("stakeholder", rows)

    def _assessments(self) -> Iterator[Row]:
        """Each stakeholder's assessments, evenly spaced from their first to their last, with
        ADKAR scores that follow the stance (awareness first, reinforcement last)."""
        rng = self.rng
        offsets = (
            ("awareness", 1),
            ("desire", 0),
            ("knowledge", 0),
            ("ability", -1),
            ("reinforcement", -1),
        )
        jitter = (-1, 0, 0, 1)
        for plan in self.plans:
            for person in plan.people:
                count = len(person.stances)
                span = (person.last - person.first).days
                for k, stance in enumerate(person.stances):
                    row: Row = {
                        "id": self._id("assessment"),
                        "stakeholder_id": person.id,
                        "assessed_on": person.first + _days(span * k / max(1, count - 1)),
                        "stance": stance,
                        "influence": person.influence,
                        "interest": person.interest,
                        "assessed_by": person.owner,
                    }
                    for name, offset in offsets:
                        row[name] = _clamp(3 + stance + offset + rng.choice(jitter), 1, 5)
                    yield row

    # --- Work ---

    def _milestones(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        impacts: list[Row] = []
        needs: list[Row] = []
        for plan in self.plans:
            duration = (plan.end - plan.start).days
            titles: Counter[str] = Counter()
            open_ids: list[int] = []
            for _ in range(plan.milestones):
                # Where in the programme's time it falls (0 start, 1 target end): density
                # 1.5 - x, so plans hold more work early than late, as real ones do; an on-track
                # programme's recent pace then forecasts a finish by its target end date.
                share = (3 - math.sqrt(9 - 8 * rng.random())) / 2
                stage = rng.choice(
                    [
                        planned
                        for number, planned in enumerate(plan.stages)
                        if number * _STAGE_STEP <= share <= number * _STAGE_STEP + _STAGE_LENGTH
                    ]
                )
                due = _weekday(plan.start + _days(share * duration + stage.slip))
                group = rng.choice(plan.group_ids)
                title = rng.choice(_MILESTONE_TITLES[stage.stage]).format(
                    group=_group_words(plan.group_names[group])
                )
                titles[title] += 1
                if titles[title] > 1:
                    title = f"{title}, wave {titles[title]}"
                status, completed = self._milestone_status(plan, due)
                milestone_id = self._id("milestone")
                if status not in (MilestoneStatus.done, MilestoneStatus.cancelled):
                    open_ids.append(milestone_id)
                rows.append(
                    {
                        **_record(milestone_id, plan.id),
                        "stage": stage.stage.value,
                        "title": title[:200],
                        "owner": rng.choice(plan.team),
                        "due_date": due,
                        "completed_date": completed,
                        "status": status.value,
                        "weight": rng.choices((1, 2, 3, 4, 5), (10, 25, 35, 20, 10))[0],
                    }
                )
                heavy = stage.stage in (Stage.equip, Stage.launch)
                landed = rng.choices((0, 1, 2, 3), (25, 40, 25, 10))[0]
                others = [g for g in plan.group_ids if g != group]
                also = rng.sample(others, min(len(others), landed - 1)) if landed else []
                for group_id in [group, *also] if landed else []:
                    level = rng.choices(
                        ("low", "medium", "high"), (30, 40, 30) if heavy else (50, 35, 15)
                    )[0]
                    impacts.append(
                        {"milestone_id": milestone_id, "staff_group_id": group_id, "impact": level}
                    )
            # Some open work needs named people's support: influential ones, resistors included.
            influential = [p for p in plan.people if p.influence >= 3]
            for milestone_id in open_ids:
                if influential and rng.random() < 0.06:
                    for person in rng.sample(
                        influential, min(len(influential), rng.choice((1, 1, 2)))
                    ):
                        needs.append({"milestone_id": milestone_id, "stakeholder_id": person.id})
        self.writer.load("milestone", rows)
        self.writer.load("milestone_impact", impacts)
        self.writer.load("milestone_dependency", needs)

    def _milestone_status(
        self, plan: _Plan, due: dt.date
    ) -> tuple[MilestoneStatus, dt.date | None]:
        """Done, overdue, blocked, cancelled or done early, as the programme's health and the due
        date make it; a done milestone's completed date is near its due date (or in the last
        two months, when early), never after yesterday nor before the programme started."""
        rng, today = self.rng, self.today
        roll = rng.random()
        yesterday = today - _days(1)

        def done(on: dt.date) -> tuple[MilestoneStatus, dt.date | None]:
            return MilestoneStatus.done, max(plan.start, min(on, yesterday))

        if plan.closed_on is not None:
            if roll < 0.06:
                return MilestoneStatus.cancelled, None
            return done(min(due + _days(rng.randint(-10, 10)), plan.closed_on))
        if due < today:
            overdue = 0.02 + 0.5 * (1 - plan.health) ** 2
            if roll < 0.03:
                return MilestoneStatus.cancelled, None
            if roll < 0.03 + overdue:
                late = rng.choices(
                    (
                        MilestoneStatus.in_progress,
                        MilestoneStatus.not_started,
                        MilestoneStatus.blocked,
                    ),
                    (60, 15, 25),
                )[0]
                return late, None
            return done(due + _days(rng.randint(-10, 12)))
        if roll < 0.02:
            return MilestoneStatus.cancelled, None
        # Teams on track finish some of the next few months' work early.
        ahead = 0.3 * plan.health if (due - today).days <= 120 else 0.02
        if roll < 0.02 + ahead:
            return done(today - _days(rng.randint(1, 60)))
        soon = (due - today).days <= 45
        statuses = (
            MilestoneStatus.in_progress,
            MilestoneStatus.not_started,
            MilestoneStatus.blocked,
        )
        weights = (65, 30, 5) if soon else (8, 90, 2)
        return rng.choices(statuses, weights)[0], None

    def _engagements(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        present: list[Row] = []
        kinds = list(_ENGAGEMENTS)
        for plan in self.plans:
            last_day = plan.closed_on or self.today
            elapsed = (last_day - plan.start).days
            for _ in range(max(3, round(len(plan.people) * 0.25))):
                kind = rng.choices(kinds, _ENGAGEMENT_WEIGHTS)[0]
                occurred = max(plan.start, _weekday(plan.start + _days(rng.randint(0, elapsed))))
                follow_up = None
                follow_up_done = False
                if rng.random() < 0.55:
                    follow_up = _weekday(occurred + _days(rng.randint(7, 28)), forward=True)
                    follow_up_done = follow_up < self.today and rng.random() < 0.75
                group = _group_words(plan.group_names[rng.choice(plan.group_ids)])
                engagement_id = self._id("engagement")
                rows.append(
                    {
                        **_record(engagement_id, plan.id),
                        "occurred_on": occurred,
                        "kind": kind,
                        "summary": rng.choice(_ENGAGEMENTS[kind]).format(group=group),
                        "outcome": rng.choice(_OUTCOMES),
                        "follow_up_on": follow_up,
                        "follow_up_done": follow_up_done,
                    }
                )
                size = rng.choices((1, 2, 3, 4, 6), (35, 25, 20, 12, 8))[0]
                for person in rng.sample(plan.people, min(size, len(plan.people))):
                    present.append({"engagement_id": engagement_id, "stakeholder_id": person.id})
        self.writer.load("engagement", rows)
        self.writer.load("engagement_stakeholder", present)

    def _influence_links(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        for plan in self.plans:
            if len(plan.people) < 2:
                continue
            pairs: set[tuple[int, int]] = set()
            for _ in range(len(plan.people) // 2):
                a, b = rng.sample(plan.people, 2)
                # The more influential one is listened to.
                source, target = (a, b) if a.influence >= b.influence else (b, a)
                if (source.id, target.id) in pairs:
                    continue
                pairs.add((source.id, target.id))
                rows.append(
                    {
                        "id": self._id("influence_link"),
                        "version": 1,
                        "from_stakeholder_id": source.id,
                        "to_stakeholder_id": target.id,
                        "strength": rng.choice((1, 2, 2, 3)),
                    }
                )
        self.writer.load("influence_link", rows)

    def _barriers(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        for plan in self.plans:
            for category, title, mitigation in rng.sample(_BARRIERS, rng.randint(4, 9)):
                closed = plan.closed_on is not None or rng.random() < 0.15
                status = "closed" if closed else rng.choice(("open", "open", "mitigating"))
                rows.append(
                    {
                        **_record(self._id("barrier"), plan.id),
                        "title": title,
                        "kind": "issue" if rng.random() < 0.35 else "risk",
                        "category": category.value,
                        "likelihood": rng.choices((1, 2, 3, 4, 5), (10, 25, 30, 25, 10))[0],
                        "impact": rng.choices((1, 2, 3, 4, 5), (5, 20, 35, 25, 15))[0],
                        "owner": rng.choice(plan.team),
                        "mitigation": mitigation,
                        "status": status,
                    }
                )
        self.writer.load("barrier", rows)

    # --- Outcomes ---

    def _metrics(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        for plan in self.plans:
            last_day = plan.closed_on or self.today
            elapsed = (last_day - plan.start).days
            expected = min(1.0, elapsed / max(1, (plan.end - plan.start).days))
            counts = _shares(plan.readings, [1] * plan.metrics)
            for kind, readings in zip(rng.sample(_METRICS, plan.metrics), counts, strict=True):
                baseline = round(rng.uniform(*kind.baseline), kind.decimals)
                target = round(rng.uniform(*kind.target), kind.decimals)
                if rng.random() < 0.25 * (1 - plan.health):
                    reached = -rng.uniform(0.05, 0.3)  # moving away from the target
                else:
                    reached = expected * (0.4 + 0.9 * plan.health) + rng.uniform(-0.1, 0.1)
                metric = _MetricPlan(
                    id=self._id("metric"),
                    kind=kind,
                    baseline=baseline,
                    target=target,
                    readings=readings,
                    reached=min(1.1, reached),
                    bend=rng.uniform(0.8, 1.5),
                    start=plan.start,
                    last=last_day,
                )
                self.metric_plans.append(metric)
                rows.append(
                    {
                        **_record(metric.id, plan.id),
                        "name": kind.name,
                        "unit": kind.unit,
                        "baseline": baseline,
                        "target": target,
                        "target_date": plan.end,
                        "direction": kind.direction,
                        "stage": kind.stage.value,
                    }
                )
        self.writer.load("metric", rows)

    def _readings(self) -> Iterator[Row]:
        """Each metric's readings, evenly spaced back from the last day (daily at the most),
        flat at the baseline before the programme started, then bending towards (or away from)
        the target, with a little measurement noise."""
        rng = self.rng
        for metric in self.metric_plans:
            count = metric.readings
            span = max(1, (metric.last - metric.start).days + 60)
            step = max(1, span // max(1, count))
            gap = metric.target - metric.baseline
            running = max(1, (metric.last - metric.start).days)
            percent = metric.kind.unit == "%"
            first = metric.last - _days(step * (count - 1))
            for k in range(count):
                day = first + _days(step * k)
                share = max(0.0, (day - metric.start).days / running)
                attained = metric.reached * share**metric.bend + rng.uniform(-0.03, 0.03)
                value = max(0.0, metric.baseline + gap * attained)
                if percent:
                    value = min(100.0, value)
                yield {
                    "id": self._id("metric_reading"),
                    "version": 1,
                    "metric_id": metric.id,
                    "reading_on": day,
                    "value": round(value, metric.kind.decimals),
                    "note": "",
                }

    def _narratives(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        for plan in self.plans:
            last_day = plan.closed_on or self.today
            started = [s for s in plan.stages if s.actual_start is not None] or plan.stages[:1]
            current = started[-1]
            info = STAGE_INFO[current.stage]
            stories: list[tuple[str, str, Audience, NarrativeStatus, dt.date | None]] = [
                (
                    f"Why we are changing: {plan.title}"[:200],
                    f"## Why we are changing\n\n{plan.topic.summary}\n\n"
                    f"## Where we are going\n\n{plan.topic.vision}\n\n"
                    f"## Where we are now\n\nWe are working on stage {info.number}, "
                    f"*{info.title.lower()}*. {info.done_looks_like}\n\n"
                    f"Questions? Ask {plan.manager}, who manages the programme.",
                    Audience.everyone,
                    NarrativeStatus.published,
                    self._published(plan, last_day, weeks=(1, 8)),
                )
            ]
            if rng.random() < 0.5:
                stories.append(
                    (
                        f"Programme board update, {last_day:%B %Y}",
                        f"Progress in stage {info.number} ({info.short.lower()}), the barriers "
                        "we are working on and the decisions the board is asked to make.",
                        Audience.leadership,
                        NarrativeStatus.published,
                        self._published(plan, last_day, weeks=(0, 4)),
                    )
                )
            if rng.random() < 0.3:
                stories.append(
                    (
                        "Draft: what changes next for staff",
                        "To be agreed with the sponsor before publishing.",
                        Audience.staff,
                        NarrativeStatus.draft,
                        None,
                    )
                )
            for title, body, audience, status, on in stories:
                rows.append(
                    {
                        **_record(self._id("narrative"), plan.id),
                        "title": title,
                        "body": body,
                        "stage": current.stage.value,
                        "audience": audience.value,
                        "status": status.value,
                        "author": plan.manager,
                        "published_on": on,
                    }
                )
        self.writer.load("narrative", rows)

    def _published(self, plan: _Plan, last_day: dt.date, *, weeks: tuple[int, int]) -> dt.date:
        back = _days(7 * self.rng.randint(*weeks))
        return max(plan.start, _weekday(last_day - back))

    def _overrides(self) -> None:
        rng = self.rng
        rows: list[Row] = []
        ratings = [rating.value for rating in DeliveryConfidence]
        for plan in self.plans:
            if plan.status is not ProgrammeStatus.active or rng.random() >= 0.08:
                continue
            day = self.today - _days(rng.randint(1, 60))
            rows.append(
                {
                    "id": self._id("confidence_override"),
                    "programme_id": plan.id,
                    "rating": rng.choice(ratings),
                    "reason": rng.choice(_OVERRIDE_REASONS),
                    "set_by": plan.owner.manager_email,
                    "set_at": dt.datetime.combine(day, dt.time(9, 30), tzinfo=dt.UTC),
                }
            )
        self.writer.load("confidence_override", rows)
