"""Who is asking, and what they may see. Pages keep a Viewer (plain values, never an ORM object)
and pass it to services and queries, which scope every read by it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from tracker.models import Programme, ProgrammePartner, Role, User

# Refused attempts to reach a page or a programme: the server's security log (Streamlit's log
# handler sends WARNING records to standard error, which deployments keep).
REFUSALS = logging.getLogger("tracker.access")


def record_refusal(email: str, what: str) -> None:
    """Record that `email` tried to reach something outside their role or scope."""
    REFUSALS.warning("access refused: %s tried to reach %s", email or "(not signed in)", what)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    email: str
    name: str
    role: Role
    organisation_ids: frozenset[int]
    staff_group_id: int | None = None
    # The installation itself (seeding, the generator, scheduled retention): never a person,
    # never made by a page. The permission resolver allows it everything.
    system: bool = False

    @property
    def can_manage(self) -> bool:
        return self.role in (Role.admin, Role.manager)

    @property
    def sees_stakeholders(self) -> bool:
        """Named stakeholders (hotspots) are for managers, admins and leadership, never staff."""
        return self.role is not Role.staff


def system_viewer(purpose: str) -> Viewer:
    """The installation acting on its own, for `purpose` (recorded as the actor "system:...")."""
    return Viewer(
        user_id=0,
        email=f"system:{purpose}",
        name="Change Tracker",
        role=Role.admin,
        organisation_ids=frozenset(),
        system=True,
    )


def viewer_for(user: User) -> Viewer:
    if user.id is None:
        raise ValueError("the user must be saved first")
    return Viewer(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        organisation_ids=frozenset(o.id for o in user.organisations if o.id is not None),
        staff_group_id=user.staff_group_id,
    )


def load_viewer(session: Session, *, email: str) -> Viewer | None:
    """The active user with this e-mail, or None (unknown or deactivated)."""
    user = session.exec(select(User).where(sa.func.lower(User.email) == email.lower())).first()
    if user is None or not user.active:
        return None
    return viewer_for(user)


def visible_programme_ids(viewer: Viewer) -> SelectOfScalar[Any]:
    """A subquery of the programmes owned by, or pooled with, one of the viewer's organisations."""
    orgs = list(viewer.organisation_ids)
    partnered = select(ProgrammePartner.programme_id).where(
        col(ProgrammePartner.organisation_id).in_(orgs)
    )
    return select(Programme.id).where(
        sa.or_(
            col(Programme.organisation_id).in_(orgs),
            col(Programme.id).in_(partnered),
        )
    )


def people_programme_ids(viewer: Viewer) -> SelectOfScalar[Any]:
    """A subquery of the programmes whose people the viewer's organisations may see: owned by
    one of them, or pooled with one of them under a data-sharing agreement."""
    orgs = list(viewer.organisation_ids)
    sharing = select(ProgrammePartner.programme_id).where(
        col(ProgrammePartner.organisation_id).in_(orgs),
        col(ProgrammePartner.data_sharing_agreement),
    )
    return select(Programme.id).where(
        sa.or_(col(Programme.organisation_id).in_(orgs), col(Programme.id).in_(sharing))
    )
