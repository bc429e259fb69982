"""What staff read (tracker/read/staff.py), on SQLite and PostgreSQL and on the demo portfolio:
each staff group sees what lands on it, only published staff news, achievements in plain
numbers, and nothing at all from another organisation."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from tests import factories
from tests.factories import SYSTEM
from tests.read_builders import TODAY, write
from tracker import access, clock, db, read, words
from tracker.figures import month_start
from tracker.models import (
    MetricCreate,
    MetricReadingCreate,
    Milestone,
    MilestoneImpact,
    MilestoneStatus,
    Narrative,
    NarrativeCreate,
    ProgrammeCreate,
    Role,
    StaffGroup,
    Stage,
    StagePlan,
    User,
)
from tracker.seed.demo import DEMO_USERS
from tracker.services import metrics, milestones, narratives, programmes, records
from tracker.stages import STAGES

_emails = itertools.count(1)


def viewer_for(
    engine: Engine, organisation_ids: list[int], *, role: Role = Role.staff, group: int | None
) -> access.Viewer:
    email = f"staff{next(_emails)}@example.org"
    factories.user(engine, organisation_ids, role=role, email=email, staff_group_id=group)
    with db.read_session(engine) as session:
        viewer = access.load_viewer(session, email=email)
    assert viewer is not None
    return viewer


def lands(engine: Engine, milestone_id: int, impacts: dict[int, str]) -> int:
    with write(engine) as session:
        milestones.set_impacts(
            session=session, viewer=SYSTEM, milestone_id=milestone_id, impacts=impacts
        )
    return milestone_id


def story(engine: Engine, programme_id: int, **overrides: Any) -> int:
    data = {
        "programme_id": programme_id,
        "title": "A story for staff",
        "body": "Something changed.",
        "audience": "staff",
        "status": "published",
        "published_on": date(2026, 6, 1),
    } | overrides
    with write(engine) as session:
        narrative = narratives.write_narrative(
            session=session, viewer=SYSTEM, data=records.validated(NarrativeCreate, data)
        )
        assert narrative.id is not None
        return narrative.id


@dataclass
class Council:
    """Two staff groups of one organisation, a programme of theirs, and a staff user of each;
    plus a staff user of another organisation."""

    organisation: int
    revenues: int
    customer: int
    programme: int
    revenues_viewer: access.Viewer
    customer_viewer: access.Viewer
    outsider: access.Viewer


@pytest.fixture
def council(engine: Engine) -> Council:
    organisation = factories.organisation(engine)
    revenues = factories.staff_group(engine, organisation, name="Revenues and benefits")
    customer = factories.staff_group(engine, organisation, name="Customer services")
    programme = factories.programme(engine, organisation, title="Council tax online")
    other = factories.organisation(engine)
    other_group = factories.staff_group(engine, other, name="Planning")
    factories.programme(engine, other, title="Someone else's programme")
    return Council(
        organisation=organisation,
        revenues=revenues,
        customer=customer,
        programme=programme,
        revenues_viewer=viewer_for(engine, [organisation], group=revenues),
        customer_viewer=viewer_for(engine, [organisation], group=customer),
        outsider=viewer_for(engine, [other], group=other_group),
    )


def table(rows: Any, model: type[Any]) -> pd.DataFrame:
    """Read models as a table, one column per field, so a test can pick columns and rows."""
    return pd.DataFrame([asdict(row) for row in rows], columns=[f.name for f in fields(model)])


def changes(engine: Engine, viewer: access.Viewer, **options: Any) -> pd.DataFrame:
    with db.read_session(engine) as session:
        found = read.staff.changes_for_group(session=session, viewer=viewer, today=TODAY, **options)
    return table(found, read.staff.GroupChange)


def programmes_of(engine: Engine, viewer: access.Viewer) -> pd.DataFrame:
    with db.read_session(engine) as session:
        found = read.staff.programmes_for_staff(session=session, viewer=viewer, today=TODAY)
    return table(found, read.staff.StaffProgramme)


def news(engine: Engine, viewer: access.Viewer, **filters: Any) -> list[str]:
    with db.read_session(engine) as session:
        stories = read.staff.published_narratives(session=session, viewer=viewer, **filters)
    return [story.title for story in stories]


# --- What changes for my group ---------------------------------------------------------------


def test_each_staff_group_sees_only_the_milestones_that_land_on_it(
    engine: Engine, council: Council
) -> None:
    p = council.programme
    lands(
        engine,
        factories.milestone(engine, p, title="New council tax screens"),
        {council.revenues: "high"},
    )
    lands(
        engine,
        factories.milestone(engine, p, title="Answer calls with the new script"),
        {council.customer: "medium"},
    )
    lands(
        engine,
        factories.milestone(engine, p, title="Joint training day", due_date=date(2026, 7, 2)),
        {council.revenues: "low", council.customer: "medium"},
    )
    factories.milestone(engine, p, title="Lands on nobody")

    revenues = changes(engine, council.revenues_viewer)
    customer = changes(engine, council.customer_viewer)

    assert list(revenues["milestone"]) == ["Joint training day", "New council tax screens"]
    assert list(revenues["impact_words"]) == ["Small change", "Big change"]
    assert list(customer["milestone"]) == ["Joint training day", "Answer calls with the new script"]
    assert list(customer["impact"]) == ["medium", "medium"]
    assert set(revenues["programme"]) == {"Council tax online"}


def test_changes_come_in_due_date_order_with_their_month_and_status_in_plain_words(
    engine: Engine, council: Council
) -> None:
    p, group = council.programme, council.revenues
    rows = [
        ("Finished last month", "done", date(2026, 5, 20), date(2026, 5, 21)),
        ("Blocked, not yet due", "blocked", date(2026, 8, 3), None),
        ("Late and still going", "in_progress", date(2026, 6, 1), None),
        ("Under way", "in_progress", date(2026, 6, 30), None),
        ("Not started yet", "not_started", date(2026, 9, 14), None),
        ("Cancelled work", "cancelled", date(2026, 7, 1), None),
    ]
    for title, status, due, completed in rows:
        milestone = factories.milestone(
            engine, p, title=title, status=status, due_date=due, completed_date=completed
        )
        lands(engine, milestone, {group: "medium"})

    frame = changes(engine, council.revenues_viewer)

    assert list(zip(frame["milestone"], frame["status"], frame["month"], strict=True)) == [
        ("Finished last month", "Done", date(2026, 5, 1)),
        ("Late and still going", "Delayed", date(2026, 6, 1)),
        ("Under way", "In progress", date(2026, 6, 1)),
        ("Blocked, not yet due", "Delayed", date(2026, 8, 1)),
        ("Not started yet", "Planned", date(2026, 9, 1)),
    ]


def test_the_window_runs_from_the_first_of_last_month_to_the_end_of_the_twelfth_month_ahead(
    engine: Engine, council: Council
) -> None:
    for due in (date(2026, 4, 30), date(2026, 5, 1), date(2027, 6, 30), date(2027, 7, 1)):
        milestone = factories.milestone(engine, council.programme, title=f"Due {due}", due_date=due)
        lands(engine, milestone, {council.revenues: "low"})

    assert list(changes(engine, council.revenues_viewer)["due_date"]) == [
        date(2026, 5, 1),
        date(2027, 6, 30),
    ]
    wider = changes(engine, council.revenues_viewer, months_back=2, months_ahead=13)
    assert len(wider) == 4
    with pytest.raises(ValueError):
        changes(engine, council.revenues_viewer, months_back=-1)


def test_changes_can_be_narrowed_to_one_programme(engine: Engine, council: Council) -> None:
    second = factories.programme(engine, council.organisation, title="Benefits online")
    lands(
        engine,
        factories.milestone(engine, council.programme, title="First"),
        {council.revenues: "low"},
    )
    lands(engine, factories.milestone(engine, second, title="Second"), {council.revenues: "low"})

    assert list(changes(engine, council.revenues_viewer, programme_id=second)["milestone"]) == [
        "Second"
    ]


def test_a_viewer_without_a_staff_group_gets_an_empty_list_of_changes(
    engine: Engine, council: Council
) -> None:
    lands(engine, factories.milestone(engine, council.programme), {council.revenues: "high"})
    leader = viewer_for(engine, [council.organisation], role=Role.leadership, group=None)

    frame = changes(engine, leader)

    assert frame.empty
    assert list(frame.columns) == [f.name for f in fields(read.staff.GroupChange)]
    assert programmes_of(engine, leader)["changes_for_me"].tolist() == [0]


# --- Programmes ------------------------------------------------------------------------------


def test_programmes_touching_my_group_come_first_with_how_many_changes_are_still_to_come(
    engine: Engine, council: Council
) -> None:
    untouched = factories.programme(engine, council.organisation, title="A quiet programme")
    closed = factories.programme(
        engine,
        council.organisation,
        title="An old programme",
        status="closed",
        closed_on=date(2026, 3, 1),
    )
    p = council.programme
    lands(engine, factories.milestone(engine, p, weight=1), {council.revenues: "high"})
    lands(
        engine,
        factories.milestone(engine, p, weight=2, status="blocked"),
        {council.revenues: "low"},
    )
    done = factories.milestone(engine, p, weight=3, status="done", completed_date=date(2026, 5, 1))
    lands(engine, done, {council.revenues: "low"})
    lands(engine, factories.milestone(engine, closed), {council.revenues: "high"})
    factories.milestone(engine, untouched, status="in_progress")

    frame = programmes_of(engine, council.revenues_viewer)

    assert list(frame["title"]) == ["Council tax online", "A quiet programme"]
    mine = frame.iloc[0]
    assert mine["changes_for_me"] == 2
    assert mine["touches_my_group"]
    assert mine["progress"] == pytest.approx(3 / 6)
    assert mine["current_stages"] == "vision"
    assert mine["next_stage"] == "influencers"
    quiet = frame.iloc[1]
    assert quiet["changes_for_me"] == 0
    assert not quiet["touches_my_group"]
    assert quiet["current_stages"] == "vision"


def test_a_programme_pooled_with_my_organisation_is_mine_too(
    engine: Engine, council: Council
) -> None:
    other = next(iter(council.outsider.organisation_ids))
    shared = factories.programme(engine, other, title="Shared platform")
    with write(engine) as session:
        programmes.set_partners(
            session=session,
            viewer=SYSTEM,
            programme_id=shared,
            organisation_ids=[council.organisation],
        )
    lands(
        engine,
        factories.milestone(engine, shared, title="Move onto the platform"),
        {council.customer: "high"},
    )

    assert "Shared platform" in list(programmes_of(engine, council.customer_viewer)["title"])
    assert list(changes(engine, council.customer_viewer)["milestone"]) == ["Move onto the platform"]
    assert changes(engine, council.revenues_viewer).empty


def test_a_viewer_from_another_organisation_sees_nothing_of_ours(
    engine: Engine, council: Council
) -> None:
    p = council.programme
    lands(engine, factories.milestone(engine, p, title="Ours"), {council.revenues: "high"})
    factories.milestone(engine, p, status="done", completed_date=date(2026, 6, 1))
    story(engine, p, title="Our news")
    with write(engine) as session:
        metric = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {
                    "programme_id": p,
                    "name": "Online share",
                    "unit": "%",
                    "baseline": 10,
                    "target": 50,
                },
            ),
        )
        metrics.record_reading(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricReadingCreate, {"metric_id": metric.id, "reading_on": TODAY, "value": 30}
            ),
        )

    outsider = council.outsider
    assert list(programmes_of(engine, outsider)["title"]) == ["Someone else's programme"]
    assert changes(engine, outsider).empty
    assert news(engine, outsider) == []
    with db.read_session(engine) as session:
        ours = read.staff.achievements(
            session=session, viewer=outsider, programme_id=p, today=TODAY
        )
        mine = read.staff.achievements(
            session=session, viewer=council.revenues_viewer, programme_id=p, today=TODAY
        )
    assert ours.milestones == () and ours.metrics == ()
    assert len(mine.milestones) == 1 and len(mine.metrics) == 1


# --- News ------------------------------------------------------------------------------------


def test_news_shows_published_staff_stories_newest_first_never_drafts_or_leadership_only(
    engine: Engine, council: Council
) -> None:
    p = council.programme
    story(engine, p, title="Older news", published_on=date(2026, 3, 2))
    story(engine, p, title="For everyone", audience="everyone", published_on=date(2026, 5, 4))
    story(engine, p, title="Newest news", published_on=date(2026, 6, 10))
    story(engine, p, title="Board paper", audience="leadership", published_on=date(2026, 6, 11))
    story(engine, p, title="Not ready yet", status="draft", published_on=None)

    assert news(engine, council.customer_viewer) == ["Newest news", "For everyone", "Older news"]
    assert news(engine, council.customer_viewer, limit=1) == ["Newest news"]


def test_news_filters_by_programme_and_stage(engine: Engine, council: Council) -> None:
    second = factories.programme(engine, council.organisation, title="Benefits online")
    story(engine, council.programme, title="Training starts", stage="equip")
    story(engine, council.programme, title="Why we are changing", stage="vision")
    story(engine, second, title="Benefits training", stage="equip")
    story(engine, second, title="No stage at all")

    viewer = council.customer_viewer
    assert sorted(news(engine, viewer, stage="equip")) == ["Benefits training", "Training starts"]
    assert sorted(news(engine, viewer, programme_id=second)) == [
        "Benefits training",
        "No stage at all",
    ]
    assert news(engine, viewer, programme_id=second, stage=Stage.equip) == ["Benefits training"]


def test_news_search_finds_title_or_body_ignoring_case(engine: Engine, council: Council) -> None:
    p = council.programme
    story(engine, p, title="Floor-walkers are here", body="Ask them anything.")
    story(engine, p, title="Go-live week", body="Our FLOOR-WALKERS will help you.")
    story(engine, p, title="Thank you", body="Training is finished.")

    viewer = council.revenues_viewer
    assert sorted(news(engine, viewer, search="  floor-walkers ")) == [
        "Floor-walkers are here",
        "Go-live week",
    ]
    assert news(engine, viewer, search="nothing like this") == []
    assert len(news(engine, viewer, search="   ")) == 3


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("%", ["Half of calls: 50% online"]),
        ("50%", ["Half of calls: 50% online"]),
        ("_", ["The new_form is live"]),
        ("new_form", ["The new_form is live"]),
        ("\\", ["Path C:\\forms"]),
    ],
)
def test_percent_underscore_and_backslash_in_a_search_match_only_themselves(
    engine: Engine, council: Council, search: str, found: list[str]
) -> None:
    p = council.programme
    for title in ("Half of calls: 50% online", "The new_form is live", "Path C:\\forms"):
        story(engine, p, title=title)
    story(engine, p, title="Five hundred forms online", body="newXform and 500 online")

    assert news(engine, council.revenues_viewer, search=search) == found


# --- Achievements ----------------------------------------------------------------------------


def test_achievements_list_work_finished_in_the_period_and_metrics_that_moved(
    engine: Engine, council: Council
) -> None:
    p = council.programme
    for title, completed in (
        ("Long ago", date(2025, 12, 1)),
        ("In March", date(2026, 3, 2)),
        ("Last week", date(2026, 6, 8)),
    ):
        factories.milestone(
            engine, p, title=title, stage="equip", status="done", completed_date=completed
        )
    factories.milestone(engine, p, title="Not finished", status="in_progress")

    definitions = [
        # name, unit, baseline, target, direction, readings (oldest first)
        ("Council tax moves online", "%", 34, 80, "up", [(date(2026, 5, 1), 61)]),
        ("Average days to process a claim", "days", 21, 5, "down", [(date(2026, 5, 1), 14)]),
        ("Money saved", "£", 0, 400000, "up", [(date(2026, 5, 1), 120000)]),
        ("Staff sentiment score", "score", 6.4, 7.5, "up", [(date(2026, 5, 1), 6.1)]),
        ("Nothing measured yet", "%", 0, 100, "up", []),
    ]
    with write(engine) as session:
        for name, unit, baseline, target, direction, readings in definitions:
            metric = metrics.define_metric(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    MetricCreate,
                    {
                        "programme_id": p,
                        "name": name,
                        "unit": unit,
                        "baseline": baseline,
                        "target": target,
                        "direction": direction,
                    },
                ),
            )
            for on, value in readings:
                metrics.record_reading(
                    session=session,
                    viewer=SYSTEM,
                    data=records.validated(
                        MetricReadingCreate,
                        {"metric_id": metric.id, "reading_on": on, "value": value},
                    ),
                )

    with db.read_session(engine) as session:
        achieved = read.staff.achievements(
            session=session, viewer=council.customer_viewer, programme_id=p, today=TODAY
        )

    assert achieved.since == date(2025, 12, 17)
    assert [(m.title, m.completed_date) for m in achieved.milestones] == [
        ("Last week", date(2026, 6, 8)),
        ("In March", date(2026, 3, 2)),
    ]
    assert achieved.milestones[0].stage_title == "Equip people with skills and resources"
    assert [m.sentence for m in achieved.metrics] == [
        "Average days to process a claim: 21 to 14 (target 5)",
        "Council tax moves online: 34% to 61% (target 80%)",
        "Money saved: £0 to £120,000 (target £400,000)",
    ]
    assert achieved.metrics[1].attainment == pytest.approx((61 - 34) / (80 - 34))


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (61, "%", "61%"),
        (56.4, "%", "56.4%"),
        (120000, "£", "£120,000"),
        (-2500.5, "£", "-£2,500.5"),
        (14.25, "days", "14.25 days"),
        (6.0, "", "6"),
        (0.0, "", "0"),
    ],
)
def test_amounts_are_written_as_people_write_them(value: float, unit: str, text: str) -> None:
    assert words.amount_text(value, unit) == text


# --- The six stages in plain words -----------------------------------------------------------


def _stage(stage: str, **values: Any) -> dict[str, Any]:
    return {
        "stage": stage,
        "actual_start": None,
        "actual_end": None,
        "progress": None,
        "active": 0,
    } | values


def test_stage_statuses_say_done_happening_now_coming_next_and_later() -> None:
    statuses = read.staff.stage_statuses(
        [
            _stage("vision", actual_start=date(2026, 1, 1), actual_end=date(2026, 3, 1)),
            _stage("influencers", progress=1.0, active=2),
            _stage("test", progress=0.5, active=1),
            _stage("equip", progress=0.0),
            _stage("launch"),
            _stage("celebrate"),
        ]
    )
    assert list(statuses.values()) == [
        "Done",
        "Done",
        "Happening now",
        "Coming next",
        "Later",
        "Later",
    ]


def test_before_anything_starts_the_first_stage_is_coming_next() -> None:
    statuses = read.staff.stage_statuses([_stage(s.value) for s in Stage])
    assert statuses[Stage.vision] == "Coming next"
    assert list(statuses.values()).count("Later") == 5


def test_stage_story_tells_the_journey_with_the_stage_narratives_and_planned_months(
    engine: Engine, council: Council
) -> None:
    with write(engine) as session:
        programme = programmes.create_programme(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                ProgrammeCreate,
                {
                    "code": "STORY-1",
                    "title": "A programme with a story",
                    "organisation_id": council.organisation,
                    "start_date": date(2026, 1, 1),
                    "target_end_date": date(2027, 12, 31),
                },
            ),
            stages={
                Stage.vision: StagePlan(
                    narrative="We **agreed** the vision.",
                    planned_start=date(2026, 1, 5),
                    planned_end=date(2026, 3, 31),
                    actual_start=date(2026, 1, 5),
                    actual_end=date(2026, 3, 20),
                ),
                Stage.influencers: StagePlan(
                    narrative="We are talking with team leaders.",
                    planned_start=date(2026, 3, 1),
                    planned_end=date(2026, 7, 31),
                    actual_start=date(2026, 3, 2),
                ),
                Stage.test: StagePlan(
                    planned_start=date(2026, 7, 1), planned_end=date(2026, 10, 31)
                ),
            },
        )
        assert programme.id is not None
        programme_id = programme.id

    with db.read_session(engine) as session:
        story = read.staff.stage_story(session=session, programme_id=programme_id, today=TODAY)
    frame = table(story, read.staff.StageStep)

    assert list(frame["number"]) == [1, 2, 3, 4, 5, 6]
    assert list(frame["status"]) == [
        "Done",
        "Happening now",
        "Coming next",
        "Later",
        "Later",
        "Later",
    ]
    assert frame.iloc[0]["narrative"] == "We **agreed** the vision."
    assert frame.iloc[1]["planned"] == "March 2026 to July 2026"
    assert frame.iloc[4]["planned"] == "Not planned yet"
    assert frame.iloc[3]["what_it_means"] == "You get the training, guides and support you need."
    assert read.staff.journey_summary(story) == [
        "1 of 6 stages is done.",
        "We are working on stage 2 of 6: Engage with influencers.",
        "Coming next is stage 3: Test the ground and make decisions.",
        "It is planned to start in July 2026.",
    ]


@pytest.mark.parametrize(
    ("statuses", "summary"),
    [
        (
            ["Coming next", *["Later"] * 5],
            [
                "We have not started yet.",
                "Coming next is stage 1: Get the vision and narrative right.",
            ],
        ),
        (["Done"] * 6, ["Every stage is done."]),
        (
            ["Done", "Done", "Coming next", "Later", "Later", "Later"],
            [
                "2 of 6 stages are done.",
                "Coming next is stage 3: Test the ground and make decisions.",
            ],
        ),
        (
            ["Happening now", "Happening now", "Coming next", "Later", "Later", "Later"],
            [
                "We are working on stage 1 (Get the vision and narrative right) and stage 2 "
                "(Engage with influencers).",
                "Coming next is stage 3: Test the ground and make decisions.",
            ],
        ),
    ],
)
def test_journey_summary_in_short_sentences(statuses: list[str], summary: list[str]) -> None:
    story = [
        read.staff.StageStep(
            stage=info.stage,
            number=info.number,
            title=info.title,
            heading=words.stage_heading(info.stage),
            what_it_means=read.staff.STAGE_FOR_STAFF[info.stage],
            status=status,
            planned_start=None,
            planned_end=None,
            planned="Not planned yet",
            narrative="",
            story_heading=None,
        )
        for info, status in zip(STAGES, statuses, strict=True)
    ]
    assert read.staff.journey_summary(story) == summary


# --- The demo portfolio ----------------------------------------------------------------------


STAFF_EMAILS = [user.email for user in DEMO_USERS if user.role is Role.staff]


def _demo_viewer(engine: Engine, email: str) -> access.Viewer:
    with db.read_session(engine) as session:
        viewer = access.load_viewer(session, email=email)
    assert viewer is not None and viewer.staff_group_id is not None
    return viewer


@pytest.mark.parametrize("email", STAFF_EMAILS)
def test_demo_staff_see_exactly_the_milestones_landing_on_their_group(
    shared_demo_engine: Engine, email: str
) -> None:
    viewer = _demo_viewer(shared_demo_engine, email)
    today = clock.today()
    frame = changes_on(shared_demo_engine, viewer, today)
    # From the first of last month to the last day of the twelfth month ahead.
    first = month_start(month_start(today) - dt.timedelta(days=1))
    end = month_start(month_start(today) + dt.timedelta(days=400))
    with db.read_session(shared_demo_engine) as session:
        visible = set(session.exec(read.staff.staff_programme_ids(viewer)).all())
        expected = {
            milestone.id
            for milestone, impact in session.exec(
                select(Milestone, MilestoneImpact).join(
                    MilestoneImpact, col(MilestoneImpact.milestone_id) == col(Milestone.id)
                )
            )
            if impact.staff_group_id == viewer.staff_group_id
            and milestone.programme_id in visible
            and milestone.status != MilestoneStatus.cancelled
            and first <= milestone.due_date < end
        }
    assert expected, "the demo should give every staff user something that changes"
    assert set(frame["milestone_id"]) == expected


def changes_on(engine: Engine, viewer: access.Viewer, today: date) -> pd.DataFrame:
    with db.read_session(engine) as session:
        found = read.staff.changes_for_group(session=session, viewer=viewer, today=today)
    return table(found, read.staff.GroupChange)


def test_the_two_demo_staff_groups_see_different_changes(shared_demo_engine: Engine) -> None:
    today = clock.today()
    engine = shared_demo_engine
    sam = changes_on(engine, _demo_viewer(engine, "sam.staff@demo.example"), today)
    rita = changes_on(engine, _demo_viewer(engine, "rita.revenues@demo.example"), today)

    assert "Move county customer services onto the platform" in set(sam["milestone"])
    assert "Move county customer services onto the platform" not in set(rita["milestone"])
    assert "Switch off paper forms for council tax moves" in set(rita["milestone"])
    assert "Switch off paper forms for council tax moves" not in set(sam["milestone"])
    with db.read_session(shared_demo_engine) as session:
        groups = dict(session.exec(select(StaffGroup.id, StaffGroup.name)).all())
        users = {u.email: u.staff_group_id for u in session.exec(select(User)).all()}
    assert groups[users["sam.staff@demo.example"]] == "Customer services"
    assert groups[users["rita.revenues@demo.example"]] == "Revenues and benefits"


@pytest.mark.parametrize("email", STAFF_EMAILS)
def test_demo_news_for_staff_leaves_out_drafts_and_leadership_stories(
    shared_demo_engine: Engine, email: str
) -> None:
    viewer = _demo_viewer(shared_demo_engine, email)
    titles = news(shared_demo_engine, viewer)
    with db.read_session(shared_demo_engine) as session:
        hidden = set(
            session.exec(
                select(Narrative.title).where(
                    (col(Narrative.audience) == "leadership") | (col(Narrative.status) == "draft")
                )
            ).all()
        )
    assert titles
    assert hidden
    assert not hidden & set(titles)
    assert "One front door: what changes for revenues and benefits" in titles
