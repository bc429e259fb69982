"""One programme's reads: its dashboard aggregates, counted in the database (STYLE.md: the read
side, cosmicpython's views), its verdicts (`Verdicts`) and what its board pack lists; and the
per-programme pieces the portfolio reads (tracker.read.portfolio) group across programmes.

Every figure has one definition in `tracker.figures`; these queries give the same numbers with
GROUP BY and SUM(CASE ...), so no page loads a table to add it up. Sums are taken in SQL and
divided in Python, so a ratio is the same float `figures` would compute. A "latest row" (a
stakeholder's latest assessment, a metric's latest reading, a programme's latest override) is
one index seek per parent (`tracker.read.sql.latest_row`), so the portfolio's cost follows how many
stakeholders, metrics and programmes there are, not how long their histories are. The
statements run unchanged on SQLite and PostgreSQL; the only dialect branches are in the
building blocks of tracker.read.sql and in read.portfolio's joined names. Delivery confidence
is judged by `tracker.confidence` over evidence gathered here.

Viewer-scoped queries see only `tracker.access.visible_programme_ids(viewer)`. Queries given a
`programme_id` trust the caller to have checked access (`permissions.require_programme`).
`today` is always passed in (callers use `tracker.clock.today()`).

DataFrame columns holding "float or None" keep None (object dtype) where a figure is not
defined, so a page can tell "not planned" from 0.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import Executable
from sqlmodel import Session, col

from tracker import confidence, figures, permissions, vocabulary, words
from tracker.access import Viewer
from tracker.errors import NotFoundError
from tracker.models import (
    Assessment,
    Audience,
    Barrier,
    BarrierStatus,
    ConfidenceOverride,
    DeliveryConfidence,
    ExitCriterion,
    Metric,
    MetricReading,
    Milestone,
    MilestoneDependency,
    MilestoneStatus,
    Narrative,
    NarrativeStatus,
    Organisation,
    Programme,
    StaffGroup,
    Stage,
    StageRecord,
    Stakeholder,
    Stance,
)
from tracker.read.sql import add_months as _add_months
from tracker.read.sql import aggregate_strings as _aggregate_strings
from tracker.read.sql import count_where as _count_where
from tracker.read.sql import difference as _difference
from tracker.read.sql import frame as _frame
from tracker.read.sql import grouped
from tracker.read.sql import latest_row as _latest_row
from tracker.read.sql import mean as _mean
from tracker.read.sql import ratio as _ratio
from tracker.read.sql import rows as _rows
from tracker.read.sql import sum_where as _sum_where
from tracker.stages import STAGES

__all__ = [
    "SUM_NAMES",
    "ConfidenceInputs",
    "ProgrammeFacts",
    "ProgrammeFigures",
    "Verdicts",
    "adkar_by_group",
    "barrier_matrix",
    "blocked_work",
    "burnup",
    "confidence_for",
    "confidence_rows",
    "forget_forecasts",
    "hotspot_condition",
    "hotspots",
    "is_current_stage",
    "latest_narrative",
    "metric_readings",
    "metric_status",
    "milestone_figures",
    "milestone_sums",
    "next_due",
    "open_barriers",
    "open_milestone",
    "overdue_milestones",
    "programme_facts",
    "programme_figures",
    "stage_is_current",
    "stage_rows",
    "stage_summary",
    "stakeholder_grid",
    "stakeholder_sums",
    "stance_90_days_ago",
    "stance_history",
    "stance_as_of",
    "stance_trend",
    "verdicts",
    "verdicts_of",
]

THROUGHPUT_WEEKS = 12

_DONE = MilestoneStatus.done
_CANCELLED = MilestoneStatus.cancelled
_BLOCKED = MilestoneStatus.blocked


# --- Small pure pieces ----------------------------------------------------------------------


def is_current_stage(
    *,
    actual_start: dt.date | None,
    actual_end: dt.date | None,
    progress: float | None,
    active: int,
) -> bool:
    """True when the programme is working in this stage now (stages overlap, so several can be).

    A stage is current when it has started and has not finished:
    - started: an actual start date is recorded, or work has begun on it (`active` > 0, where
      `active` counts its milestones that are in progress, blocked or done);
    - finished: an actual end date is recorded, or its progress is 1.0 (every planned milestone
      done). So done milestones mark a stage as started only while other work in it remains.
    A stage with no milestones (progress None) is current from its actual start to its actual end.
    """
    started = actual_start is not None or active > 0
    finished = actual_end is not None or progress == 1.0
    return started and not finished


# --- SQL building blocks --------------------------------------------------------------------


# The columns milestone_sums produces, in order.
SUM_NAMES = ("milestones", "done", "overdue", "blocked", "weight_done", "weight_planned", "active")


def milestone_sums(today: dt.date) -> list[sa.Label[int]]:
    """Per-group milestone figures: planned (not cancelled) count, done, overdue, blocked,
    weights done and planned (for progress), and how many show work begun (for the current
    stage rule)."""
    status = col(Milestone.status)
    weight = col(Milestone.weight)
    return [
        _count_where(status != _CANCELLED).label("milestones"),
        _count_where(status == _DONE).label("done"),
        _count_where(
            sa.and_(col(Milestone.due_date) < today, status.not_in([_DONE, _CANCELLED]))
        ).label("overdue"),
        _count_where(status == _BLOCKED).label("blocked"),
        _sum_where(status == _DONE, weight).label("weight_done"),
        _sum_where(status != _CANCELLED, weight).label("weight_planned"),
        _count_where(status.in_([MilestoneStatus.in_progress, _BLOCKED, _DONE])).label("active"),
    ]


def hotspot_condition() -> sa.ColumnElement[bool]:
    """figures.is_hotspot as SQL: influence >= 4 and stance <= -1."""
    return sa.and_(col(Stakeholder.influence) >= 4, col(Stakeholder.stance) <= -1)


def stakeholder_sums() -> list[sa.Label[int]]:
    """Per-group stakeholder figures: count, the two sums of the stance index, hotspots."""
    influence = col(Stakeholder.influence)
    return [
        sa.func.count(col(Stakeholder.id)).label("stakeholders"),
        sa.func.coalesce(sa.func.sum(influence * col(Stakeholder.stance)), 0).label("weighted"),
        sa.func.coalesce(sa.func.sum(influence), 0).label("influence"),
        _count_where(hotspot_condition()).label("hotspots"),
    ]


def stage_rows(
    session: Session, programme_ids: sa.Select[Any] | Sequence[int], today: dt.date
) -> list[dict[str, Any]]:
    """Each stage record of these programmes with its milestone figures and exit criteria."""
    stage_sums = (
        sa.select(col(Milestone.programme_id), col(Milestone.stage), *milestone_sums(today))
        .where(col(Milestone.programme_id).in_(programme_ids))
        .group_by(col(Milestone.programme_id), col(Milestone.stage))
        .subquery("stage_sums")
    )
    criteria = (
        sa.select(
            col(ExitCriterion.stage_record_id),
            sa.func.count(col(ExitCriterion.id)).label("criteria"),
            _count_where(col(ExitCriterion.met).is_(True)).label("criteria_met"),
        )
        .join(StageRecord, col(StageRecord.id) == col(ExitCriterion.stage_record_id))
        .where(col(StageRecord.programme_id).in_(programme_ids))
        .group_by(col(ExitCriterion.stage_record_id))
        .subquery("criteria")
    )
    statement = (
        sa.select(
            col(StageRecord.programme_id),
            col(StageRecord.stage),
            col(StageRecord.narrative),
            col(StageRecord.planned_start),
            col(StageRecord.planned_end),
            col(StageRecord.actual_start),
            col(StageRecord.actual_end),
            *(stage_sums.c[name] for name in SUM_NAMES),
            criteria.c.criteria,
            criteria.c.criteria_met,
        )
        .outerjoin(
            stage_sums,
            sa.and_(
                stage_sums.c.programme_id == col(StageRecord.programme_id),
                stage_sums.c.stage == col(StageRecord.stage),
            ),
        )
        .outerjoin(criteria, criteria.c.stage_record_id == col(StageRecord.id))
        .where(col(StageRecord.programme_id).in_(programme_ids))
    )
    return _rows(session, statement)


def milestone_figures(row: Mapping[str, Any]) -> dict[str, Any]:
    """progress, milestones, done, overdue, blocked from a row of milestone_sums (possibly
    outer-joined, so NULL when there are no milestones)."""
    return {
        "progress": _ratio(row["weight_done"], row["weight_planned"]),
        "milestones": int(row["milestones"] or 0),
        "done": int(row["done"] or 0),
        "overdue": int(row["overdue"] or 0),
        "blocked": int(row["blocked"] or 0),
    }


def stage_is_current(row: Mapping[str, Any]) -> bool:
    return is_current_stage(
        actual_start=row["actual_start"],
        actual_end=row["actual_end"],
        progress=_ratio(row["weight_done"], row["weight_planned"]),
        active=int(row["active"] or 0),
    )


# --- Portfolio ------------------------------------------------------------------------------


# --- One programme --------------------------------------------------------------------------

STAGE_SUMMARY_COLUMNS = (
    "stage",
    "number",
    "title",
    "progress",
    "milestones",
    "done",
    "overdue",
    "blocked",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "narrative",
    "criteria",
    "criteria_met",
    "current",
)


def stage_summary(*, session: Session, programme_id: int, today: dt.date) -> pd.DataFrame:
    """Six rows, one per stage in order (vision .. celebrate), for one programme.

    Columns: stage (key), number (1-6), title, progress (float in [0, 1], None when the stage has
    no planned milestones: "not planned"), milestones (not cancelled), done, overdue (as of
    `today`), blocked, planned_start, planned_end, actual_start, actual_end (dates or None),
    narrative, criteria (exit criteria), criteria_met, current (bool, see is_current_stage).
    """
    by_stage = {Stage(row["stage"]): row for row in stage_rows(session, [programme_id], today)}
    empty: dict[str, Any] = dict.fromkeys(
        (
            *SUM_NAMES,
            "narrative",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "criteria",
            "criteria_met",
        )
    )
    rows = []
    for info in STAGES:
        row = by_stage.get(info.stage, empty)
        rows.append(
            {
                "stage": info.stage.value,
                "number": info.number,
                "title": info.title,
                **milestone_figures(row),
                "planned_start": row["planned_start"],
                "planned_end": row["planned_end"],
                "actual_start": row["actual_start"],
                "actual_end": row["actual_end"],
                "narrative": row["narrative"] or "",
                "criteria": int(row["criteria"] or 0),
                "criteria_met": int(row["criteria_met"] or 0),
                "current": stage_is_current(row),
            }
        )
    return _frame(rows, STAGE_SUMMARY_COLUMNS, optional=("progress",))


@dataclass(frozen=True)
class ProgrammeFigures:
    """The headline figures of one programme, as of a given day.

    progress: weighted share of planned work done, [0, 1], None when nothing is planned.
    milestones: not cancelled; done; overdue (due before today, not done or cancelled);
    blocked; remaining (neither done nor cancelled).
    weekly_throughput: milestones completed in each of the last 12 seven-day windows ending
    today, oldest first (as figures.weekly_throughput).
    forecast: figures.forecast_finish of the remaining milestones from that throughput (seeded by
    the programme id, so it is stable); None when nothing is planned or there is no throughput.
    stakeholders; stance_index (influence-weighted, [-2, 2], None without stakeholders);
    hotspots (influence >= 4 and stance <= -1).
    open_barriers: barriers not closed (open or mitigating).
    metrics: defined; metrics_with_reading; mean_attainment: mean of the metrics' attainment
    from their latest reading (1.0 = target met), over metrics whose attainment is defined;
    None when none is.
    """

    programme_id: int
    progress: float | None
    milestones: int
    done: int
    overdue: int
    blocked: int
    remaining: int
    weekly_throughput: tuple[int, ...]
    forecast: figures.Forecast | None
    stakeholders: int
    stance_index: float | None
    hotspots: int
    open_barriers: int
    metrics: int
    metrics_with_reading: int
    mean_attainment: float | None


def _throughput_windows(today: dt.date, weeks: int) -> list[tuple[dt.date, dt.date]]:
    """(after, up to and including) for each seven-day window ending today, oldest first."""
    return [
        (today - dt.timedelta(days=7 * (weeks - i)), today - dt.timedelta(days=7 * (weeks - i - 1)))
        for i in range(weeks)
    ]


@functools.lru_cache(maxsize=4096)
def _forecast(
    remaining: int, throughput: tuple[int, ...], today: dt.date, seed: int
) -> figures.Forecast | None:
    """figures.forecast_finish(remaining=..., throughput=..., today=..., seed=...), remembered.

    It is a pure function of these arguments (a seeded Monte Carlo run), so a remembered
    answer is exactly the one it would give again, and its cost (about a millisecond a
    programme) is paid once per programme state in a process: the portfolio dashboard, the
    needs-a-decision list, confidence_for and programme_figures forecast the same programmes,
    and after a save only the programmes whose milestones changed are forecast again."""
    return figures.forecast_finish(
        remaining=remaining, throughput=throughput, today=today, seed=seed
    )


def forget_forecasts() -> None:
    """Forget every remembered forecast (see _forecast), so the next read forecasts afresh: for a
    benchmark's cold run."""
    _forecast.cache_clear()


def programme_figures(*, session: Session, programme_id: int, today: dt.date) -> ProgrammeFigures:
    """The headline figures of one programme as of `today` (see ProgrammeFigures)."""
    completed = col(Milestone.completed_date)
    weeks = [
        _count_where(sa.and_(completed > after, completed <= until)).label(f"week_{i}")
        for i, (after, until) in enumerate(_throughput_windows(today, THROUGHPUT_WEEKS))
    ]
    milestone_row = _rows(
        session,
        sa.select(*milestone_sums(today), *weeks).where(
            col(Milestone.programme_id) == programme_id
        ),
    )[0]
    stakeholder_row = _rows(
        session,
        sa.select(*stakeholder_sums()).where(col(Stakeholder.programme_id) == programme_id),
    )[0]
    open_barriers = _rows(
        session,
        sa.select(sa.func.count(col(Barrier.id)).label("open")).where(
            col(Barrier.programme_id) == programme_id,
            col(Barrier.status) != BarrierStatus.closed,
        ),
    )[0]["open"]
    metrics = _metric_rows(session, programme_id)
    attainments = [m["attainment"] for m in metrics if m["attainment"] is not None]

    milestone = milestone_figures(milestone_row)
    remaining = milestone["milestones"] - milestone["done"]
    throughput = tuple(int(milestone_row[f"week_{i}"] or 0) for i in range(THROUGHPUT_WEEKS))
    forecast = (
        _forecast(remaining, throughput, today, programme_id) if milestone["milestones"] else None
    )
    return ProgrammeFigures(
        programme_id=programme_id,
        **milestone,
        remaining=remaining,
        weekly_throughput=throughput,
        forecast=forecast,
        stakeholders=int(stakeholder_row["stakeholders"] or 0),
        stance_index=_ratio(stakeholder_row["weighted"], stakeholder_row["influence"]),
        hotspots=int(stakeholder_row["hotspots"] or 0),
        open_barriers=int(open_barriers or 0),
        metrics=len(metrics),
        metrics_with_reading=sum(1 for m in metrics if m["latest"] is not None),
        mean_attainment=sum(attainments) / len(attainments) if attainments else None,
    )


OVERDUE_COLUMNS = (
    "id",
    "stage",
    "title",
    "owner",
    "due_date",
    "status",
    "weight",
    "slip_days",
)


def overdue_milestones(*, session: Session, programme_id: int, today: dt.date) -> pd.DataFrame:
    """The programme's overdue milestones (due before `today`, not done or cancelled), most late
    first (then by stage order and title).

    Columns: id, stage (key), title, owner, due_date, status (value), weight, slip_days (days
    past due as of `today`, >= 1).
    """
    statement = (
        sa.select(
            col(Milestone.id),
            col(Milestone.stage),
            col(Milestone.title),
            col(Milestone.owner),
            col(Milestone.due_date),
            col(Milestone.status),
            col(Milestone.weight),
        )
        .where(
            col(Milestone.programme_id) == programme_id,
            col(Milestone.due_date) < today,
            col(Milestone.status).not_in([_DONE, _CANCELLED]),
        )
        .order_by(col(Milestone.due_date), col(Milestone.title), col(Milestone.id))
    )
    rows = [
        {
            **row,
            "stage": str(row["stage"]),
            "status": str(row["status"]),
            "slip_days": figures.slip_days(
                due_date=row["due_date"], status=row["status"], completed_date=None, today=today
            ),
        }
        for row in _rows(session, statement)
    ]
    return _frame(rows, OVERDUE_COLUMNS)


HOTSPOT_COLUMNS = (
    "stakeholder_id",
    "name",
    "role",
    "influence",
    "stance",
    "desired_stance",
    "blocks",
)


def hotspots(*, session: Session, viewer: Viewer, programme_id: int) -> pd.DataFrame:
    """The programme's resistance hotspots (influence >= 4 and stance <= -1), most influential and
    most resistant first. Never includes notes. The viewer has been checked to see the
    programme; names and roles are "" unless they may see its people
    (permissions.may_see_names: the owner's organisation, or a partner under a data-sharing
    agreement).

    Columns: stakeholder_id, name, role, influence, stance, desired_stance, blocks (how many of
    the programme's open milestones, neither done nor cancelled, need this stakeholder's support).
    """
    names = permissions.may_see_names(session, viewer, programme_id)
    blocking = (
        sa.select(
            col(MilestoneDependency.stakeholder_id),
            sa.func.count().label("blocks"),
        )
        .join(Milestone, col(Milestone.id) == col(MilestoneDependency.milestone_id))
        .where(
            col(Milestone.programme_id) == programme_id,
            col(Milestone.status).not_in([_DONE, _CANCELLED]),
        )
        .group_by(col(MilestoneDependency.stakeholder_id))
        .subquery("blocking")
    )
    statement: Executable = (
        sa.select(
            col(Stakeholder.id).label("stakeholder_id"),
            col(Stakeholder.name),
            col(Stakeholder.role),
            col(Stakeholder.influence),
            col(Stakeholder.stance),
            col(Stakeholder.desired_stance),
            sa.func.coalesce(blocking.c.blocks, 0).label("blocks"),
        )
        .outerjoin(blocking, blocking.c.stakeholder_id == col(Stakeholder.id))
        .where(col(Stakeholder.programme_id) == programme_id, hotspot_condition())
        .order_by(col(Stakeholder.influence).desc(), col(Stakeholder.stance), col(Stakeholder.name))
    )
    found = _rows(session, statement)
    if not names:
        found = [row | {"name": "", "role": ""} for row in found]
    return _frame(found, HOTSPOT_COLUMNS)


METRIC_COLUMNS = (
    "metric_id",
    "name",
    "unit",
    "baseline",
    "target",
    "target_date",
    "direction",
    "latest",
    "latest_on",
    "attainment",
)


def _latest_reading(session: Session) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
    """Each metric's latest reading, to join to a query of Metric (see _latest_row)."""
    return _latest_row(
        session,
        MetricReading,
        link=col(MetricReading.metric_id),
        parent=col(Metric.id),
        newest_first=(col(MetricReading.reading_on),),  # unique per metric
        name="latest_reading",
    )


def _metric_rows(session: Session, programme_id: int) -> list[dict[str, Any]]:
    """Each metric of the programme with its latest reading (one seek each in the index on
    (metric_id, reading_on)) and attainment (figures.metric_attainment), ordered by name."""
    latest, on = _latest_reading(session)
    statement = (
        sa.select(
            col(Metric.id).label("metric_id"),
            col(Metric.name),
            col(Metric.unit),
            col(Metric.baseline),
            col(Metric.target),
            col(Metric.target_date),
            col(Metric.direction),
            latest.c.value.label("latest"),
            latest.c.reading_on.label("latest_on"),
        )
        .select_from(Metric)
        .outerjoin(latest, on)
        .where(col(Metric.programme_id) == programme_id)
        .order_by(col(Metric.name), col(Metric.id))
    )
    return [
        {
            **row,
            "direction": str(row["direction"]),
            "attainment": figures.metric_attainment(
                baseline=row["baseline"],
                target=row["target"],
                latest=row["latest"],
                direction=row["direction"],
            ),
        }
        for row in _rows(session, statement)
    ]


def metric_status(*, session: Session, programme_id: int) -> pd.DataFrame:
    """Each metric of the programme with its latest reading, ordered by name.

    Columns: metric_id, name, unit, baseline, target, target_date (date or None), direction
    ("up"/"down"), latest (the latest reading's value, None without readings), latest_on (its
    date), attainment ((latest - baseline) / (target - baseline), 1.0 = target met, direction-
    aware, not clamped; None without readings or when target equals baseline).
    """
    return _frame(
        _metric_rows(session, programme_id),
        METRIC_COLUMNS,
        optional=("target_date", "latest", "latest_on", "attainment"),
    )


# --- Across programmes: change load ---------------------------------------------------------


# --- Stance over time -----------------------------------------------------------------------

STANCE_TREND_COLUMNS = ("month", "as_of", "stakeholders", "stance_index")


def _month_ends(today: dt.date, months: int) -> list[tuple[dt.date, dt.date]]:
    """(first of month, as-of day) for the `months` calendar months ending with today's, oldest
    first; the as-of day is the month's last day, or today for the current month."""
    this_month = figures.month_start(today)
    ends = []
    for back in range(months - 1, -1, -1):
        first = _add_months(this_month, -back)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        ends.append((first, min(last, today)))
    return ends


def stance_trend(
    *, session: Session, programme_id: int, today: dt.date, months: int = 18
) -> pd.DataFrame:
    """The programme's stance index at the end of each of the last `months` months.

    For each month-end (today, for the current month) each stakeholder counts with their latest
    assessment on or before it (ties on a date: the later recorded), weighted by their current
    influence; stakeholders not yet assessed by then are left out. One statement: an index
    seek per stakeholder and month-end (_latest_assessment).

    Columns: month (date, first of the month), as_of (the day the index is taken), stakeholders
    (how many counted), stance_index (float in [-2, 2], None when nobody was assessed yet).
    Oldest month first. Raises ValueError when `months` < 1.
    """
    rows = [
        {
            "month": first,
            "as_of": as_of,
            "stakeholders": int(row["stakeholders"]) if row else 0,
            "stance_index": _ratio(row["weighted"], row["influence"]) if row else None,
        }
        for first, as_of, row in _stance_by_month(session, programme_id, today, months)
    ]
    return _frame(rows, STANCE_TREND_COLUMNS, optional=("stance_index",))


def _stance_by_month(
    session: Session, programme_id: int, today: dt.date, months: int
) -> list[tuple[dt.date, dt.date, dict[str, Any] | None]]:
    """(first of month, as-of day, sums) for the `months` months ending with today's, oldest
    first. The sums (None when nobody was assessed by then) are stakeholders, weighted
    (sum of current influence x stance of the latest assessment on or before the as-of day),
    desired (sum of current influence x desired stance) and influence, over the stakeholders
    assessed by then. One statement. Raises ValueError when `months` < 1."""
    if months < 1:
        raise ValueError("months: need at least one month of stance trend")
    ends_list = _month_ends(today, months)
    ends = sa.union_all(
        *(
            sa.select(
                sa.literal(first, sa.Date).label("month"), sa.literal(as_of, sa.Date).label("as_of")
            )
            for first, as_of in ends_list
        )
    ).subquery("ends")
    latest, on = _latest_assessment(session, ends.c.as_of)
    influence = col(Stakeholder.influence)
    statement = (
        sa.select(
            ends.c.month,
            sa.func.count().label("stakeholders"),
            sa.func.sum(influence * latest.c.stance).label("weighted"),
            sa.func.sum(influence * col(Stakeholder.desired_stance)).label("desired"),
            sa.func.sum(influence).label("influence"),
        )
        .select_from(ends)
        .join(Stakeholder, sa.true())
        .join(latest, on)
        .where(col(Stakeholder.programme_id) == programme_id)
        .group_by(ends.c.month)
    )
    by_month = {row["month"]: row for row in _rows(session, statement)}
    return [(first, as_of, by_month.get(first)) for first, as_of in ends_list]


# --- Small helpers for the dashboards -------------------------------------------------------


def open_milestone() -> sa.ColumnElement[bool]:
    """Neither done nor cancelled: work still to do."""
    return col(Milestone.status).not_in([_DONE, _CANCELLED])


def _latest_assessment(
    session: Session, as_of: Any, *, name: str = "latest_assessment"
) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
    """(FROM item, ON clause) joining each Stakeholder row of the enclosing query to their
    latest assessment on or before `as_of`, a date or a date column of the enclosing query (ties
    on a date: the later recorded, so the higher id): one seek in the index
    ix_assessment_stakeholder_latest each. Stakeholders not assessed by then drop out of an
    inner join."""
    return _latest_row(
        session,
        Assessment,
        link=col(Assessment.stakeholder_id),
        parent=col(Stakeholder.id),
        newest_first=(col(Assessment.assessed_on), col(Assessment.id)),
        where=(col(Assessment.assessed_on) <= as_of,),
        name=name,
    )


def stance_as_of(
    session: Session,
    *,
    key: Any,
    where: Sequence[sa.ColumnElement[bool]],
    as_of: dt.date,
) -> dict[Any, float | None]:
    """The stance index of each group of stakeholders (grouped by the Stakeholder column `key`,
    filtered by `where`) as of a day: each stakeholder's latest assessment on or before it (ties:
    the later recorded), weighted by current influence. Groups with nobody assessed by then are
    missing. One statement: an index seek per stakeholder (_latest_assessment), however long
    their histories."""
    latest, on = _latest_assessment(session, as_of)
    influence = col(Stakeholder.influence)
    statement = (
        sa.select(
            key.label("key"),
            sa.func.sum(influence * latest.c.stance).label("weighted"),
            sa.func.sum(influence).label("influence"),
        )
        .select_from(Stakeholder)
        .join(latest, on)
        .where(*where)
        .group_by(key)
    )
    return {
        row["key"]: _ratio(row["weighted"], row["influence"]) for row in _rows(session, statement)
    }


# --- Delivery confidence --------------------------------------------------------------------


@dataclass(frozen=True)
class ConfidenceInputs:
    """One programme's delivery-confidence inputs and outcome."""

    programme_id: int
    code: str
    title: str
    forecast: figures.Forecast | None
    evidence: confidence.Evidence
    suggestion: confidence.Suggestion
    override: confidence.Override | None

    @property
    def rating(self) -> DeliveryConfidence:
        """The rating shown: the override when there is one, else the suggestion."""
        return confidence.effective(self.suggestion, self.override)[0]


@dataclass(frozen=True)
class Verdicts:
    """One programme's verdicts with their words, as the portfolio table, the programme
    dashboard and both board packs show them (they render this object; none decides again).

    forecast: figures.forecast_finish (None: nothing planned or no throughput yet); late and
    forecast_verdict judge it on P85 against the target end date (figures.forecast_late).
    stance_index now, stance_index_90d (each stakeholder's latest assessment on or before 90
    days ago, weighted by current influence), stance_change (now - then) and direction
    (figures.stance_direction); None where not defined. confidence: the rating shown, where it
    comes from and why (confidence.explain)."""

    programme_id: int
    target_end_date: dt.date
    forecast: figures.Forecast | None
    stance_index: float | None
    stance_index_90d: float | None
    stance_change: float | None
    direction: vocabulary.StanceDirection | None
    confidence: confidence.Explanation

    @property
    def late(self) -> bool:
        return figures.forecast_late(self.forecast, self.target_end_date)

    @property
    def forecast_verdict(self) -> vocabulary.ForecastVerdict:
        return figures.forecast_verdict(self.forecast, self.target_end_date)

    @property
    def forecast_text(self) -> str:
        """For a table cell: e.g. "Apr 2028, at risk of finishing late"; "No forecast yet"."""
        if self.forecast is None:
            return self.forecast_verdict.label
        return f"{words.short_month(self.forecast.p50)}, {self.forecast_verdict.label.lower()}"

    @property
    def nearest_stance(self) -> Stance | None:
        return None if self.stance_index is None else words.nearest_stance(self.stance_index)

    @property
    def stance_words(self) -> str:
        """E.g. "+0.40, closest to neutral"; "No assessments" without stakeholders."""
        return words.stance_words(self.stance_index)

    @property
    def stance_text(self) -> str:
        """For a table cell: the index and its direction, e.g. "+0.40 ▲ improving"."""
        if self.stance_index is None:
            return "No assessments"
        trend = "" if self.direction is None else f" {self.direction.text}"
        return f"{self.stance_index:+.2f}{trend}"

    @property
    def direction_text(self) -> str:
        """Symbol and word, e.g. "▲ improving"; "No trend yet" when nobody had been assessed
        90 days ago."""
        return "No trend yet" if self.direction is None else self.direction.text

    @property
    def direction_words(self) -> str:
        """The word without the symbol, for print: e.g. "Improving (+0.12 in 90 days)"."""
        if self.direction is None or self.stance_change is None:
            return "No trend yet: nobody had been assessed 90 days ago"
        return f"{self.direction.label} ({self.stance_change:+.2f} in 90 days)"


def verdicts_of(
    found: ConfidenceInputs, stance_index: float | None, stance_then: float | None
) -> Verdicts:
    change = _difference(stance_index, stance_then)
    return Verdicts(
        programme_id=found.programme_id,
        target_end_date=found.evidence.target_end_date,
        forecast=found.forecast,
        stance_index=stance_index,
        stance_index_90d=stance_then,
        stance_change=change,
        direction=figures.stance_direction(change),
        confidence=confidence.explain(found.suggestion, found.override),
    )


def stance_90_days_ago(
    session: Session, programme_ids: sa.Select[Any] | Sequence[int], today: dt.date
) -> dict[Any, float | None]:
    return stance_as_of(
        session,
        key=col(Stakeholder.programme_id),
        where=[col(Stakeholder.programme_id).in_(programme_ids)],
        as_of=today - dt.timedelta(days=figures.STANCE_WINDOW_DAYS),
    )


def verdicts(*, session: Session, programme_id: int, today: dt.date) -> Verdicts:
    """One programme's verdicts (see Verdicts): the same object portfolio_dashboard carries in
    its `verdicts` column. Raises NotFoundError when the programme does not exist."""
    found = confidence_rows(session, [programme_id], today).get(programme_id)
    if found is None:
        raise NotFoundError(None, "That programme no longer exists. Reload the page.")
    now = _rows(
        session,
        sa.select(*stakeholder_sums()).where(col(Stakeholder.programme_id) == programme_id),
    )[0]
    then = stance_90_days_ago(session, [programme_id], today).get(programme_id)
    return verdicts_of(found, _ratio(now["weighted"], now["influence"]), then)


def confidence_rows(
    session: Session, programme_ids: sa.Select[Any] | Sequence[int], today: dt.date
) -> dict[int, ConfidenceInputs]:
    """Evidence, suggestion and latest override for each of these programmes, by programme id.

    One statement, however many programmes: milestone weights, weekly throughput, hotspots and
    those blocking open work, mean metric attainment and the latest override are each grouped
    per programme in a subquery; the latest reading of each metric and the latest override
    are index seeks (_latest_row), not windows over every reading. The forecast is
    figures.forecast_finish seeded by the programme id, exactly as programme_figures does it
    (remembered: _forecast)."""
    status = col(Milestone.status)
    weight = col(Milestone.weight)
    completed = col(Milestone.completed_date)
    is_open = open_milestone()
    milestone_sums = grouped(
        col(Milestone.programme_id),
        [
            _count_where(status != _CANCELLED).label("milestones"),
            _count_where(status == _DONE).label("done"),
            _sum_where(status != _CANCELLED, weight).label("weight_planned"),
            _sum_where(sa.and_(is_open, col(Milestone.due_date) < today), weight).label(
                "weight_overdue"
            ),
            _sum_where(status == _BLOCKED, weight).label("weight_blocked"),
        ],
        among=programme_ids,
        name="confidence_milestones",
    )
    # Weekly throughput reads only the milestones completed in the whole window (a range of
    # ix_milestone_completed per programme), not every milestone ever planned.
    windows = _throughput_windows(today, THROUGHPUT_WEEKS)
    weekly = (
        sa.select(
            col(Milestone.programme_id),
            *(
                _count_where(sa.and_(completed > after, completed <= until)).label(f"week_{i}")
                for i, (after, until) in enumerate(windows)
            ),
        )
        .where(
            col(Milestone.programme_id).in_(programme_ids),
            completed > windows[0][0],
            completed <= windows[-1][1],
        )
        .group_by(col(Milestone.programme_id))
        .subquery("confidence_throughput")
    )
    blockers = (
        sa.select(col(MilestoneDependency.stakeholder_id))
        .join(Milestone, col(Milestone.id) == col(MilestoneDependency.milestone_id))
        .where(col(Milestone.programme_id).in_(programme_ids), open_milestone())
        .group_by(col(MilestoneDependency.stakeholder_id))
        .subquery("blockers")
    )
    hotspot_sums = (
        sa.select(
            col(Stakeholder.programme_id),
            sa.func.count(col(Stakeholder.id)).label("hotspots"),
            sa.func.count(blockers.c.stakeholder_id).label("hotspots_blocking"),
        )
        .outerjoin(blockers, blockers.c.stakeholder_id == col(Stakeholder.id))
        .where(col(Stakeholder.programme_id).in_(programme_ids), hotspot_condition())
        .group_by(col(Stakeholder.programme_id))
        .subquery("hotspot_sums")
    )
    latest_reading, on_metric = _latest_reading(session)
    baseline, target = col(Metric.baseline), col(Metric.target)
    # figures.metric_attainment: one quotient for both directions, undefined at target = baseline.
    attainment = sa.case(
        (target == baseline, sa.null()),
        else_=(latest_reading.c.value - baseline) / (target - baseline),
    )
    attainment_sums = (
        sa.select(
            col(Metric.programme_id),
            sa.func.sum(attainment).label("attainment_total"),
            sa.func.count(attainment).label("attainments"),
        )
        .select_from(Metric)
        .join(latest_reading, on_metric)
        .where(col(Metric.programme_id).in_(programme_ids))
        .group_by(col(Metric.programme_id))
        .subquery("attainment_sums")
    )
    latest_override, on_programme = _latest_row(
        session,
        ConfidenceOverride,
        link=col(ConfidenceOverride.programme_id),
        parent=col(Programme.id),
        newest_first=(col(ConfidenceOverride.set_at), col(ConfidenceOverride.id)),
        name="latest_override",
    )
    statement = (
        sa.select(
            col(Programme.id).label("programme_id"),
            col(Programme.code),
            col(Programme.title),
            col(Programme.start_date),
            col(Programme.target_end_date),
            *(
                milestone_sums.c[name]
                for name in (
                    "milestones",
                    "done",
                    "weight_planned",
                    "weight_overdue",
                    "weight_blocked",
                )
            ),
            *(weekly.c[f"week_{i}"] for i in range(THROUGHPUT_WEEKS)),
            hotspot_sums.c.hotspots,
            hotspot_sums.c.hotspots_blocking,
            attainment_sums.c.attainment_total,
            attainment_sums.c.attainments,
            latest_override.c.rating,
            latest_override.c.reason,
            latest_override.c.set_by,
            latest_override.c.set_at,
        )
        .outerjoin(milestone_sums, milestone_sums.c.programme_id == col(Programme.id))
        .outerjoin(weekly, weekly.c.programme_id == col(Programme.id))
        .outerjoin(hotspot_sums, hotspot_sums.c.programme_id == col(Programme.id))
        .outerjoin(attainment_sums, attainment_sums.c.programme_id == col(Programme.id))
        .outerjoin(latest_override, on_programme)
        .where(col(Programme.id).in_(programme_ids))
    )
    found: dict[int, ConfidenceInputs] = {}
    for row in _rows(session, statement):
        programme_id = int(row["programme_id"])
        milestones = int(row["milestones"] or 0)
        remaining = milestones - int(row["done"] or 0)
        throughput = tuple(int(row[f"week_{i}"] or 0) for i in range(THROUGHPUT_WEEKS))
        forecast = _forecast(remaining, throughput, today, programme_id) if milestones else None
        evidence = confidence.Evidence(
            overdue_share=_ratio(row["weight_overdue"], row["weight_planned"]),
            blocked_share=_ratio(row["weight_blocked"], row["weight_planned"]),
            forecast_p50=forecast.p50 if forecast else None,
            forecast_p85=forecast.p85 if forecast else None,
            target_end_date=row["target_end_date"],
            hotspots=int(row["hotspots"] or 0),
            hotspots_blocking=int(row["hotspots_blocking"] or 0),
            mean_attainment=_mean(row["attainment_total"], row["attainments"]),
            elapsed_share=confidence.elapsed_share(
                start=row["start_date"], target=row["target_end_date"], today=today
            ),
            remaining=remaining,
        )
        override = (
            None
            if row["rating"] is None
            else confidence.Override(
                rating=DeliveryConfidence(row["rating"]),
                reason=row["reason"],
                set_by=row["set_by"],
                set_at=row["set_at"],
            )
        )
        found[programme_id] = ConfidenceInputs(
            programme_id=programme_id,
            code=row["code"],
            title=row["title"],
            forecast=forecast,
            evidence=evidence,
            suggestion=confidence.suggest(evidence),
            override=override,
        )
    return found


def confidence_for(
    *, session: Session, programme_id: int, today: dt.date
) -> tuple[confidence.Suggestion, confidence.Override | None]:
    """The suggested delivery confidence of one programme with every rule's result (the "why"),
    and the latest override (None when there is none). The same figures as portfolio_dashboard.
    Raises NotFoundError when the programme does not exist."""
    found = confidence_rows(session, [programme_id], today).get(programme_id)
    if found is None:
        raise NotFoundError(None, "That programme no longer exists. Reload the page.")
    return found.suggestion, found.override


# --- Needs a decision -----------------------------------------------------------------------


# --- Change load beside the staff groups' stance --------------------------------------------


# --- One programme's dashboard --------------------------------------------------------------

BURNUP_COLUMNS = ("week", "done", "scope")


def burnup(*, session: Session, programme_id: int, today: dt.date, weeks: int = 26) -> pd.DataFrame:
    """Milestone burn-up: one row per week for the `weeks` weeks ending today, oldest first.

    Columns: week (date: the last day of the week; the last row is today), done (milestones
    completed on or before that day, cumulative), scope (milestones not cancelled, as of now, the
    same on every row: the history of scope changes is not recorded, so the line is today's
    scope). One statement. Raises ValueError when `weeks` < 1.
    """
    if weeks < 1:
        raise ValueError("weeks: need at least one week of burn-up")
    ends = [today - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    completed = col(Milestone.completed_date)
    statement = sa.select(
        _count_where(col(Milestone.status) != _CANCELLED).label("scope"),
        *(_count_where(completed <= end).label(f"done_{i}") for i, end in enumerate(ends)),
    ).where(col(Milestone.programme_id) == programme_id)
    row = _rows(session, statement)[0]
    rows = [
        {"week": end, "done": int(row[f"done_{i}"] or 0), "scope": int(row["scope"] or 0)}
        for i, end in enumerate(ends)
    ]
    return _frame(rows, BURNUP_COLUMNS)


STAKEHOLDER_GRID_COLUMNS = (
    "stakeholder_id",
    "label",
    "role",
    "influence",
    "interest",
    "stance",
    "stance_label",
    "quadrant",
    "hotspot",
)


def stakeholder_grid(
    *, session: Session, viewer: Viewer, programme_id: int, named: bool
) -> pd.DataFrame:
    """The programme's stakeholders for the power/interest grid, most influential first. Never
    includes notes. The viewer has been checked to see the programme.

    Columns: stakeholder_id, label and role (the stakeholder's name and role when `named` and
    the viewer may read the register (Action.stakeholder_read); otherwise only hotspots are
    named, and everyone else has "" for both: leadership sees named hotspots only, and where
    the viewer's organisation does not hold the programme's people nobody is named), influence,
    interest (1-5), stance (-2..2), stance_label (e.g. "Active resistor"), quadrant
    (figures.quadrant's label, e.g. "Manage closely"), hotspot (bool).
    """
    hotspots_named = permissions.may_see_names(session, viewer, programme_id)
    named = named and permissions.allowed(
        viewer,
        permissions.Action.stakeholder_read,
        permissions.programme_scope(session, programme_id),
    )
    statement: Executable = (
        sa.select(
            col(Stakeholder.id).label("stakeholder_id"),
            col(Stakeholder.name),
            col(Stakeholder.role),
            col(Stakeholder.influence),
            col(Stakeholder.interest),
            col(Stakeholder.stance),
        )
        .where(col(Stakeholder.programme_id) == programme_id)
        .order_by(
            col(Stakeholder.influence).desc(),
            col(Stakeholder.interest).desc(),
            col(Stakeholder.id),
        )
    )
    rows = []
    for row in _rows(session, statement):
        hotspot = figures.is_hotspot(influence=row["influence"], stance=row["stance"])
        shown = named or (hotspot and hotspots_named)
        rows.append(
            {
                "stakeholder_id": row["stakeholder_id"],
                "label": row["name"] if shown else "",
                "role": row["role"] if shown else "",
                "influence": row["influence"],
                "interest": row["interest"],
                "stance": row["stance"],
                "stance_label": Stance(row["stance"]).label,
                "quadrant": figures.quadrant(
                    influence=row["influence"], interest=row["interest"]
                ).label,
                "hotspot": hotspot,
            }
        )
    return _frame(rows, STAKEHOLDER_GRID_COLUMNS)


STANCE_HISTORY_COLUMNS = ("month", "stance_index", "desired_index")


def stance_history(
    *, session: Session, programme_id: int, today: dt.date, months: int = 18
) -> pd.DataFrame:
    """The programme's stance index against its desired stance at each of the last `months`
    month-ends (today for the current month), oldest first.

    Columns: month (date, first of the month), stance_index (as stance_trend), desired_index
    (the same stakeholders' desired stances, weighted by current influence); both None when
    nobody had been assessed by then. Raises ValueError when `months` < 1.
    """
    rows = [
        {
            "month": first,
            "stance_index": _ratio(row["weighted"], row["influence"]) if row else None,
            "desired_index": _ratio(row["desired"], row["influence"]) if row else None,
        }
        for first, _as_of, row in _stance_by_month(session, programme_id, today, months)
    ]
    return _frame(rows, STANCE_HISTORY_COLUMNS, optional=("stance_index", "desired_index"))


ADKAR_ELEMENTS = vocabulary.ADKAR
ADKAR_COLUMNS = ("staff_group", "element", "score", "stakeholders")
NO_STAFF_GROUP = "No staff group"


def adkar_by_group(*, session: Session, programme_id: int) -> pd.DataFrame:
    """Mean ADKAR scores by staff group: for each stakeholder, their latest assessment that has
    any ADKAR score (ties: the later recorded), averaged per staff group and element.

    Five rows per staff group with such stakeholders (elements in ADKAR order: awareness, desire,
    knowledge, ability, reinforcement); groups by name, with NO_STAFF_GROUP ("No staff group")
    for stakeholders without one last. A name shared by groups of two organisations gets the
    organisation's short name, e.g. "Customer services (NCC)".
    Columns: staff_group, element, score (mean 1-5, None when nobody has a score for it),
    stakeholders (how many scores the mean is of).
    """
    has_adkar = sa.or_(*(col(getattr(Assessment, name)).is_not(None) for name in ADKAR_ELEMENTS))
    latest, on = _latest_row(
        session,
        Assessment,
        link=col(Assessment.stakeholder_id),
        parent=col(Stakeholder.id),
        newest_first=(col(Assessment.assessed_on), col(Assessment.id)),
        where=(has_adkar,),
        name="latest_adkar",
    )
    statement: Executable = (
        sa.select(
            col(Stakeholder.staff_group_id),
            col(StaffGroup.name).label("staff_group"),
            col(Organisation.short_name),
            *(
                column
                for name in ADKAR_ELEMENTS
                for column in (
                    sa.func.sum(latest.c[name]).label(f"{name}_total"),
                    sa.func.count(latest.c[name]).label(f"{name}_count"),
                )
            ),
        )
        .select_from(Stakeholder)
        .join(latest, on)
        .outerjoin(StaffGroup, col(StaffGroup.id) == col(Stakeholder.staff_group_id))
        .outerjoin(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .where(col(Stakeholder.programme_id) == programme_id)
        .group_by(
            col(Stakeholder.staff_group_id), col(StaffGroup.name), col(Organisation.short_name)
        )
    )
    found = _rows(session, statement)
    names = [row["staff_group"] for row in found if row["staff_group"] is not None]
    shared = {name for name in names if names.count(name) > 1}

    def label(row: Mapping[str, Any]) -> str:
        if row["staff_group"] is None:
            return NO_STAFF_GROUP
        if row["staff_group"] in shared:
            return f"{row['staff_group']} ({row['short_name']})"
        return str(row["staff_group"])

    rows = []
    for row in sorted(found, key=lambda r: (r["staff_group"] is None, label(r))):
        for name in ADKAR_ELEMENTS:
            count = int(row[f"{name}_count"] or 0)
            rows.append(
                {
                    "staff_group": label(row),
                    "element": name,
                    "score": _mean(row[f"{name}_total"], count),
                    "stakeholders": count,
                }
            )
    return _frame(rows, ADKAR_COLUMNS, optional=("score",))


BARRIER_MATRIX_COLUMNS = ("likelihood", "impact", "barriers", "titles")


def barrier_matrix(*, session: Session, programme_id: int) -> pd.DataFrame:
    """The programme's barriers that are not closed (open or mitigating), counted by likelihood
    and impact. Only cells with at least one barrier appear, highest likelihood then impact
    first.

    Columns: likelihood, impact (1-5), barriers (count), titles (the barriers' titles, sorted,
    joined by "; ", for a tooltip).
    """
    cells = _aggregate_strings(
        session,
        sa.select(col(Barrier.likelihood), col(Barrier.impact), col(Barrier.title))
        .where(
            col(Barrier.programme_id) == programme_id,
            col(Barrier.status) != BarrierStatus.closed,
        )
        .subquery("open_barriers"),
        keys=("likelihood", "impact"),
        value="title",
        separator="; ",
    )
    statement = sa.select(
        cells.c.likelihood,
        cells.c.impact,
        cells.c.how_many.label("barriers"),
        cells.c.joined.label("titles"),
    ).order_by(cells.c.likelihood.desc(), cells.c.impact.desc())
    rows = [{**row, "barriers": int(row["barriers"])} for row in _rows(session, statement)]
    return _frame(rows, BARRIER_MATRIX_COLUMNS)


METRIC_READING_COLUMNS = (
    "metric_id",
    "name",
    "unit",
    "direction",
    "baseline",
    "target",
    "target_date",
    "reading_on",
    "value",
)


def metric_readings(*, session: Session, programme_id: int) -> pd.DataFrame:
    """Every reading of the programme's metrics, by metric name then date. Metrics without
    readings do not appear (metric_status lists every metric).

    Columns: metric_id, name, unit, direction ("up"/"down"), baseline, target, target_date (date
    or None), reading_on (date), value.
    """
    statement: Executable = (
        sa.select(
            col(Metric.id).label("metric_id"),
            col(Metric.name),
            col(Metric.unit),
            col(Metric.direction),
            col(Metric.baseline),
            col(Metric.target),
            col(Metric.target_date),
            col(MetricReading.reading_on),
            col(MetricReading.value),
        )
        .join(MetricReading, col(MetricReading.metric_id) == col(Metric.id))
        .where(col(Metric.programme_id) == programme_id)
        .order_by(col(Metric.name), col(Metric.id), col(MetricReading.reading_on))
    )
    rows = [{**row, "direction": str(row["direction"])} for row in _rows(session, statement)]
    return _frame(rows, METRIC_READING_COLUMNS, optional=("target_date",))


def latest_narrative(
    *, session: Session, programme_id: int, audiences: Iterable[Audience | str]
) -> dict[str, Any] | None:
    """The newest published narrative of the programme for any of `audiences` (by published
    date, then the later written), or None when there is none.

    Keys: title, body (Markdown), published_on (date), stage (key or None), audience (value).
    """
    wanted = [Audience(audience) for audience in audiences]
    statement = (
        sa.select(
            col(Narrative.title),
            col(Narrative.body),
            col(Narrative.published_on),
            col(Narrative.stage),
            col(Narrative.audience),
        )
        .where(
            col(Narrative.programme_id) == programme_id,
            col(Narrative.status) == NarrativeStatus.published,
            col(Narrative.audience).in_(wanted),
        )
        .order_by(col(Narrative.published_on).desc(), col(Narrative.id).desc())
        .limit(1)
    )
    found = _rows(session, statement)
    if not found:
        return None
    row = found[0]
    return {
        "title": row["title"],
        "body": row["body"],
        "published_on": row["published_on"],
        "stage": None if row["stage"] is None else str(row["stage"]),
        "audience": str(row["audience"]),
    }


# --- What a board pack lists besides the dashboards -----------------------------------------


def next_due(*, session: Session, programme_id: int, today: dt.date, limit: int) -> list[Milestone]:
    """The next `limit` milestones not done or cancelled, due today or later, soonest first."""
    statement = (
        sa.select(Milestone)
        .where(
            col(Milestone.programme_id) == programme_id,
            open_milestone(),
            col(Milestone.due_date) >= today,
        )
        .order_by(col(Milestone.due_date), col(Milestone.title), col(Milestone.id))
        .limit(limit)
    )
    return list(session.scalars(statement).all())


def blocked_work(*, session: Session, stakeholder_ids: Sequence[int]) -> dict[int, list[str]]:
    """Titles of the open milestones waiting on each of these stakeholders, soonest due first."""
    if not stakeholder_ids:
        return {}
    statement = (
        sa.select(col(MilestoneDependency.stakeholder_id), col(Milestone.title))
        .join(Milestone, col(Milestone.id) == col(MilestoneDependency.milestone_id))
        .where(col(MilestoneDependency.stakeholder_id).in_(stakeholder_ids), open_milestone())
        .order_by(col(Milestone.due_date), col(Milestone.title))
    )
    found: dict[int, list[str]] = {}
    for row in _rows(session, statement):
        found.setdefault(row["stakeholder_id"], []).append(row["title"])
    return found


def open_barriers(*, session: Session, programme_id: int) -> list[Barrier]:
    """Barriers not closed, highest score (likelihood x impact) first."""
    score = col(Barrier.likelihood) * col(Barrier.impact)
    statement = (
        sa.select(Barrier)
        .where(
            col(Barrier.programme_id) == programme_id,
            col(Barrier.status) != BarrierStatus.closed,
        )
        .order_by(score.desc(), col(Barrier.likelihood).desc(), col(Barrier.title))
    )
    return list(session.scalars(statement).all())


@dataclass(frozen=True)
class ProgrammeFacts:
    """Who holds a programme and when it runs, as a board pack's title block states it:
    owner and partner organisations' names (partners A to Z), sponsor and manager (None when
    not named), status, start and target end dates."""

    programme_id: int
    code: str
    title: str
    owner: str
    partners: tuple[str, ...]
    sponsor: str | None
    manager: str | None
    status: str
    start_date: dt.date
    target_end_date: dt.date


def programme_facts(*, session: Session, programme_id: int) -> ProgrammeFacts:
    """The programme's facts (see ProgrammeFacts). Raises NotFoundError when it does not exist."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFoundError("programme", "That programme no longer exists.")
    owner = session.get(Organisation, programme.organisation_id)
    return ProgrammeFacts(
        programme_id=programme_id,
        code=programme.code,
        title=programme.title,
        owner=owner.name if owner else "Unknown",
        partners=tuple(sorted(organisation.name for organisation in programme.partners)),
        sponsor=programme.sponsor or None,
        manager=programme.manager or None,
        status=str(programme.status),
        start_date=programme.start_date,
        target_end_date=programme.target_end_date,
    )


def programme_id_with_code(*, session: Session, code: str) -> int:
    """The id of the programme whose code is exactly `code` (codes are stored in capitals), or
    NotFoundError. Whoever asks: the caller checks what the viewer may do with it."""
    statement = sa.select(col(Programme.id)).where(col(Programme.code) == code)
    found = session.connection().execute(statement).scalar()
    if found is None:
        raise NotFoundError("programme", f"no programme has the code {code}")
    return int(found)
