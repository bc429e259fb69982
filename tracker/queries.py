"""Dashboard aggregates, counted in the database (STYLE.md: the read side, cosmicpython's views).

Every figure has one definition in `tracker.figures`; these queries give the same numbers with
GROUP BY, SUM(CASE ...) and window functions, so no page loads a table to add it up. Sums are
taken in SQL and divided in Python, so a ratio is the same float `figures` would compute. The
statements run unchanged on SQLite and PostgreSQL; the only dialect branches are in
`_month_start` and `_joined_names`.

Viewer-scoped queries see only `tracker.access.visible_programme_ids(viewer)`. Queries given a
`programme_id` trust the caller to have checked access (`tracker.access.require_programme`).
`today` is always passed in (callers use `tracker.clock.today()`).

DataFrame columns holding "float or None" keep None (object dtype) where a figure is not
defined, so a page can tell "not planned" from 0.
"""

from __future__ import annotations

import calendar
import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import Executable
from sqlmodel import Session, col

from tracker import figures
from tracker.access import Viewer, visible_programme_ids
from tracker.models import (
    Assessment,
    Barrier,
    BarrierStatus,
    ExitCriterion,
    Impact,
    Metric,
    MetricReading,
    Milestone,
    MilestoneDependency,
    MilestoneImpact,
    MilestoneStatus,
    Organisation,
    Programme,
    ProgrammePartner,
    StaffGroup,
    Stage,
    StageRecord,
    Stakeholder,
)
from tracker.stages import STAGES

__all__ = [
    "ProgrammeFigures",
    "change_load",
    "hotspots",
    "is_current_stage",
    "metric_status",
    "overdue_milestones",
    "portfolio",
    "programme_figures",
    "stage_summary",
    "stance_trend",
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


def _ratio(numerator: int | None, denominator: int | None) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return (numerator or 0) / denominator


def _add_months(first: dt.date, months: int) -> dt.date:
    """The first of the month `months` after (or before, if negative) the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _frame(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], optional: Iterable[str] = ()
) -> pd.DataFrame:
    """A DataFrame with exactly `columns` (even when empty); `optional` columns keep None."""
    keep_none = set(optional)
    return pd.DataFrame(
        {
            name: pd.Series(
                [row[name] for row in rows], dtype=object if name in keep_none else None
            )
            for name in columns
        },
        columns=list(columns),
    )


# --- SQL building blocks --------------------------------------------------------------------


def _rows(session: Session, statement: Executable) -> list[dict[str, Any]]:
    """Run a Core SELECT in the session's transaction; rows as dicts by column label."""
    result = session.connection().execute(statement)
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """How many rows meet `condition` (0, never NULL, when there are none)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _sum_where(condition: sa.ColumnElement[bool], value: Any) -> sa.ColumnElement[int]:
    """The sum of `value` over the rows meeting `condition` (0 when there are none)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


# The columns _milestone_sums produces, in order.
_SUM_NAMES = ("milestones", "done", "overdue", "blocked", "weight_done", "weight_planned", "active")


def _milestone_sums(today: dt.date) -> list[sa.Label[int]]:
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


def _is_hotspot() -> sa.ColumnElement[bool]:
    """figures.is_hotspot as SQL: influence >= 4 and stance <= -1."""
    return sa.and_(col(Stakeholder.influence) >= 4, col(Stakeholder.stance) <= -1)


def _stakeholder_sums() -> list[sa.Label[int]]:
    """Per-group stakeholder figures: count, the two sums of the stance index, hotspots."""
    influence = col(Stakeholder.influence)
    return [
        sa.func.count(col(Stakeholder.id)).label("stakeholders"),
        sa.func.coalesce(sa.func.sum(influence * col(Stakeholder.stance)), 0).label("weighted"),
        sa.func.coalesce(sa.func.sum(influence), 0).label("influence"),
        _count_where(_is_hotspot()).label("hotspots"),
    ]


def _month_start(session: Session, day: Any) -> sa.ColumnElement[dt.date]:
    """SQL for the first day of `day`'s month, as a date on both databases."""
    if _dialect(session) == "postgresql":
        truncated = sa.func.date_trunc("month", sa.cast(day, sa.DateTime))
        return sa.cast(truncated, sa.Date)
    # SQLite keeps dates as ISO text; the Date type parses the result back into a date.
    return sa.type_coerce(sa.func.date(day, "start of month"), sa.Date)


def _joined_names(session: Session, programme_ids: sa.Select[Any]) -> sa.Subquery:
    """(programme_id, partners) for these programmes: partner short names, sorted, joined by
    ", "."""
    programme_id = col(ProgrammePartner.programme_id)
    name = col(Organisation.short_name)
    on_organisation = col(Organisation.id) == col(ProgrammePartner.organisation_id)
    if _dialect(session) == "postgresql" or sqlite3.sqlite_version_info >= (3, 44):
        joined = sa.func.aggregate_strings(name, ", ").aggregate_order_by(name)
        return (
            sa.select(programme_id, joined.label("partners"))
            .join(Organisation, on_organisation)
            .where(programme_id.in_(programme_ids))
            .group_by(programme_id)
            .subquery("partner_names")
        )
    # SQLite before 3.44 has no ORDER BY inside group_concat; it concatenates in the order an
    # ordered derived table delivers its rows.
    ordered = (
        sa.select(programme_id, name)
        .join(Organisation, on_organisation)
        .where(programme_id.in_(programme_ids))
        .order_by(programme_id, name)
        .subquery("ordered")
    )
    return (
        sa.select(
            ordered.c.programme_id,
            sa.func.group_concat(ordered.c.short_name, ", ").label("partners"),
        )
        .group_by(ordered.c.programme_id)
        .subquery("partner_names")
    )


def _stage_rows(
    session: Session, programme_ids: sa.Select[Any] | Sequence[int], today: dt.date
) -> list[dict[str, Any]]:
    """Each stage record of these programmes with its milestone figures and exit criteria."""
    stage_sums = (
        sa.select(col(Milestone.programme_id), col(Milestone.stage), *_milestone_sums(today))
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
            *(stage_sums.c[name] for name in _SUM_NAMES),
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


def _milestone_figures(row: Mapping[str, Any]) -> dict[str, Any]:
    """progress, milestones, done, overdue, blocked from a row of _milestone_sums (possibly
    outer-joined, so NULL when there are no milestones)."""
    return {
        "progress": _ratio(row["weight_done"], row["weight_planned"]),
        "milestones": int(row["milestones"] or 0),
        "done": int(row["done"] or 0),
        "overdue": int(row["overdue"] or 0),
        "blocked": int(row["blocked"] or 0),
    }


def _current(row: Mapping[str, Any]) -> bool:
    return is_current_stage(
        actual_start=row["actual_start"],
        actual_end=row["actual_end"],
        progress=_ratio(row["weight_done"], row["weight_planned"]),
        active=int(row["active"] or 0),
    )


# --- Portfolio ------------------------------------------------------------------------------

PORTFOLIO_COLUMNS = (
    "programme_id",
    "code",
    "title",
    "organisation",
    "partners",
    "status",
    "sponsor",
    "start_date",
    "target_end_date",
    "progress",
    "milestones",
    "done",
    "overdue",
    "blocked",
    "current_stages",
    "stakeholders",
    "stance_index",
    "hotspots",
)


def portfolio(*, session: Session, viewer: Viewer, today: dt.date) -> pd.DataFrame:
    """One row per programme the viewer may see (owned by or pooled with one of their
    organisations), ordered by title. A fixed number of statements, however many programmes.

    Columns: programme_id, code, title, organisation (the owner's name), partners (partner short
    names, sorted, joined by ", "; "" when none), status (programme status value), sponsor,
    start_date, target_end_date (dates), progress (weighted share done, float in [0, 1], None
    when nothing is planned), milestones (not cancelled), done, overdue (due before `today`, not
    done or cancelled), blocked, current_stages (keys of the current stages in stage order, joined
    by ",", e.g. "influencers,test"; "" when none; see is_current_stage), stakeholders,
    stance_index (influence-weighted mean stance in [-2, 2], None with no stakeholders), hotspots
    (influence >= 4 and stance <= -1).
    """
    visible = visible_programme_ids(viewer)
    milestone_sums = (
        sa.select(col(Milestone.programme_id), *_milestone_sums(today))
        .where(col(Milestone.programme_id).in_(visible))
        .group_by(col(Milestone.programme_id))
        .subquery("milestone_sums")
    )
    stakeholder_sums = (
        sa.select(col(Stakeholder.programme_id), *_stakeholder_sums())
        .where(col(Stakeholder.programme_id).in_(visible))
        .group_by(col(Stakeholder.programme_id))
        .subquery("stakeholder_sums")
    )
    partners = _joined_names(session, visible)
    statement = (
        sa.select(
            col(Programme.id).label("programme_id"),
            col(Programme.code),
            col(Programme.title),
            col(Organisation.name).label("organisation"),
            partners.c.partners,
            col(Programme.status),
            col(Programme.sponsor),
            col(Programme.start_date),
            col(Programme.target_end_date),
            *(milestone_sums.c[name] for name in _SUM_NAMES),
            *(
                stakeholder_sums.c[name]
                for name in ("stakeholders", "weighted", "influence", "hotspots")
            ),
        )
        .join(Organisation, col(Organisation.id) == col(Programme.organisation_id))
        .outerjoin(milestone_sums, milestone_sums.c.programme_id == col(Programme.id))
        .outerjoin(stakeholder_sums, stakeholder_sums.c.programme_id == col(Programme.id))
        .outerjoin(partners, partners.c.programme_id == col(Programme.id))
        .where(col(Programme.id).in_(visible))
        .order_by(col(Programme.title), col(Programme.id))
    )
    programmes = _rows(session, statement)

    current: dict[int, set[Stage]] = {}
    for stage_row in _stage_rows(session, visible, today):
        if _current(stage_row):
            current.setdefault(stage_row["programme_id"], set()).add(Stage(stage_row["stage"]))

    rows = [
        {
            "programme_id": row["programme_id"],
            "code": row["code"],
            "title": row["title"],
            "organisation": row["organisation"],
            "partners": row["partners"] or "",
            "status": str(row["status"]),
            "sponsor": row["sponsor"],
            "start_date": row["start_date"],
            "target_end_date": row["target_end_date"],
            **_milestone_figures(row),
            "current_stages": ",".join(
                info.stage.value
                for info in STAGES
                if info.stage in current.get(row["programme_id"], set())
            ),
            "stakeholders": int(row["stakeholders"] or 0),
            "stance_index": _ratio(row["weighted"], row["influence"]),
            "hotspots": int(row["hotspots"] or 0),
        }
        for row in programmes
    ]
    return _frame(rows, PORTFOLIO_COLUMNS, optional=("progress", "stance_index"))


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
    by_stage = {Stage(row["stage"]): row for row in _stage_rows(session, [programme_id], today)}
    empty: dict[str, Any] = dict.fromkeys(
        (
            *_SUM_NAMES,
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
                **_milestone_figures(row),
                "planned_start": row["planned_start"],
                "planned_end": row["planned_end"],
                "actual_start": row["actual_start"],
                "actual_end": row["actual_end"],
                "narrative": row["narrative"] or "",
                "criteria": int(row["criteria"] or 0),
                "criteria_met": int(row["criteria_met"] or 0),
                "current": _current(row),
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


def programme_figures(*, session: Session, programme_id: int, today: dt.date) -> ProgrammeFigures:
    """The headline figures of one programme as of `today` (see ProgrammeFigures)."""
    completed = col(Milestone.completed_date)
    weeks = [
        _count_where(sa.and_(completed > after, completed <= until)).label(f"week_{i}")
        for i, (after, until) in enumerate(_throughput_windows(today, THROUGHPUT_WEEKS))
    ]
    milestone_row = _rows(
        session,
        sa.select(*_milestone_sums(today), *weeks).where(
            col(Milestone.programme_id) == programme_id
        ),
    )[0]
    stakeholder_row = _rows(
        session,
        sa.select(*_stakeholder_sums()).where(col(Stakeholder.programme_id) == programme_id),
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

    milestone = _milestone_figures(milestone_row)
    remaining = milestone["milestones"] - milestone["done"]
    throughput = tuple(int(milestone_row[f"week_{i}"] or 0) for i in range(THROUGHPUT_WEEKS))
    forecast = (
        figures.forecast_finish(
            remaining=remaining, throughput=throughput, today=today, seed=programme_id
        )
        if milestone["milestones"]
        else None
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


def hotspots(*, session: Session, programme_id: int) -> pd.DataFrame:
    """The programme's resistance hotspots (influence >= 4 and stance <= -1), most influential and
    most resistant first. Never includes notes.

    Columns: stakeholder_id, name, role, influence, stance, desired_stance, blocks (how many of
    the programme's open milestones, neither done nor cancelled, need this stakeholder's support).
    """
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
        .where(col(Stakeholder.programme_id) == programme_id, _is_hotspot())
        .order_by(col(Stakeholder.influence).desc(), col(Stakeholder.stance), col(Stakeholder.name))
    )
    return _frame(_rows(session, statement), HOTSPOT_COLUMNS)


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


def _metric_rows(session: Session, programme_id: int) -> list[dict[str, Any]]:
    """Each metric of the programme with its latest reading (a window function picks it) and
    attainment (figures.metric_attainment), ordered by name."""
    reading_on = col(MetricReading.reading_on)
    ranked = (
        sa.select(
            col(MetricReading.metric_id),
            col(MetricReading.value),
            reading_on,
            sa.func.row_number()
            .over(partition_by=col(MetricReading.metric_id), order_by=reading_on.desc())
            .label("position"),
        )
        .join(Metric, col(Metric.id) == col(MetricReading.metric_id))
        .where(col(Metric.programme_id) == programme_id)
        .subquery("ranked")
    )
    statement = (
        sa.select(
            col(Metric.id).label("metric_id"),
            col(Metric.name),
            col(Metric.unit),
            col(Metric.baseline),
            col(Metric.target),
            col(Metric.target_date),
            col(Metric.direction),
            ranked.c.value.label("latest"),
            ranked.c.reading_on.label("latest_on"),
        )
        .outerjoin(ranked, sa.and_(ranked.c.metric_id == col(Metric.id), ranked.c.position == 1))
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

CHANGE_LOAD_COLUMNS = ("staff_group_id", "staff_group", "organisation", "month", "load")


def change_load(
    *,
    session: Session,
    viewer: Viewer,
    start: dt.date,
    months: int,
    weights: Mapping[Impact, int] = figures.DEFAULT_IMPACT_WEIGHTS,
) -> pd.DataFrame:
    """Weighted change landing on each staff group per month, across every programme the viewer
    may see (figures.change_load, summed in SQL).

    Counts milestones that are not cancelled and are due from the first of `start`'s month for
    `months` calendar months. Each impact adds its level's weight (default low 1, medium 5,
    high 10). Only (group, month) pairs with at least one impact appear, ordered by organisation,
    staff group and month.

    Columns: staff_group_id, staff_group (name), organisation (the group's organisation's name),
    month (date, first of the month), load (int). Raises ValueError when `months` < 1 and
    KeyError when `weights` lacks an impact level.
    """
    if months < 1:
        raise ValueError("months: need at least one month of change load")
    first = figures.month_start(start)
    impact_weight = sa.case(
        *((col(MilestoneImpact.impact) == level, weights[level]) for level in Impact),
        else_=0,
    )
    impacts = (
        sa.select(
            col(MilestoneImpact.staff_group_id),
            impact_weight.label("weight"),
            _month_start(session, col(Milestone.due_date)).label("month"),
        )
        .join(Milestone, col(Milestone.id) == col(MilestoneImpact.milestone_id))
        .where(
            col(Milestone.programme_id).in_(visible_programme_ids(viewer)),
            col(Milestone.status) != _CANCELLED,
            col(Milestone.due_date) >= first,
            col(Milestone.due_date) < _add_months(first, months),
        )
        .subquery("impacts")
    )
    statement = (
        sa.select(
            impacts.c.staff_group_id,
            col(StaffGroup.name).label("staff_group"),
            col(Organisation.name).label("organisation"),
            impacts.c.month,
            sa.func.sum(impacts.c.weight).label("load"),
        )
        .join(StaffGroup, col(StaffGroup.id) == impacts.c.staff_group_id)
        .join(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .group_by(
            impacts.c.staff_group_id,
            col(StaffGroup.name),
            col(Organisation.name),
            impacts.c.month,
        )
        .order_by(col(Organisation.name), col(StaffGroup.name), impacts.c.month)
    )
    rows = [{**row, "load": int(row["load"])} for row in _rows(session, statement)]
    return _frame(rows, CHANGE_LOAD_COLUMNS)


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
    influence; stakeholders not yet assessed by then are left out. Picked by ROW_NUMBER() in SQL.

    Columns: month (date, first of the month), as_of (the day the index is taken), stakeholders
    (how many counted), stance_index (float in [-2, 2], None when nobody was assessed yet).
    Oldest month first. Raises ValueError when `months` < 1.
    """
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
    ranked = (
        sa.select(
            ends.c.month,
            col(Assessment.stakeholder_id),
            col(Assessment.stance),
            sa.func.row_number()
            .over(
                partition_by=(ends.c.month, col(Assessment.stakeholder_id)),
                order_by=(col(Assessment.assessed_on).desc(), col(Assessment.id).desc()),
            )
            .label("position"),
        )
        .select_from(ends)
        .join(Assessment, col(Assessment.assessed_on) <= ends.c.as_of)
        .join(Stakeholder, col(Stakeholder.id) == col(Assessment.stakeholder_id))
        .where(col(Stakeholder.programme_id) == programme_id)
        .subquery("ranked")
    )
    influence = col(Stakeholder.influence)
    statement = (
        sa.select(
            ranked.c.month,
            sa.func.count().label("stakeholders"),
            sa.func.sum(influence * ranked.c.stance).label("weighted"),
            sa.func.sum(influence).label("influence"),
        )
        .join(Stakeholder, col(Stakeholder.id) == ranked.c.stakeholder_id)
        .where(ranked.c.position == 1)
        .group_by(ranked.c.month)
    )
    by_month = {row["month"]: row for row in _rows(session, statement)}
    rows = []
    for first, as_of in ends_list:
        row = by_month.get(first)
        rows.append(
            {
                "month": first,
                "as_of": as_of,
                "stakeholders": int(row["stakeholders"]) if row else 0,
                "stance_index": _ratio(row["weighted"], row["influence"]) if row else None,
            }
        )
    return _frame(rows, STANCE_TREND_COLUMNS, optional=("stance_index",))
