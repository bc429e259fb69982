"""Portfolio-wide reads: every programme a viewer may see (`portfolio`, `portfolio_dashboard`,
each row carrying its read.programme.Verdicts), what needs a decision, the change load on staff
groups with their stance, and the viewer's organisations; and filtering and sorting the
dashboard's rows (already aggregated in SQL), checking the values a shared link asks for.

One programme's reads are in tracker.read.programme, the SQL building blocks in tracker.read.sql.
Viewer-scoped: each sees only tracker.access.visible_programme_ids(viewer)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import Executable
from sqlmodel import Session, col

from tracker import clock, confidence, figures
from tracker.access import Viewer, people_programme_ids, visible_programme_ids
from tracker.models import (
    DeliveryConfidence,
    Impact,
    Milestone,
    MilestoneDependency,
    MilestoneImpact,
    MilestoneStatus,
    Organisation,
    Programme,
    ProgrammePartner,
    StaffGroup,
    Stage,
    Stakeholder,
)
from tracker.read.programme import SUM_NAMES as _SUM_NAMES
from tracker.read.programme import confidence_rows as _confidence_rows
from tracker.read.programme import hotspot_condition as _is_hotspot
from tracker.read.programme import milestone_figures as _milestone_figures
from tracker.read.programme import milestone_sums as _milestone_sums
from tracker.read.programme import open_milestone as _open_milestone
from tracker.read.programme import stage_is_current as _current
from tracker.read.programme import stage_rows, stance_as_of
from tracker.read.programme import stakeholder_sums as _stakeholder_sums
from tracker.read.programme import stance_90_days_ago as _stance_90_days_ago
from tracker.read.programme import verdicts_of as _verdicts
from tracker.read.sql import add_months as _add_months
from tracker.read.sql import aggregate_strings as _aggregate_strings
from tracker.read.sql import dialect as _dialect
from tracker.read.sql import difference as _difference
from tracker.read.sql import frame as _frame
from tracker.read.sql import grouped
from tracker.read.sql import month_start as _month_start
from tracker.read.sql import ratio as _ratio
from tracker.read.sql import rows as _rows
from tracker.stages import STAGES
from tracker.words import date_words

_CANCELLED = MilestoneStatus.cancelled
_DONE = MilestoneStatus.done
_BLOCKED = MilestoneStatus.blocked

# Sort keys a link may name, with their labels, best first for a board's eye.
SORTS: dict[str, str] = {
    "confidence": "Delivery confidence, worst first",
    "title": "Programme name, A to Z",
    "progress": "Progress, least first",
    "overdue": "Overdue milestones, most first",
    "stance": "Stance index, lowest first",
    "forecast": "Forecast finish, latest first",
}
DEFAULT_SORT = "confidence"
_WORST_FIRST = {rating.value: rank for rank, rating in enumerate(reversed(DeliveryConfidence))}


@dataclass(frozen=True)
class Totals:
    """The headline counts over some of the portfolio's rows, as the page and the pack show
    them: programmes, those rated Red or Amber/Red (confidence.needs_decision, on the rating
    shown), overdue milestones and resistance hotspots."""

    programmes: int
    needs_decision: int
    overdue: int
    hotspots: int


def totals(rows: pd.DataFrame) -> Totals:
    """Totals over rows of portfolio_dashboard (filtered or not)."""
    return Totals(
        programmes=len(rows),
        needs_decision=sum(confidence.needs_decision(rating) for rating in rows["confidence"]),
        overdue=int(rows["overdue"].sum()),
        hotspots=int(rows["hotspots"].sum()),
    )


def unknown_values(asked: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The values in a link that are not among the allowed ones, in the order asked."""
    known = set(allowed)
    return [value for value in asked if value not in known]


def filter_portfolio(
    rows: pd.DataFrame,
    *,
    organisations: Mapping[str, str] | None = None,
    stages: Sequence[str] = (),
    ratings: Sequence[str] = (),
    sponsors: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows matching every filter given; an empty filter keeps everything. `organisations` maps
    the chosen organisations' names to their short names: a programme matches when one of them
    owns it (by name) or partners in it (by short name, as the partners column shows them). A
    stage matches when it is one of the programme's current stages; ratings compare with the
    delivery confidence shown."""
    keep = pd.Series(True, index=rows.index)
    if organisations:
        names, shorts = set(organisations), set(organisations.values())
        keep &= pd.Series(
            [
                owner in names or bool(shorts & set(_split(partners, ", ")))
                for owner, partners in zip(rows["organisation"], rows["partners"], strict=True)
            ],
            index=rows.index,
        )
    if stages:
        keep &= pd.Series(
            [bool(set(stages) & set(_split(current, ","))) for current in rows["current_stages"]],
            index=rows.index,
        )
    if ratings:
        keep &= rows["confidence"].isin(list(ratings))
    if sponsors:
        keep &= rows["sponsor"].isin(list(sponsors))
    return rows[keep]


def sort_portfolio(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows in the order named by `key` (one of SORTS), ties by programme name."""
    if key not in SORTS:
        raise ValueError(f"sort: '{key}' is not one of {', '.join(SORTS)}")
    order = rows.assign(_title=rows["title"].str.lower())
    if key == "confidence":
        order = order.assign(_key=order["confidence"].map(_WORST_FIRST))
        ascending = True
    elif key == "title":
        return order.sort_values("_title").drop(columns="_title")
    elif key == "progress":
        order = order.assign(_key=order["progress"].astype(float))
        ascending = True
    elif key == "overdue":
        order = order.assign(_key=order["overdue"])
        ascending = False
    elif key == "stance":
        order = order.assign(_key=order["stance_index"].astype(float))
        ascending = True
    else:
        order = order.assign(_key=pd.to_datetime(order["forecast_p50"]))
        ascending = False
    order = order.sort_values(["_key", "_title"], ascending=[ascending, True], na_position="last")
    return order.drop(columns=["_key", "_title"])


def stage_keys() -> list[str]:
    return [stage.value for stage in Stage]


def _split(text: object, separator: str) -> list[str]:
    if not isinstance(text, str) or not text:
        return []
    return [part.strip() for part in text.split(separator) if part.strip()]


# --- Portfolio-wide reads ---------------------------------------------------------------------


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
    return _frame(
        _portfolio_rows(session, viewer, today),
        PORTFOLIO_COLUMNS,
        optional=("progress", "stance_index"),
    )


def _portfolio_rows(session: Session, viewer: Viewer, today: dt.date) -> list[dict[str, Any]]:
    """The rows of `portfolio`, as dicts of plain values (two statements)."""
    visible = visible_programme_ids(viewer)
    milestone_sums = grouped(
        col(Milestone.programme_id), _milestone_sums(today), among=visible, name="milestone_sums"
    )
    stakeholder_sums = grouped(
        col(Stakeholder.programme_id), _stakeholder_sums(), among=visible, name="stakeholder_sums"
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
    for stage_row in stage_rows(session, visible, today):
        if _current(stage_row):
            current.setdefault(stage_row["programme_id"], set()).add(Stage(stage_row["stage"]))

    return [
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


# Overdue milestones of at least this weight need a decision.
HIGH_WEIGHT = 4


PORTFOLIO_DASHBOARD_COLUMNS = (
    *PORTFOLIO_COLUMNS,
    "forecast_p50",
    "forecast_p85",
    "forecast_late",
    "stance_index_90d",
    "stance_change",
    "stance_direction",
    "mean_attainment",
    "hotspots_blocking",
    "suggested",
    "suggested_label",
    "deciding_rule",
    "override",
    "override_reason",
    "override_by",
    "override_at",
    "confidence",
    "confidence_label",
    "verdicts",
)


def portfolio_dashboard(*, session: Session, viewer: Viewer, today: dt.date) -> pd.DataFrame:
    """The portfolio (every column of `portfolio`, same rows and order) with forecast, stance
    movement and delivery confidence. A fixed number of statements, however many programmes.

    Extra columns: forecast_p50, forecast_p85 (dates, None when there is no forecast: nothing
    planned or no throughput in the last 12 weeks); forecast_late (True when P85 is after the
    target end date; False without a forecast); stance_index_90d (the stance index 90 days ago:
    each stakeholder's latest assessment on or before then, weighted by current influence; None
    when nobody had been assessed); stance_change (stance_index - stance_index_90d, or None);
    stance_direction (figures.stance_direction: a StanceDirection, or None);
    mean_attainment (as programme_figures; None without readings); hotspots_blocking (hotspots
    on whom open work depends); suggested, suggested_label (the suggested rating's value, e.g.
    "amber_red", and label, "Amber/Red"); deciding_rule (the evidence text of the rule that set
    the suggestion, None when Green); override, override_reason, override_by, override_at (the
    latest override's value, reason, who, when (aware datetime); None without one); confidence,
    confidence_label (the rating shown: the override when there is one, else the suggestion);
    verdicts (the row's Verdicts, which the portfolio table and the packs render).
    """
    visible = visible_programme_ids(viewer)
    base = _portfolio_rows(session, viewer, today)
    ratings = _confidence_rows(session, visible, today)
    then = _stance_90_days_ago(session, visible, today)
    rows = []
    for row in base:
        found = ratings[row["programme_id"]]
        evidence, suggestion, override = found.evidence, found.suggestion, found.override
        verdict = _verdicts(found, row["stance_index"], then.get(row["programme_id"]))
        shown = verdict.confidence.rating
        rows.append(
            {
                **row,
                "forecast_p50": evidence.forecast_p50,
                "forecast_p85": evidence.forecast_p85,
                "forecast_late": verdict.late,
                "stance_index_90d": verdict.stance_index_90d,
                "stance_change": verdict.stance_change,
                "stance_direction": verdict.direction,
                "mean_attainment": evidence.mean_attainment,
                "hotspots_blocking": evidence.hotspots_blocking,
                "suggested": suggestion.rating.value,
                "suggested_label": suggestion.rating.label,
                "deciding_rule": suggestion.deciding.evidence_text if suggestion.deciding else None,
                "override": override.rating.value if override else None,
                "override_reason": override.reason if override else None,
                "override_by": override.set_by if override else None,
                "override_at": override.set_at if override else None,
                "confidence": shown.value,
                "confidence_label": shown.label,
                "verdicts": verdict,
            }
        )
    return _frame(
        rows,
        PORTFOLIO_DASHBOARD_COLUMNS,
        optional=(
            "progress",
            "stance_index",
            "forecast_p50",
            "forecast_p85",
            "stance_index_90d",
            "stance_change",
            "stance_direction",
            "mean_attainment",
            "deciding_rule",
            "override",
            "override_reason",
            "override_by",
            "override_at",
            "verdicts",
        ),
    )


NEEDS_DECISION_COLUMNS = ("kind", "programme_code", "programme", "item", "detail")


DECISION_CONFIDENCE = "Delivery confidence"


DECISION_HOTSPOT = "Hotspot blocking work"


DECISION_OVERDUE = "Overdue high-weight milestone"


# A hotspot in a programme whose people the viewer's organisation does not hold.
UNNAMED_HOTSPOT = "A resistance hotspot (named only to the owning organisation)"


def needs_decision(*, session: Session, viewer: Viewer, today: dt.date) -> pd.DataFrame:
    """What needs a leadership decision across the programmes the viewer may see. Three
    statements, however many programmes.

    Rows, in this order of kind:
    - "Delivery confidence": programmes rated Red or Amber/Red (the rating shown, so an override
      counts), Red first; item is the rating's label, detail the deciding rule's evidence and
      band, or for an override who set it, when, their reason and the suggestion.
    - "Hotspot blocking work": resistance hotspots on whom open milestones depend; item is the
      name and role, detail the titles of the milestones they block. Never notes.
    - "Overdue high-weight milestone": overdue milestones of weight HIGH_WEIGHT (4) or more, most
      late first; item is the title, detail the due date, days late, weight and owner.
    Within a kind (after the order above), by programme title.
    Columns: kind, programme_code, programme (title), item, detail.
    """
    visible = visible_programme_ids(viewer)
    rows: list[dict[str, Any]] = []

    flagged = [
        found
        for found in _confidence_rows(session, visible, today).values()
        if confidence.needs_decision(found.rating)
    ]
    flagged.sort(key=lambda found: (-confidence.severity(found.rating), found.title, found.code))
    for found in flagged:
        override, suggestion = found.override, found.suggestion
        if override is not None:
            detail = (
                f"Override by {override.set_by} on {date_words(override.set_at.date())}: "
                f"{override.reason} (suggested {suggestion.rating.label})"
            )
        else:
            deciding = suggestion.deciding
            assert deciding is not None  # Red and Amber/Red are always set by a rule
            detail = f"Suggested: {deciding.evidence_text} ({deciding.threshold_text})"
        rows.append(
            {
                "kind": DECISION_CONFIDENCE,
                "programme_code": found.code,
                "programme": found.title,
                "item": found.rating.label,
                "detail": detail,
            }
        )

    blocked_titles = _aggregate_strings(
        session,
        sa.select(col(MilestoneDependency.stakeholder_id), col(Milestone.title))
        .join(Milestone, col(Milestone.id) == col(MilestoneDependency.milestone_id))
        .where(col(Milestone.programme_id).in_(visible), _open_milestone())
        .subquery("dependencies"),
        keys=("stakeholder_id",),
        value="title",
        separator="; ",
    )
    hotspot_statement = (
        sa.select(
            col(Programme.code),
            col(Programme.title).label("programme"),
            col(Stakeholder.name),
            col(Stakeholder.role),
            blocked_titles.c.joined,
            # Named only where the viewer's organisation holds the programme's people (the
            # owner, or a partner under a data-sharing agreement).
            col(Programme.id).in_(people_programme_ids(viewer)).label("named"),
        )
        .join(blocked_titles, blocked_titles.c.stakeholder_id == col(Stakeholder.id))
        .join(Programme, col(Programme.id) == col(Stakeholder.programme_id))
        .where(col(Stakeholder.programme_id).in_(visible), _is_hotspot())
        .order_by(col(Programme.title), col(Programme.code), col(Stakeholder.name))
    )
    for row in _rows(session, hotspot_statement):
        rows.append(
            {
                "kind": DECISION_HOTSPOT,
                "programme_code": row["code"],
                "programme": row["programme"],
                "item": (
                    (f"{row['name']}, {row['role']}" if row["role"] else row["name"])
                    if row["named"]
                    else UNNAMED_HOTSPOT
                ),
                "detail": f"Blocks: {row['joined']}",
            }
        )

    overdue_statement: Executable = (
        sa.select(
            col(Programme.code),
            col(Programme.title).label("programme"),
            col(Milestone.title),
            col(Milestone.due_date),
            col(Milestone.weight),
            col(Milestone.owner),
        )
        .join(Programme, col(Programme.id) == col(Milestone.programme_id))
        .where(
            col(Milestone.programme_id).in_(visible),
            _open_milestone(),
            col(Milestone.due_date) < today,
            col(Milestone.weight) >= HIGH_WEIGHT,
        )
        .order_by(col(Milestone.due_date), col(Programme.title), col(Milestone.title))
    )
    for row in _rows(session, overdue_statement):
        late = (today - row["due_date"]).days
        owner = f"; owner {row['owner']}" if row["owner"] else ""
        rows.append(
            {
                "kind": DECISION_OVERDUE,
                "programme_code": row["code"],
                "programme": row["programme"],
                "item": row["title"],
                "detail": (
                    f"Due {date_words(row['due_date'])}, {late} "
                    f"{'day' if late == 1 else 'days'} late; weight {row['weight']}{owner}"
                ),
            }
        )
    return _frame(rows, NEEDS_DECISION_COLUMNS)


GROUP_STANCE_COLUMNS = (
    "staff_group_id",
    "staff_group",
    "organisation",
    "stakeholders",
    "stance_index",
    "stance_index_90d",
    "stance_change",
    "falling",
)


def change_load_with_stance(
    *,
    session: Session,
    viewer: Viewer,
    start: dt.date,
    months: int,
    today: dt.date | None = None,
    weights: Mapping[Impact, int] = figures.DEFAULT_IMPACT_WEIGHTS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The change-load heatmap (exactly `change_load`) and, beside it, each staff group's stance.

    Stakeholders count towards the staff group they belong to (stakeholder.staff_group_id),
    across every programme the viewer may see. The second frame has one row per staff group
    that appears in the load or has such stakeholders, ordered by organisation and group name:
    staff_group_id, staff_group, organisation, stakeholders (count), stance_index (now),
    stance_index_90d (as of `today` - 90 days, as portfolio_dashboard), stance_change (now - 90
    days ago), falling (figures.stance_falling: the change is -0.25 or lower). A group
    with no stakeholders has 0, None, None, None, False. `today` defaults to
    tracker.clock.today(). Raises as change_load does.
    """
    today = today or clock.today()
    load = change_load(session=session, viewer=viewer, start=start, months=months, weights=weights)
    visible = visible_programme_ids(viewer)
    in_scope = [
        col(Stakeholder.programme_id).in_(visible),
        col(Stakeholder.staff_group_id).is_not(None),
    ]
    influence = col(Stakeholder.influence)
    now_statement: Executable = (
        sa.select(
            col(Stakeholder.staff_group_id),
            col(StaffGroup.name).label("staff_group"),
            col(Organisation.name).label("organisation"),
            sa.func.count(col(Stakeholder.id)).label("stakeholders"),
            sa.func.sum(influence * col(Stakeholder.stance)).label("weighted"),
            sa.func.sum(influence).label("influence"),
        )
        .join(StaffGroup, col(StaffGroup.id) == col(Stakeholder.staff_group_id))
        .join(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .where(*in_scope)
        .group_by(col(Stakeholder.staff_group_id), col(StaffGroup.name), col(Organisation.name))
    )
    then = stance_as_of(
        session,
        key=col(Stakeholder.staff_group_id),
        where=in_scope,
        as_of=today - dt.timedelta(days=figures.STANCE_WINDOW_DAYS),
    )
    groups: dict[int, dict[str, Any]] = {
        row["staff_group_id"]: {
            "staff_group_id": row["staff_group_id"],
            "staff_group": row["staff_group"],
            "organisation": row["organisation"],
            "stakeholders": 0,
            "stance_index": None,
        }
        for row in load[["staff_group_id", "staff_group", "organisation"]].to_dict("records")
    }
    for row in _rows(session, now_statement):
        groups[row["staff_group_id"]] = {
            "staff_group_id": row["staff_group_id"],
            "staff_group": row["staff_group"],
            "organisation": row["organisation"],
            "stakeholders": int(row["stakeholders"]),
            "stance_index": _ratio(row["weighted"], row["influence"]),
        }
    rows = []
    for group in sorted(
        groups.values(),
        key=lambda g: (g["organisation"], g["staff_group"], g["staff_group_id"]),
    ):
        stance_then = then.get(group["staff_group_id"])
        change = _difference(group["stance_index"], stance_then)
        rows.append(
            {
                **group,
                "staff_group_id": int(group["staff_group_id"]),
                "stance_index_90d": stance_then,
                "stance_change": change,
                "falling": figures.stance_falling(change),
            }
        )
    stance = _frame(
        rows,
        GROUP_STANCE_COLUMNS,
        optional=("stance_index", "stance_index_90d", "stance_change"),
    )
    return load, stance


def organisations_in_view(*, session: Session, viewer: Viewer) -> dict[str, str]:
    """Name -> short name of every organisation that owns or partners in a programme the viewer
    may see, by name (for the portfolio's organisation filter)."""
    visible = visible_programme_ids(viewer)
    owners = sa.select(col(Programme.organisation_id)).where(col(Programme.id).in_(visible))
    partners = sa.select(col(ProgrammePartner.organisation_id)).where(
        col(ProgrammePartner.programme_id).in_(visible)
    )
    rows = _rows(
        session,
        sa.select(col(Organisation.name), col(Organisation.short_name))
        .where(col(Organisation.id).in_(owners.union(partners)))
        .order_by(col(Organisation.name)),
    )
    return {str(row["name"]): str(row["short_name"]) for row in rows}


def organisation_names(*, session: Session, viewer: Viewer) -> list[str]:
    """The names of the viewer's organisations, A to Z."""
    statement = sa.select(col(Organisation.name)).where(
        col(Organisation.id).in_(viewer.organisation_ids)
    )
    return sorted(row["name"] for row in _rows(session, statement))
