"""A realistic demo portfolio: three organisations, five programmes at different points of the
six stages, and the work, people and numbers around them.

Every date is relative to today (tracker.clock), so the demo never goes stale. Everything is
written through the services in one write session, so it is validated and audited like any
other change. The same day always gives the same data: the only randomness comes from a
`random.Random` with a fixed seed.

The data is plain tables at the top; the functions below turn them into records. Months in the
tables count from today (-3 = three months ago, 2 = in two months).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker import clock, db
from tracker.access import system_viewer
from tracker.figures import month_start
from tracker.models import Programme, Role, Stage
from tracker.services import (
    barriers,
    engagements,
    metrics,
    milestones,
    narratives,
    organisations,
    programmes,
    stakeholders,
)

DEMO_ACTOR = "demo@system"
# Any fixed number will do: it only makes the small jitter in dates and scores repeatable.
SEED = 20_260_615


# --- Row types for the tables below ---------------------------------------------------------


# A demo organisation and its staff groups, as (key, name); a group is referred to as "org.key".
@dataclass(frozen=True)
class _Organisation:
    key: str
    name: str
    short_name: str
    staff_groups: tuple[tuple[str, str], ...]


# Someone to sign in as when trying the app.
@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    description: str
    organisations: tuple[str, ...]
    staff_group: str | None = None


# A stage's planned and actual (start, end) in months from today (None: not yet), and its story.
@dataclass(frozen=True)
class _Stage:
    stage: str
    planned: tuple[int, int]
    actual: tuple[int | None, int | None]
    narrative: str


# A milestone. `impacts` reads "edc.rb:h ncc.cs:m" (staff group: low/medium/high). `flag` forces
# a status: "late" (in progress past its due date), "blocked" or "cancelled"; otherwise the due
# date decides (past: done). `due` pins the due date to a month; otherwise milestones are spread
# evenly over their stage's planned dates. `needs` names stakeholders whose support it needs.
@dataclass(frozen=True)
class _Milestone:
    stage: str
    title: str
    weight: int
    impacts: str = ""
    flag: str = ""
    due: int | None = None
    needs: tuple[str, ...] = ()


# A stakeholder. `path` is their stance over time: (months ago, stance from then on), oldest first.
@dataclass(frozen=True)
class _Stakeholder:
    key: str
    name: str
    role: str
    staff_group: str | None
    influence: int
    interest: int
    desired: int
    path: tuple[tuple[int, int], ...]
    notes: str


# An engagement `weeks_ago`, with a follow-up `follow_up` weeks after it (None: no follow-up).
@dataclass(frozen=True)
class _Engagement:
    kind: str
    summary: str
    weeks_ago: int
    who: tuple[str, ...]
    outcome: str
    follow_up: int | None = None
    follow_up_done: bool = False


@dataclass(frozen=True)
class _Barrier:
    title: str
    kind: str
    category: str
    likelihood: int
    impact: int
    status: str
    owner: str
    mitigation: str


# A metric. `path` is attainment (0 = baseline, 1 = target) by months ago, drawn as straight
# lines between points; monthly readings follow it with a `wobble` (share of the distance from
# baseline to target) so the lines look measured rather than drawn.
@dataclass(frozen=True)
class _Metric:
    name: str
    unit: str
    baseline: float
    target: float
    direction: str
    target_in_months: int
    stage: str | None
    path: tuple[tuple[int, float], ...]
    wobble: float = 0.03
    decimals: int = 1


# A narrative; `published_weeks_ago` None means a draft.
@dataclass(frozen=True)
class _Narrative:
    title: str
    audience: str
    stage: str | None
    published_weeks_ago: int | None
    body: str


@dataclass(frozen=True)
class _Programme:
    code: str
    title: str
    owner: str
    partners: tuple[str, ...]
    status: str
    summary: str
    vision: str
    sponsor: str
    manager: str
    team: tuple[str, ...]
    affected: str
    budget: str
    benefits: str
    start: int
    end: int
    stages: tuple[_Stage, ...]
    milestones: tuple[_Milestone, ...]
    stakeholders: tuple[_Stakeholder, ...]
    engagements: tuple[_Engagement, ...]
    barriers: tuple[_Barrier, ...]
    metrics: tuple[_Metric, ...]
    links: tuple[tuple[str, str, int], ...]
    narratives: tuple[_Narrative, ...]
    # (rating, reason) of a manager's override of the suggested delivery confidence.
    override: tuple[str, str] | None = None
    # Partners the owner records a data-sharing agreement with (they may see its people).
    sharing: tuple[str, ...] = ()


# --- The organisations and the people who sign in ---------------------------------------------

ORGANISATIONS: tuple[_Organisation, ...] = (
    _Organisation(
        "ncc",
        "Northmoor County Council",
        "NCC",
        (
            ("cs", "Customer services"),
            ("asc", "Adult social care"),
            ("csc", "Children's services"),
            ("hwy", "Highways and transport"),
            ("ict", "ICT"),
            ("lib", "Libraries"),
        ),
    ),
    _Organisation(
        "edc",
        "Eastbrook District Council",
        "EDC",
        (
            ("cs", "Customer services"),
            ("rb", "Revenues and benefits"),
            ("pln", "Planning"),
            ("wst", "Waste and recycling"),
            ("ict", "ICT"),
        ),
    ),
    _Organisation(
        "icb",
        "Northmoor Integrated Care Board",
        "NICB",
        (
            ("cn", "Community nursing"),
            ("ig", "Information governance"),
            ("dd", "Digital and data"),
            ("dis", "Hospital discharge team"),
            ("pc", "Primary care"),
        ),
    ),
)

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "ada.admin@demo.example",
        "Ada Admin",
        Role.admin,
        "Administrator for all three organisations: users, organisations and the audit trail.",
        ("ncc", "edc", "icb"),
    ),
    DemoUser(
        "maya.manager@demo.example",
        "Maya Manager",
        Role.manager,
        "Transformation manager at Northmoor County Council: keeps the county's programmes "
        "up to date.",
        ("ncc",),
    ),
    DemoUser(
        "dev.district@demo.example",
        "Dev District",
        Role.manager,
        "Transformation manager at Eastbrook District Council, which hosts the shared platform.",
        ("edc",),
    ),
    DemoUser(
        "lena.leader@demo.example",
        "Lena Leader",
        Role.leadership,
        "Chief executive's office for the county and the district: portfolio dashboards.",
        ("ncc", "edc"),
    ),
    DemoUser(
        "sam.staff@demo.example",
        "Sam Staff",
        Role.staff,
        "Customer services adviser at the county: reads what changes for customer services.",
        ("ncc",),
        "ncc.cs",
    ),
    DemoUser(
        "rita.revenues@demo.example",
        "Rita Revenues",
        Role.staff,
        "Revenues officer at the district: reads what changes for revenues and benefits.",
        ("edc",),
        "edc.rb",
    ),
)

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

# --- The five programmes -------------------------------------------------------------------------

PROGRAMMES: tuple[_Programme, ...] = (
    # Just past vision: the business case still awaits approval, so the status is "planned".
    _Programme(
        code="EDC-DIGITAL-PLAN",
        title="Digital planning service",
        owner="edc",
        partners=(),
        status="planned",
        summary=(
            "Moving planning applications, pre-application advice and planning enquiries online, "
            "so applicants can track their case and planning officers spend less time re-keying "
            "and chasing documents. The business case awaits approval by full council before the "
            "programme formally starts."
        ),
        vision=(
            "Anyone can apply for, track and comment on a planning application online, and our "
            "planning officers spend their time on planning, not paperwork."
        ),
        sponsor="Helen Marsh, Director of Place",
        manager="Tom Okafor",
        team=("Tom Okafor", "Jas Bedi", "Carys Lloyd"),
        affected="planning officers and customer services",
        budget="380000.00",
        benefits="520000.00",
        start=-7,
        end=17,
        stages=(
            _Stage(
                "vision",
                planned=(-7, -3),
                actual=(-7, -2),
                narrative=(
                    "We agreed the vision with the Director of Place in a half-day session with "
                    "planning officers. The message is simple: **less paperwork, more planning**. "
                    "Officers asked for a promise that no posts would be cut, and the sponsor gave "
                    "it in writing."
                ),
            ),
            _Stage(
                "influencers",
                planned=(-3, 2),
                actual=(-2, None),
                narrative=(
                    "We have mapped who planning officers listen to: the two team leaders and the "
                    "agents who submit most applications. One-to-ones are under way. Some "
                    "colleagues are not yet convinced, and we are listening to their concerns "
                    "every fortnight."
                ),
            ),
            _Stage(
                "test",
                planned=(1, 6),
                actual=(None, None),
                narrative=(
                    "We will run a discovery with applicants, agents and officers to find where "
                    "applications stall. Decisions on the case-management system will be recorded "
                    "with the evidence behind them."
                ),
            ),
            _Stage(
                "equip",
                planned=(5, 10),
                actual=(None, None),
                narrative=(
                    "Officers will get hands-on training on the new case screens, with a "
                    "floor-walker for the first month. Agents will get a short guide and a webinar."
                ),
            ),
            _Stage(
                "launch",
                planned=(9, 14),
                actual=(None, None),
                narrative=(
                    "Online applications will open first for householder extensions, then for "
                    "every type of application. Scanning of paper plans stops once most "
                    "applications arrive online."
                ),
            ),
            _Stage(
                "celebrate",
                planned=(13, 17),
                actual=(None, None),
                narrative=(
                    "We will share the first six months' results with the team and the planning "
                    "committee, and feed the lessons into the next phase."
                ),
            ),
        ),
        milestones=(
            _Milestone(
                "vision",
                "Agree vision statement with the SRO",
                3,
                "edc.pln:l",
            ),
            _Milestone(
                "vision",
                "Hold a vision session with planning officers",
                2,
                "edc.pln:m",
            ),
            _Milestone(
                "vision",
                "Publish the case for change on the intranet",
                2,
                "edc.pln:l edc.cs:l",
            ),
            _Milestone(
                "vision",
                "Write down the no-redundancy commitment",
                1,
                "edc.pln:l",
            ),
            _Milestone(
                "influencers",
                "Map influencers across planning and the agents' forum",
                2,
            ),
            _Milestone(
                "influencers",
                "One-to-ones with both planning team leaders",
                3,
                "edc.pln:m",
            ),
            _Milestone(
                "influencers",
                "Agree validation rules with the development management team",
                3,
                "edc.pln:m",
                flag="late",
                needs=("tl_dm",),
            ),
            _Milestone(
                "influencers",
                "Present the business case to the finance scrutiny panel",
                2,
                flag="blocked",
                due=-1,
            ),
            _Milestone(
                "influencers",
                "Recruit change champions in the planning team",
                3,
                "edc.pln:m",
            ),
            _Milestone(
                "influencers",
                "Run an agents' forum on online submissions",
                2,
            ),
            _Milestone(
                "influencers",
                "Brief customer services on planning enquiries",
                1,
                "edc.cs:l",
            ),
            _Milestone(
                "test",
                "Run discovery with planning officers and agents",
                4,
                "edc.pln:m",
            ),
            _Milestone(
                "test",
                "Map where applications stall today",
                3,
                "edc.pln:l",
            ),
            _Milestone(
                "test",
                "Decide on the case-management system with evidence",
                5,
                "edc.pln:m edc.ict:m",
            ),
            _Milestone(
                "test",
                "Pilot online pre-application advice",
                3,
                "edc.pln:m edc.cs:l",
                needs=("tl_dm",),
            ),
            _Milestone(
                "equip",
                "Train planning officers on the new case screens",
                4,
                "edc.pln:h",
            ),
            _Milestone(
                "equip",
                "Publish a plain-English guide for applicants",
                2,
                "edc.cs:l",
            ),
            _Milestone(
                "equip",
                "Train customer services on planning enquiries",
                3,
                "edc.cs:m",
            ),
            _Milestone(
                "equip",
                "Set up a floor-walker rota for go-live",
                2,
                "edc.pln:l edc.ict:l",
            ),
            _Milestone(
                "launch",
                "Open online householder applications",
                5,
                "edc.pln:h edc.cs:m",
            ),
            _Milestone(
                "launch",
                "Open online applications of every type",
                4,
                "edc.pln:h",
            ),
            _Milestone(
                "launch",
                "Stop scanning paper plans",
                3,
                "edc.pln:m edc.ict:l",
            ),
            _Milestone(
                "launch",
                "Build a custom mobile app for site visits",
                2,
                "edc.pln:l",
                flag="cancelled",
            ),
            _Milestone(
                "celebrate",
                "Share the first six months' results with the team",
                2,
                "edc.pln:l",
            ),
            _Milestone(
                "celebrate",
                "Report benefits to the planning committee",
                2,
            ),
            _Milestone(
                "celebrate",
                "Run a lessons-learned session",
                1,
                "edc.pln:l",
            ),
        ),
        stakeholders=(
            _Stakeholder(
                "sponsor",
                "Helen Marsh",
                "Director of Place (sponsor)",
                None,
                influence=5,
                interest=4,
                desired=2,
                path=((7, 2),),
                notes="Sponsor. Gave the written no-redundancy commitment.",
            ),
            _Stakeholder(
                "tl_dm",
                "Rebecca Thornton",
                "Development management team leader",
                "edc.pln",
                influence=4,
                interest=5,
                desired=1,
                path=((7, -1), (5, -2), (2, -1)),
                notes=(
                    "Worried that online applications will arrive incomplete and add work. Wants "
                    "validation rules agreed with her team first."
                ),
            ),
            _Stakeholder(
                "chair",
                "Cllr Graham Pike",
                "Chair of the planning committee",
                None,
                influence=4,
                interest=3,
                desired=1,
                path=((7, 0), (2, 1)),
                notes="Supportive if committee papers are not affected.",
            ),
            _Stakeholder(
                "agents",
                "Eastbrook Agents' Forum",
                "Planning agents who submit most applications",
                None,
                influence=3,
                interest=4,
                desired=1,
                path=((7, 1),),
                notes="Keen on online submission; asked for bulk upload of drawings.",
            ),
            _Stakeholder(
                "enforcement",
                "Marcus Webb",
                "Enforcement team leader",
                "edc.pln",
                influence=3,
                interest=3,
                desired=1,
                path=((7, 0),),
                notes="Interested in using the same system for enforcement cases.",
            ),
            _Stakeholder(
                "senior_officer",
                "Aisha Rahman",
                "Senior planning officer",
                "edc.pln",
                influence=2,
                interest=4,
                desired=2,
                path=((7, 1), (3, 2)),
                notes="Volunteered to be a change champion.",
            ),
            _Stakeholder(
                "cs_lead",
                "Joe Fairbairn",
                "Customer services team leader",
                "edc.cs",
                influence=2,
                interest=3,
                desired=1,
                path=((7, 0), (3, 1)),
                notes="Would like fewer 'where is my application' calls.",
            ),
            _Stakeholder(
                "ict",
                "Keith Loman",
                "Head of ICT (district)",
                "edc.ict",
                influence=3,
                interest=2,
                desired=1,
                path=((7, 0),),
                notes="Managing the current planning system contract.",
            ),
            _Stakeholder(
                "union",
                "Pat Doyle",
                "Trade union branch secretary (district)",
                None,
                influence=3,
                interest=4,
                desired=0,
                path=((7, -1), (4, 0)),
                notes="Reassured by the written no-redundancy commitment.",
            ),
        ),
        engagements=(
            _Engagement(
                "workshop",
                "Vision session with planning officers",
                weeks_ago=26,
                who=("senior_officer", "tl_dm", "enforcement", "union"),
                outcome=(
                    "Officers support the aim but asked for a written no-redundancy commitment."
                ),
                follow_up=3,
                follow_up_done=True,
            ),
            _Engagement(
                "meeting",
                "One-to-one with the development management team leader about validation rules",
                weeks_ago=14,
                who=("tl_dm",),
                outcome="Agreed to draft validation rules together before any pilot.",
                follow_up=4,
            ),
            _Engagement(
                "briefing",
                "Briefing for the planning committee chair",
                weeks_ago=8,
                who=("chair",),
                outcome="The chair is supportive if committee papers are unaffected.",
            ),
            _Engagement(
                "meeting",
                "Agents' forum on online submissions",
                weeks_ago=4,
                who=("agents",),
                outcome="Agents asked for bulk upload of drawings.",
                follow_up=6,
            ),
            _Engagement(
                "email",
                "Update to the trade union on the no-redundancy commitment",
                weeks_ago=1,
                who=("union",),
                outcome="Commitment shared; the union will brief its members.",
                follow_up=3,
            ),
        ),
        barriers=(
            _Barrier(
                "Business case not yet approved by full council",
                "risk",
                "financial",
                likelihood=3,
                impact=4,
                status="open",
                owner="Helen Marsh",
                mitigation="Take the benefits case to the finance scrutiny panel first.",
            ),
            _Barrier(
                "Planning officers fear online applications will add work",
                "issue",
                "cultural",
                likelihood=4,
                impact=3,
                status="mitigating",
                owner="Tom Okafor",
                mitigation=(
                    "Co-design validation rules with the team; publish the no-redundancy "
                    "commitment."
                ),
            ),
            _Barrier(
                "Current planning system contract ends before its replacement is ready",
                "risk",
                "technical",
                likelihood=2,
                impact=4,
                status="open",
                owner="Keith Loman",
                mitigation="Negotiate a 12-month extension option.",
            ),
        ),
        metrics=(
            _Metric(
                "% of planning applications submitted online",
                "%",
                baseline=38,
                target=90,
                direction="up",
                target_in_months=17,
                stage="launch",
                path=((7, 0.0), (0, 0.06)),
            ),
            _Metric(
                "Average days to validate an application",
                "days",
                baseline=14,
                target=5,
                direction="down",
                target_in_months=12,
                stage="test",
                path=((7, 0.0), (0, 0.05)),
                wobble=0.05,
            ),
            _Metric(
                "Staff sentiment score (planning)",
                "score",
                baseline=5.8,
                target=7.5,
                direction="up",
                target_in_months=17,
                stage=None,
                path=((7, 0.0), (4, 0.25), (0, 0.18)),
            ),
        ),
        links=(
            ("sponsor", "chair", 2),
            ("tl_dm", "enforcement", 3),
            ("tl_dm", "senior_officer", 2),
            ("agents", "chair", 1),
        ),
        narratives=(
            _Narrative(
                "Why we are moving planning online",
                "staff",
                "vision",
                published_weeks_ago=10,
                body=(
                    "Every week our planning officers re-key details from paper and email "
                    "applications, and chase missing drawings by phone. Applicants cannot see "
                    "where their case is, so they ring us to ask.\n\n"
                    "We want a service where anyone can apply and track an application online, and "
                    "officers spend their time on planning. **No planning posts will be cut as a "
                    "result of this programme**: the Director of Place has put that in writing.\n\n"
                    "Nothing changes in how you work until you have been trained."
                ),
            ),
            _Narrative(
                "Digital planning: where we are",
                "leadership",
                "influencers",
                published_weeks_ago=3,
                body=(
                    "The vision is agreed and the case for change is published. Most officers "
                    "support the aim; the development management team is worried that online "
                    "applications will arrive incomplete and add work.\n\n"
                    "- The business case goes to full council for approval.\n"
                    "- We are co-designing validation rules with the development management team.\n"
                    "- Agents have asked for bulk upload of drawings.\n\n"
                    "**Decision needed:** confirm the budget so that discovery can start on time."
                ),
            ),
            _Narrative(
                "What the new planning service means for applicants",
                "everyone",
                "launch",
                published_weeks_ago=None,
                body=(
                    "You will be able to apply for planning permission, upload drawings and track "
                    "your application online. We will email you at each step, so you no longer "
                    "need to ring us to find out where it is.\n\n"
                    "If you would rather send a paper application, you still can."
                ),
            ),
        ),
    ),
    # Influencers and test at once: a pilot is running while the assistant director cools.
    _Programme(
        code="NCC-ASC-ONLINE",
        title="Adult social care online self-assessment",
        owner="ncc",
        partners=(),
        status="active",
        summary=(
            "Letting residents and carers start a care and support needs assessment online, book a "
            "call back and see what happens next, so that social workers spend more time with the "
            "people who need them most and less on first-contact forms."
        ),
        vision=(
            "Residents and carers can ask for help online at any hour, and our social workers "
            "spend their time on the conversations that matter."
        ),
        sponsor="Dr Miriam Achebe, Director of Adult Social Services",
        manager="Rosa Lindqvist",
        team=("Rosa Lindqvist", "Ben Hallam", "Grace Mensah"),
        affected="social workers and customer services advisers",
        budget="610000.00",
        benefits="900000.00",
        start=-12,
        end=15,
        stages=(
            _Stage(
                "vision",
                planned=(-12, -9),
                actual=(-12, -8),
                narrative=(
                    "The vision was agreed with the Director of Adult Social Services after "
                    "listening sessions with social workers and the carers' forum. We said plainly "
                    "that this is about freeing social workers' time, **not replacing them**."
                ),
            ),
            _Stage(
                "influencers",
                planned=(-9, -2),
                actual=(-8, None),
                narrative=(
                    "We are working with the team managers, the carers' forum and the principal "
                    "social worker. Most are supportive. Budget pressures have made some senior "
                    "colleagues more cautious, so we meet the leadership team every month."
                ),
            ),
            _Stage(
                "test",
                planned=(-4, 3),
                actual=(-3, None),
                narrative=(
                    "A pilot of the online self-assessment is running in the north locality. Every "
                    "decision, and the evidence behind it, goes into the decision log."
                ),
            ),
            _Stage(
                "equip",
                planned=(2, 8),
                actual=(None, None),
                narrative=(
                    "Social workers and customer services advisers will be trained to read and "
                    "triage online requests. Carers will get a short guide, in print and online."
                ),
            ),
            _Stage(
                "launch",
                planned=(7, 12),
                actual=(None, None),
                narrative=(
                    "The online form will open county-wide, with the phone route kept for anyone "
                    "who prefers it. No one will be made to go online."
                ),
            ),
            _Stage(
                "celebrate",
                planned=(11, 15),
                actual=(None, None),
                narrative=(
                    "We will share stories from residents and staff, and check after six months "
                    "that the time saved went back into visits."
                ),
            ),
        ),
        milestones=(
            _Milestone(
                "vision",
                "Agree vision statement with the SRO",
                3,
            ),
            _Milestone(
                "vision",
                "Hold listening sessions with social workers",
                3,
                "ncc.asc:m",
            ),
            _Milestone(
                "vision",
                "Agree the vision with the carers' forum",
                2,
            ),
            _Milestone(
                "influencers",
                "Map influencers across adult social care",
                2,
                "ncc.asc:l",
            ),
            _Milestone(
                "influencers",
                "Recruit a change champion in each locality team",
                3,
                "ncc.asc:m",
            ),
            _Milestone(
                "influencers",
                "Brief the cabinet member for adult care",
                2,
            ),
            _Milestone(
                "influencers",
                "Run a question-and-answer session with the carers' forum",
                2,
            ),
            _Milestone(
                "influencers",
                "Agree the roll-out order with the locality team managers",
                2,
                "ncc.asc:l",
                flag="late",
            ),
            _Milestone(
                "test",
                "Run discovery with the north locality team",
                4,
                "ncc.asc:m",
            ),
            _Milestone(
                "test",
                "Pilot the online self-assessment in the north locality",
                5,
                "ncc.asc:h ncc.cs:m",
            ),
            _Milestone(
                "test",
                "Complete the data protection impact assessment",
                3,
            ),
            _Milestone(
                "test",
                "Test the form with carers who use screen readers",
                3,
                flag="blocked",
                due=-1,
            ),
            _Milestone(
                "test",
                "Decide on county-wide roll-out with the pilot evidence",
                4,
                "ncc.asc:m",
                needs=("ad",),
            ),
            _Milestone(
                "test",
                "Hold weekly triage reviews with the north locality",
                2,
                "ncc.asc:l",
                due=-2,
            ),
            _Milestone(
                "test",
                "Add save-and-return to the online form",
                2,
                due=-1,
            ),
            _Milestone(
                "equip",
                "Train social workers to triage online requests",
                4,
                "ncc.asc:h",
            ),
            _Milestone(
                "equip",
                "Train customer services on the call-back service",
                3,
                "ncc.cs:m",
            ),
            _Milestone(
                "equip",
                "Publish a carers' guide in print and online",
                2,
                "ncc.lib:l",
            ),
            _Milestone(
                "equip",
                "Set up digital help sessions in libraries",
                3,
                "ncc.lib:m",
            ),
            _Milestone(
                "launch",
                "Open the online self-assessment county-wide",
                5,
                "ncc.asc:h ncc.cs:h",
            ),
            _Milestone(
                "launch",
                "Move first-contact forms to the online route",
                3,
                "ncc.cs:m",
            ),
            _Milestone(
                "launch",
                "Build a separate carers' portal",
                2,
                flag="cancelled",
            ),
            _Milestone(
                "launch",
                "Review waiting lists a month after launch",
                2,
                "ncc.asc:m",
            ),
            _Milestone(
                "celebrate",
                "Share stories from residents and staff",
                2,
            ),
            _Milestone(
                "celebrate",
                "Check that the time saved went back into visits",
                3,
                "ncc.asc:l",
            ),
            _Milestone(
                "celebrate",
                "Feed lessons into the children's services programme",
                1,
                "ncc.csc:l",
            ),
        ),
        stakeholders=(
            _Stakeholder(
                "sponsor",
                "Dr Miriam Achebe",
                "Director of Adult Social Services (sponsor)",
                "ncc.asc",
                influence=5,
                interest=4,
                desired=2,
                path=((12, 2),),
                notes="Sponsor. Chairs the programme board.",
            ),
            _Stakeholder(
                "ad",
                "Claire Dunmore",
                "Assistant Director, Adult Social Care",
                "ncc.asc",
                influence=4,
                interest=4,
                desired=2,
                path=((12, 2), (5, 1), (2, 0)),
                notes=(
                    "A strong early supporter. Now carrying a large savings target and worried the "
                    "pilot adds work before it saves any."
                ),
            ),
            _Stakeholder(
                "psw",
                "Owen Price",
                "Principal social worker",
                "ncc.asc",
                influence=4,
                interest=5,
                desired=2,
                path=((12, 1), (6, 2)),
                notes="Speaks for practice standards; practitioners listen to him.",
            ),
            _Stakeholder(
                "north",
                "Fatima Noor",
                "North locality team manager",
                "ncc.asc",
                influence=3,
                interest=5,
                desired=1,
                path=((12, 0), (4, 1)),
                notes="Running the pilot with her team.",
            ),
            _Stakeholder(
                "south",
                "Gareth Hughes",
                "South locality team manager",
                "ncc.asc",
                influence=3,
                interest=4,
                desired=1,
                path=((12, -1), (3, 0)),
                notes="Concerned about waiting lists if demand rises.",
            ),
            _Stakeholder(
                "carers",
                "Northmoor Carers' Forum",
                "Voluntary forum of unpaid carers",
                None,
                influence=3,
                interest=5,
                desired=1,
                path=((12, 1),),
                notes="Wants the phone route kept; asked to save the form and return later.",
            ),
            _Stakeholder(
                "cabinet",
                "Cllr Janet Oduya",
                "Cabinet member for adult care",
                None,
                influence=5,
                interest=3,
                desired=1,
                path=((12, 0), (5, 1)),
                notes="Asked for carers' views before county-wide roll-out.",
            ),
            _Stakeholder(
                "cs_lead",
                "Liam Carter",
                "Customer services team leader",
                "ncc.cs",
                influence=2,
                interest=3,
                desired=1,
                path=((12, 0),),
                notes="His team will run the call-back service.",
            ),
            _Stakeholder(
                "practitioners",
                "Social work practitioners' group",
                "Representatives of practitioners in all localities",
                "ncc.asc",
                influence=3,
                interest=5,
                desired=1,
                path=((12, -1), (4, 0)),
                notes="Fear that online forms raise expectations and waiting lists.",
            ),
        ),
        engagements=(
            _Engagement(
                "workshop",
                "Listening session with social workers from all three localities",
                weeks_ago=40,
                who=("psw", "north", "south", "practitioners"),
                outcome=(
                    "Practitioners fear online forms will raise expectations and waiting lists."
                ),
                follow_up=4,
                follow_up_done=True,
            ),
            _Engagement(
                "meeting",
                "Pilot kick-off with the north locality team",
                weeks_ago=22,
                who=("north", "psw"),
                outcome="The team agreed to triage online requests every morning.",
            ),
            _Engagement(
                "meeting",
                "Monthly one-to-one with the assistant director",
                weeks_ago=10,
                who=("ad",),
                outcome="She asked for evidence of time saved before supporting roll-out.",
                follow_up=4,
            ),
            _Engagement(
                "briefing",
                "Briefing for the cabinet member on the pilot",
                weeks_ago=6,
                who=("cabinet", "sponsor"),
                outcome="The cabinet member asked for carers' views.",
                follow_up=8,
            ),
            _Engagement(
                "survey",
                "Survey of carers who used the pilot form",
                weeks_ago=3,
                who=("carers",),
                outcome=(
                    "31 responses: most found the form clear; several wanted to save and return."
                ),
                follow_up=2,
                follow_up_done=True,
            ),
            _Engagement(
                "meeting",
                "Meeting with the south locality team manager about roll-out order",
                weeks_ago=1,
                who=("south",),
                outcome="He asked to go last, after seeing the north locality's waiting list.",
                follow_up=3,
            ),
        ),
        barriers=(
            _Barrier(
                "Savings target may pull social workers away from the pilot",
                "risk",
                "capacity",
                likelihood=4,
                impact=4,
                status="open",
                owner="Claire Dunmore",
                mitigation="Protect two days a week of pilot time in the north locality.",
            ),
            _Barrier(
                "The online form does not yet work well with screen readers",
                "issue",
                "technical",
                likelihood=3,
                impact=3,
                status="mitigating",
                owner="Ben Hallam",
                mitigation="Accessibility audit booked; fixes before county-wide launch.",
            ),
            _Barrier(
                "Worry that online self-assessment raises expectations of care",
                "risk",
                "cultural",
                likelihood=3,
                impact=3,
                status="open",
                owner="Owen Price",
                mitigation=(
                    "Clear wording on what happens next; a call back within five working days."
                ),
            ),
            _Barrier(
                "Residents without internet access left behind",
                "risk",
                "other",
                likelihood=3,
                impact=4,
                status="mitigating",
                owner="Grace Mensah",
                mitigation="Keep the phone route; digital help sessions in libraries.",
            ),
        ),
        metrics=(
            _Metric(
                "% of new requests for help made online",
                "%",
                baseline=0,
                target=40,
                direction="up",
                target_in_months=15,
                stage="launch",
                path=((12, 0.0), (3, 0.0), (2, 0.06), (0, 0.16)),
                wobble=0.0,
            ),
            _Metric(
                "Average days from first contact to assessment",
                "days",
                baseline=28,
                target=14,
                direction="down",
                target_in_months=15,
                stage="test",
                path=((12, 0.0), (3, 0.05), (0, 0.3)),
            ),
            _Metric(
                "% of social workers trained",
                "%",
                baseline=0,
                target=100,
                direction="up",
                target_in_months=8,
                stage="equip",
                path=((12, 0.0), (1, 0.0), (0, 0.08)),
                wobble=0.0,
            ),
            _Metric(
                "Staff sentiment score (adult social care)",
                "score",
                baseline=6,
                target=7.5,
                direction="up",
                target_in_months=15,
                stage=None,
                path=((12, 0.2), (6, 0.35), (0, 0.1)),
            ),
        ),
        links=(
            ("sponsor", "ad", 3),
            ("psw", "practitioners", 3),
            ("ad", "south", 2),
            ("carers", "cabinet", 2),
        ),
        narratives=(
            _Narrative(
                "Asking for help online: what it means for your team",
                "staff",
                "vision",
                published_weeks_ago=30,
                body=(
                    "Residents and carers will soon be able to start a request for care and "
                    "support online, at any hour. This is about freeing your time for the "
                    "conversations that matter, **not about replacing social workers**.\n\n"
                    "The online form asks the questions we ask on the phone today, so when a "
                    "request reaches you the basics are already there. We will pilot it with the "
                    "north locality team first and change it based on what they tell us."
                ),
            ),
            _Narrative(
                "The north locality pilot: first results",
                "everyone",
                "test",
                published_weeks_ago=4,
                body=(
                    "The online self-assessment is open in the north locality. Residents and "
                    "carers have used it in the evenings and at weekends, when our phone lines are "
                    "closed.\n\n"
                    "The team triages online requests every morning. Carers told us the form was "
                    "clear, and several asked to be able to save it and come back later: we are "
                    "adding that now."
                ),
            ),
            _Narrative(
                "Roll-out decision: what the pilot evidence says",
                "leadership",
                "test",
                published_weeks_ago=None,
                body=(
                    "The pilot shows requests arriving with more of the information we need, and "
                    "the time from first contact to assessment falling. It has also added triage "
                    "work for the north locality team while both routes run side by side.\n\n"
                    "**Recommendation:** roll out locality by locality, with two weeks of extra "
                    "triage support for each team."
                ),
            ),
        ),
    ),
    # Equipping staff, but go-live waits on a data sharing agreement the NHS side resists.
    _Programme(
        code="NCC-CARE-RECORD",
        title="Shared care record for hospital discharge",
        owner="ncc",
        partners=("icb",),
        status="active",
        summary=(
            "Sharing the information that social care and community health teams need to get "
            "people home from hospital safely, so that families tell their story once and "
            "discharge is not held up by phone calls and faxes."
        ),
        vision=(
            "When someone is ready to leave hospital, the people arranging their care already know "
            "what they need, and the family only tells their story once."
        ),
        sponsor="Andrew Kell, Director of Integrated Care",
        manager="Siobhan Reilly",
        team=("Siobhan Reilly", "Ravi Chandra", "Emma Stokes"),
        affected="discharge teams, community nurses and social workers",
        budget="850000.00",
        benefits="1200000.00",
        start=-18,
        end=12,
        stages=(
            _Stage(
                "vision",
                planned=(-18, -15),
                actual=(-18, -14),
                narrative=(
                    "Council and NHS colleagues agreed the vision together at a joint board. The "
                    "story we tell is about **Mrs B**, who was asked for her medication list seven "
                    "times in four days."
                ),
            ),
            _Stage(
                "influencers",
                planned=(-15, -9),
                actual=(-14, -8),
                narrative=(
                    "We mapped who discharge staff listen to on both sides. Ward discharge leads "
                    "and community nursing leads are supportive. The ICB's head of information "
                    "governance has concerns about the legal basis for sharing, which we are "
                    "working through with her."
                ),
            ),
            _Stage(
                "test",
                planned=(-10, -4),
                actual=(-9, -3),
                narrative=(
                    "We ran discovery on two wards and tested a shared discharge summary on paper "
                    "first. The data protection impact assessment was completed and reviewed by "
                    "both data protection officers."
                ),
            ),
            _Stage(
                "equip",
                planned=(-4, 3),
                actual=(-3, None),
                narrative=(
                    "Discharge coordinators, community nurses and social workers are being trained "
                    "on the shared record. The information sharing agreement is not yet signed, so "
                    "training uses test records only."
                ),
            ),
            _Stage(
                "launch",
                planned=(2, 8),
                actual=(None, None),
                narrative=(
                    "The shared record goes live on the two pilot wards once the information "
                    "sharing agreement is signed, then across the hospital."
                ),
            ),
            _Stage(
                "celebrate",
                planned=(7, 12),
                actual=(None, None),
                narrative=(
                    "We will count delayed discharges, ask families whether they had to repeat "
                    "themselves, and share what we learn with other councils in the region."
                ),
            ),
        ),
        milestones=(
            _Milestone(
                "vision",
                "Agree vision statement with the joint board",
                3,
            ),
            _Milestone(
                "vision",
                "Collect families' discharge stories",
                2,
                "icb.dis:l",
            ),
            _Milestone(
                "vision",
                "Publish the case for change to both organisations",
                2,
                "ncc.asc:l icb.cn:l",
            ),
            _Milestone(
                "influencers",
                "Map influencers across the council and the NHS",
                2,
            ),
            _Milestone(
                "influencers",
                "Meet ward discharge leads on both pilot wards",
                3,
                "icb.dis:m",
            ),
            _Milestone(
                "influencers",
                "Engage the information governance leads early",
                3,
                "icb.ig:m",
            ),
            _Milestone(
                "influencers",
                "Brief the health and wellbeing board",
                2,
            ),
            _Milestone(
                "test",
                "Run discovery on two pilot wards",
                4,
                "icb.dis:m ncc.asc:m",
            ),
            _Milestone(
                "test",
                "Test a shared discharge summary on paper",
                3,
                "icb.dis:m",
            ),
            _Milestone(
                "test",
                "Complete the data protection impact assessment",
                4,
                "icb.ig:m",
            ),
            _Milestone(
                "test",
                "Choose the shared record platform with evidence",
                5,
                "icb.dd:m ncc.ict:m",
            ),
            _Milestone(
                "equip",
                "Train discharge coordinators on the shared record",
                4,
                "icb.dis:h",
            ),
            _Milestone(
                "equip",
                "Train community nurses on the shared record",
                4,
                "icb.cn:h",
            ),
            _Milestone(
                "equip",
                "Connect the council case system to the shared record",
                4,
                "ncc.ict:m icb.dd:m",
                flag="late",
                due=-1,
            ),
            _Milestone(
                "equip",
                "Sign the information sharing agreement",
                5,
                "icb.ig:h",
                flag="blocked",
                due=-2,
                needs=("ig_lead",),
            ),
            _Milestone(
                "equip",
                "Train hospital social workers on the shared record",
                3,
                "ncc.asc:h",
            ),
            _Milestone(
                "equip",
                "Run training sessions on the pilot wards",
                3,
                "icb.dis:m",
                due=-2,
            ),
            _Milestone(
                "equip",
                "Write the 'what you can share' guide with both DPOs",
                2,
                due=-1,
            ),
            _Milestone(
                "launch",
                "Go live on the two pilot wards",
                5,
                "icb.dis:h icb.cn:m ncc.asc:m",
                needs=("ig_lead",),
            ),
            _Milestone(
                "launch",
                "Stop faxing discharge summaries",
                3,
                "icb.dis:m",
            ),
            _Milestone(
                "launch",
                "Go live across the hospital",
                4,
                "icb.dis:h ncc.asc:m",
            ),
            _Milestone(
                "launch",
                "Give families a copy of their discharge plan online",
                2,
                flag="cancelled",
            ),
            _Milestone(
                "celebrate",
                "Count delayed discharges against the baseline",
                2,
            ),
            _Milestone(
                "celebrate",
                "Ask families whether they repeated their story",
                2,
            ),
            _Milestone(
                "celebrate",
                "Share lessons with other councils in the region",
                1,
            ),
        ),
        stakeholders=(
            _Stakeholder(
                "sponsor",
                "Andrew Kell",
                "Director of Integrated Care (sponsor)",
                None,
                influence=5,
                interest=4,
                desired=2,
                path=((18, 2),),
                notes="Sponsor, jointly appointed by the council and the ICB.",
            ),
            _Stakeholder(
                "ig_lead",
                "Dr Imogen Hale",
                "Head of Information Governance, ICB",
                "icb.ig",
                influence=5,
                interest=5,
                desired=1,
                path=((18, -1), (10, -2), (3, -1)),
                notes=(
                    "Has asked for the legal basis of each data item to be written down. Open to a "
                    "narrower first phase."
                ),
            ),
            _Stakeholder(
                "caldicott",
                "Dr Peter Lamb",
                "Caldicott Guardian, ICB",
                "icb.ig",
                influence=4,
                interest=3,
                desired=1,
                path=((18, 0), (8, 1)),
                notes="Considering a first phase without mental health information.",
            ),
            _Stakeholder(
                "ward_lead",
                "Nadia Hassan",
                "Ward discharge lead",
                "icb.dis",
                influence=3,
                interest=5,
                desired=2,
                path=((18, 1), (12, 2)),
                notes="Collected most of the families' stories.",
            ),
            _Stakeholder(
                "nursing",
                "Joan McAllister",
                "Community nursing lead",
                "icb.cn",
                influence=3,
                interest=4,
                desired=1,
                path=((18, 0), (9, 1)),
                notes="Wants the record to work on nurses' laptops in people's homes.",
            ),
            _Stakeholder(
                "sw_manager",
                "Kwame Asante",
                "Hospital social work team manager",
                "ncc.asc",
                influence=3,
                interest=4,
                desired=1,
                path=((18, -1), (9, 0), (4, 1)),
                notes="Was sceptical after an earlier failed project; now helping with training.",
            ),
            _Stakeholder(
                "dpo",
                "Lorna Birch",
                "Data protection officer, county council",
                None,
                influence=4,
                interest=3,
                desired=1,
                path=((18, 0), (7, 1)),
                notes="Co-writing the 'what you can share' guide.",
            ),
            _Stakeholder(
                "digital",
                "Chris Varga",
                "Head of Digital and Data, ICB",
                "icb.dd",
                influence=3,
                interest=4,
                desired=2,
                path=((18, 1),),
                notes="Leads the technical connection on the NHS side.",
            ),
            _Stakeholder(
                "healthwatch",
                "Northmoor Healthwatch",
                "Independent patient voice",
                None,
                influence=2,
                interest=4,
                desired=1,
                path=((18, 1),),
                notes="Supports sharing if families are told what is shared and why.",
            ),
        ),
        engagements=(
            _Engagement(
                "workshop",
                "Joint vision workshop with council and NHS staff",
                weeks_ago=60,
                who=("sponsor", "ward_lead", "nursing", "sw_manager"),
                outcome="Agreed the Mrs B story as the heart of the narrative.",
            ),
            _Engagement(
                "meeting",
                "Information governance review of the data flows",
                weeks_ago=30,
                who=("ig_lead", "caldicott", "dpo"),
                outcome="Asked for the legal basis of each data item to be written down.",
                follow_up=6,
                follow_up_done=True,
            ),
            _Engagement(
                "meeting",
                "Second review of the information sharing agreement",
                weeks_ago=12,
                who=("ig_lead", "dpo"),
                outcome=(
                    "Legal basis agreed for most items; mental health information still disputed."
                ),
                follow_up=4,
            ),
            _Engagement(
                "briefing",
                "Briefing for ward staff on training dates",
                weeks_ago=5,
                who=("ward_lead",),
                outcome="Ward staff asked for short sessions on the ward.",
            ),
            _Engagement(
                "meeting",
                "Escalation meeting with the Caldicott Guardian",
                weeks_ago=2,
                who=("caldicott", "ig_lead", "sponsor"),
                outcome="Proposal: go live without mental health information in phase one.",
                follow_up=3,
            ),
        ),
        barriers=(
            _Barrier(
                "Information sharing agreement not signed",
                "issue",
                "legal_data_protection",
                likelihood=5,
                impact=5,
                status="open",
                owner="Andrew Kell",
                mitigation=(
                    "Narrow phase one to the data items with an agreed legal basis; escalate to "
                    "the Caldicott Guardian."
                ),
            ),
            _Barrier(
                "Staff unsure what they are allowed to share",
                "risk",
                "legal_data_protection",
                likelihood=4,
                impact=3,
                status="mitigating",
                owner="Siobhan Reilly",
                mitigation=(
                    "A plain-English 'what you can share' guide co-written with both data "
                    "protection officers."
                ),
            ),
            _Barrier(
                "Council and NHS systems use different identifiers",
                "issue",
                "technical",
                likelihood=4,
                impact=4,
                status="mitigating",
                owner="Chris Varga",
                mitigation="Match on NHS number; check records without one by hand.",
            ),
            _Barrier(
                "Ward staff cannot be released for training during winter pressures",
                "risk",
                "capacity",
                likelihood=4,
                impact=3,
                status="open",
                owner="Nadia Hassan",
                mitigation="Short sessions on the ward and recorded training.",
            ),
        ),
        metrics=(
            _Metric(
                "Delayed discharges per month (pilot wards)",
                "people",
                baseline=46,
                target=25,
                direction="down",
                target_in_months=12,
                stage="celebrate",
                path=((18, 0.0), (6, 0.05), (0, 0.15)),
                wobble=0.08,
                decimals=0,
            ),
            _Metric(
                "% of discharge staff trained on the shared record",
                "%",
                baseline=0,
                target=95,
                direction="up",
                target_in_months=3,
                stage="equip",
                path=((18, 0.0), (3, 0.0), (0, 0.45)),
                wobble=0.0,
            ),
            _Metric(
                "Times a family is asked for the same information",
                "times",
                baseline=7,
                target=1,
                direction="down",
                target_in_months=12,
                stage=None,
                path=((18, 0.0), (8, 0.1), (0, 0.25)),
            ),
        ),
        links=(
            ("sponsor", "caldicott", 2),
            ("caldicott", "ig_lead", 3),
            ("dpo", "ig_lead", 2),
            ("ward_lead", "nursing", 2),
        ),
        narratives=(
            _Narrative(
                "Why we are sharing discharge information",
                "everyone",
                "vision",
                published_weeks_ago=50,
                body=(
                    "Mrs B was asked for her medication list seven times in four days before she "
                    "could go home. Each person asking was doing their job; none of them could see "
                    "what the others already knew.\n\n"
                    "The council and the NHS are building a shared record so that the people "
                    "arranging care after a hospital stay can see what they need, and nothing "
                    "more. **Only the information needed for discharge will be shared**, under a "
                    "signed agreement, and every access is logged."
                ),
            ),
            _Narrative(
                "Shared care record: information sharing agreement escalated",
                "leadership",
                "equip",
                published_weeks_ago=1,
                body=(
                    "Training is under way, but go-live cannot start until the information sharing "
                    "agreement is signed. The legal basis is agreed for most data items; mental "
                    "health information is still disputed.\n\n"
                    "We have asked the Caldicott Guardian to consider a first phase without mental "
                    "health information. **Decision needed:** the joint board to support a "
                    "narrower first phase."
                ),
            ),
            _Narrative(
                "Training on the shared record: what to expect",
                "staff",
                "equip",
                published_weeks_ago=None,
                body=(
                    "Training takes two hours and uses test records only, so you will not see "
                    "anyone's real information. You will learn how to find a person, read their "
                    "discharge summary and add what your team knows.\n\n"
                    "Sessions run on the wards and in the council offices. Ask your team leader "
                    "for a place."
                ),
            ),
        ),
        override=(
            "amber_red",
            (
                "The overdue training sessions are rebooked for next month and the NHS lawyers "
                "have confirmed the information sharing agreement will be signed at the next "
                "board, so the board judges delivery in doubt but recoverable."
            ),
        ),
    ),
    # Launching the two councils' pooled platform; revenues had a heavy month and hardened.
    _Programme(
        code="EDC-SHARED-PLAT",
        title="Shared customer platform for Eastbrook and Northmoor",
        owner="edc",
        partners=("ncc",),
        sharing=("ncc",),
        status="active",
        summary=(
            "The two councils are pooling money and people into one customer platform: one place "
            "for residents to report, apply and pay, and one back office for council tax, benefits "
            "and county services. The district hosts the platform; the county pays a share and "
            "moves its customer services onto it."
        ),
        vision=(
            "One front door for residents of Eastbrook, whichever council does the work, and fewer "
            "forms for our staff to re-key."
        ),
        sponsor="Mark Fenwick, Joint Chief Digital Officer",
        manager="Priya Sandhu",
        team=("Priya Sandhu", "Dylan Rees", "Hannah Cole"),
        affected="revenues, benefits and customer services staff in both councils",
        budget="1250000.00",
        benefits="2100000.00",
        start=-24,
        end=6,
        stages=(
            _Stage(
                "vision",
                planned=(-24, -21),
                actual=(-24, -21),
                narrative=(
                    "The two councils agreed to build one platform rather than two, and both "
                    "leaders signed a joint vision: **one front door for residents**. Staff were "
                    "told early that the aim is to remove re-keying, not jobs."
                ),
            ),
            _Stage(
                "influencers",
                planned=(-21, -15),
                actual=(-21, -14),
                narrative=(
                    "We engaged team leaders, the trade unions and members of both councils. "
                    "Customer services in both councils became early champions."
                ),
            ),
            _Stage(
                "test",
                planned=(-16, -10),
                actual=(-15, -9),
                narrative=(
                    "We ran discovery with the revenues team and customer services, and tested "
                    "online council tax moves with 200 residents. Every design decision is in the "
                    "shared decision log."
                ),
            ),
            _Stage(
                "equip",
                planned=(-10, -3),
                actual=(-9, -2),
                narrative=(
                    "Revenues, benefits and customer services staff were trained in small groups, "
                    "with floor-walkers from the project team. Refresher sessions are available on "
                    "request."
                ),
            ),
            _Stage(
                "launch",
                planned=(-4, 3),
                actual=(-4, None),
                narrative=(
                    "Online council tax moves and benefit changes are live. The revenues team had "
                    "a very heavy month at go-live, and we are listening to their concerns before "
                    "switching off paper forms."
                ),
            ),
            _Stage(
                "celebrate",
                planned=(2, 6),
                actual=(None, None),
                narrative=(
                    "We will celebrate the first year with staff from both councils, publish the "
                    "savings, and decide which services move next."
                ),
            ),
        ),
        milestones=(
            _Milestone(
                "vision",
                "Agree the joint vision with both chief executives",
                3,
            ),
            _Milestone(
                "vision",
                "Sign the partnership agreement between the councils",
                4,
            ),
            _Milestone(
                "vision",
                "Publish the case for change to staff in both councils",
                2,
                "edc.cs:l ncc.cs:l edc.rb:l",
            ),
            _Milestone(
                "influencers",
                "Map influencers across both councils",
                2,
            ),
            _Milestone(
                "influencers",
                "Meet the trade unions in both councils",
                3,
            ),
            _Milestone(
                "influencers",
                "Recruit change champions in customer services",
                3,
                "edc.cs:m ncc.cs:m",
            ),
            _Milestone(
                "influencers",
                "Brief both councils' scrutiny committees",
                2,
            ),
            _Milestone(
                "test",
                "Run discovery with the revenues team",
                4,
                "edc.rb:m",
            ),
            _Milestone(
                "test",
                "Test online council tax moves with 200 residents",
                4,
                "edc.rb:m edc.cs:m",
            ),
            _Milestone(
                "test",
                "Choose the platform supplier with evidence",
                5,
                "edc.ict:m ncc.ict:m",
            ),
            _Milestone(
                "test",
                "Decide which forms move first",
                3,
                "edc.rb:l edc.cs:l",
            ),
            _Milestone(
                "equip",
                "Train customer services in both councils",
                4,
                "edc.cs:h ncc.cs:h",
            ),
            _Milestone(
                "equip",
                "Publish quick guides for every form",
                2,
                "edc.cs:l ncc.cs:l",
            ),
            _Milestone(
                "equip",
                "Set up floor-walkers for go-live",
                2,
                "edc.rb:l edc.cs:l",
            ),
            _Milestone(
                "equip",
                "Retrain revenues officers on the new case screens",
                3,
                "edc.rb:h",
                due=-3,
            ),
            # The heavy month: four high-impact changes land on revenues and benefits at once.
            _Milestone(
                "launch",
                "Go live with online council tax moves",
                5,
                "edc.rb:h edc.cs:m ncc.cs:l",
                due=-3,
            ),
            _Milestone(
                "launch",
                "Move benefit change-of-circumstances forms online",
                4,
                "edc.rb:h",
                due=-3,
            ),
            _Milestone(
                "launch",
                "Merge the revenues and benefits back-office queues",
                4,
                "edc.rb:h",
                due=-3,
            ),
            _Milestone(
                "launch",
                "Move county customer services onto the platform",
                5,
                "ncc.cs:h",
                flag="late",
                due=-1,
            ),
            _Milestone(
                "launch",
                "Switch off paper forms for council tax moves",
                4,
                "edc.rb:h edc.cs:m",
                flag="blocked",
                due=1,
                needs=("rb_manager",),
            ),
            _Milestone(
                "launch",
                "Integrate the old waste app with the platform",
                2,
                "edc.wst:l",
                flag="cancelled",
            ),
            _Milestone(
                "launch",
                "Close the council tax phone line on Wednesdays",
                2,
                "edc.cs:m",
            ),
            _Milestone(
                "launch",
                "Run extra floor-walkers for the first month",
                2,
                "edc.rb:l",
                due=-2,
            ),
            _Milestone(
                "launch",
                "Clear the go-live defect list",
                3,
                "edc.ict:m",
                due=-1,
            ),
            _Milestone(
                "launch",
                "Start a weekly backlog review with revenues",
                1,
                "edc.rb:l",
                due=-1,
            ),
            _Milestone(
                "celebrate",
                "Celebrate the first year with staff from both councils",
                2,
            ),
            _Milestone(
                "celebrate",
                "Publish the savings to both councils",
                2,
            ),
            _Milestone(
                "celebrate",
                "Decide which services move next",
                3,
            ),
        ),
        stakeholders=(
            _Stakeholder(
                "sponsor",
                "Mark Fenwick",
                "Joint Chief Digital Officer (sponsor)",
                None,
                influence=5,
                interest=5,
                desired=2,
                path=((18, 2),),
                notes="Sponsor, appointed by both councils.",
            ),
            _Stakeholder(
                "rb_manager",
                "Sandra Whitlock",
                "Revenues and benefits manager",
                "edc.rb",
                influence=4,
                interest=5,
                desired=1,
                path=((18, 1), (2, 0), (1, -1)),
                notes=(
                    "Supported the platform through testing. Since go-live her team has carried a "
                    "backlog, and she wants paper forms kept until it clears."
                ),
            ),
            _Stakeholder(
                "ctax_lead",
                "Darren Pugh",
                "Council tax team leader",
                "edc.rb",
                influence=3,
                interest=5,
                desired=1,
                path=((18, 0), (12, 1), (2, 0), (1, -1)),
                notes="Says the merged queues hide urgent cases.",
            ),
            _Stakeholder(
                "assessor",
                "Yvonne Ashby",
                "Senior benefits assessor",
                "edc.rb",
                influence=2,
                interest=4,
                desired=1,
                path=((18, 1), (2, -1)),
                notes="Finds the new case screens slower for complex claims.",
            ),
            _Stakeholder(
                "union",
                "Kevin Brannigan",
                "Trade union branch secretary (district)",
                None,
                influence=3,
                interest=4,
                desired=0,
                path=((18, -1), (10, 0)),
                notes="Satisfied by the written assurance on job security.",
            ),
            _Stakeholder(
                "cs_district",
                "Lucy Tran",
                "Customer services manager (district)",
                "edc.cs",
                influence=3,
                interest=5,
                desired=2,
                path=((18, 1), (12, 2)),
                notes="Early champion; her team ran half of the training sessions.",
            ),
            _Stakeholder(
                "cs_county",
                "Ahmed Khalil",
                "Customer services manager (county)",
                "ncc.cs",
                influence=3,
                interest=4,
                desired=2,
                path=((18, 0), (10, 1), (5, 2)),
                notes="Preparing the county's move onto the platform.",
            ),
            _Stakeholder(
                "portfolio",
                "Cllr Rachel Moss",
                "Portfolio holder for resources (district)",
                None,
                influence=4,
                interest=3,
                desired=1,
                path=((18, 1),),
                notes="Wants the savings reported to full council.",
            ),
            _Stakeholder(
                "cx_head",
                "Bernadette Quinn",
                "Head of customer experience (county)",
                "ncc.cs",
                influence=4,
                interest=4,
                desired=2,
                path=((18, 1),),
                notes="Represents the county on the partnership board.",
            ),
            _Stakeholder(
                "finance",
                "Stuart Grieve",
                "Head of finance (district)",
                None,
                influence=4,
                interest=3,
                desired=1,
                path=((18, -1), (12, 0), (6, 1)),
                notes="Came round once the cost-sharing formula was drafted.",
            ),
        ),
        engagements=(
            _Engagement(
                "workshop",
                "Joint staff briefing on the shared platform",
                weeks_ago=90,
                who=("sponsor", "cs_district", "cs_county", "rb_manager"),
                outcome="Staff welcomed one front door; revenues asked about workload at go-live.",
            ),
            _Engagement(
                "meeting",
                "Meeting with the trade unions about job security",
                weeks_ago=45,
                who=("union",),
                outcome="A written assurance of no compulsory redundancies was agreed.",
                follow_up=4,
                follow_up_done=True,
            ),
            _Engagement(
                "briefing",
                "Go-live briefing for the revenues team",
                weeks_ago=14,
                who=("rb_manager", "ctax_lead", "assessor"),
                outcome="The team asked for extra floor-walkers during the first month.",
                follow_up=1,
                follow_up_done=True,
            ),
            _Engagement(
                "meeting",
                "Backlog review with the revenues and benefits manager",
                weeks_ago=7,
                who=("rb_manager", "ctax_lead"),
                outcome=(
                    "The backlog stands at 1,900 items; the team wants paper forms kept for now."
                ),
                follow_up=3,
            ),
            _Engagement(
                "survey",
                "Pulse survey of revenues and benefits staff",
                weeks_ago=3,
                who=("rb_manager", "ctax_lead", "assessor"),
                outcome="Sentiment is down since go-live; workload is the main concern.",
                follow_up=4,
            ),
            _Engagement(
                "meeting",
                "Partnership board: switching off paper forms",
                weeks_ago=1,
                who=("sponsor", "finance", "portfolio"),
                outcome="Switch-off paused until the backlog falls below 500 items.",
                follow_up=4,
            ),
        ),
        barriers=(
            _Barrier(
                "County share of platform costs not confirmed for next year",
                "risk",
                "financial",
                likelihood=3,
                impact=5,
                status="open",
                owner="Stuart Grieve",
                mitigation="Agree a three-year cost-sharing formula at the partnership board.",
            ),
            _Barrier(
                "Revenues backlog after go-live",
                "issue",
                "capacity",
                likelihood=5,
                impact=4,
                status="mitigating",
                owner="Sandra Whitlock",
                mitigation="Temporary staff from the county; weekly backlog review.",
            ),
            _Barrier(
                "Residents keep posting paper forms",
                "issue",
                "other",
                likelihood=4,
                impact=2,
                status="open",
                owner="Lucy Tran",
                mitigation="A note with council tax bills explaining the online route.",
            ),
            _Barrier(
                "Different ways of working in the two councils",
                "risk",
                "cultural",
                likelihood=3,
                impact=3,
                status="closed",
                owner="Priya Sandhu",
                mitigation="Joint team days; shared process maps agreed by both team leaders.",
            ),
        ),
        metrics=(
            _Metric(
                "% of council tax transactions online",
                "%",
                baseline=22,
                target=75,
                direction="up",
                target_in_months=6,
                stage="launch",
                path=((18, 0.0), (4, 0.05), (3, 0.35), (0, 0.62)),
            ),
            _Metric(
                "Average days to process a change of address",
                "days",
                baseline=21,
                target=5,
                direction="down",
                target_in_months=6,
                stage="launch",
                path=((18, 0.0), (4, 0.05), (3, -0.2), (1, 0.3), (0, 0.45)),
            ),
            _Metric(
                "£ saved (cumulative)",
                "£",
                baseline=0,
                target=400000,
                direction="up",
                target_in_months=6,
                stage="celebrate",
                path=((18, 0.0), (3, 0.0), (0, 0.3)),
                wobble=0.0,
                decimals=0,
            ),
            _Metric(
                "Staff sentiment score (revenues and benefits)",
                "score",
                baseline=6.4,
                target=7.5,
                direction="up",
                target_in_months=6,
                stage=None,
                path=((18, 0.3), (4, 0.5), (3, 0.2), (1, -0.6), (0, -0.5)),
            ),
            _Metric(
                "% of staff trained",
                "%",
                baseline=0,
                target=100,
                direction="up",
                target_in_months=-2,
                stage="equip",
                path=((18, 0.0), (10, 0.0), (5, 0.6), (3, 0.95), (0, 0.97)),
                wobble=0.0,
            ),
        ),
        links=(
            ("sponsor", "portfolio", 2),
            ("rb_manager", "ctax_lead", 3),
            ("rb_manager", "assessor", 3),
            ("union", "ctax_lead", 2),
            ("cs_district", "cs_county", 1),
            ("finance", "portfolio", 3),
        ),
        narratives=(
            _Narrative(
                "One front door: what changes for revenues and benefits",
                "staff",
                "launch",
                published_weeks_ago=14,
                body=(
                    "Residents can now tell us they are moving home, and report a change in their "
                    "circumstances, online. The details arrive in your queue already filled in, so "
                    "there is less to re-key.\n\n"
                    "The first weeks will be busy while both routes run. Floor-walkers from the "
                    "platform team will be with you every day, and **no one will lose their job "
                    "because of the platform**: both councils have agreed this with the trade "
                    "unions."
                ),
            ),
            _Narrative(
                "Thank you from the platform team",
                "everyone",
                "equip",
                published_weeks_ago=10,
                body=(
                    "More than 300 staff across both councils have now been trained on the new "
                    "platform. Thank you to the customer services champions who ran half of the "
                    "sessions themselves.\n\n"
                    "If you missed a session, or want a refresher, ask your team leader: sessions "
                    "run every week."
                ),
            ),
            _Narrative(
                "Shared platform: go-live and the revenues backlog",
                "leadership",
                "launch",
                published_weeks_ago=2,
                body=(
                    "Online council tax moves are working, and most moves now arrive online. The "
                    "revenues team had a very heavy month at go-live, with training, new screens "
                    "and merged queues all at once, and a backlog built up.\n\n"
                    "Staff sentiment in revenues and benefits has fallen, and the team wants paper "
                    "forms kept until the backlog clears. **Decision needed:** eight weeks of "
                    "temporary staff from the county; the partnership board has paused the "
                    "switch-off of paper forms."
                ),
            ),
            _Narrative(
                "Switching off paper forms: when and how",
                "staff",
                "launch",
                published_weeks_ago=None,
                body=(
                    "We will not switch off paper forms for council tax moves until the backlog is "
                    "below 500 items and the revenues team agrees the online route is working. "
                    "Residents who cannot go online can still call us or visit a help point."
                ),
            ),
        ),
    ),
    # Celebrating: the resistor who came round is the trade union's branch secretary.
    _Programme(
        code="NCC-REPORT-IT",
        title="Report it online: highways faults",
        owner="ncc",
        partners=(),
        status="active",
        summary=(
            "Residents report potholes, broken streetlights and blocked drains online with a photo "
            "and a pin on the map, follow the repair, and are told when it is fixed. Inspectors "
            "receive reports on a tablet instead of printed job sheets."
        ),
        vision=(
            "Report a problem in under two minutes, always know what happens next, and let our "
            "inspectors spend their day fixing roads, not doing paperwork."
        ),
        sponsor="Colin Barraclough, Director of Highways and Transport",
        manager="Amira Haddad",
        team=("Amira Haddad", "Jack Thorne", "Lily Osei"),
        affected="highways inspectors and customer services advisers",
        budget="420000.00",
        benefits="650000.00",
        start=-30,
        end=6,
        stages=(
            _Stage(
                "vision",
                planned=(-30, -27),
                actual=(-30, -27),
                narrative=(
                    "The director and a group of inspectors wrote the vision together on a wet "
                    "morning at the depot. It has not changed since: **two minutes to report, and "
                    "you always know what happens next**."
                ),
            ),
            _Stage(
                "influencers",
                planned=(-27, -21),
                actual=(-27, -20),
                narrative=(
                    "Area managers and the trade union were sceptical at first: inspectors had "
                    "seen two apps fail before. We took time to listen and brought inspectors into "
                    "the design."
                ),
            ),
            _Stage(
                "test",
                planned=(-21, -15),
                actual=(-20, -14),
                narrative=(
                    "Twelve inspectors tested tablets for three months. Their feedback changed the "
                    "job screens twice before we bought anything."
                ),
            ),
            _Stage(
                "equip",
                planned=(-15, -9),
                actual=(-14, -8),
                narrative=(
                    "Every inspector had a day's training and a buddy. Customer services learned "
                    "to help callers report online while still on the phone."
                ),
            ),
            _Stage(
                "launch",
                planned=(-9, -4),
                actual=(-8, -3),
                narrative=(
                    "Online reporting opened for potholes first, then streetlights and drains. "
                    "Printed job sheets have stopped in every depot."
                ),
            ),
            _Stage(
                "celebrate",
                planned=(-3, 3),
                actual=(-3, None),
                narrative=(
                    "We are celebrating with the depots, sharing residents' thank-you messages, "
                    "and writing up what we learned for the next programme."
                ),
            ),
        ),
        milestones=(
            _Milestone(
                "vision",
                "Agree vision statement with the SRO",
                3,
            ),
            _Milestone(
                "vision",
                "Write the vision with inspectors at the depot",
                2,
                "ncc.hwy:l",
            ),
            _Milestone(
                "vision",
                "Publish the case for change",
                2,
                "ncc.hwy:l ncc.cs:l",
            ),
            _Milestone(
                "influencers",
                "Map influencers in highways and customer services",
                2,
            ),
            _Milestone(
                "influencers",
                "Listen to inspectors about the apps that failed",
                3,
                "ncc.hwy:m",
            ),
            _Milestone(
                "influencers",
                "Agree a way of working with the trade union",
                3,
                "ncc.hwy:m",
            ),
            _Milestone(
                "influencers",
                "Brief the cabinet member for highways",
                2,
            ),
            _Milestone(
                "test",
                "Run discovery with residents who report faults",
                3,
                "ncc.cs:l",
            ),
            _Milestone(
                "test",
                "Trial tablets with twelve inspectors",
                4,
                "ncc.hwy:m",
            ),
            _Milestone(
                "test",
                "Decide the fault categories with evidence",
                3,
                "ncc.hwy:l ncc.cs:l",
            ),
            _Milestone(
                "test",
                "Choose the reporting platform",
                4,
                "ncc.ict:m",
            ),
            _Milestone(
                "equip",
                "Train every inspector, with a buddy",
                4,
                "ncc.hwy:h",
            ),
            _Milestone(
                "equip",
                "Train customer services to help callers report online",
                3,
                "ncc.cs:m",
            ),
            _Milestone(
                "equip",
                "Issue tablets to all inspectors",
                3,
                "ncc.hwy:m ncc.ict:m",
            ),
            _Milestone(
                "equip",
                "Build a bespoke app for inspectors",
                2,
                "ncc.hwy:l",
                flag="cancelled",
            ),
            _Milestone(
                "launch",
                "Open online reporting for potholes",
                5,
                "ncc.hwy:h ncc.cs:m",
            ),
            _Milestone(
                "launch",
                "Add streetlights and drains to online reporting",
                4,
                "ncc.hwy:m ncc.cs:m",
            ),
            _Milestone(
                "launch",
                "Stop printing job sheets in every depot",
                4,
                "ncc.hwy:h",
            ),
            _Milestone(
                "launch",
                "Send residents a message when a fault is fixed",
                3,
                "ncc.cs:l",
            ),
            _Milestone(
                "celebrate",
                "Celebrate with the depots",
                2,
                "ncc.hwy:l",
            ),
            _Milestone(
                "celebrate",
                "Share residents' thank-you messages with staff",
                1,
                flag="blocked",
            ),
            _Milestone(
                "celebrate",
                "Visit every depot to say thank you",
                2,
                "ncc.hwy:l",
                due=-1,
            ),
            _Milestone(
                "celebrate",
                "Write up lessons for the next programme",
                2,
                flag="late",
                due=-1,
            ),
            _Milestone(
                "celebrate",
                "Hand the service over to business as usual",
                4,
                "ncc.hwy:m ncc.ict:l",
            ),
        ),
        stakeholders=(
            _Stakeholder(
                "sponsor",
                "Colin Barraclough",
                "Director of Highways and Transport (sponsor)",
                "ncc.hwy",
                influence=5,
                interest=4,
                desired=2,
                path=((18, 2),),
                notes="Sponsor since the start.",
            ),
            _Stakeholder(
                "union",
                "Terry Walsh",
                "Trade union branch secretary (county)",
                "ncc.hwy",
                influence=4,
                interest=5,
                desired=1,
                path=((18, -2), (12, -2), (9, -1), (6, 0), (3, 1)),
                notes=(
                    "Opposed the programme after two failed apps; came round once inspectors could "
                    "test and veto the job screens."
                ),
            ),
            _Stakeholder(
                "north",
                "Phil Dunstan",
                "Area highways manager (north)",
                "ncc.hwy",
                influence=4,
                interest=4,
                desired=1,
                path=((18, -1), (10, 0), (5, 1)),
                notes="Now supportive; wants the same approach for winter gritting.",
            ),
            _Stakeholder(
                "south",
                "Rowena Platt",
                "Area highways manager (south)",
                "ncc.hwy",
                influence=3,
                interest=4,
                desired=1,
                path=((18, 0), (8, 1)),
                notes="Supportive; asked for shared tablets in the two small depots.",
            ),
            _Stakeholder(
                "inspector",
                "Dave Kirkby",
                "Senior highways inspector",
                "ncc.hwy",
                influence=3,
                interest=5,
                desired=2,
                path=((18, 0), (9, 1), (4, 2)),
                notes="Led the tablet trial and now trains new inspectors.",
            ),
            _Stakeholder(
                "cs_lead",
                "Shona Gray",
                "Customer services team leader",
                "ncc.cs",
                influence=2,
                interest=4,
                desired=1,
                path=((18, 1),),
                notes="Her team helps callers report online.",
            ),
            _Stakeholder(
                "cabinet",
                "Cllr Derek Holt",
                "Cabinet member for highways",
                None,
                influence=5,
                interest=3,
                desired=1,
                path=((18, 1),),
                notes="Shares residents' feedback at cabinet.",
            ),
            _Stakeholder(
                "ict",
                "Nick Ferris",
                "Head of ICT (county)",
                "ncc.ict",
                influence=3,
                interest=2,
                desired=1,
                path=((18, 0),),
                notes="Owns the support contract for the reporting platform.",
            ),
            _Stakeholder(
                "panel",
                "Northmoor Residents' Panel",
                "Residents who test council services",
                None,
                influence=2,
                interest=4,
                desired=1,
                path=((18, 0), (6, 1)),
                notes="Tested the reporting form before launch.",
            ),
        ),
        engagements=(
            _Engagement(
                "workshop",
                "Vision morning at the north depot",
                weeks_ago=110,
                who=("sponsor", "north", "inspector", "union"),
                outcome=(
                    "Inspectors agreed the vision but doubted the tablets would work in the field."
                ),
            ),
            _Engagement(
                "meeting",
                "Meeting with the trade union about the apps that failed",
                weeks_ago=95,
                who=("union",),
                outcome="Agreed that inspectors would test the job screens and could veto them.",
                follow_up=4,
                follow_up_done=True,
            ),
            _Engagement(
                "workshop",
                "Tablet trial review with inspectors",
                weeks_ago=50,
                who=("inspector", "north", "south", "union"),
                outcome="Screens changed twice; inspectors are happy with the offline mode.",
                follow_up=2,
                follow_up_done=True,
            ),
            _Engagement(
                "meeting",
                "Handover planning with ICT",
                weeks_ago=6,
                who=("ict",),
                outcome="The support contract is still with procurement.",
                follow_up=2,
            ),
            _Engagement(
                "briefing",
                "Celebration planning with the area managers",
                weeks_ago=2,
                who=("north", "south"),
                outcome="Depot visits booked.",
                follow_up=4,
            ),
        ),
        barriers=(
            _Barrier(
                "Support contract for the reporting platform not yet awarded",
                "issue",
                "other",
                likelihood=3,
                impact=3,
                status="open",
                owner="Nick Ferris",
                mitigation=(
                    "Extend the current support for three months while procurement completes."
                ),
            ),
            _Barrier(
                "Poor mobile signal in rural parts of the county",
                "issue",
                "technical",
                likelihood=3,
                impact=2,
                status="closed",
                owner="Jack Thorne",
                mitigation="Offline mode on the tablets; reports sync at the depot.",
            ),
            _Barrier(
                "Inspectors distrust new apps after two failures",
                "risk",
                "cultural",
                likelihood=2,
                impact=4,
                status="closed",
                owner="Amira Haddad",
                mitigation="Inspectors test the job screens and can veto them.",
            ),
            _Barrier(
                "Budget for tablets cut by a fifth mid-year",
                "issue",
                "financial",
                likelihood=2,
                impact=3,
                status="closed",
                owner="Colin Barraclough",
                mitigation="Phased purchase; shared tablets in the two small depots.",
            ),
        ),
        metrics=(
            _Metric(
                "% of highway faults reported online",
                "%",
                baseline=12,
                target=70,
                direction="up",
                target_in_months=3,
                stage="launch",
                path=((18, 0.0), (9, 0.05), (7, 0.3), (4, 0.7), (0, 0.88)),
            ),
            _Metric(
                "Average days to repair a reported pothole",
                "days",
                baseline=19,
                target=7,
                direction="down",
                target_in_months=3,
                stage=None,
                path=((18, 0.0), (8, 0.1), (4, 0.5), (0, 0.75)),
            ),
            _Metric(
                "Staff sentiment score (highways)",
                "score",
                baseline=5.2,
                target=7,
                direction="up",
                target_in_months=3,
                stage=None,
                path=((18, 0.0), (12, -0.1), (6, 0.4), (0, 0.8)),
            ),
            _Metric(
                "£ saved on printing and postage (cumulative)",
                "£",
                baseline=0,
                target=60000,
                direction="up",
                target_in_months=3,
                stage="celebrate",
                path=((18, 0.0), (8, 0.0), (0, 0.7)),
                wobble=0.0,
                decimals=0,
            ),
        ),
        links=(
            ("union", "inspector", 3),
            ("union", "north", 2),
            ("inspector", "north", 2),
            ("sponsor", "cabinet", 2),
        ),
        narratives=(
            _Narrative(
                "Report it online is live for potholes, streetlights and drains",
                "everyone",
                "launch",
                published_weeks_ago=12,
                body=(
                    "You can now report a pothole, a broken streetlight or a blocked drain online "
                    "in under two minutes. Add a photo and drop a pin on the map, and we will tell "
                    "you when the repair is booked and when it is done.\n\n"
                    "You can still phone us if you prefer."
                ),
            ),
            _Narrative(
                "Report it online: benefits so far",
                "leadership",
                "celebrate",
                published_weeks_ago=4,
                body=(
                    "Most highway faults are now reported online, and potholes are repaired faster "
                    "than before the programme. Printed job sheets have stopped in every depot.\n\n"
                    "The service has not yet been handed over to business as usual, because the "
                    "support contract is still with procurement. **Decision needed:** approve a "
                    "three-month extension of the current support."
                ),
            ),
            _Narrative(
                "Thank you, depots: what you achieved",
                "staff",
                "celebrate",
                published_weeks_ago=2,
                body=(
                    "When we started, inspectors told us, rightly, that they had seen two apps "
                    "fail. You tested the tablets, changed the screens twice and made this one "
                    "work.\n\n"
                    "Residents have sent hundreds of thank-you messages since online reporting "
                    "opened. We are visiting every depot to say thank you in person."
                ),
            ),
            _Narrative(
                "Lessons from Report it online",
                "everyone",
                "celebrate",
                published_weeks_ago=None,
                body=(
                    "- Let the people who do the work test it, and change it, before you buy.\n"
                    "- Keep the phone route: it reassured residents and councillors.\n"
                    "- In rural areas, the offline mode mattered more than any other feature."
                ),
            ),
        ),
    ),
)

DEMO_PROGRAMME_CODES: tuple[str, ...] = tuple(spec.code for spec in PROGRAMMES)

# Stance history goes back at most this far (or to the programme's start, if later).
HISTORY_MONTHS = 18
# An open milestone due within this many days of today counts as in progress.
_IN_PROGRESS_WITHIN_DAYS = 45
_IMPACT_LEVELS = {"l": "low", "m": "medium", "h": "high"}


# --- What seeding did ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What seed_demo wrote: counts of the records it created (all 0 when `created` is False)."""

    created: bool
    organisations: int = 0
    staff_groups: int = 0
    users: int = 0
    programmes: int = 0
    milestones: int = 0
    stakeholders: int = 0
    assessments: int = 0
    engagements: int = 0
    barriers: int = 0
    metrics: int = 0
    readings: int = 0
    narratives: int = 0
    influence_links: int = 0

    def describe(self) -> str:
        """One line for a person: what was seeded, or that nothing changed."""
        if not self.created:
            return "Demo portfolio already present: nothing changed"
        return (
            f"Demo portfolio seeded: {self.programmes} programmes, {self.milestones} milestones, "
            f"{self.stakeholders} stakeholders ({self.assessments} assessments), "
            f"{self.engagements} engagements, {self.barriers} barriers, {self.metrics} metrics "
            f"({self.readings} readings), {self.narratives} narratives, "
            f"{self.influence_links} influence links, {self.organisations} organisations, "
            f"{self.staff_groups} staff groups, {self.users} users"
        )


def seed_demo(engine: Engine, *, reset: bool = False) -> DemoSummary:
    """Write the demo portfolio, dated relative to today, in one audited transaction.

    When a demo programme code is already present, nothing changes (created False). With
    `reset`, every row of every table (the audit trail included) is deleted first, in the same
    transaction, and the demo is written afresh. The schema must already be migrated.
    Raises DomainError when existing data clashes with the demo (e.g. an organisation of the
    same name); nothing is written then.
    """
    with db.write_session(engine, actor=DEMO_ACTOR) as session:
        if reset:
            _delete_everything(session)
        elif _demo_present(session):
            return DemoSummary(created=False)
        counts = _Seeder(session, clock.today()).run()
    return DemoSummary(created=True, **counts)


def _delete_everything(session: Session) -> None:
    # Bulk deletes bypass the audit listener on purpose: the audit trail itself is being emptied.
    # The reload raises the data version, so every process reads afresh.
    connection = session.connection()
    for table in db.tables_to_empty():
        connection.execute(sa.delete(table))


def _demo_present(session: Session) -> bool:
    query = select(Programme.id).where(col(Programme.code).in_(DEMO_PROGRAMME_CODES)).limit(1)
    return session.exec(query).first() is not None


# --- Dates ------------------------------------------------------------------------------------


def _shift(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later (earlier when negative), capped at the 28th
    so that every month has it."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, min(day.day, 28))


def _working_day(day: dt.date, *, forward: bool = False) -> dt.date:
    """`day` if Monday to Friday; otherwise the Friday before (or, `forward`, the Monday after)."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=1 if forward else -1)
    return day


def _stance_at(path: Sequence[tuple[int, int]], months_ago: int) -> int:
    """The stance in force `months_ago` months back: the last point at or before then."""
    stance = path[0][1]
    for since, value in path:
        if since >= months_ago:
            stance = value
    return stance


def _attainment_at(path: Sequence[tuple[int, float]], months_ago: int) -> float:
    """Attainment `months_ago` months back, on straight lines between the path's points."""
    if months_ago >= path[0][0]:
        return path[0][1]
    for (old, old_value), (new, new_value) in zip(path, path[1:], strict=False):
        if new <= months_ago <= old:
            return old_value + (new_value - old_value) * (old - months_ago) / (old - new)
    return path[-1][1]


# --- Milestone dates and statuses ---------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledMilestone:
    """A demo milestone with the due date, status and completed date it gets on a given day."""

    row: _Milestone
    due_date: dt.date
    status: str
    completed_date: dt.date | None


def milestone_schedule(
    spec: _Programme, today: dt.date, rng: random.Random
) -> list[ScheduledMilestone]:
    """The programme's milestones as of `today`, in table order.

    Due dates: a pinned month's 6th to 24th, or spread evenly over the stage's planned dates.
    Status: the row's flag ("late" is in progress and overdue); otherwise done when due before
    today (completed within a week or so of the due date, never after yesterday nor before the
    programme started), in progress when due within 45 days, else not started. `rng` jitters the
    completed dates. Raises ValueError when a "late" row would not be overdue (a data mistake).
    """
    plans = {plan.stage: plan for plan in spec.stages}
    per_stage = Counter(row.stage for row in spec.milestones if row.due is None)
    seen: Counter[str] = Counter()
    start = _shift(today, spec.start)
    schedule: list[ScheduledMilestone] = []
    for index, row in enumerate(spec.milestones):
        if row.due is not None:
            first = month_start(_shift(today, row.due))
            due = _working_day(first + dt.timedelta(days=5 + 6 * (index % 4)))
        else:
            planned_start, planned_end = (
                _shift(today, month) for month in plans[row.stage].planned
            )
            seen[row.stage] += 1
            share = seen[row.stage] / (per_stage[row.stage] + 1)
            due = _working_day(planned_start + (planned_end - planned_start) * share)
        status, completed = _status(row, due, today, start, rng)
        schedule.append(ScheduledMilestone(row, due, status, completed))
    return schedule


def _status(
    row: _Milestone, due: dt.date, today: dt.date, start: dt.date, rng: random.Random
) -> tuple[str, dt.date | None]:
    if row.flag in ("blocked", "cancelled"):
        return row.flag, None
    if row.flag == "late":
        if due >= today:
            raise ValueError(f"demo data: '{row.title}' is marked late but is not yet due")
        return "in_progress", None
    if due < today:
        finished = _working_day(due + dt.timedelta(days=rng.randint(-5, 7)))
        return "done", max(start, min(finished, today - dt.timedelta(days=1)))
    if (due - today).days <= _IN_PROGRESS_WITHIN_DAYS:
        return "in_progress", None
    return "not_started", None


# --- Writing it -------------------------------------------------------------------------------


class _Seeder:
    """Writes the tables above through the services, counting what it creates."""

    def __init__(self, session: Session, today: dt.date) -> None:
        self.session = session
        # The installation seeding itself: no person, so the resolver allows it everything.
        self.viewer = system_viewer("demo")
        self.today = today
        self.rng = random.Random(SEED)
        self.counts: Counter[str] = Counter()
        self.organisation_ids: dict[str, int] = {}
        self.staff_group_ids: dict[str, int] = {}

    def run(self) -> dict[str, int]:
        self._organisations()
        self._users()
        for spec in PROGRAMMES:
            self._programme(spec)
        return {name: self.counts[name] for name in _COUNTED}

    def _months(self, months: int) -> dt.date:
        return _shift(self.today, months)

    def _weeks_ago(self, weeks: int) -> dt.date:
        return _working_day(self.today - dt.timedelta(weeks=weeks))

    def _organisations(self) -> None:
        for org in ORGANISATIONS:
            created = organisations.create_organisation(
                session=self.session,
                viewer=self.viewer,
                data={"name": org.name, "short_name": org.short_name},
            )
            assert created.id is not None
            self.organisation_ids[org.key] = created.id
            self.counts["organisations"] += 1
            for key, name in org.staff_groups:
                group = organisations.create_staff_group(
                    session=self.session,
                    viewer=self.viewer,
                    data={"organisation_id": created.id, "name": name},
                )
                assert group.id is not None
                self.staff_group_ids[f"{org.key}.{key}"] = group.id
                self.counts["staff_groups"] += 1

    def _users(self) -> None:
        for user in DEMO_USERS:
            organisations.create_user(
                session=self.session,
                viewer=self.viewer,
                data={
                    "email": user.email,
                    "name": user.name,
                    "role": user.role,
                    "staff_group_id": self._group(user.staff_group),
                },
                organisation_ids=[self.organisation_ids[key] for key in user.organisations],
            )
            self.counts["users"] += 1

    def _group(self, key: str | None) -> int | None:
        return None if key is None else self.staff_group_ids[key]

    def _programme(self, spec: _Programme) -> None:
        programme_id = self._create_programme(spec)
        history = min(HISTORY_MONTHS, -spec.start)
        people = self._stakeholders(spec, programme_id, history)
        self._milestones(spec, programme_id, people)
        self._engagements(spec, programme_id, people)
        self._barriers(spec, programme_id)
        self._metrics(spec, programme_id, history)
        self._links(spec, people)
        self._narratives(spec, programme_id)
        if spec.override is not None:
            rating, reason = spec.override
            programmes.override_confidence(
                session=self.session,
                viewer=self.viewer,
                programme_id=programme_id,
                rating=rating,
                reason=reason,
                set_by=_manager_email(spec.owner),
            )

    def _create_programme(self, spec: _Programme) -> int:
        stages: dict[Stage, dict[str, Any]] = {
            Stage(plan.stage): {
                "narrative": plan.narrative,
                "planned_start": self._months(plan.planned[0]),
                "planned_end": self._months(plan.planned[1]),
                "actual_start": _maybe(self._months, plan.actual[0]),
                "actual_end": _maybe(self._months, plan.actual[1]),
            }
            for plan in spec.stages
        }
        programme = programmes.create_programme(
            session=self.session,
            viewer=self.viewer,
            data={
                "code": spec.code,
                "title": spec.title,
                "organisation_id": self.organisation_ids[spec.owner],
                "summary": spec.summary,
                "vision_statement": spec.vision,
                "sponsor": spec.sponsor,
                "manager": spec.manager,
                "start_date": self._months(spec.start),
                "target_end_date": self._months(spec.end),
                "status": spec.status,
                "budget": Decimal(spec.budget),
                "expected_benefits": Decimal(spec.benefits),
            },
            partner_ids=[self.organisation_ids[key] for key in spec.partners],
            sharing_ids=[self.organisation_ids[key] for key in spec.sharing],
            stages=stages,
        )
        assert programme.id is not None
        self.counts["programmes"] += 1
        for plan in spec.stages:
            self._exit_criteria(spec, programme.id, plan)
        return programme.id

    def _exit_criteria(self, spec: _Programme, programme_id: int, plan: _Stage) -> None:
        record = programmes.stage_record(
            session=self.session, programme_id=programme_id, stage=plan.stage
        )
        assert record.id is not None
        started, finished = (month is not None for month in plan.actual)
        for position, text in enumerate(EXIT_CRITERIA[plan.stage]):
            programmes.add_exit_criterion(
                session=self.session,
                viewer=self.viewer,
                stage_record_id=record.id,
                text=text.format(affected=spec.affected),
                # A stage under way has met its first criterion; a finished one, all of them.
                met=finished or (started and position == 0),
            )

    def _stakeholders(self, spec: _Programme, programme_id: int, history: int) -> dict[str, int]:
        ids: dict[str, int] = {}
        for person in spec.stakeholders:
            created = stakeholders.create_stakeholder(
                session=self.session,
                viewer=self.viewer,
                data={
                    "programme_id": programme_id,
                    "name": person.name,
                    "role": person.role,
                    "staff_group_id": self._group(person.staff_group),
                    "influence": person.influence,
                    "interest": person.interest,
                    "stance": _stance_at(person.path, 0),
                    "desired_stance": person.desired,
                    "relationship_owner": spec.manager,
                    "notes": person.notes,
                },
                assessed_by=spec.manager,
                first_assessment=self._adkar(_stance_at(person.path, 0)),
            )
            assert created.id is not None
            ids[person.key] = created.id
            self.counts["stakeholders"] += 1
            # create_stakeholder records today's assessment; add one a month before it.
            self.counts["assessments"] += 1
            for months_ago in range(history, 0, -1):
                stance = _stance_at(person.path, months_ago)
                stakeholders.record_assessment(
                    session=self.session,
                    viewer=self.viewer,
                    data={
                        "stakeholder_id": created.id,
                        "assessed_on": self._months(-months_ago),
                        "stance": stance,
                        "influence": person.influence,
                        "interest": person.interest,
                        "assessed_by": spec.manager,
                        **self._adkar(stance),
                    },
                )
                self.counts["assessments"] += 1
        return ids

    def _adkar(self, stance: int) -> dict[str, int]:
        # ADKAR follows stance: awareness comes first, ability and reinforcement last.
        offsets = {"awareness": 1, "desire": 0, "knowledge": 0, "ability": -1, "reinforcement": -1}
        return {
            name: max(1, min(5, 3 + stance + offset + self.rng.choice((-1, 0, 0, 1))))
            for name, offset in offsets.items()
        }

    def _milestones(self, spec: _Programme, programme_id: int, people: dict[str, int]) -> None:
        for index, planned in enumerate(milestone_schedule(spec, self.today, self.rng)):
            row = planned.row
            created = milestones.create_milestone(
                session=self.session,
                viewer=self.viewer,
                data={
                    "programme_id": programme_id,
                    "stage": row.stage,
                    "title": row.title,
                    "owner": spec.team[index % len(spec.team)],
                    "due_date": planned.due_date,
                    "completed_date": planned.completed_date,
                    "status": planned.status,
                    "weight": row.weight,
                },
            )
            assert created.id is not None
            self.counts["milestones"] += 1
            impacts = _impacts(row.impacts)
            if impacts:
                milestones.set_impacts(
                    session=self.session,
                    viewer=self.viewer,
                    milestone_id=created.id,
                    impacts={self.staff_group_ids[key]: level for key, level in impacts.items()},
                )
            if row.needs:
                milestones.set_dependencies(
                    session=self.session,
                    viewer=self.viewer,
                    milestone_id=created.id,
                    stakeholder_ids=[people[key] for key in row.needs],
                )

    def _engagements(self, spec: _Programme, programme_id: int, people: dict[str, int]) -> None:
        for contact in spec.engagements:
            occurred = self._weeks_ago(contact.weeks_ago)
            follow_up = (
                None
                if contact.follow_up is None
                else _working_day(occurred + dt.timedelta(weeks=contact.follow_up), forward=True)
            )
            engagements.log_engagement(
                session=self.session,
                viewer=self.viewer,
                data={
                    "programme_id": programme_id,
                    "occurred_on": occurred,
                    "kind": contact.kind,
                    "summary": contact.summary,
                    "outcome": contact.outcome,
                    "follow_up_on": follow_up,
                    "follow_up_done": contact.follow_up_done,
                },
                stakeholder_ids=[people[key] for key in contact.who],
            )
            self.counts["engagements"] += 1

    def _barriers(self, spec: _Programme, programme_id: int) -> None:
        for barrier in spec.barriers:
            barriers.create_barrier(
                session=self.session,
                viewer=self.viewer,
                data={
                    "programme_id": programme_id,
                    "title": barrier.title,
                    "kind": barrier.kind,
                    "category": barrier.category,
                    "likelihood": barrier.likelihood,
                    "impact": barrier.impact,
                    "owner": barrier.owner,
                    "mitigation": barrier.mitigation,
                    "status": barrier.status,
                },
            )
            self.counts["barriers"] += 1

    def _metrics(self, spec: _Programme, programme_id: int, history: int) -> None:
        for measure in spec.metrics:
            metric = metrics.define_metric(
                session=self.session,
                viewer=self.viewer,
                data={
                    "programme_id": programme_id,
                    "name": measure.name,
                    "unit": measure.unit,
                    "baseline": measure.baseline,
                    "target": measure.target,
                    "target_date": self._months(measure.target_in_months),
                    "direction": measure.direction,
                    "stage": measure.stage,
                },
            )
            assert metric.id is not None
            self.counts["metrics"] += 1
            for months_ago in range(history, -1, -1):
                metrics.record_reading(
                    session=self.session,
                    viewer=self.viewer,
                    data={
                        "metric_id": metric.id,
                        "reading_on": month_start(self._months(-months_ago)),
                        "value": self._reading(measure, months_ago),
                    },
                )
                self.counts["readings"] += 1

    def _reading(self, measure: _Metric, months_ago: int) -> float:
        span = measure.target - measure.baseline
        attained = _attainment_at(measure.path, months_ago)
        wobble = self.rng.uniform(-measure.wobble, measure.wobble)
        value = max(0.0, measure.baseline + span * (attained + wobble))
        if measure.unit == "%":
            value = min(100.0, value)
        return round(value, measure.decimals)

    def _links(self, spec: _Programme, people: dict[str, int]) -> None:
        for source, target, strength in spec.links:
            stakeholders.add_influence_link(
                session=self.session,
                viewer=self.viewer,
                data={
                    "from_stakeholder_id": people[source],
                    "to_stakeholder_id": people[target],
                    "strength": strength,
                },
            )
            self.counts["influence_links"] += 1

    def _narratives(self, spec: _Programme, programme_id: int) -> None:
        for story in spec.narratives:
            published = story.published_weeks_ago is not None
            narratives.write_narrative(
                session=self.session,
                viewer=self.viewer,
                data={
                    "programme_id": programme_id,
                    "title": story.title,
                    "body": story.body,
                    "stage": story.stage,
                    "audience": story.audience,
                    "status": "published" if published else "draft",
                    "author": spec.manager,
                    "published_on": _maybe(self._weeks_ago, story.published_weeks_ago),
                },
            )
            self.counts["narratives"] += 1


# The DemoSummary fields that count records.
_COUNTED = tuple(item.name for item in fields(DemoSummary) if item.name != "created")


def _maybe(convert: Callable[[int], dt.date], value: int | None) -> dt.date | None:
    return None if value is None else convert(value)


def _impacts(spec: str) -> dict[str, str]:
    """ "edc.rb:h ncc.cs:m" as {"edc.rb": "high", "ncc.cs": "medium"}."""
    pairs = (item.rsplit(":", 1) for item in spec.split())
    return {group: _IMPACT_LEVELS[level] for group, level in pairs}


def _manager_email(organisation_key: str) -> str:
    """The demo manager of an organisation (the admin when it has none)."""
    for user in DEMO_USERS:
        if user.role is Role.manager and user.organisations == (organisation_key,):
            return user.email
    return DEMO_USERS[0].email
