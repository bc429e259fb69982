"""Engagements: dated contacts with one or more stakeholders, and their follow-ups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, select

from tracker.errors import DomainError
from tracker.models import Engagement, EngagementBase, EngagementStakeholder, Stakeholder
from tracker.services import records


def log_engagement(
    *, session: Session, data: Mapping[str, Any], stakeholder_ids: Iterable[int]
) -> Engagement:
    """Record a contact with at least one stakeholder of the same programme."""
    engagement = records.create(session, Engagement, EngagementBase, data)
    assert engagement.id is not None
    set_attendees(session=session, engagement_id=engagement.id, stakeholder_ids=stakeholder_ids)
    return engagement


def update_engagement(
    *, session: Session, engagement_id: int, expected_version: int, changes: Mapping[str, Any]
) -> Engagement:
    return records.update(
        session,
        Engagement,
        EngagementBase,
        engagement_id,
        expected_version=expected_version,
        changes=changes,
    )


def set_attendees(*, session: Session, engagement_id: int, stakeholder_ids: Iterable[int]) -> None:
    engagement = records.get(session, Engagement, engagement_id)
    wanted = set(stakeholder_ids)
    if not wanted:
        raise DomainError("stakeholders", "choose at least one stakeholder")
    for stakeholder_id in wanted:
        stakeholder = records.get(session, Stakeholder, stakeholder_id)
        if stakeholder.programme_id != engagement.programme_id:
            raise DomainError("stakeholders", f"'{stakeholder.name}' is in another programme")
    existing = session.exec(
        select(EngagementStakeholder).where(EngagementStakeholder.engagement_id == engagement_id)
    ).all()
    for row in existing:
        if row.stakeholder_id not in wanted:
            session.delete(row)
    have = {row.stakeholder_id for row in existing}
    for stakeholder_id in sorted(wanted - have):
        session.add(
            EngagementStakeholder(engagement_id=engagement_id, stakeholder_id=stakeholder_id)
        )
    records.flush(session, EngagementStakeholder)


def delete_engagement(*, session: Session, engagement_id: int, expected_version: int) -> None:
    records.delete(session, Engagement, engagement_id, expected_version=expected_version)
