"""Who is asking, and what they may see. Pages keep a Viewer (plain values, never an ORM object)
and pass it to services and queries, which scope every read by it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from tracker.errors import PermissionDeniedError
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

    @property
    def can_manage(self) -> bool:
        return self.role in (Role.admin, Role.manager)

    @property
    def sees_stakeholders(self) -> bool:
        """Named stakeholders (hotspots) are for managers, admins and leadership, never staff."""
        return self.role is not Role.staff


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


def require_programme(session: Session, viewer: Viewer, programme_id: int) -> Programme:
    """The programme if the viewer may see it; otherwise PermissionDeniedError (whether or not
    it exists, so a guessed id reveals nothing)."""
    visible = session.exec(
        select(Programme).where(
            Programme.id == programme_id,
            col(Programme.id).in_(visible_programme_ids(viewer)),
        )
    ).first()
    if visible is None:
        raise PermissionDeniedError(None, "That programme does not exist or is not yours to see.")
    return visible


def require_manager(session: Session, viewer: Viewer, programme_id: int) -> Programme:
    """The programme if the viewer may change it (a manager or admin of an owning or partner
    organisation)."""
    if not viewer.can_manage:
        raise PermissionDeniedError(None, "Only managers and administrators can change programmes.")
    return require_programme(session, viewer, programme_id)
