"""What an export reads: every record of a set of programmes, one query per table for all the
programmes at once, as rows of plain values (an enum as its stored value) by column name.

tracker.io.exports decides who may export what and lays the rows out as files; nothing here
decides either, and nothing here writes. Each function returns [] for no programmes.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Executable
from sqlmodel import Session, col

from tracker import access
from tracker.access import Viewer
from tracker.models import (
    Assessment,
    Barrier,
    Engagement,
    EngagementStakeholder,
    ExitCriterion,
    InfluenceLink,
    Metric,
    MetricReading,
    Milestone,
    MilestoneDependency,
    MilestoneImpact,
    Narrative,
    Organisation,
    Programme,
    ProgrammePartner,
    StaffGroup,
    StageRecord,
    Stakeholder,
)
from tracker.read import sql

Rows = list[dict[str, Any]]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _rows(session: Session, ids: Sequence[int], statement: Executable) -> Rows:
    if not ids:
        return []
    return [
        {name: _plain(value) for name, value in row.items()} for row in sql.rows(session, statement)
    ]


def _whole(session: Session, ids: Sequence[int], model: Any, *order: Any) -> Rows:
    """Every column of the programmes' records of `model` (a table with a programme_id)."""
    statement: Executable = (
        sa.select(model.__table__).where(col(model.programme_id).in_(ids)).order_by(*order)
    )
    return _rows(session, ids, statement)


def _names(session: Session, ids: Sequence[int], link: Any, parent: Any, via: str) -> Rows:
    """(<parent>_id, name) of each stakeholder `link` ties to a record of `parent` (through its
    column `via`, e.g. milestone_id), by name."""
    link_id = getattr(link, via)
    statement: Executable = (
        sa.select(col(link_id), col(Stakeholder.name))
        .join(parent, col(parent.id) == col(link_id))
        .join(Stakeholder, col(Stakeholder.id) == col(link.stakeholder_id))
        .where(col(parent.programme_id).in_(ids))
        .order_by(col(Stakeholder.name))
    )
    return _rows(session, ids, statement)


def _with_parent(ids: Sequence[int], model: Any, parent: Any, via: str, label: str) -> Any:
    """Every column of `model`'s records whose `parent` (reached through the column `via`)
    belongs to the programmes, with the parent's programme_id and name (as `label`)."""
    return (
        sa.select(model.__table__, col(parent.programme_id), col(parent.name).label(label))
        .join(parent, col(parent.id) == col(getattr(model, via)))
        .where(col(parent.programme_id).in_(ids))
    )


def visible_programme_ids(session: Session, viewer: Viewer) -> list[int]:
    """The ids of every programme the viewer may see, in order."""
    visible = session.exec(access.visible_programme_ids(viewer)).all()
    return sorted({int(programme_id) for programme_id in visible})


def programme_codes(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Each programme's code by its id."""
    statement: Executable = sa.select(col(Programme.id), col(Programme.code)).where(
        col(Programme.id).in_(ids)
    )
    return {row["id"]: row["code"] for row in _rows(session, ids, statement)}


def programme_partners(session: Session, ids: Sequence[int]) -> Rows:
    """(programme_id, short_name) of each partner organisation, by short name."""
    statement: Executable = (
        sa.select(col(ProgrammePartner.programme_id), col(Organisation.short_name))
        .join(Organisation, col(Organisation.id) == col(ProgrammePartner.organisation_id))
        .where(col(ProgrammePartner.programme_id).in_(ids))
        .order_by(col(Organisation.short_name))
    )
    return _rows(session, ids, statement)


def programmes(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the programmes, with their owner's short name (`owner`), by code."""
    statement: Executable = (
        sa.select(Programme.__table__, col(Organisation.short_name).label("owner"))  # type: ignore[attr-defined]
        .join(Organisation, col(Organisation.id) == col(Programme.organisation_id))
        .where(col(Programme.id).in_(ids))
        .order_by(col(Programme.code))
    )
    return _rows(session, ids, statement)


def stages(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the programmes' stage records."""
    return _whole(session, ids, StageRecord)


def exit_criteria(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the exit criteria, with their stage's programme_id and stage, by
    position."""
    statement: Executable = (
        sa.select(
            ExitCriterion.__table__,  # type: ignore[attr-defined]
            col(StageRecord.programme_id),
            col(StageRecord.stage),
        )
        .join(StageRecord, col(StageRecord.id) == col(ExitCriterion.stage_record_id))
        .where(col(StageRecord.programme_id).in_(ids))
        .order_by(col(ExitCriterion.position), col(ExitCriterion.id))
    )
    return _rows(session, ids, statement)


def milestone_impacts(session: Session, ids: Sequence[int]) -> Rows:
    """(milestone_id, impact, name, short_name) of each staff group a milestone changes, by
    organisation then group."""
    statement: Executable = (
        sa.select(
            col(MilestoneImpact.milestone_id),
            col(MilestoneImpact.impact),
            col(StaffGroup.name),
            col(Organisation.short_name),
        )
        .join(Milestone, col(Milestone.id) == col(MilestoneImpact.milestone_id))
        .join(StaffGroup, col(StaffGroup.id) == col(MilestoneImpact.staff_group_id))
        .join(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .where(col(Milestone.programme_id).in_(ids))
        .order_by(col(Organisation.short_name), col(StaffGroup.name))
    )
    return _rows(session, ids, statement)


def milestone_needs(session: Session, ids: Sequence[int]) -> Rows:
    """(milestone_id, name) of each stakeholder a milestone depends on, by name."""
    return _names(session, ids, MilestoneDependency, Milestone, "milestone_id")


def milestones(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the milestones, by due date then title."""
    order = (col(Milestone.due_date), col(Milestone.title), col(Milestone.id))
    return _whole(session, ids, Milestone, *order)


def stakeholders(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the stakeholders, with their staff group's name (`group_name`) and its
    organisation's short name (`group_organisation`), both None without a group; by name."""
    statement: Executable = (
        sa.select(
            Stakeholder.__table__,  # type: ignore[attr-defined]
            col(StaffGroup.name).label("group_name"),
            col(Organisation.short_name).label("group_organisation"),
        )
        .outerjoin(StaffGroup, col(StaffGroup.id) == col(Stakeholder.staff_group_id))
        .outerjoin(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .where(col(Stakeholder.programme_id).in_(ids))
        .order_by(col(Stakeholder.name))
    )
    return _rows(session, ids, statement)


def assessments(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the assessments, with the stakeholder's programme_id and name
    (`stakeholder_name`), by stakeholder then date."""
    statement = _with_parent(
        ids, Assessment, Stakeholder, "stakeholder_id", "stakeholder_name"
    ).order_by(col(Stakeholder.name), col(Assessment.assessed_on), col(Assessment.id))
    return _rows(session, ids, statement)


def engagement_attendees(session: Session, ids: Sequence[int]) -> Rows:
    """(engagement_id, name) of each stakeholder at an engagement, by name."""
    return _names(session, ids, EngagementStakeholder, Engagement, "engagement_id")


def engagements(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the engagements, by date."""
    return _whole(session, ids, Engagement, col(Engagement.occurred_on), col(Engagement.id))


def barriers(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the barriers, by title."""
    return _whole(session, ids, Barrier, col(Barrier.title), col(Barrier.id))


def metrics(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the metrics, by name."""
    return _whole(session, ids, Metric, col(Metric.name))


def metric_readings(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the readings, with the metric's programme_id and name (`metric_name`),
    by metric then date."""
    statement = _with_parent(ids, MetricReading, Metric, "metric_id", "metric_name").order_by(
        col(Metric.name), col(MetricReading.reading_on)
    )
    return _rows(session, ids, statement)


def narratives(session: Session, ids: Sequence[int]) -> Rows:
    """Every column of the narratives, by title."""
    return _whole(session, ids, Narrative, col(Narrative.title), col(Narrative.id))


def influence_links(session: Session, ids: Sequence[int]) -> Rows:
    """(programme_id, from_name, to_name, strength) of each influence link, by the names."""
    source = aliased(Stakeholder)
    target = aliased(Stakeholder)
    statement: Executable = (
        sa.select(
            col(source.programme_id),
            col(source.name).label("from_name"),
            col(target.name).label("to_name"),
            col(InfluenceLink.strength),
        )
        .join(source, col(source.id) == col(InfluenceLink.from_stakeholder_id))
        .join(target, col(target.id) == col(InfluenceLink.to_stakeholder_id))
        .where(col(source.programme_id).in_(ids))
        .order_by(col(source.name), col(target.name))
    )
    return _rows(session, ids, statement)
