"""Organisations, their staff groups, and user accounts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session

from tracker.errors import DomainError
from tracker.models import (
    Organisation,
    OrganisationBase,
    StaffGroup,
    StaffGroupBase,
    User,
    UserBase,
    UserOrganisation,
)
from tracker.services import records


def create_organisation(*, session: Session, data: Mapping[str, Any]) -> Organisation:
    return records.create(session, Organisation, OrganisationBase, data)


def create_staff_group(*, session: Session, data: Mapping[str, Any]) -> StaffGroup:
    records.get(session, Organisation, data.get("organisation_id"))
    return records.create(session, StaffGroup, StaffGroupBase, data)


def create_user(
    *, session: Session, data: Mapping[str, Any], organisation_ids: Iterable[int]
) -> User:
    """A user scoped to at least one organisation; a staff user's group must be in one of them."""
    orgs = sorted(set(organisation_ids))
    if not orgs:
        raise DomainError("organisations", "a user needs at least one organisation")
    for organisation_id in orgs:
        records.get(session, Organisation, organisation_id)
    clean = dict(data)
    clean["email"] = str(clean.get("email", "")).strip().lower()
    group_id = clean.get("staff_group_id")
    if group_id is not None:
        group = records.get(session, StaffGroup, group_id)
        if group.organisation_id not in orgs:
            raise DomainError(
                "staff_group_id", "the staff group must be in one of the user's organisations"
            )
    user = records.create(session, User, UserBase, clean)
    assert user.id is not None
    for organisation_id in orgs:
        session.add(UserOrganisation(user_id=user.id, organisation_id=organisation_id))
    records.flush(session, UserOrganisation)
    session.refresh(user)
    return user
