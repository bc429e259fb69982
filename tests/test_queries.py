"""Dashboard aggregates (tracker/queries.py), on SQLite and PostgreSQL, against numbers worked
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
from tests.factories import ACTOR
from tracker import access, db, figures, queries
from tracker.models import Impact, Role, Stage
from tracker.services import barriers, metrics, milestones, programmes, stakeholders

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
            session=session, programme_id=programme_id, organisation_ids=organisation_ids
        )


def set_impacts(engine: Engine, milestone_id: int, impacts: dict[int, str]) -> None:
    with write(engine) as session:
        milestones.set_impacts(session=session, milestone_id=milestone_id, impacts=impacts)


def done(engine: Engine, programme_id: int, completed: date, **overrides: Any) -> int:
    return factories.milestone(
        engine, programme_id, status="done", completed_date=completed, **overrides
    )


def portfolio_row(engine: Engine, viewer: access.Viewer, programme_id: int) -> dict[str, Any]:
    with db.read_session(engine) as session:
        frame = queries.portfolio(session=session, viewer=viewer, today=TODAY)
    rows = frame[frame["programme_id"] == programme_id].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def figures_of(engine: Engine, programme_id: int) -> queries.ProgrammeFigures:
    with db.read_session(engine) as session:
        return queries.programme_figures(session=session, programme_id=programme_id, today=TODAY)


def stages_of(engine: Engine, programme_id: int) -> dict[str, dict[str, Any]]:
    with db.read_session(engine) as session:
        frame = queries.stage_summary(session=session, programme_id=programme_id, today=TODAY)
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
        frame = queries.overdue_milestones(session=session, programme_id=pid, today=TODAY)
    assert list(frame.columns) == list(queries.OVERDUE_COLUMNS)
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
        frame = queries.stage_summary(session=session, programme_id=pid, today=TODAY)
    assert frame["stage"].tolist() == [stage.value for stage in Stage]
    assert frame["number"].tolist() == [1, 2, 3, 4, 5, 6]
    assert frame["title"].iloc[1] == "Engage with influencers"
    assert frame["progress"].tolist() == [None] * 6
    assert not frame["current"].any()


# --- Stages ---------------------------------------------------------------------------------


def update_stage(engine: Engine, programme_id: int, stage: Stage, **changes: Any) -> int:
    with write(engine) as session:
        record = programmes.stage_record(session=session, programme_id=programme_id, stage=stage)
        assert record.id is not None
        programmes.update_stage_record(
            session=session,
            stage_record_id=record.id,
            expected_version=record.version,
            changes=changes,
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
        programmes.add_exit_criterion(session=session, stage_record_id=vision, text="Agreed")
        programmes.add_exit_criterion(
            session=session, stage_record_id=vision, text="Published", met=True
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
        queries.is_current_stage(
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
            session=session, milestone_id=open_work, stakeholder_ids=[head, rep]
        )
        for milestone_id in (started, finished, dropped):
            milestones.set_dependencies(
                session=session, milestone_id=milestone_id, stakeholder_ids=[head]
            )

    # (5 x -2 + 4 x -1 + 3 x -2 + 2 x 2 + 4 x 0) / (5 + 4 + 3 + 2 + 4) = -16 / 18
    row = portfolio_row(engine, viewer_of(engine, [org]), pid)
    assert row["stance_index"] == pytest.approx(-16 / 18)
    assert (row["stakeholders"], row["hotspots"]) == (5, 2)
    headline = figures_of(engine, pid)
    assert headline.stance_index == pytest.approx(-16 / 18)
    assert headline.hotspots == 2
    with db.read_session(engine) as session:
        frame = queries.hotspots(session=session, programme_id=pid)
    assert list(frame.columns) == list(queries.HOTSPOT_COLUMNS)
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
                data={
                    "stakeholder_id": stakeholder_id,
                    "assessed_on": assessed_on,
                    "stance": stance,
                    **extra,
                },
            )

    with db.read_session(engine) as session:
        frame = queries.stance_trend(session=session, programme_id=pid, today=TODAY, months=7)
    assert list(frame.columns) == list(queries.STANCE_TREND_COLUMNS)
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
            data={"programme_id": pid, "name": "Calls per week", "unit": "k", "baseline": 40,
                  "target": 10, "direction": "down", "target_date": date(2027, 3, 31)},
        )  # fmt: skip
        trained = metrics.define_metric(
            session=session,
            data={"programme_id": pid, "name": "Staff trained", "unit": "%", "baseline": 0,
                  "target": 100},
        )  # fmt: skip
        metrics.define_metric(
            session=session,
            data={"programme_id": pid, "name": "Savings", "baseline": 0, "target": 500},
        )
        # Recorded out of date order: the latest by date counts, not the last entered.
        for metric, reading_on, value in (
            (calls, date(2026, 5, 1), 25),
            (calls, date(2026, 3, 1), 35),
            (trained, date(2026, 4, 1), 80),
        ):
            metrics.record_reading(
                session=session,
                data={"metric_id": metric.id, "reading_on": reading_on, "value": value},
            )

    with db.read_session(engine) as session:
        frame = queries.metric_status(session=session, programme_id=pid)
    assert list(frame.columns) == list(queries.METRIC_COLUMNS)
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
                data={"programme_id": pid, "title": f"Risk {status}", "category": "cultural",
                      "likelihood": 3, "impact": 4, "status": status},
            )  # fmt: skip
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
        seen_by_outsider = queries.portfolio(
            session=session, viewer=viewer_of(engine, [outsider]), today=TODAY
        )
        seen_by_partner = queries.portfolio(
            session=session, viewer=viewer_of(engine, [partner]), today=TODAY
        )
        seen_by_nobody = queries.portfolio(
            session=session, viewer=viewer_of(engine, [factories.organisation(engine)]), today=TODAY
        )
    assert seen_by_outsider["programme_id"].tolist() == [own]
    assert seen_by_partner["programme_id"].tolist() == [pooled]
    assert list(seen_by_partner.columns) == list(queries.PORTFOLIO_COLUMNS)
    row = seen_by_partner.iloc[0]
    assert row["organisation"] == "Northshire County Council"
    assert row["partners"] == "EBC, WBC"
    assert (row["title"], row["sponsor"], row["status"]) == (
        "Shared platform",
        "Chief exec",
        "active",
    )
    assert seen_by_nobody.empty
    assert list(seen_by_nobody.columns) == list(queries.PORTFOLIO_COLUMNS)


def test_the_portfolio_is_ordered_by_title(engine: Engine) -> None:
    org = factories.organisation(engine)
    for title in ("Waste services online", "Adult social care portal", "Libraries app"):
        factories.programme(engine, org, title=title)
    with db.read_session(engine) as session:
        frame = queries.portfolio(session=session, viewer=viewer_of(engine, [org]), today=TODAY)
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
        frame = queries.change_load(
            session=session, viewer=viewer, start=date(2026, 7, 15), months=3
        )
        custom = queries.change_load(
            session=session,
            viewer=viewer,
            start=date(2026, 7, 15),
            months=3,
            weights={Impact.low: 2, Impact.medium: 3, Impact.high: 4},
        )
    assert list(frame.columns) == list(queries.CHANGE_LOAD_COLUMNS)
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
        queries.change_load(session=session, viewer=viewer, start=TODAY, months=0)


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
            frame = queries.portfolio(session=session, viewer=viewer, today=TODAY)
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

    from tracker import clock, demo
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
        portfolio = queries.portfolio(session=session, viewer=everyone, today=today)
        load = queries.change_load(session=session, viewer=everyone, start=start, months=months)

        by_programme = {row["programme_id"]: row for row in portfolio.to_dict("records")}
        assert set(by_programme) == set(programme_ids)
        for pid in programme_ids:
            ms = [m for m in all_milestones if m.programme_id == pid]
            people = session.exec(select(Stakeholder).where(Stakeholder.programme_id == pid)).all()
            readings = [(s.influence, s.stance) for s in people]
            row = by_programme[pid]
            headline = queries.programme_figures(session=session, programme_id=pid, today=today)
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

            hot = queries.hotspots(session=session, programme_id=pid)
            assert set(hot["name"]) == expected_hotspots

            stages = queries.stage_summary(session=session, programme_id=pid, today=today)
            for stage_row in stages.to_dict("records"):
                in_stage = [m for m in ms if m.stage == stage_row["stage"]]
                assert stage_row["progress"] == pytest.approx(figures.progress(in_stage))

            metric_rows = queries.metric_status(session=session, programme_id=pid)
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
            trend = queries.stance_trend(session=session, programme_id=pid, today=today)
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
