"""Dashboard aggregates (tracker/read/programme.py), on SQLite and PostgreSQL, against numbers
worked
out by hand and against the pure figures (tracker/figures.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests import factories
from tests.factories import ACTOR, SYSTEM
from tracker import access, db, figures, read
from tracker.errors import NotFoundError
from tracker.models import (
    Audience,
    BarrierCreate,
    DeliveryConfidence,
    Impact,
    MetricCreate,
    MetricReadingCreate,
    NarrativeCreate,
    Role,
    Stage,
    StageRecordUpdate,
)
from tracker.models.people import AssessmentCreate
from tracker.services import (
    barriers,
    metrics,
    milestones,
    narratives,
    programmes,
    records,
    stakeholders,
)

TODAY = date(2026, 6, 15)
_emails = itertools.count(1)


def write(engine: Engine) -> Any:
    return db.write_session(engine, actor=ACTOR)


def viewer_of(engine: Engine, organisation_ids: list[int]) -> access.Viewer:
    email = f"viewer{next(_emails)}@example.org"
    factories.user(engine, organisation_ids, role=Role.leadership, email=email)
    with db.read_session(engine) as session:
        viewer = access.load_viewer(session, email=email)
    assert viewer is not None
    return viewer


def set_partners(engine: Engine, programme_id: int, organisation_ids: list[int]) -> None:
    with write(engine) as session:
        programmes.set_partners(
            session=session,
            viewer=SYSTEM,
            programme_id=programme_id,
            organisation_ids=organisation_ids,
        )


def set_impacts(engine: Engine, milestone_id: int, impacts: dict[int, str]) -> None:
    with write(engine) as session:
        milestones.set_impacts(
            session=session, viewer=SYSTEM, milestone_id=milestone_id, impacts=impacts
        )


def done(engine: Engine, programme_id: int, completed: date, **overrides: Any) -> int:
    return factories.milestone(
        engine, programme_id, status="done", completed_date=completed, **overrides
    )


def portfolio_row(engine: Engine, viewer: access.Viewer, programme_id: int) -> dict[str, Any]:
    with db.read_session(engine) as session:
        frame = read.portfolio.portfolio(session=session, viewer=viewer, today=TODAY)
    rows = frame[frame["programme_id"] == programme_id].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def figures_of(engine: Engine, programme_id: int) -> read.programme.ProgrammeFigures:
    with db.read_session(engine) as session:
        return read.programme.programme_figures(
            session=session, programme_id=programme_id, today=TODAY
        )


def stages_of(engine: Engine, programme_id: int) -> dict[str, dict[str, Any]]:
    with db.read_session(engine) as session:
        frame = read.programme.stage_summary(
            session=session, programme_id=programme_id, today=TODAY
        )
    return {row["stage"]: row for row in frame.to_dict("records")}


# --- Milestones -----------------------------------------------------------------------------


def test_progress_weighs_done_work_and_leaves_cancelled_milestones_out(engine: Engine) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    done(engine, pid, date(2026, 6, 1), stage="vision", weight=5)
    factories.milestone(engine, pid, stage="vision", status="cancelled", weight=4)
    factories.milestone(engine, pid, stage="influencers", status="in_progress", weight=3)
    factories.milestone(engine, pid, stage="influencers", weight=2)

    # Programme: 5 done of 5 + 3 + 2 planned; the cancelled 4 counts nowhere.
    row = portfolio_row(engine, viewer_of(engine, [org]), pid)
    assert (row["progress"], row["milestones"], row["done"]) == (0.5, 3, 1)
    headline = figures_of(engine, pid)
    assert (headline.progress, headline.milestones, headline.done, headline.remaining) == (
        0.5,
        3,
        1,
        2,
    )
    stages = stages_of(engine, pid)
    assert stages["vision"]["progress"] == 1.0
    assert stages["vision"]["milestones"] == 1
    assert stages["influencers"]["progress"] == 0.0
    assert stages["test"]["progress"] is None


def test_a_milestone_due_today_is_not_overdue_but_one_due_yesterday_is(engine: Engine) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    yesterday = TODAY - dt.timedelta(days=1)
    factories.milestone(engine, pid, title="Due today", due_date=TODAY)
    late = factories.milestone(
        engine, pid, title="Due yesterday", due_date=yesterday, status="in_progress"
    )
    done(engine, pid, TODAY, title="Done late", due_date=yesterday)
    factories.milestone(engine, pid, title="Dropped", due_date=yesterday, status="cancelled")
    stuck = factories.milestone(
        engine, pid, title="Stuck", stage="test", due_date=TODAY - dt.timedelta(days=10),
        status="blocked", owner="Head of IT", weight=4,
    )  # fmt: skip

    assert portfolio_row(engine, viewer_of(engine, [org]), pid)["overdue"] == 2
    headline = figures_of(engine, pid)
    assert (headline.overdue, headline.blocked) == (2, 1)
    with db.read_session(engine) as session:
        frame = read.programme.overdue_milestones(session=session, programme_id=pid, today=TODAY)
    assert list(frame.columns) == list(read.programme.OVERDUE_COLUMNS)
    assert frame["id"].tolist() == [stuck, late]
    assert frame["slip_days"].tolist() == [10, 1]
    first = frame.iloc[0]
    assert (first["stage"], first["status"], first["owner"], first["weight"]) == (
        "test",
        "blocked",
        "Head of IT",
        4,
    )
    assert first["due_date"] == date(2026, 6, 5)


def test_weekly_throughput_counts_completions_by_week_and_feeds_the_forecast(
    engine: Engine,
) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    for days_ago in (0, 6, 7, 83, 84):
        done(engine, pid, TODAY - dt.timedelta(days=days_ago))
    factories.milestone(engine, pid)
    factories.milestone(engine, pid, status="blocked")

    headline = figures_of(engine, pid)
    # Oldest week first: 83 days ago is in the first of 12 weeks, 84 days ago is outside.
    assert headline.weekly_throughput == (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2)
    assert headline.remaining == 2
    assert headline.forecast is not None
    assert headline.forecast == figures.forecast_finish(
        remaining=2, throughput=headline.weekly_throughput, today=TODAY, seed=pid
    )


def test_a_programme_with_no_milestones_has_no_progress_and_no_forecast(engine: Engine) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)

    headline = figures_of(engine, pid)
    assert headline.progress is None
    assert headline.forecast is None
    assert (headline.milestones, headline.remaining, headline.overdue) == (0, 0, 0)
    assert headline.weekly_throughput == (0,) * 12
    assert (headline.stakeholders, headline.stance_index, headline.mean_attainment) == (
        0,
        None,
        None,
    )
    row = portfolio_row(engine, viewer_of(engine, [org]), pid)
    assert row["progress"] is None
    assert row["stance_index"] is None
    assert (row["milestones"], row["current_stages"], row["partners"]) == (0, "", "")
    with db.read_session(engine) as session:
        frame = read.programme.stage_summary(session=session, programme_id=pid, today=TODAY)
    assert frame["stage"].tolist() == [stage.value for stage in Stage]
    assert frame["number"].tolist() == [1, 2, 3, 4, 5, 6]
    assert frame["title"].iloc[1] == "Engage with influencers"
    assert frame["progress"].tolist() == [None] * 6
    assert not frame["current"].any()


# --- Stages ---------------------------------------------------------------------------------


def update_stage(engine: Engine, programme_id: int, stage: Stage, **changes: Any) -> int:
    with write(engine) as session:
        record = read.manage.stage_record(session=session, programme_id=programme_id, stage=stage)
        assert record.id is not None
        programmes.update_stage_record(
            session=session,
            viewer=SYSTEM,
            stage_record_id=record.id,
            data=records.validated(StageRecordUpdate, {**changes, "version": record.version}),
        )
        return record.id


def test_stage_summary_marks_the_stages_being_worked_in_as_current(engine: Engine) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    vision = update_stage(
        engine,
        pid,
        Stage.vision,
        narrative="Why we are changing",
        actual_start=date(2026, 1, 5),
        actual_end=date(2026, 3, 31),
    )
    with write(engine) as session:
        programmes.add_exit_criterion(
            session=session, viewer=SYSTEM, stage_record_id=vision, text="Agreed"
        )
        programmes.add_exit_criterion(
            session=session, viewer=SYSTEM, stage_record_id=vision, text="Published", met=True
        )
    # Finished by its end date, though a milestone is still open.
    factories.milestone(engine, pid, stage="vision")
    # Started by work done, not finished while other work remains.
    done(engine, pid, date(2026, 5, 1), stage="influencers")
    factories.milestone(engine, pid, stage="influencers")
    # Started by its start date alone.
    update_stage(engine, pid, Stage.test, actual_start=date(2026, 6, 1))
    # Planned but not begun.
    factories.milestone(engine, pid, stage="equip")
    # Every planned milestone done: finished without an end date.
    done(engine, pid, date(2026, 6, 10), stage="launch")
    factories.milestone(engine, pid, stage="launch", status="cancelled")

    stages = stages_of(engine, pid)
    assert {key: row["current"] for key, row in stages.items()} == {
        "vision": False,
        "influencers": True,
        "test": True,
        "equip": False,
        "launch": False,
        "celebrate": False,
    }
    assert stages["vision"]["narrative"] == "Why we are changing"
    assert (stages["vision"]["criteria"], stages["vision"]["criteria_met"]) == (2, 1)
    assert stages["vision"]["actual_end"] == date(2026, 3, 31)
    assert stages["launch"]["progress"] == 1.0
    row = portfolio_row(engine, viewer_of(engine, [org]), pid)
    assert row["current_stages"] == "influencers,test"


@pytest.mark.parametrize(
    ("actual_start", "actual_end", "progress", "active", "current"),
    [
        (None, None, None, 0, False),  # nothing started
        (None, None, 0.0, 0, False),  # planned, not begun
        (date(2026, 1, 1), None, None, 0, True),  # started by date, nothing planned
        (None, None, 0.4, 2, True),  # started by work
        (None, None, 1.0, 3, False),  # all done
        (date(2026, 1, 1), date(2026, 2, 1), 0.5, 1, False),  # closed by date
    ],
)
def test_is_current_stage_needs_a_start_and_no_finish(
    actual_start: date | None,
    actual_end: date | None,
    progress: float | None,
    active: int,
    current: bool,
) -> None:
    assert (
        read.programme.is_current_stage(
            actual_start=actual_start, actual_end=actual_end, progress=progress, active=active
        )
        is current
    )


# --- Stakeholders ---------------------------------------------------------------------------


def test_stance_index_weighs_stance_by_influence_and_names_the_hotspots(engine: Engine) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    head = factories.stakeholder(
        engine, pid, name="Head of Revenues", role="Head of service", influence=5, stance=-2,
        desired_stance=1, notes="A private remark",
    )  # fmt: skip
    rep = factories.stakeholder(engine, pid, name="Union rep", influence=4, stance=-1)
    factories.stakeholder(engine, pid, name="Team leader", influence=3, stance=-2)
    factories.stakeholder(engine, pid, name="Digital lead", influence=2, stance=2)
    factories.stakeholder(engine, pid, name="Finance director", influence=4, stance=0)
    open_work = factories.milestone(engine, pid)
    started = factories.milestone(engine, pid, status="in_progress")
    finished = done(engine, pid, date(2026, 6, 1))
    dropped = factories.milestone(engine, pid, status="cancelled")
    with write(engine) as session:
        milestones.set_dependencies(
            session=session, viewer=SYSTEM, milestone_id=open_work, stakeholder_ids=[head, rep]
        )
        for milestone_id in (started, finished, dropped):
            milestones.set_dependencies(
                session=session, viewer=SYSTEM, milestone_id=milestone_id, stakeholder_ids=[head]
            )

    # (5 x -2 + 4 x -1 + 3 x -2 + 2 x 2 + 4 x 0) / (5 + 4 + 3 + 2 + 4) = -16 / 18
    row = portfolio_row(engine, viewer_of(engine, [org]), pid)
    assert row["stance_index"] == pytest.approx(-16 / 18)
    assert (row["stakeholders"], row["hotspots"]) == (5, 2)
    headline = figures_of(engine, pid)
    assert headline.stance_index == pytest.approx(-16 / 18)
    assert headline.hotspots == 2
    with db.read_session(engine) as session:
        frame = read.programme.hotspots(session=session, viewer=SYSTEM, programme_id=pid)
    assert list(frame.columns) == list(read.programme.HOTSPOT_COLUMNS)
    assert "notes" not in frame.columns
    assert "A private remark" not in frame.astype(str).to_numpy().ravel().tolist()
    assert frame["name"].tolist() == ["Head of Revenues", "Union rep"]
    # Open work only: the done and cancelled milestones block nothing.
    assert frame["blocks"].tolist() == [2, 1]
    assert frame.iloc[0][["role", "influence", "stance", "desired_stance"]].tolist() == [
        "Head of service",
        5,
        -2,
        1,
    ]


def test_stance_trend_takes_each_stakeholders_latest_assessment_at_each_month_end(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    monkeypatch.setenv("TRACKER_TODAY", "2026-01-10")
    head = factories.stakeholder(engine, pid, influence=4, stance=-2)
    champion = factories.stakeholder(engine, pid, influence=1, stance=2)
    monkeypatch.setenv("TRACKER_TODAY", "2026-05-20")
    factories.stakeholder(engine, pid, influence=2, stance=-1)
    monkeypatch.setenv("TRACKER_TODAY", TODAY.isoformat())
    with write(engine) as session:
        for stakeholder_id, assessed_on, stance, extra in (
            # Two on one day: the later recorded one stands.
            (champion, date(2026, 2, 10), -2, {}),
            (champion, date(2026, 2, 10), 2, {}),
            (head, date(2026, 3, 31), 0, {}),
            (head, date(2026, 4, 1), 1, {}),
            # Raises the head's current influence to 5, which weighs every month.
            (head, date(2026, 6, 1), 1, {"influence": 5}),
        ):
            stakeholders.record_assessment(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    AssessmentCreate,
                    {
                        "stakeholder_id": stakeholder_id,
                        "assessed_on": assessed_on,
                        "stance": stance,
                        **extra,
                    },
                ),
            )

    with db.read_session(engine) as session:
        frame = read.programme.stance_trend(
            session=session, programme_id=pid, today=TODAY, months=7
        )
    assert list(frame.columns) == list(read.programme.STANCE_TREND_COLUMNS)
    assert frame["month"].tolist() == [
        date(2025, 12, 1),
        *(date(2026, month, 1) for month in range(1, 7)),
    ]
    assert frame["as_of"].tolist() == [
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        TODAY,
    ]
    assert frame["stakeholders"].tolist() == [0, 2, 2, 2, 2, 3, 3]
    expected = [
        None,
        (5 * -2 + 1 * 2) / 6,  # January
        (5 * -2 + 1 * 2) / 6,  # February: the champion's second reading that day
        (5 * 0 + 1 * 2) / 6,  # March: the reading on the 31st counts
        (5 * 1 + 1 * 2) / 6,  # April
        (5 * 1 + 1 * 2 + 2 * -1) / 8,  # May: the newcomer joins
        (5 * 1 + 1 * 2 + 2 * -1) / 8,  # June, as of today
    ]
    assert frame["stance_index"].tolist() == [
        None if value is None else pytest.approx(value) for value in expected
    ]


# --- Metrics --------------------------------------------------------------------------------


def test_metric_attainment_uses_the_latest_reading_and_reads_a_down_metric_the_right_way(
    engine: Engine,
) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    with write(engine) as session:
        calls = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {
                    "programme_id": pid,
                    "name": "Calls per week",
                    "unit": "k",
                    "baseline": 40,
                    "target": 10,
                    "direction": "down",
                    "target_date": date(2027, 3, 31),
                },
            ),
        )
        trained = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {
                    "programme_id": pid,
                    "name": "Staff trained",
                    "unit": "%",
                    "baseline": 0,
                    "target": 100,
                },
            ),
        )
        metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate, {"programme_id": pid, "name": "Savings", "baseline": 0, "target": 500}
            ),
        )
        # Recorded out of date order: the latest by date counts, not the last entered.
        for metric, reading_on, value in (
            (calls, date(2026, 5, 1), 25),
            (calls, date(2026, 3, 1), 35),
            (trained, date(2026, 4, 1), 80),
        ):
            metrics.record_reading(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    MetricReadingCreate,
                    {"metric_id": metric.id, "reading_on": reading_on, "value": value},
                ),
            )

    with db.read_session(engine) as session:
        frame = read.programme.metric_status(session=session, programme_id=pid)
    assert list(frame.columns) == list(read.programme.METRIC_COLUMNS)
    rows = {row["name"]: row for row in frame.to_dict("records")}
    # Down: (25 - 40) / (10 - 40) = 0.5 of the way from baseline to target.
    assert (rows["Calls per week"]["latest"], rows["Calls per week"]["latest_on"]) == (
        25,
        date(2026, 5, 1),
    )
    assert rows["Calls per week"]["attainment"] == pytest.approx(0.5)
    assert rows["Calls per week"]["direction"] == "down"
    assert rows["Calls per week"]["target_date"] == date(2027, 3, 31)
    assert rows["Staff trained"]["attainment"] == pytest.approx(0.8)
    assert rows["Savings"]["latest"] is None
    assert rows["Savings"]["attainment"] is None
    headline = figures_of(engine, pid)
    assert (headline.metrics, headline.metrics_with_reading) == (3, 2)
    assert headline.mean_attainment == pytest.approx(0.65)


def test_open_barriers_leave_out_closed_ones(engine: Engine) -> None:
    pid = factories.programme(engine)
    with write(engine) as session:
        for status in ("open", "mitigating", "closed"):
            barriers.create_barrier(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    BarrierCreate,
                    {
                        "programme_id": pid,
                        "title": f"Risk {status}",
                        "category": "cultural",
                        "likelihood": 3,
                        "impact": 4,
                        "status": status,
                    },
                ),
            )
    assert figures_of(engine, pid).open_barriers == 2


# --- Scope ----------------------------------------------------------------------------------


def test_the_portfolio_shows_only_programmes_of_the_viewers_organisations(engine: Engine) -> None:
    owner = factories.organisation(engine, name="Northshire County Council", short_name="NCC")
    partner = factories.organisation(engine, short_name="WBC")
    other_partner = factories.organisation(engine, short_name="EBC")
    outsider = factories.organisation(engine)
    pooled = factories.programme(engine, owner, title="Shared platform", sponsor="Chief exec")
    set_partners(engine, pooled, [partner, other_partner])
    own = factories.programme(engine, outsider, title="Outsider's own")

    with db.read_session(engine) as session:
        seen_by_outsider = read.portfolio.portfolio(
            session=session, viewer=viewer_of(engine, [outsider]), today=TODAY
        )
        seen_by_partner = read.portfolio.portfolio(
            session=session, viewer=viewer_of(engine, [partner]), today=TODAY
        )
        seen_by_nobody = read.portfolio.portfolio(
            session=session, viewer=viewer_of(engine, [factories.organisation(engine)]), today=TODAY
        )
    assert seen_by_outsider["programme_id"].tolist() == [own]
    assert seen_by_partner["programme_id"].tolist() == [pooled]
    assert list(seen_by_partner.columns) == list(read.portfolio.PORTFOLIO_COLUMNS)
    row = seen_by_partner.iloc[0]
    assert row["organisation"] == "Northshire County Council"
    assert row["partners"] == "EBC, WBC"
    assert (row["title"], row["sponsor"], row["status"]) == (
        "Shared platform",
        "Chief exec",
        "active",
    )
    assert seen_by_nobody.empty
    assert list(seen_by_nobody.columns) == list(read.portfolio.PORTFOLIO_COLUMNS)


def test_the_portfolio_is_ordered_by_title(engine: Engine) -> None:
    org = factories.organisation(engine)
    for title in ("Waste services online", "Adult social care portal", "Libraries app"):
        factories.programme(engine, org, title=title)
    with db.read_session(engine) as session:
        frame = read.portfolio.portfolio(
            session=session, viewer=viewer_of(engine, [org]), today=TODAY
        )
    assert frame["title"].tolist() == [
        "Adult social care portal",
        "Libraries app",
        "Waste services online",
    ]


# --- Change load ----------------------------------------------------------------------------


def test_change_load_sums_impact_weights_by_staff_group_and_due_month(engine: Engine) -> None:
    org = factories.organisation(engine, name="Midshire Council", short_name="MC")
    adults = factories.staff_group(engine, org, name="Adult social care")
    customers = factories.staff_group(engine, org, name="Customer services")
    elsewhere = factories.organisation(engine)
    theirs = factories.staff_group(engine, elsewhere)
    pid = factories.programme(engine, org)
    pooled = factories.programme(engine, elsewhere)
    set_partners(engine, pooled, [org])
    unseen = factories.programme(engine, elsewhere)

    def due(programme_id: int, on: date, impacts: dict[int, str], **overrides: Any) -> None:
        milestone_id = factories.milestone(engine, programme_id, due_date=on, **overrides)
        set_impacts(engine, milestone_id, impacts)

    due(pid, date(2026, 7, 3), {adults: "high", customers: "low"})
    due(pid, date(2026, 7, 31), {adults: "medium"})
    due(pooled, date(2026, 7, 20), {adults: "high"})  # a partner's programme counts too
    due(pid, date(2026, 8, 1), {adults: "low"}, status="done", completed_date=date(2026, 6, 1))
    due(pid, date(2026, 9, 30), {customers: "medium"})
    due(pid, date(2026, 6, 30), {adults: "high"})  # the month before
    due(pid, date(2026, 10, 1), {adults: "high"})  # the month after
    due(pid, date(2026, 7, 15), {adults: "high"}, status="cancelled")
    due(unseen, date(2026, 7, 15), {theirs: "high"})  # not the viewer's

    viewer = viewer_of(engine, [org])
    with db.read_session(engine) as session:
        frame = read.portfolio.change_load(
            session=session, viewer=viewer, start=date(2026, 7, 15), months=3
        )
        custom = read.portfolio.change_load(
            session=session,
            viewer=viewer,
            start=date(2026, 7, 15),
            months=3,
            weights={Impact.low: 2, Impact.medium: 3, Impact.high: 4},
        )
    assert list(frame.columns) == list(read.portfolio.CHANGE_LOAD_COLUMNS)
    cells = [tuple(row) for row in frame[["staff_group", "month", "load"]].to_numpy()]
    assert cells == [
        ("Adult social care", date(2026, 7, 1), 10 + 5 + 10),
        ("Adult social care", date(2026, 8, 1), 1),
        ("Customer services", date(2026, 7, 1), 1),
        ("Customer services", date(2026, 9, 1), 5),
    ]
    assert set(frame["organisation"]) == {"Midshire Council"}
    assert frame["staff_group_id"].tolist() == [adults, adults, customers, customers]
    assert custom["load"].tolist() == [4 + 3 + 4, 2, 2, 3]


def test_change_load_needs_at_least_one_month(engine: Engine) -> None:
    viewer = viewer_of(engine, [factories.organisation(engine)])
    with db.read_session(engine) as session, pytest.raises(ValueError, match="months"):
        read.portfolio.change_load(session=session, viewer=viewer, start=TODAY, months=0)


# --- No whole-table loads -------------------------------------------------------------------


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs while the test body counts."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", count)


def test_the_portfolio_takes_the_same_number_of_statements_for_2_or_6_programmes(
    engine: Engine, statements: list[str]
) -> None:
    org = factories.organisation(engine)
    partner = factories.organisation(engine)
    viewer = viewer_of(engine, [org])

    def add_programmes(count: int) -> None:
        for _ in range(count):
            pid = factories.programme(engine, org)
            set_partners(engine, pid, [partner])
            factories.milestone(engine, pid, status="in_progress")
            factories.stakeholder(engine, pid, influence=4, stance=-1)

    def statements_for_portfolio() -> tuple[int, int]:
        statements.clear()
        with db.read_session(engine) as session:
            frame = read.portfolio.portfolio(session=session, viewer=viewer, today=TODAY)
        return len(statements), len(frame)

    add_programmes(2)
    few, rows_few = statements_for_portfolio()
    add_programmes(4)
    many, rows_many = statements_for_portfolio()
    assert (rows_few, rows_many) == (2, 6)
    assert many == few
    assert few <= 4


# --- Agreement with the pure figures --------------------------------------------------------


def _latest_on_or_before(
    history: list[tuple[date, int, int]], as_of: date
) -> tuple[date, int, int] | None:
    """The latest (assessed_on, id, stance) on or before as_of; ties broken by the later id."""
    candidates = [reading for reading in history if reading[0] <= as_of]
    return max(candidates) if candidates else None


def test_sql_aggregates_agree_with_pure_figures_on_demo_portfolio(engine: Engine) -> None:
    from sqlmodel import col, select

    from tracker import clock
    from tracker.models import (
        Assessment,
        Metric,
        MetricReading,
        Milestone,
        MilestoneImpact,
        Organisation,
        Programme,
        Stakeholder,
    )
    from tracker.seed import demo

    demo.seed_demo(engine)
    today = clock.today()
    start = figures.month_start(today) - dt.timedelta(days=200)
    months = 18
    first = figures.month_start(start)
    window_end = date(
        first.year + (first.month - 1 + months) // 12, (first.month - 1 + months) % 12 + 1, 1
    )

    with db.read_session(engine) as session:
        organisation_ids = frozenset(
            org_id for org_id in session.exec(select(Organisation.id)).all() if org_id
        )
        everyone = access.Viewer(
            user_id=0,
            email="agreement@example.org",
            name="Agreement",
            role=Role.leadership,
            organisation_ids=organisation_ids,
        )
        programme_ids = [p for p in session.exec(select(Programme.id)).all() if p is not None]
        assert len(programme_ids) >= 5
        all_milestones = session.exec(select(Milestone)).all()
        all_impacts = session.exec(select(MilestoneImpact)).all()
        portfolio = read.portfolio.portfolio(session=session, viewer=everyone, today=today)
        load = read.portfolio.change_load(
            session=session, viewer=everyone, start=start, months=months
        )

        by_programme = {row["programme_id"]: row for row in portfolio.to_dict("records")}
        assert set(by_programme) == set(programme_ids)
        for pid in programme_ids:
            ms = [m for m in all_milestones if m.programme_id == pid]
            people = session.exec(select(Stakeholder).where(Stakeholder.programme_id == pid)).all()
            readings = [(s.influence, s.stance) for s in people]
            row = by_programme[pid]
            headline = read.programme.programme_figures(
                session=session, programme_id=pid, today=today
            )
            expected_progress = figures.progress(ms)
            expected_overdue = sum(
                figures.is_overdue(due_date=m.due_date, status=m.status, today=today) for m in ms
            )
            expected_hotspots = {
                s.name for s in people if figures.is_hotspot(influence=s.influence, stance=s.stance)
            }
            throughput = figures.weekly_throughput(
                [m.completed_date for m in ms if m.completed_date is not None], today=today
            )
            assert row["progress"] == pytest.approx(expected_progress)
            assert headline.progress == pytest.approx(expected_progress)
            assert row["overdue"] == headline.overdue == expected_overdue
            assert row["stance_index"] == pytest.approx(figures.stance_index(readings))
            assert headline.stance_index == pytest.approx(figures.stance_index(readings))
            assert row["hotspots"] == headline.hotspots == len(expected_hotspots)
            assert list(headline.weekly_throughput) == throughput
            expected_forecast = (
                figures.forecast_finish(
                    remaining=headline.remaining, throughput=throughput, today=today, seed=pid
                )
                if headline.milestones
                else None
            )
            assert headline.forecast == expected_forecast

            hot = read.programme.hotspots(session=session, viewer=SYSTEM, programme_id=pid)
            assert set(hot["name"]) == expected_hotspots

            stages = read.programme.stage_summary(session=session, programme_id=pid, today=today)
            for stage_row in stages.to_dict("records"):
                in_stage = [m for m in ms if m.stage == stage_row["stage"]]
                assert stage_row["progress"] == pytest.approx(figures.progress(in_stage))

            metric_rows = read.programme.metric_status(session=session, programme_id=pid)
            sql_attainment = dict(
                zip(metric_rows["metric_id"], metric_rows["attainment"], strict=True)
            )
            for metric in session.exec(select(Metric).where(Metric.programme_id == pid)).all():
                values = session.exec(
                    select(MetricReading).where(MetricReading.metric_id == metric.id)
                ).all()
                latest = max(values, key=lambda r: r.reading_on).value if values else None
                expected = figures.metric_attainment(
                    baseline=metric.baseline,
                    target=metric.target,
                    latest=latest,
                    direction=metric.direction,
                )
                assert sql_attainment[metric.id] == pytest.approx(expected)

            history: dict[int, list[tuple[date, int, int]]] = {}
            for assessment in session.exec(
                select(Assessment).where(col(Assessment.stakeholder_id).in_([s.id for s in people]))
            ).all():
                assert assessment.id is not None
                history.setdefault(assessment.stakeholder_id, []).append(
                    (assessment.assessed_on, assessment.id, assessment.stance)
                )
            trend = read.programme.stance_trend(session=session, programme_id=pid, today=today)
            for point in trend.to_dict("records"):
                at_month_end = []
                for s in people:
                    latest_reading = _latest_on_or_before(
                        history.get(s.id or 0, []), point["as_of"]
                    )
                    if latest_reading is not None:
                        at_month_end.append((s.influence, latest_reading[2]))
                assert point["stance_index"] == pytest.approx(figures.stance_index(at_month_end))

    due_of = {m.id: m for m in all_milestones}
    expected_load = figures.change_load(
        (impact.staff_group_id, due_of[impact.milestone_id].due_date, impact.impact)
        for impact in all_impacts
        if due_of[impact.milestone_id].status != "cancelled"
        and first <= due_of[impact.milestone_id].due_date < window_end
    )
    assert expected_load, "the demo should put some change on staff groups in the window"
    assert {
        (row["staff_group_id"], row["month"]): row["load"] for row in load.to_dict("records")
    } == expected_load


# --- Portfolio dashboard: forecast, stance movement, delivery confidence --------------------


def on_day(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Fix tracker.clock's today (records made now are dated that day)."""
    monkeypatch.setenv("TRACKER_TODAY", day.isoformat())


def assess(
    engine: Engine, stakeholder_id: int, assessed_on: date, stance: int, **extra: Any
) -> None:
    with write(engine) as session:
        stakeholders.record_assessment(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                AssessmentCreate,
                {
                    "stakeholder_id": stakeholder_id,
                    "assessed_on": assessed_on,
                    "stance": stance,
                    **extra,
                },
            ),
        )


def depends(engine: Engine, milestone_id: int, stakeholder_ids: list[int]) -> None:
    with write(engine) as session:
        milestones.set_dependencies(
            session=session,
            viewer=SYSTEM,
            milestone_id=milestone_id,
            stakeholder_ids=stakeholder_ids,
        )


def metric_with_readings(
    engine: Engine, programme_id: int, name: str, readings: list[tuple[date, float]], **data: Any
) -> int:
    with write(engine) as session:
        metric = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": name, "baseline": 0, "target": 100} | data,
            ),
        )
        assert metric.id is not None
        for reading_on, value in readings:
            metrics.record_reading(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    MetricReadingCreate,
                    {"metric_id": metric.id, "reading_on": reading_on, "value": value},
                ),
            )
        return metric.id


def dashboard_row(engine: Engine, viewer: access.Viewer, programme_id: int) -> dict[str, Any]:
    with db.read_session(engine) as session:
        frame = read.portfolio.portfolio_dashboard(session=session, viewer=viewer, today=TODAY)
        plain = read.portfolio.portfolio(session=session, viewer=viewer, today=TODAY)
    assert list(frame.columns) == list(read.portfolio.PORTFOLIO_DASHBOARD_COLUMNS)
    # Every portfolio column, unchanged, in the same rows and order.
    assert frame[list(read.portfolio.PORTFOLIO_COLUMNS)].equals(plain)
    rows = frame[frame["programme_id"] == programme_id].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def test_the_portfolio_dashboard_adds_forecast_stance_movement_and_suggested_confidence(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)  # 1 January 2026 to 31 December 2027
    on_day(monkeypatch, date(2026, 1, 10))
    head = factories.stakeholder(engine, pid, name="Head of service", influence=5, stance=0)
    on_day(monkeypatch, date(2026, 2, 1))
    rep = factories.stakeholder(engine, pid, name="Union rep", influence=4, stance=-1)
    on_day(monkeypatch, date(2026, 4, 1))  # after the day 90 days ago: not in that index
    factories.stakeholder(engine, pid, name="Digital lead", influence=2, stance=2)
    on_day(monkeypatch, TODAY)
    assess(engine, head, date(2026, 5, 1), -2)

    done(engine, pid, date(2026, 6, 10), due_date=date(2026, 6, 10), weight=3)
    finished = done(engine, pid, date(2026, 5, 20), due_date=date(2026, 5, 20), weight=3)
    factories.milestone(engine, pid, due_date=date(2026, 6, 1), status="in_progress", weight=2)
    factories.milestone(engine, pid, due_date=date(2026, 9, 30), status="blocked", weight=1)
    needs_head = factories.milestone(engine, pid, due_date=date(2026, 9, 30), weight=5)
    factories.milestone(engine, pid, due_date=date(2026, 10, 30), weight=2)
    factories.milestone(engine, pid, due_date=date(2026, 5, 1), status="cancelled", weight=4)
    depends(engine, needs_head, [head])
    depends(engine, finished, [rep])  # done work blocks nothing
    metric_with_readings(engine, pid, "Staff trained", [(date(2026, 6, 1), 10)])

    row = dashboard_row(engine, viewer_of(engine, [org]), pid)
    headline = figures_of(engine, pid)
    assert headline.forecast is not None
    assert (row["forecast_p50"], row["forecast_p85"]) == (
        headline.forecast.p50,
        headline.forecast.p85,
    )
    assert row["forecast_late"] is (headline.forecast.p85 > date(2027, 12, 31))
    # Now: (5 x -2 + 4 x -1 + 2 x 2) / 11. On 17 March: the head at 0, the rep at -1, over 9.
    assert row["stance_index"] == pytest.approx(-10 / 11)
    assert row["stance_index_90d"] == pytest.approx(-4 / 9)
    assert row["stance_change"] == pytest.approx(-10 / 11 + 4 / 9)
    assert row["stance_direction"] == "worsening"
    assert row["mean_attainment"] == pytest.approx(0.1)
    assert (row["hotspots"], row["hotspots_blocking"]) == (2, 1)
    # Planned work weighs 3 + 3 + 2 + 1 + 5 + 2 = 16: 2 overdue (12.5%, Amber), 1 blocked
    # (6%, Amber/Green); one of two hotspots blocks open work (Amber). The worst, Amber, is
    # suggested, and the overdue rule comes first of the two that raise it.
    assert (row["suggested"], row["suggested_label"]) == ("amber", "Amber")
    assert row["deciding_rule"] == "12% of planned work is overdue"
    assert (row["confidence"], row["confidence_label"]) == ("amber", "Amber")
    assert [row[name] for name in ("override", "override_reason", "override_by")] == [None] * 3
    assert row["override_at"] is None

    with db.read_session(engine) as session:
        suggestion, override = read.programme.confidence_for(
            session=session, programme_id=pid, today=TODAY
        )
    assert override is None
    assert suggestion.rating is DeliveryConfidence.amber
    assert [result.rating for result in suggestion.results] == [
        DeliveryConfidence.amber,
        DeliveryConfidence.amber_green,
        None,
        DeliveryConfidence.amber,
        None,
    ]


def test_a_programme_with_nothing_recorded_is_green_with_nothing_to_forecast(
    engine: Engine,
) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    row = dashboard_row(engine, viewer_of(engine, [org]), pid)
    assert [row[name] for name in ("forecast_p50", "forecast_p85", "stance_index_90d")] == [
        None,
        None,
        None,
    ]
    assert row["forecast_late"] is False
    assert (row["stance_change"], row["stance_direction"], row["mean_attainment"]) == (
        None,
        None,
        None,
    )
    assert (row["suggested"], row["deciding_rule"], row["confidence_label"]) == (
        "green",
        None,
        "Green",
    )


def test_confidence_for_a_missing_programme_is_not_found(engine: Engine) -> None:
    with db.read_session(engine) as session, pytest.raises(NotFoundError):
        read.programme.confidence_for(session=session, programme_id=999_999, today=TODAY)


# --- Needs a decision -----------------------------------------------------------------------


def override(engine: Engine, programme_id: int, rating: str, reason: str) -> None:
    with db.write_session(engine, actor="maya@x.org") as session:
        programmes.override_confidence(
            session=session,
            viewer=SYSTEM,
            programme_id=programme_id,
            rating=rating,
            reason=reason,
            set_by="maya@x.org",
        )


def test_needs_decision_lists_red_programmes_blocking_hotspots_and_heavy_overdue_work(
    engine: Engine,
) -> None:
    org = factories.organisation(engine)
    elsewhere = factories.organisation(engine)
    # Alpha: all its open work overdue, suggested Red.
    alpha = factories.programme(engine, org, title="Alpha", code="ALPHA")
    factories.milestone(
        engine, alpha, title="Close the old phone line", due_date=date(2026, 6, 1), weight=4,
        owner="Jo Bloggs",
    )  # fmt: skip
    factories.milestone(engine, alpha, title="Light work", due_date=date(2026, 6, 14), weight=3)
    # Beta: nothing wrong in the figures, but a manager says Amber/Red.
    beta = factories.programme(engine, org, title="Beta", code="BETA")
    override(engine, beta, "amber_red", "Sponsor leaving in July")
    # Gamma: suggested Red, overridden to Amber, so only its hotspot needs a decision.
    gamma = factories.programme(engine, org, title="Gamma", code="GAMMA")
    head = factories.stakeholder(
        engine, gamma, name="Head of revenues", role="Head of service", influence=5, stance=-2,
        notes="secret remark",
    )  # fmt: skip
    quiet = factories.stakeholder(engine, gamma, name="Quiet resistor", influence=4, stance=-1)
    friend = factories.stakeholder(engine, gamma, name="Friend", influence=5, stance=1)
    rota = factories.milestone(engine, gamma, title="Agree rota", due_date=date(2026, 6, 1))
    budget = factories.milestone(engine, gamma, title="Sign off budget")
    signed = done(engine, gamma, date(2026, 6, 1), title="Signed earlier")
    depends(engine, rota, [head, friend])
    depends(engine, budget, [head])
    depends(engine, signed, [quiet])
    override(engine, gamma, "amber", "The rota is agreed in principle")
    # Not the viewer's: never listed.
    hidden = factories.programme(engine, elsewhere, title="Hidden")
    factories.milestone(engine, hidden, due_date=date(2026, 6, 1), weight=5)

    viewer = viewer_of(engine, [org])
    with db.read_session(engine) as session:
        frame = read.portfolio.needs_decision(session=session, viewer=viewer, today=TODAY)
    assert list(frame.columns) == list(read.portfolio.NEEDS_DECISION_COLUMNS)
    rows = frame.to_dict("records")
    assert [(row["kind"], row["programme_code"], row["item"]) for row in rows] == [
        ("Delivery confidence", "ALPHA", "Red"),
        ("Delivery confidence", "BETA", "Amber/Red"),
        ("Hotspot blocking work", "GAMMA", "Head of revenues, Head of service"),
        ("Overdue high-weight milestone", "ALPHA", "Close the old phone line"),
    ]
    assert rows[0]["programme"] == "Alpha"
    assert rows[0]["detail"] == "Suggested: 100% of planned work is overdue (>= 30% gives Red)"
    assert rows[1]["detail"].startswith("Override by maya@x.org on ")
    assert rows[1]["detail"].endswith(": Sponsor leaving in July (suggested Green)")
    assert rows[2]["detail"] == "Blocks: Agree rota; Sign off budget"
    assert rows[3]["detail"] == "Due 1 June 2026, 14 days late; weight 4; owner Jo Bloggs"
    assert "secret remark" not in frame.to_string()


# --- Change load beside the staff groups' stance --------------------------------------------


def test_change_load_comes_with_each_staff_groups_stance_and_whether_it_is_falling(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = factories.organisation(engine, name="Midshire Council")
    adults = factories.staff_group(engine, org, name="Adult social care")
    customers = factories.staff_group(engine, org, name="Customer services")
    ict = factories.staff_group(engine, org, name="ICT")
    planning = factories.staff_group(engine, org, name="Planning")
    pid = factories.programme(engine, org)
    unseen = factories.programme(engine, factories.organisation(engine))
    for group, level in ((adults, "high"), (customers, "low"), (ict, "medium")):
        milestone_id = factories.milestone(engine, pid, due_date=date(2026, 7, 10))
        set_impacts(engine, milestone_id, {group: level})

    on_day(monkeypatch, date(2026, 1, 10))
    warm = factories.stakeholder(engine, pid, staff_group_id=adults, influence=4, stance=1)
    factories.stakeholder(engine, pid, staff_group_id=adults, influence=2, stance=0)
    cooling = factories.stakeholder(engine, pid, staff_group_id=planning, influence=1, stance=1)
    factories.stakeholder(engine, pid, staff_group_id=planning, influence=3, stance=0)
    factories.stakeholder(engine, pid, influence=5, stance=-2)  # no staff group
    # In a programme the viewer cannot see: never counts, even for the viewer's group.
    factories.stakeholder(engine, unseen, staff_group_id=adults, influence=5, stance=-2)
    on_day(monkeypatch, date(2026, 4, 1))
    factories.stakeholder(engine, pid, staff_group_id=customers, influence=3, stance=1)
    on_day(monkeypatch, TODAY)
    assess(engine, warm, date(2026, 5, 1), -1)
    assess(engine, cooling, date(2026, 5, 1), 0)

    viewer = viewer_of(engine, [org])
    with db.read_session(engine) as session:
        load, stance = read.portfolio.change_load_with_stance(
            session=session, viewer=viewer, start=date(2026, 7, 1), months=3, today=TODAY
        )
        plain = read.portfolio.change_load(
            session=session, viewer=viewer, start=date(2026, 7, 1), months=3
        )
    assert load.equals(plain)
    assert list(stance.columns) == list(read.portfolio.GROUP_STANCE_COLUMNS)
    rows = {row["staff_group"]: row for row in stance.to_dict("records")}
    assert list(rows) == ["Adult social care", "Customer services", "ICT", "Planning"]
    assert rows["Adult social care"]["staff_group_id"] == adults
    assert rows["Adult social care"]["organisation"] == "Midshire Council"
    # Adults: (4 x -1 + 2 x 0) / 6 now, (4 x 1 + 2 x 0) / 6 on 17 March.
    adult = rows["Adult social care"]
    assert adult["stakeholders"] == 2
    assert adult["stance_index"] == pytest.approx(-4 / 6)
    assert adult["stance_index_90d"] == pytest.approx(4 / 6)
    assert adult["stance_change"] == pytest.approx(-8 / 6)
    assert adult["falling"] is True
    # Planning: from (1 x 1) / 4 to 0, a fall of exactly 0.25: falling.
    assert rows["Planning"]["stance_change"] == pytest.approx(-0.25)
    assert rows["Planning"]["falling"] is True
    # Customer services: nobody assessed 90 days ago, so no change to judge.
    assert (rows["Customer services"]["stance_index"], rows["Customer services"]["falling"]) == (
        1.0,
        False,
    )
    assert rows["Customer services"]["stance_index_90d"] is None
    assert rows["Customer services"]["stance_change"] is None
    # ICT carries change but has no stakeholders.
    assert [rows["ICT"][name] for name in ("stakeholders", "stance_index", "stance_change")] == [
        0,
        None,
        None,
    ]
    assert rows["ICT"]["falling"] is False


def test_the_stance_90_days_ago_takes_each_stakeholders_latest_assessment_by_date_then_entry(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlmodel import select

    from tracker.models import Assessment, Stakeholder

    org = factories.organisation(engine)
    group = factories.staff_group(engine, org)
    pid = factories.programme(engine, org)
    on_day(monkeypatch, date(2026, 1, 10))
    head = factories.stakeholder(engine, pid, influence=5, stance=0, staff_group_id=group)
    rep = factories.stakeholder(engine, pid, influence=3, stance=-1, staff_group_id=group)
    on_day(monkeypatch, date(2026, 4, 1))  # after the day 90 days ago (17 March)
    factories.stakeholder(engine, pid, influence=2, stance=0, staff_group_id=group)
    on_day(monkeypatch, TODAY)
    for stakeholder_id, assessed_on, stance in (
        # Two on the day itself: the later recorded stands.
        (head, date(2026, 3, 17), -2),
        (head, date(2026, 3, 17), 1),
        # After the day: counts now, not then.
        (head, date(2026, 3, 18), 2),
        # Recorded last but dated earlier: older than the two on the 17th.
        (head, date(2026, 2, 1), -1),
        # Two on one day before the day: the later recorded stands.
        (rep, date(2026, 3, 10), 0),
        (rep, date(2026, 3, 10), -2),
    ):
        assess(engine, stakeholder_id, assessed_on, stance)

    viewer = viewer_of(engine, [org])
    row = dashboard_row(engine, viewer, pid)
    with db.read_session(engine) as session:
        _load, stance = read.portfolio.change_load_with_stance(
            session=session, viewer=viewer, start=TODAY, months=1, today=TODAY
        )
        history: dict[int, list[tuple[date, int, int]]] = {}
        for assessment in session.exec(select(Assessment)).all():
            assert assessment.id is not None
            history.setdefault(assessment.stakeholder_id, []).append(
                (assessment.assessed_on, assessment.id, assessment.stance)
            )
        people = session.exec(select(Stakeholder).where(Stakeholder.programme_id == pid)).all()
    ninety_days_ago = TODAY - dt.timedelta(days=figures.STANCE_WINDOW_DAYS)
    then = [
        (person.influence, latest[2])
        for person in people
        if (latest := _latest_on_or_before(history[person.id or 0], ninety_days_ago))
    ]
    # On 17 March: the head at 1, the rep at -2; the newcomer not yet assessed.
    assert figures.stance_index(then) == pytest.approx((5 * 1 + 3 * -2) / 8)
    assert row["stance_index_90d"] == pytest.approx(figures.stance_index(then))
    # Now: the head at 2 (18 March), the rep at -2, the newcomer at 0.
    assert row["stance_index"] == pytest.approx((5 * 2 + 3 * -2 + 2 * 0) / 10)
    (group_row,) = stance.to_dict("records")
    assert group_row["stance_index_90d"] == pytest.approx(figures.stance_index(then))
    assert group_row["stance_index"] == pytest.approx(row["stance_index"])


def test_mean_attainment_on_the_dashboard_takes_each_metrics_latest_reading_by_date(
    engine: Engine,
) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    # Recorded out of date order: the latest by date counts (20), not the last entered (90).
    metric_with_readings(
        engine, pid, "Staff trained",
        [(date(2026, 5, 1), 40), (date(2026, 6, 1), 20), (date(2026, 3, 1), 90)],
    )  # fmt: skip
    metric_with_readings(engine, pid, "Sites live", [(date(2026, 4, 1), 60)])
    # Undefined attainment (target equals baseline) and no readings: neither counts.
    metric_with_readings(engine, pid, "Flat", [(date(2026, 6, 1), 5)], baseline=50, target=50)
    metric_with_readings(engine, pid, "Not measured yet", [])

    row = dashboard_row(engine, viewer_of(engine, [org]), pid)
    assert row["mean_attainment"] == pytest.approx((0.2 + 0.6) / 2)
    assert row["mean_attainment"] == pytest.approx(figures_of(engine, pid).mean_attainment)


# --- One programme's dashboard --------------------------------------------------------------


def test_burnup_counts_milestones_done_by_the_end_of_each_week_against_todays_scope(
    engine: Engine,
) -> None:
    pid = factories.programme(engine)
    for completed in (date(2026, 4, 1), date(2026, 5, 20), date(2026, 6, 1), date(2026, 6, 9)):
        done(engine, pid, completed)
    factories.milestone(engine, pid)
    factories.milestone(engine, pid, status="blocked")
    factories.milestone(engine, pid, status="cancelled")

    with db.read_session(engine) as session:
        frame = read.programme.burnup(session=session, programme_id=pid, today=TODAY, weeks=4)
        with pytest.raises(ValueError, match="weeks"):
            read.programme.burnup(session=session, programme_id=pid, today=TODAY, weeks=0)
    assert list(frame.columns) == list(read.programme.BURNUP_COLUMNS)
    assert frame["week"].tolist() == [
        date(2026, 5, 25),
        date(2026, 6, 1),
        date(2026, 6, 8),
        TODAY,
    ]
    # Done on 1 June counts in the week ending that day.
    assert frame["done"].tolist() == [2, 3, 3, 4]
    assert frame["scope"].tolist() == [6, 6, 6, 6]


def test_the_stakeholder_grid_names_only_hotspots_unless_asked_and_never_shows_notes(
    engine: Engine,
) -> None:
    pid = factories.programme(engine)
    head = factories.stakeholder(
        engine, pid, name="Head of revenues", role="Head of service", influence=5, interest=4,
        stance=-2, notes="Private remark",
    )  # fmt: skip
    lead = factories.stakeholder(
        engine, pid, name="Team lead", role="Team leader", influence=3, interest=2, stance=1
    )
    clerk = factories.stakeholder(engine, pid, name="Clerk", influence=1, interest=4, stance=0)

    with db.read_session(engine) as session:
        named = read.programme.stakeholder_grid(
            session=session, viewer=SYSTEM, programme_id=pid, named=True
        )
        anonymous = read.programme.stakeholder_grid(
            session=session, viewer=SYSTEM, programme_id=pid, named=False
        )
    assert list(named.columns) == list(read.programme.STAKEHOLDER_GRID_COLUMNS)
    assert named["stakeholder_id"].tolist() == [head, lead, clerk]
    assert named["label"].tolist() == ["Head of revenues", "Team lead", "Clerk"]
    assert anonymous["label"].tolist() == ["Head of revenues", "", ""]
    assert anonymous["role"].tolist() == ["Head of service", "", ""]
    assert named["quadrant"].tolist() == ["Manage closely", "Keep satisfied", "Keep informed"]
    assert named["stance_label"].tolist() == ["Active resistor", "Supporter", "Neutral"]
    assert named["hotspot"].tolist() == [True, False, False]
    assert named[["influence", "interest", "stance"]].to_numpy().tolist() == [
        [5, 4, -2],
        [3, 2, 1],
        [1, 4, 0],
    ]
    for frame in (named, anonymous):
        assert "notes" not in frame.columns
        assert "Private remark" not in frame.to_string()


def test_stance_history_sets_the_stance_index_against_the_desired_one(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = factories.programme(engine)
    on_day(monkeypatch, date(2026, 1, 10))
    early = factories.stakeholder(engine, pid, influence=4, stance=-1, desired_stance=1)
    on_day(monkeypatch, date(2026, 5, 20))
    factories.stakeholder(engine, pid, influence=2, stance=1, desired_stance=2)
    on_day(monkeypatch, TODAY)
    assess(engine, early, date(2026, 6, 1), 0)

    with db.read_session(engine) as session:
        frame = read.programme.stance_history(
            session=session, programme_id=pid, today=TODAY, months=7
        )
        trend = read.programme.stance_trend(
            session=session, programme_id=pid, today=TODAY, months=7
        )
        with pytest.raises(ValueError, match="months"):
            read.programme.stance_history(session=session, programme_id=pid, today=TODAY, months=0)
    assert list(frame.columns) == list(read.programme.STANCE_HISTORY_COLUMNS)
    assert frame["month"].tolist() == trend["month"].tolist()
    assert frame["stance_index"].tolist() == trend["stance_index"].tolist()
    expected = {
        date(2025, 12, 1): (None, None),  # nobody assessed yet
        date(2026, 4, 1): (-1.0, 1.0),  # the early stakeholder alone
        date(2026, 5, 1): ((4 * -1 + 2 * 1) / 6, (4 * 1 + 2 * 2) / 6),
        date(2026, 6, 1): ((4 * 0 + 2 * 1) / 6, (4 * 1 + 2 * 2) / 6),
    }
    got = {
        row["month"]: (row["stance_index"], row["desired_index"])
        for row in frame.to_dict("records")
    }
    for month, (stance, desired) in expected.items():
        if stance is None:
            assert got[month] == (None, None)
        else:
            assert got[month] == (pytest.approx(stance), pytest.approx(desired))


ADKAR = ("awareness", "desire", "knowledge", "ability", "reinforcement")


def test_adkar_by_group_averages_each_stakeholders_latest_adkar_scores(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = factories.organisation(engine, short_name="MC")
    partner = factories.organisation(engine, short_name="WBC")
    adults = factories.staff_group(engine, org, name="Adult social care")
    our_customers = factories.staff_group(engine, org, name="Customer services")
    their_customers = factories.staff_group(engine, partner, name="Customer services")
    ict = factories.staff_group(engine, org, name="ICT")
    pid = factories.programme(engine, org)
    set_partners(engine, pid, [partner])
    on_day(monkeypatch, TODAY)

    def person(group: int | None) -> int:
        return factories.stakeholder(engine, pid, staff_group_id=group)

    def scores(stakeholder_id: int, on: date, *values: int | None) -> None:
        assess(engine, stakeholder_id, on, 0, **dict(zip(ADKAR, values, strict=True)))

    first_adult = person(adults)
    scores(first_adult, date(2026, 3, 1), 5, 5, 5, 5, 5)
    scores(first_adult, date(2026, 5, 1), 4, 3, 2, 2, 1)
    assess(engine, first_adult, date(2026, 6, 1), 1)  # stance only: the May scores stand
    scores(person(adults), date(2026, 5, 1), 2, 3, 4, None, None)
    scores(person(our_customers), date(2026, 5, 1), 3, 3, 3, 3, 3)
    scores(person(their_customers), date(2026, 5, 1), 1, 1, 1, 1, 1)
    scores(person(None), date(2026, 5, 1), 5, 4, 3, 2, 1)
    person(ict)  # never scored: no rows for ICT

    with db.read_session(engine) as session:
        frame = read.programme.adkar_by_group(session=session, programme_id=pid)
    assert list(frame.columns) == list(read.programme.ADKAR_COLUMNS)
    groups = list(dict.fromkeys(frame["staff_group"]))
    assert groups == [
        "Adult social care",
        "Customer services (MC)",
        "Customer services (WBC)",
        "No staff group",
    ]
    assert frame["element"].tolist() == list(ADKAR) * 4
    adult = frame[frame["staff_group"] == "Adult social care"]
    assert adult["score"].tolist() == [3.0, 3.0, 3.0, 2.0, 1.0]
    assert adult["stakeholders"].tolist() == [2, 2, 2, 1, 1]
    assert frame[frame["staff_group"] == "Customer services (WBC)"]["score"].tolist() == [1.0] * 5
    assert frame[frame["staff_group"] == "No staff group"]["score"].tolist() == [
        5.0,
        4.0,
        3.0,
        2.0,
        1.0,
    ]


def test_barrier_matrix_counts_barriers_not_closed_by_likelihood_and_impact(
    engine: Engine,
) -> None:
    pid = factories.programme(engine)
    other = factories.programme(engine)
    with write(engine) as session:
        for programme_id, title, likelihood, impact, status in (
            (pid, "Budget cut", 3, 4, "open"),
            (pid, "Agency staff leave", 3, 4, "mitigating"),
            (pid, "Old risk", 3, 4, "closed"),
            (pid, "Union dispute", 5, 2, "open"),
            (pid, "Settled", 1, 1, "closed"),
            (other, "Someone else's", 5, 2, "open"),
        ):
            barriers.create_barrier(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    BarrierCreate,
                    {
                        "programme_id": programme_id,
                        "title": title,
                        "category": "cultural",
                        "likelihood": likelihood,
                        "impact": impact,
                        "status": status,
                    },
                ),
            )

    with db.read_session(engine) as session:
        frame = read.programme.barrier_matrix(session=session, programme_id=pid)
    assert list(frame.columns) == list(read.programme.BARRIER_MATRIX_COLUMNS)
    assert [tuple(row) for row in frame.to_numpy().tolist()] == [
        (5, 2, 1, "Union dispute"),
        (3, 4, 2, "Agency staff leave; Budget cut"),
    ]


def test_metric_readings_lists_every_reading_by_metric_and_date(engine: Engine) -> None:
    pid = factories.programme(engine)
    calls = metric_with_readings(
        engine, pid, "Calls per week",
        [(date(2026, 5, 1), 25), (date(2026, 3, 1), 35)],
        unit="k", baseline=40, target=10, direction="down", target_date=date(2027, 3, 31),
    )  # fmt: skip
    trained = metric_with_readings(engine, pid, "Staff trained", [(date(2026, 4, 1), 80)])
    metric_with_readings(engine, pid, "Savings", [])

    with db.read_session(engine) as session:
        frame = read.programme.metric_readings(session=session, programme_id=pid)
    assert list(frame.columns) == list(read.programme.METRIC_READING_COLUMNS)
    assert frame[["metric_id", "reading_on", "value"]].to_numpy().tolist() == [
        [calls, date(2026, 3, 1), 35.0],
        [calls, date(2026, 5, 1), 25.0],
        [trained, date(2026, 4, 1), 80.0],
    ]
    first = frame.iloc[0]
    assert (first["name"], first["unit"], first["direction"]) == ("Calls per week", "k", "down")
    assert (first["baseline"], first["target"], first["target_date"]) == (
        40.0,
        10.0,
        date(2027, 3, 31),
    )
    assert frame.iloc[2]["target_date"] is None


def test_latest_narrative_is_the_newest_published_for_the_audiences_asked(engine: Engine) -> None:
    pid = factories.programme(engine)
    other = factories.programme(engine)
    quiet = factories.programme(engine)
    with write(engine) as session:
        for programme_id, title, audience, published_on, stage in (
            (pid, "For staff", "staff", date(2026, 6, 1), None),
            (pid, "Board update", "leadership", date(2026, 5, 1), None),
            (pid, "Board update, revised", "leadership", date(2026, 5, 1), "test"),
            (pid, "For everyone", "everyone", date(2026, 4, 1), None),
            (pid, "Unpublished", "leadership", None, None),
            (other, "Another programme's", "leadership", date(2026, 6, 10), None),
        ):
            narratives.write_narrative(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    NarrativeCreate,
                    {
                        "programme_id": programme_id,
                        "title": title,
                        "body": f"**{title}**",
                        "audience": audience,
                        "stage": stage,
                        "status": "draft" if published_on is None else "published",
                        "published_on": published_on,
                    },
                ),
            )

    with db.read_session(engine) as session:
        leadership = read.programme.latest_narrative(
            session=session, programme_id=pid, audiences=("leadership", Audience.everyone)
        )
        staff = read.programme.latest_narrative(
            session=session, programme_id=pid, audiences=["staff"]
        )
        everyone = read.programme.latest_narrative(
            session=session, programme_id=pid, audiences=["everyone"]
        )
        none = read.programme.latest_narrative(
            session=session, programme_id=quiet, audiences=["leadership", "everyone"]
        )
    # Two on one day: the later written stands.
    assert leadership == {
        "title": "Board update, revised",
        "body": "**Board update, revised**",
        "published_on": date(2026, 5, 1),
        "stage": "test",
        "audience": "leadership",
    }
    assert staff is not None and staff["title"] == "For staff"
    assert everyone is not None and everyone["title"] == "For everyone"
    assert everyone["stage"] is None
    assert none is None


# --- Fixed statement counts for the portfolio's new queries ---------------------------------


def test_the_dashboard_queries_take_the_same_number_of_statements_for_2_or_6_programmes(
    engine: Engine, statements: list[str]
) -> None:
    org = factories.organisation(engine)
    group = factories.staff_group(engine, org)
    viewer = viewer_of(engine, [org])

    def add_programmes(count: int) -> None:
        for _ in range(count):
            pid = factories.programme(engine, org)
            done(engine, pid, date(2026, 6, 1))
            late = factories.milestone(engine, pid, due_date=date(2026, 6, 1), weight=5)
            set_impacts(engine, late, {group: "high"})
            hot = factories.stakeholder(engine, pid, influence=4, stance=-1, staff_group_id=group)
            depends(engine, late, [hot])
            metric_with_readings(engine, pid, "Staff trained", [(date(2026, 5, 1), 40)])
            override(engine, pid, "red", "A reason long enough")

    def counts() -> tuple[int, int, int, int]:
        with db.read_session(engine) as session:
            statements.clear()
            frame = read.portfolio.portfolio_dashboard(session=session, viewer=viewer, today=TODAY)
            dashboard = len(statements)
            statements.clear()
            decisions = read.portfolio.needs_decision(session=session, viewer=viewer, today=TODAY)
            needs = len(statements)
            statements.clear()
            read.portfolio.change_load_with_stance(
                session=session, viewer=viewer, start=TODAY, months=6, today=TODAY
            )
            load = len(statements)
        return dashboard, needs, load, len(frame) + len(decisions)

    add_programmes(2)
    few = counts()
    add_programmes(4)
    many = counts()
    assert few[:3] == many[:3]
    assert many[3] == 6 + 6 * 3  # each: Red, a blocking hotspot, a heavy overdue milestone
    assert few[:3] <= (5, 3, 3)  # the first includes BEGIN on SQLite


# --- The dashboards' queries agree with the pure figures on the demo portfolio --------------


def test_dashboard_queries_agree_with_pure_figures_on_demo_portfolio(engine: Engine) -> None:
    from sqlmodel import col, select

    from tracker import clock, confidence
    from tracker.models import (
        Assessment,
        ConfidenceOverride,
        Metric,
        MetricReading,
        Milestone,
        MilestoneDependency,
        Organisation,
        Programme,
        Stakeholder,
    )
    from tracker.seed import demo

    demo.seed_demo(engine)
    today = clock.today()
    ninety_days_ago = today - dt.timedelta(days=figures.STANCE_WINDOW_DAYS)
    open_statuses = {"not_started", "in_progress", "blocked"}

    with db.read_session(engine) as session:
        everyone = access.Viewer(
            user_id=0,
            email="agreement@example.org",
            name="Agreement",
            role=Role.leadership,
            organisation_ids=frozenset(
                org_id for org_id in session.exec(select(Organisation.id)).all() if org_id
            ),
        )
        dashboard = read.portfolio.portfolio_dashboard(
            session=session, viewer=everyone, today=today
        )
        assert dashboard[list(read.portfolio.PORTFOLIO_COLUMNS)].equals(
            read.portfolio.portfolio(session=session, viewer=everyone, today=today)
        )
        decisions = read.portfolio.needs_decision(session=session, viewer=everyone, today=today)
        _load, group_stance = read.portfolio.change_load_with_stance(
            session=session, viewer=everyone, start=today, months=6, today=today
        )
        all_people = session.exec(select(Stakeholder)).all()
        history: dict[int, list[tuple[date, int, int]]] = {}
        for assessment in session.exec(select(Assessment)).all():
            assert assessment.id is not None
            history.setdefault(assessment.stakeholder_id, []).append(
                (assessment.assessed_on, assessment.id, assessment.stance)
            )

        def index_as_of(people: list[Stakeholder], as_of: date) -> float | None:
            readings = []
            for person in people:
                latest = _latest_on_or_before(history.get(person.id or 0, []), as_of)
                if latest is not None:
                    readings.append((person.influence, latest[2]))
            return figures.stance_index(readings)

        expected_flagged: set[str] = set()
        expected_heavy = 0
        expected_blockers: set[str] = set()
        for row in dashboard.to_dict("records"):
            pid = row["programme_id"]
            programme = session.get(Programme, pid)
            assert programme is not None
            ms = session.exec(select(Milestone).where(Milestone.programme_id == pid)).all()
            people = [s for s in all_people if s.programme_id == pid]
            headline = read.programme.programme_figures(
                session=session, programme_id=pid, today=today
            )

            # Forecast, attainment and stance movement.
            assert headline.forecast is not None
            assert (row["forecast_p50"], row["forecast_p85"]) == (
                headline.forecast.p50,
                headline.forecast.p85,
            )
            assert row["forecast_late"] is (headline.forecast.p85 > programme.target_end_date)
            assert row["mean_attainment"] == pytest.approx(headline.mean_attainment)
            then = index_as_of(people, ninety_days_ago)
            assert row["stance_index_90d"] == pytest.approx(then)
            assert row["stance_change"] == pytest.approx(row["stance_index"] - then)

            # The evidence, worked out from the rows with the pure figures.
            open_work = [m for m in ms if m.status in open_statuses]
            planned_weight = sum(m.weight for m in ms if m.status != "cancelled")
            open_ids = {m.id for m in open_work}
            dependencies = session.exec(
                select(MilestoneDependency).where(
                    col(MilestoneDependency.milestone_id).in_(open_ids)
                )
            ).all()
            hot = [s for s in people if figures.is_hotspot(influence=s.influence, stance=s.stance)]
            blocking = [s for s in hot if any(d.stakeholder_id == s.id for d in dependencies)]
            expected_blockers |= {s.name for s in blocking}
            attainments = []
            for metric in session.exec(select(Metric).where(Metric.programme_id == pid)).all():
                values = session.exec(
                    select(MetricReading).where(MetricReading.metric_id == metric.id)
                ).all()
                latest = max(values, key=lambda r: r.reading_on).value if values else None
                attained = figures.metric_attainment(
                    baseline=metric.baseline,
                    target=metric.target,
                    latest=latest,
                    direction=metric.direction,
                )
                if attained is not None:
                    attainments.append(attained)
            evidence = confidence.Evidence(
                overdue_share=sum(
                    m.weight
                    for m in open_work
                    if figures.is_overdue(due_date=m.due_date, status=m.status, today=today)
                )
                / planned_weight,
                blocked_share=sum(m.weight for m in open_work if m.status == "blocked")
                / planned_weight,
                forecast_p50=headline.forecast.p50,
                forecast_p85=headline.forecast.p85,
                target_end_date=programme.target_end_date,
                hotspots=len(hot),
                hotspots_blocking=len(blocking),
                mean_attainment=sum(attainments) / len(attainments) if attainments else None,
                elapsed_share=confidence.elapsed_share(
                    start=programme.start_date, target=programme.target_end_date, today=today
                ),
                remaining=len(open_work),
            )
            expected = confidence.suggest(evidence)
            assert row["hotspots_blocking"] == len(blocking)
            assert row["suggested"] == expected.rating.value
            assert row["deciding_rule"] == (
                expected.deciding.evidence_text if expected.deciding else None
            )
            suggestion, override = read.programme.confidence_for(
                session=session, programme_id=pid, today=today
            )
            assert suggestion == expected
            latest_override = session.exec(
                select(ConfidenceOverride)
                .where(ConfidenceOverride.programme_id == pid)
                .order_by(col(ConfidenceOverride.set_at).desc(), col(ConfidenceOverride.id).desc())
            ).first()
            assert row["override"] == (latest_override.rating if latest_override else None)
            shown = confidence.effective(suggestion, override)[0]
            assert row["confidence"] == shown.value
            if shown in (DeliveryConfidence.red, DeliveryConfidence.amber_red):
                expected_flagged.add(programme.code)
            expected_heavy += sum(
                1
                for m in open_work
                if m.weight >= read.portfolio.HIGH_WEIGHT
                and figures.is_overdue(due_date=m.due_date, status=m.status, today=today)
            )

            # The programme dashboard's pieces.
            burn = read.programme.burnup(session=session, programme_id=pid, today=today)
            assert burn["done"].iloc[-1] == headline.done
            assert burn["done"].is_monotonic_increasing
            assert set(burn["scope"]) == {headline.milestones}
            grid = read.programme.stakeholder_grid(
                session=session, viewer=SYSTEM, programme_id=pid, named=False
            )
            by_id = {s.id: s for s in people}
            for point in grid.to_dict("records"):
                person = by_id[point["stakeholder_id"]]
                is_hot = figures.is_hotspot(influence=person.influence, stance=person.stance)
                assert point["hotspot"] is is_hot
                assert point["label"] == (person.name if is_hot else "")
                assert (
                    point["quadrant"]
                    == figures.quadrant(influence=person.influence, interest=person.interest).label
                )
            history_frame = read.programme.stance_history(
                session=session, programme_id=pid, today=today
            )
            trend = read.programme.stance_trend(session=session, programme_id=pid, today=today)
            assert history_frame["stance_index"].tolist() == trend["stance_index"].tolist()
            now_point = history_frame.iloc[-1]
            assert now_point["desired_index"] == pytest.approx(
                figures.stance_index([(s.influence, s.desired_stance) for s in people])
            )

        kinds = decisions.groupby("kind")["programme_code"].apply(list).to_dict()
        assert set(kinds["Delivery confidence"]) == expected_flagged
        assert len(kinds.get("Overdue high-weight milestone", [])) == expected_heavy
        hotspot_rows = decisions[decisions["kind"] == "Hotspot blocking work"]["item"]
        assert {item.split(",")[0] for item in hotspot_rows} == expected_blockers

        for group in group_stance.to_dict("records"):
            members = [s for s in all_people if s.staff_group_id == group["staff_group_id"]]
            assert group["stakeholders"] == len(members)
            assert group["stance_index"] == pytest.approx(
                figures.stance_index([(s.influence, s.stance) for s in members])
            )
            assert group["stance_index_90d"] == pytest.approx(index_as_of(members, ninety_days_ago))
