"""Milestones, the staff groups they land on, and the stakeholders whose support they need."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, select

from tracker import clock, read
from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import (
    Impact,
    Milestone,
    MilestoneBase,
    MilestoneCreate,
    MilestoneDependency,
    MilestoneImpact,
    MilestoneStatus,
    MilestoneUpdate,
    StaffGroup,
    Stakeholder,
)
from tracker.permissions import Action, require_change, require_new
from tracker.services import records


def with_completion(
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


def create_milestone(*, session: Session, viewer: Viewer, data: MilestoneCreate) -> Milestone:
    """A new milestone (Action.programme_edit). One created done without a completed date is
    stamped today."""
    values = with_completion(records.changes_of(data))
    require_new(session, viewer, Action.programme_edit, Milestone, values)
    return records.create(session, Milestone, MilestoneBase, values)


def update_milestone(
    *, session: Session, viewer: Viewer, milestone_id: int, data: MilestoneUpdate
) -> Milestone:
    """Change the fields `data` sets, if the milestone is still at `data.version`. Marking it
    done stamps today unless a date is given; moving it away from done clears the date."""
    require_change(session, viewer, Action.programme_edit, Milestone, milestone_id)
    changes = records.changes_of(data)
    if "programme_id" in changes:
        raise DomainError("programme_id", "a milestone cannot move to another programme")
    current = records.get(session, Milestone, milestone_id)
    now = {"status": current.status, "completed_date": current.completed_date}
    return records.update(
        session,
        Milestone,
        MilestoneBase,
        milestone_id,
        expected_version=data.version,
        changes=with_completion(changes, now),
    )


def delete_milestone(
    *, session: Session, viewer: Viewer, milestone_id: int, expected_version: int
) -> None:
    """Delete the milestone, if it is still at `expected_version`."""
    records.delete_checked(
        session,
        viewer,
        Action.programme_edit,
        Milestone,
        milestone_id,
        expected_version=expected_version,
    )


def set_impacts(
    *, session: Session, viewer: Viewer, milestone_id: int, impacts: Mapping[int, Impact | str]
) -> None:
    """Make the milestone land on exactly these staff groups, at these impact levels. Groups
    must belong to the programme's owner or a partner."""
    require_change(session, viewer, Action.programme_edit, Milestone, milestone_id)
    milestone = records.get(session, Milestone, milestone_id)
    allowed = read.manage.programme_organisations(
        session=session, programme_id=milestone.programme_id
    )
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
    records.set_links(
        session,
        MilestoneDependency,
        owner="milestone_id",
        owner_id=milestone_id,
        member="stakeholder_id",
        wanted=wanted,
    )
