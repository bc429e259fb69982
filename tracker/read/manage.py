"""Reads for the Manage pages' work records: milestones and who they land on, barriers,
metrics and their readings, narratives, a programme's partners, stage records and exit
criteria. Each returns plain values (a DataFrame for a bulk editor, ids and names for a
selector); nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from tracker import figures
from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import (
    Barrier,
    Direction,
    ExitCriterion,
    Impact,
    Metric,
    MetricReading,
    Milestone,
    MilestoneDependency,
    MilestoneImpact,
    MilestoneStatus,
    Narrative,
    Organisation,
    Programme,
    ProgrammePartner,
    StaffGroup,
    Stage,
    StageRecord,
    Stakeholder,
)
from tracker.permissions import (
    Action,
    allowed,
    organisations,
    programme_scope,
    require_programme,
)
from tracker.read import programme as programme_read
from tracker.read.sql import frame, rows
from tracker.words import amount_text, date_text, stage_heading

# --- Milestones -------------------------------------------------------------------------------

# The columns of milestone_table, in the order the bulk editor shows them after id and version.
MILESTONE_COLUMNS = (
    "id",
    "version",
    "title",
    "stage",
    "owner",
    "due_date",
    "status",
    "weight",
    "completed_date",
)


def programme_organisations(*, session: Session, programme_id: int) -> set[int]:
    """The organisations of the programme: its owner and its partners (empty when the
    programme does not exist)."""
    owner = session.exec(select(Programme.organisation_id).where(Programme.id == programme_id))
    partners = session.exec(
        select(ProgrammePartner.organisation_id).where(
            ProgrammePartner.programme_id == programme_id
        )
    )
    return {*owner.all(), *partners.all()}


def milestone_table(*, session: Session, programme_id: int) -> pd.DataFrame:
    """The programme's milestones as plain values for a bulk editor, in stage order (vision
    first), then by due date and title.

    Columns: id, version (the version each row has now: saves are checked against it), title,
    stage (key), owner, due_date, status (value), weight (1-5), completed_date (date or None).
    """
    stage_order = sa.case(
        {stage.value: number for number, stage in enumerate(Stage)}, value=col(Milestone.stage)
    )
    statement = (
        sa.select(*(getattr(Milestone, name) for name in MILESTONE_COLUMNS))
        .where(col(Milestone.programme_id) == programme_id)
        .order_by(stage_order, col(Milestone.due_date), col(Milestone.title), col(Milestone.id))
    )
    found = [
        {**row, "stage": Stage(row["stage"]).value, "status": MilestoneStatus(row["status"]).value}
        for row in rows(session, statement)
    ]
    return frame(found, MILESTONE_COLUMNS, optional=("completed_date",))


def filter_milestones(
    table: pd.DataFrame,
    *,
    today: dt.date,
    stages: Collection[str] = (),
    statuses: Collection[str] = (),
    owners: Collection[str] = (),
    overdue_only: bool = False,
) -> pd.DataFrame:
    """The rows of a milestone_table that match every filter given; an empty collection does
    not filter. Overdue is figures.is_overdue as of `today` (due before today, not done or
    cancelled). The result is numbered from 0 again, as a data editor counts its rows."""
    keep = pd.Series(True, index=table.index)
    if stages:
        keep &= table["stage"].isin(list(stages))
    if statuses:
        keep &= table["status"].isin(list(statuses))
    if owners:
        keep &= table["owner"].isin(list(owners))
    if overdue_only:
        keep &= pd.Series(
            [
                figures.is_overdue(due_date=due, status=status, today=today)
                for due, status in zip(table["due_date"], table["status"], strict=True)
            ],
            index=table.index,
            dtype=bool,
        )
    return table[keep].reset_index(drop=True)


def staff_group_choices(*, session: Session, programme_id: int) -> dict[int, str]:
    """The staff groups a milestone of this programme can land on (those of its owner and
    partners), id -> "Organisation: group", by organisation then group name."""
    organisations = programme_organisations(session=session, programme_id=programme_id)
    statement = (
        sa.select(col(StaffGroup.id), col(Organisation.short_name), col(StaffGroup.name))
        .join(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .where(col(StaffGroup.organisation_id).in_(organisations))
        .order_by(col(Organisation.name), col(StaffGroup.name))
    )
    return {
        int(row["id"]): f"{row['short_name']}: {row['name']}" for row in rows(session, statement)
    }


def milestone_impacts(*, session: Session, milestone_id: int) -> dict[int, Impact]:
    """The staff groups the milestone lands on: staff group id -> impact level."""
    return {
        row.staff_group_id: Impact(row.impact)
        for row in session.exec(
            select(MilestoneImpact).where(MilestoneImpact.milestone_id == milestone_id)
        )
    }


def stakeholder_choices(*, session: Session, viewer: Viewer, programme_id: int) -> dict[int, str]:
    """The programme's stakeholders a milestone can depend on, id -> name, by name."""
    require_programme(session, viewer, Action.stakeholder_read, programme_id)
    statement = (
        sa.select(col(Stakeholder.id), col(Stakeholder.name))
        .where(col(Stakeholder.programme_id) == programme_id)
        .order_by(col(Stakeholder.name))
    )
    return {int(row["id"]): str(row["name"]) for row in rows(session, statement)}


def milestone_dependencies(*, session: Session, milestone_id: int) -> list[int]:
    """The stakeholders whose support the milestone needs, by id."""
    return sorted(
        session.exec(
            select(MilestoneDependency.stakeholder_id).where(
                MilestoneDependency.milestone_id == milestone_id
            )
        ).all()
    )


# --- Barriers ---------------------------------------------------------------------------------

BARRIER_COLUMNS = (
    "id",
    "version",
    "title",
    "kind",
    "category",
    "likelihood",
    "impact",
    "score",
    "owner",
    "mitigation",
    "status",
)


def barrier_table(*, session: Session, programme_id: int) -> pd.DataFrame:
    """The programme's barriers for a bulk editor, highest score first (then by title).

    Columns: id, version, title, kind, category and status (the stored values, e.g.
    "legal_data_protection"), likelihood and impact (1-5), score (likelihood x impact, 1-25),
    owner, mitigation.
    """
    score = (col(Barrier.likelihood) * col(Barrier.impact)).label("score")
    statement = (
        sa.select(
            col(Barrier.id),
            col(Barrier.version),
            col(Barrier.title),
            col(Barrier.kind),
            col(Barrier.category),
            col(Barrier.likelihood),
            col(Barrier.impact),
            score,
            col(Barrier.owner),
            col(Barrier.mitigation),
            col(Barrier.status),
        )
        .where(col(Barrier.programme_id) == programme_id)
        .order_by(score.desc(), col(Barrier.title), col(Barrier.id))
    )
    found = [
        {**row, **{name: str(row[name]) for name in ("kind", "category", "status")}}
        for row in rows(session, statement)
    ]
    # Typed even when empty, so an editor of no rows still knows its number columns.
    return frame(found, BARRIER_COLUMNS).astype(
        dict.fromkeys(("id", "version", "likelihood", "impact", "score"), "int64")
    )


# --- Metrics ----------------------------------------------------------------------------------

# Which way is better, as the interface writes it.
DIRECTION_WORDS: dict[str, str] = {
    Direction.up.value: "Up: higher is better",
    Direction.down.value: "Down: lower is better",
}

METRIC_COLUMNS = (
    "id",
    "version",
    "name",
    "unit",
    "baseline",
    "target",
    "target_date",
    "direction",
    "stage",
    "latest",
    "latest_on",
    "attainment",
)
READING_COLUMNS = ("id", "version", "reading_on", "value", "note")


def metric_table(*, session: Session, programme_id: int) -> pd.DataFrame:
    """The programme's metrics with their latest reading, by name, for the Manage page.

    Columns: id, version, name, unit, baseline, target, target_date (date or None), direction
    ("up"/"down"), stage (a stage key or None), latest (the latest reading's value, None without
    readings), latest_on (its date), attainment (figures.metric_attainment as computed by
    read.programme.metric_status: 1.0 = target met, direction-aware; None without readings or when
    target equals baseline).
    """
    status = programme_read.metric_status(session=session, programme_id=programme_id)
    kept = {
        int(row["id"]): (int(row["version"]), row["stage"])
        for row in rows(
            session,
            sa.select(col(Metric.id), col(Metric.version), col(Metric.stage)).where(
                col(Metric.programme_id) == programme_id
            ),
        )
    }
    found: list[dict[str, Any]] = []
    for record in status.to_dict("records"):
        values = {str(name): value for name, value in record.items()}
        version, stage = kept[int(values["metric_id"])]
        found.append(
            values
            | {
                "id": int(values["metric_id"]),
                "version": version,
                "stage": None if stage is None else str(stage),
            }
        )
    return frame(
        found,
        METRIC_COLUMNS,
        optional=("target_date", "stage", "latest", "latest_on", "attainment"),
    )


def reading_table(*, session: Session, metric_id: int) -> pd.DataFrame:
    """One metric's readings for a bulk editor, newest first.

    Columns: id, version, reading_on (date), value, note."""
    statement = (
        sa.select(
            col(MetricReading.id),
            col(MetricReading.version),
            col(MetricReading.reading_on),
            col(MetricReading.value),
            col(MetricReading.note),
        )
        .where(col(MetricReading.metric_id) == metric_id)
        .order_by(col(MetricReading.reading_on).desc())
    )
    # Typed even when empty, so an editor of no rows still knows its number columns.
    return frame(rows(session, statement), READING_COLUMNS).astype(
        {"id": "int64", "version": "int64", "value": "float64", "note": "object"}
    )


def stage_words(stage: str | None) -> str:
    """A metric's stage as the interface writes it: "4. Equip people with skills and resources",
    or "Not tied to a stage"."""
    if stage is None:
        return "Not tied to a stage"
    return stage_heading(stage)


def attainment_words(*, latest: float | None, attainment: float | None) -> str:
    """Attainment as shown beside a metric: a whole percentage ("45%"), "No reading yet", or
    "Not defined (target equals baseline)" when there is a reading but no distance to cover."""
    if latest is None:
        return "No reading yet"
    if attainment is None:
        return "Not defined (target equals baseline)"
    return f"{attainment:.0%}"


def metric_listing(table: pd.DataFrame) -> pd.DataFrame:
    """metric_table's rows in words, for people to read: Metric, Baseline, Target, Target date,
    Direction, Stage, Latest reading ("6.4% on 1 Dec 2026") and Attainment (attainment_words)."""

    return pd.DataFrame(
        [
            {
                "Metric": m["name"],
                "Baseline": amount_text(m["baseline"], m["unit"]),
                "Target": amount_text(m["target"], m["unit"]),
                "Target date": date_text(m["target_date"]),
                "Direction": DIRECTION_WORDS[m["direction"]],
                "Stage": stage_words(m["stage"]),
                "Latest reading": "None yet"
                if m["latest"] is None
                else f"{amount_text(m['latest'], m['unit'])} on {date_text(m['latest_on'])}",
                "Attainment": attainment_words(latest=m["latest"], attainment=m["attainment"]),
            }
            for m in table.to_dict("records")
        ],
        columns=[
            "Metric",
            "Baseline",
            "Target",
            "Target date",
            "Direction",
            "Stage",
            "Latest reading",
            "Attainment",
        ],
    )


# --- Narratives -------------------------------------------------------------------------------

NARRATIVE_COLUMNS = (
    "id",
    "version",
    "title",
    "body",
    "audience",
    "stage",
    "status",
    "author",
    "published_on",
)


def narrative_table(*, session: Session, programme_id: int) -> pd.DataFrame:
    """The programme's narratives, drafts and published, newest written first.

    Columns: id, version, title, body (Markdown as written), audience, stage (a stage key or
    None), status ("draft"/"published"), author, published_on (date, None for a draft).
    """
    statement = (
        sa.select(*(col(getattr(Narrative, name)) for name in NARRATIVE_COLUMNS))
        .where(col(Narrative.programme_id) == programme_id)
        .order_by(col(Narrative.id).desc())
    )
    found = [
        {
            **row,
            "audience": str(row["audience"]),
            "status": str(row["status"]),
            "stage": None if row["stage"] is None else str(row["stage"]),
        }
        for row in rows(session, statement)
    ]
    return frame(found, NARRATIVE_COLUMNS, optional=("stage", "published_on"))


# --- Programmes: partners, stage records, exit criteria ----------------------------------------


def organisation_choices(*, session: Session) -> dict[int, str]:
    """Every organisation, id -> name, by name: the owners and partners a programme can have."""
    rows = session.exec(
        select(Organisation.id, Organisation.name).order_by(col(Organisation.name))
    ).all()
    return {int(org_id): name for org_id, name in rows if org_id is not None}


@dataclass(frozen=True)
class Pooling:
    """Who a programme is pooled with, as the form that changes it needs it."""

    partner_ids: list[int]
    sharing_ids: list[int]  # the partners with a data-sharing agreement
    # Organisations the form offers, by name: those the viewer may add as a partner (they act
    # for them), and those already pooled (so they can be removed).
    offered: list[int]
    may_change: bool  # Action.programme_share: the owner's managers and administrators


def pooling(*, session: Session, viewer: Viewer, programme_id: int) -> Pooling:
    """Who the programme is pooled with, and what the viewer may change of it."""
    programme = require_programme(session, viewer, Action.programme_edit, programme_id)
    partners = partner_ids(session=session, programme_id=programme_id)
    offered = [
        org_id
        for org_id in organisation_choices(session=session)
        if org_id != programme.organisation_id
        and (
            org_id in partners or allowed(viewer, Action.programme_create, organisations([org_id]))
        )
    ]
    return Pooling(
        partner_ids=partners,
        sharing_ids=sharing_partner_ids(session=session, programme_id=programme_id),
        offered=offered,
        may_change=allowed(viewer, Action.programme_share, programme_scope(session, programme_id)),
    )


def sharing_partner_ids(*, session: Session, programme_id: int) -> list[int]:
    """The partners the programme records a data-sharing agreement with, by id."""
    return partner_ids(session=session, programme_id=programme_id, sharing_only=True)


def partner_ids(*, session: Session, programme_id: int, sharing_only: bool = False) -> list[int]:
    """The organisations pooling resources into the programme (its owner excluded), by id;
    only those with a data-sharing agreement when `sharing_only`."""
    query = select(ProgrammePartner.organisation_id).where(
        ProgrammePartner.programme_id == programme_id
    )
    if sharing_only:
        query = query.where(col(ProgrammePartner.data_sharing_agreement))
    return sorted(session.exec(query).all())


def stage_record(*, session: Session, programme_id: int, stage: Stage | str) -> StageRecord:
    try:
        key = Stage(stage)
    except ValueError:
        raise DomainError("stage", f"'{stage}' is not one of the six stages") from None
    record = session.exec(
        select(StageRecord).where(
            StageRecord.programme_id == programme_id, StageRecord.stage == key
        )
    ).first()
    if record is None:
        raise DomainError("stage", "this programme has no record for that stage")
    return record


def exit_criteria(*, session: Session, stage_record_id: int) -> list[ExitCriterion]:
    """A stage's exit criteria in checklist order (position, then the order they were added)."""
    return list(
        session.exec(
            select(ExitCriterion)
            .where(ExitCriterion.stage_record_id == stage_record_id)
            .order_by(col(ExitCriterion.position), col(ExitCriterion.id))
        ).all()
    )
