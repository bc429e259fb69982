"""One programme's reads (tracker/read/programme.py), on SQLite and PostgreSQL, against numbers
worked out by hand and against the pure figures (tracker/figures.py)."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from tests import factories
from tests.factories import SYSTEM
from tests.read_builders import (
    ADKAR,
    TODAY,
    assess,
    done,
    figures_of,
    latest_on_or_before,
    metric_with_readings,
    on_day,
    portfolio_row,
    set_partners,
    stages_of,
    update_stage,
    viewer_of,
    write,
)
from tracker import access, db, figures, read
from tracker.models import (
    Audience,
    BarrierCreate,
    MetricCreate,
    MetricReadingCreate,
    NarrativeCreate,
    Role,
    Stage,
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


# --- Agreement with the pure figures --------------------------------------------------------


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
                    latest_reading = latest_on_or_before(history.get(s.id or 0, []), point["as_of"])
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
