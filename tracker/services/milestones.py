"""Milestones, the staff groups they land on, and the stakeholders whose support they need."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from tracker import clock, figures
from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import (
    Impact,
    Milestone,
    MilestoneBase,
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
from tracker.permissions import Action, require_change, require_new, require_programme
from tracker.read.sql import frame, rows
from tracker.services import records

# The columns of milestone_table, in the order the bulk editor shows them after id and version.
TABLE_COLUMNS = (
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


def _with_completion(
    data: Mapping[str, Any], current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Marking a milestone done stamps today's date unless one is given; moving it away from
    done clears the date, so the two never disagree."""
    merged = {**(current or {}), **data}
    result = dict(data)
    status = merged.get("status")
    if status is not None and str(status) == MilestoneStatus.done.value:
        if merged.get("completed_date") is None:
            result["completed_date"] = clock.today()
    elif "status" in data and merged.get("completed_date") is not None:
        result["completed_date"] = None
    return result


def create_milestone(*, session: Session, viewer: Viewer, data: Mapping[str, Any]) -> Milestone:
    require_new(session, viewer, Action.programme_edit, Milestone, data)
    return records.create(session, Milestone, MilestoneBase, _with_completion(data))


def update_milestone(
    *,
    session: Session,
    viewer: Viewer,
    milestone_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Milestone:
    require_change(session, viewer, Action.programme_edit, Milestone, milestone_id)
    if "programme_id" in changes:
        raise DomainError("programme_id", "a milestone cannot move to another programme")
    current = records.get(session, Milestone, milestone_id)
    now = {"status": current.status, "completed_date": current.completed_date}
    return records.update(
        session,
        Milestone,
        MilestoneBase,
        milestone_id,
        expected_version=expected_version,
        changes=_with_completion(changes, now),
    )


def delete_milestone(
    *, session: Session, viewer: Viewer, milestone_id: int, expected_version: int
) -> None:
    require_change(session, viewer, Action.programme_edit, Milestone, milestone_id)
    records.delete(session, Milestone, milestone_id, expected_version=expected_version)


def _programme_organisations(session: Session, programme_id: int) -> set[int]:
    programme = records.get(session, Programme, programme_id)
    partners = session.exec(
        select(ProgrammePartner.organisation_id).where(
            ProgrammePartner.programme_id == programme_id
        )
    ).all()
    return {programme.organisation_id, *partners}


def set_impacts(
    *, session: Session, viewer: Viewer, milestone_id: int, impacts: Mapping[int, Impact | str]
) -> None:
    """Make the milestone land on exactly these staff groups, at these impact levels. Groups
    must belong to the programme's owner or a partner."""
    require_change(session, viewer, Action.programme_edit, Milestone, milestone_id)
    milestone = records.get(session, Milestone, milestone_id)
    allowed = _programme_organisations(session, milestone.programme_id)
    wanted: dict[int, Impact] = {}
    for group_id, level in impacts.items():
        group = records.get(session, StaffGroup, group_id)
        if group.organisation_id not in allowed:
            raise DomainError(
                "impacts", f"'{group.name}' is not in an organisation of this programme"
            )
        try:
            wanted[group_id] = Impact(level)
        except ValueError:
            raise DomainError(
                "impacts", f"'{level}' is not an impact level (low, medium, high)"
            ) from None
    existing = {
        row.staff_group_id: row
        for row in session.exec(
            select(MilestoneImpact).where(MilestoneImpact.milestone_id == milestone_id)
        )
    }
    for group_id, row in existing.items():
        if group_id not in wanted:
            session.delete(row)
        elif row.impact != wanted[group_id]:
            row.impact = wanted[group_id]
    for group_id in sorted(set(wanted) - set(existing)):
        session.add(
            MilestoneImpact(
                milestone_id=milestone_id, staff_group_id=group_id, impact=wanted[group_id]
            )
        )
    records.flush(session, MilestoneImpact)


def set_dependencies(
    *, session: Session, viewer: Viewer, milestone_id: int, stakeholder_ids: Iterable[int]
) -> None:
    """Make the milestone depend on exactly these stakeholders of the same programme (it names
    people, so it needs the programme's people: Action.stakeholder_edit)."""
    require_change(session, viewer, Action.stakeholder_edit, Milestone, milestone_id)
    milestone = records.get(session, Milestone, milestone_id)
    wanted = set(stakeholder_ids)
    for stakeholder_id in wanted:
        stakeholder = records.get(session, Stakeholder, stakeholder_id)
        if stakeholder.programme_id != milestone.programme_id:
            raise DomainError(
                "dependencies", f"'{stakeholder.name}' is a stakeholder of another programme"
            )
    existing = session.exec(
        select(MilestoneDependency).where(MilestoneDependency.milestone_id == milestone_id)
    ).all()
    for row in existing:
        if row.stakeholder_id not in wanted:
            session.delete(row)
    have = {row.stakeholder_id for row in existing}
    for stakeholder_id in sorted(wanted - have):
        session.add(MilestoneDependency(milestone_id=milestone_id, stakeholder_id=stakeholder_id))
    records.flush(session, MilestoneDependency)


# --- Reading, for the Manage pages -------------------------------------------------------------


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
        sa.select(*(getattr(Milestone, name) for name in TABLE_COLUMNS))
        .where(col(Milestone.programme_id) == programme_id)
        .order_by(stage_order, col(Milestone.due_date), col(Milestone.title), col(Milestone.id))
    )
    found = [
        {**row, "stage": Stage(row["stage"]).value, "status": MilestoneStatus(row["status"]).value}
        for row in rows(session, statement)
    ]
    return frame(found, TABLE_COLUMNS, optional=("completed_date",))


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
    organisations = _programme_organisations(session, programme_id)
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
