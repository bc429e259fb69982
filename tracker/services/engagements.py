"""Engagements: dated contacts with one or more stakeholders, and their follow-ups. Writes only:
the reads are in tracker/read/people.py."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import Engagement, EngagementBase, EngagementStakeholder, Stakeholder
from tracker.models.people import EngagementCreate, EngagementUpdate
from tracker.permissions import Action, require_change, require_new
from tracker.services import records


def log_engagement(
    *,
    session: Session,
    viewer: Viewer,
    data: EngagementCreate,
    stakeholder_ids: Iterable[int],
) -> Engagement:
    """Record a contact with at least one stakeholder of the same programme."""
    values = data.model_dump()
    require_new(session, viewer, Action.stakeholder_edit, Engagement, values)
    engagement = records.create(session, Engagement, EngagementBase, values)
    assert engagement.id is not None
    set_attendees(
        session=session, viewer=viewer, engagement_id=engagement.id, stakeholder_ids=stakeholder_ids
    )
    return engagement


def update_engagement(
    *,
    session: Session,
    viewer: Viewer,
    engagement_id: int,
    data: EngagementUpdate,
) -> Engagement:
    return records.update_checked(
        session, viewer, Action.stakeholder_edit, Engagement, EngagementBase, engagement_id, data
    )


def set_attendees(
    *, session: Session, viewer: Viewer, engagement_id: int, stakeholder_ids: Iterable[int]
) -> None:
    require_change(session, viewer, Action.stakeholder_edit, Engagement, engagement_id)
    engagement = records.get(session, Engagement, engagement_id)
    wanted = set(stakeholder_ids)
    if not wanted:
        raise DomainError("stakeholders", "choose at least one stakeholder")
    for stakeholder_id in wanted:
        stakeholder = records.get(session, Stakeholder, stakeholder_id)
        if stakeholder.programme_id != engagement.programme_id:
            raise DomainError("stakeholders", f"'{stakeholder.name}' is in another programme")
    records.set_links(
        session,
        EngagementStakeholder,
        owner="engagement_id",
        owner_id=engagement_id,
        member="stakeholder_id",
        wanted=wanted,
    )


def delete_engagement(
    *, session: Session, viewer: Viewer, engagement_id: int, expected_version: int
) -> None:
    records.delete_checked(
        session,
        viewer,
        Action.stakeholder_edit,
        Engagement,
        engagement_id,
        expected_version=expected_version,
    )
