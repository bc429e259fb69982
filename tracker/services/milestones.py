"""Milestones, the staff groups they land on, and the stakeholders whose support they need."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, select

from tracker import clock
from tracker.errors import DomainError
from tracker.models import (
    Impact,
    Milestone,
    MilestoneBase,
    MilestoneDependency,
    MilestoneImpact,
    MilestoneStatus,
    Programme,
    ProgrammePartner,
    StaffGroup,
    Stakeholder,
)
from tracker.services import records


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


def create_milestone(*, session: Session, data: Mapping[str, Any]) -> Milestone:
    return records.create(session, Milestone, MilestoneBase, _with_completion(data))


def update_milestone(
    *, session: Session, milestone_id: int, expected_version: int, changes: Mapping[str, Any]
) -> Milestone:
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


def delete_milestone(*, session: Session, milestone_id: int, expected_version: int) -> None:
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
    *, session: Session, milestone_id: int, impacts: Mapping[int, Impact | str]
) -> None:
    """Make the milestone land on exactly these staff groups, at these impact levels. Groups
    must belong to the programme's owner or a partner."""
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
    *, session: Session, milestone_id: int, stakeholder_ids: Iterable[int]
) -> None:
    """Make the milestone depend on exactly these stakeholders of the same programme."""
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
