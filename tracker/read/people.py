"""Reads of a programme's people for the Manage pages, the CLI and the imports: the stakeholder
register, names, notes, assessment history and influence links, the engagements and their
follow-ups. Every read of personal data asks tracker/permissions.py first. Nothing here writes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Executable
from sqlmodel import Session, col

from tracker import figures, vocabulary
from tracker.access import Viewer
from tracker.errors import NotFoundError
from tracker.models import (
    Assessment,
    Engagement,
    EngagementStakeholder,
    InfluenceLink,
    Organisation,
    Programme,
    ProgrammePartner,
    StaffGroup,
    Stakeholder,
    Stance,
)
from tracker.permissions import Action, require_programme, require_record
from tracker.read.sql import frame, rows

# The register's columns a manager edits (services/stakeholders.apply_register_edits).
REGISTER_COLUMNS = (
    "name",
    "role",
    "staff_group_id",
    "influence",
    "interest",
    "desired_stance",
    "relationship_owner",
)
STAKEHOLDER_TABLE_COLUMNS = (
    "id",
    "version",
    *REGISTER_COLUMNS,
    "stance",
    "stance_label",
    "assessed_on",
    "quadrant",
)


def stakeholder_table(*, session: Session, viewer: Viewer, programme_id: int) -> pd.DataFrame:
    """The programme's stakeholder register for bulk editing, by name. Never includes notes.

    Columns: id, version, name, role, staff_group_id (None without one), influence, interest
    (1-5), desired_stance and stance (-2..2; stance is the latest assessment's), stance_label
    (e.g. "Passive resistor"), assessed_on (the latest assessment's date, None without one),
    quadrant (figures.quadrant's label, e.g. "Keep satisfied"). One statement."""
    require_programme(session, viewer, Action.stakeholder_read, programme_id)
    latest = (
        sa.select(
            col(Assessment.stakeholder_id),
            sa.func.max(col(Assessment.assessed_on)).label("assessed_on"),
        )
        .group_by(col(Assessment.stakeholder_id))
        .subquery("latest_assessment")
    )
    statement = (
        sa.select(
            col(Stakeholder.id),
            col(Stakeholder.version),
            col(Stakeholder.name),
            col(Stakeholder.role),
            col(Stakeholder.staff_group_id),
            col(Stakeholder.influence),
            col(Stakeholder.interest),
            col(Stakeholder.desired_stance),
            col(Stakeholder.relationship_owner),
            col(Stakeholder.stance),
            latest.c.assessed_on,
        )
        .outerjoin(latest, latest.c.stakeholder_id == col(Stakeholder.id))
        .where(col(Stakeholder.programme_id) == programme_id)
        .order_by(sa.func.lower(col(Stakeholder.name)), col(Stakeholder.id))
    )
    records_ = [
        row
        | {
            "stance_label": Stance(row["stance"]).label,
            "quadrant": figures.quadrant(
                influence=row["influence"], interest=row["interest"]
            ).label,
        }
        for row in rows(session, statement)
    ]
    return frame(records_, STAKEHOLDER_TABLE_COLUMNS, optional=("staff_group_id", "assessed_on"))


def staff_group_options(*, session: Session, programme_id: int) -> dict[int, str]:
    """The staff groups of the programme's owner and partners, id -> name, by name. A name two
    organisations share is followed by the organisation's short name, e.g. "ICT (EDC)"."""
    organisations = sa.union(
        sa.select(col(Programme.organisation_id).label("organisation_id")).where(
            col(Programme.id) == programme_id
        ),
        sa.select(col(ProgrammePartner.organisation_id)).where(
            col(ProgrammePartner.programme_id) == programme_id
        ),
    ).subquery("programme_organisations")
    statement = (
        sa.select(col(StaffGroup.id), col(StaffGroup.name), col(Organisation.short_name))
        .join(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .where(col(StaffGroup.organisation_id).in_(sa.select(organisations.c.organisation_id)))
        .order_by(col(StaffGroup.name), col(Organisation.short_name))
    )
    found = rows(session, statement)
    names = [row["name"] for row in found]
    return {
        int(row["id"]): (
            f"{row['name']} ({row['short_name']})" if names.count(row["name"]) > 1 else row["name"]
        )
        for row in found
    }


def stakeholder_names(*, session: Session, viewer: Viewer, programme_id: int) -> dict[int, str]:
    """The programme's stakeholders, id -> name, by name (for selectors)."""
    require_programme(session, viewer, Action.stakeholder_read, programme_id)
    statement = (
        sa.select(col(Stakeholder.id), col(Stakeholder.name))
        .where(col(Stakeholder.programme_id) == programme_id)
        .order_by(sa.func.lower(col(Stakeholder.name)), col(Stakeholder.id))
    )
    return {int(row["id"]): row["name"] for row in rows(session, statement)}


@dataclass(frozen=True)
class StakeholderNotes:
    """One stakeholder's notes and the version they were read at, as plain values."""

    stakeholder_id: int
    programme_id: int
    name: str
    notes: str
    stance: int
    version: int


def stakeholder_notes(*, session: Session, viewer: Viewer, stakeholder_id: int) -> StakeholderNotes:
    """The stakeholder's notes and version, or NotFoundError."""
    require_record(session, viewer, Action.stakeholder_notes_read, Stakeholder, stakeholder_id)
    stakeholder = session.get(Stakeholder, stakeholder_id)
    if stakeholder is None:
        raise NotFoundError(None, "That stakeholder no longer exists. Reload the page.")
    return StakeholderNotes(
        stakeholder_id=stakeholder_id,
        programme_id=stakeholder.programme_id,
        name=stakeholder.name,
        notes=stakeholder.notes,
        stance=stakeholder.stance,
        version=stakeholder.version,
    )


ADKAR = vocabulary.ADKAR
ASSESSMENT_HISTORY_COLUMNS = (
    "assessed_on",
    "stance",
    "stance_label",
    "influence",
    "interest",
    *ADKAR,
    "assessed_by",
)


def assessment_history(*, session: Session, viewer: Viewer, stakeholder_id: int) -> pd.DataFrame:
    """The stakeholder's assessments, newest first (the first row is their current stance).

    Columns: assessed_on, stance (-2..2), stance_label, influence, interest and the five ADKAR
    scores (1-5, None when not assessed), assessed_by."""
    require_record(session, viewer, Action.stakeholder_read, Stakeholder, stakeholder_id)
    statement = (
        sa.select(
            col(Assessment.assessed_on),
            col(Assessment.stance),
            col(Assessment.influence),
            col(Assessment.interest),
            *(getattr(Assessment, name) for name in ADKAR),
            col(Assessment.assessed_by),
        )
        .where(col(Assessment.stakeholder_id) == stakeholder_id)
        .order_by(col(Assessment.assessed_on).desc(), col(Assessment.id).desc())
    )
    found = [
        row | {"stance_label": Stance(row["stance"]).label} for row in rows(session, statement)
    ]
    return frame(found, ASSESSMENT_HISTORY_COLUMNS, optional=("influence", "interest", *ADKAR))


INFLUENCE_LINK_COLUMNS = ("id", "version", "direction", "other_id", "other", "strength")
# The direction column's words, said of the other stakeholder.
INFLUENCES_THEM = "Influences this person"
INFLUENCED_BY_THEM = "Is influenced by this person"


def influence_links(*, session: Session, viewer: Viewer, stakeholder_id: int) -> pd.DataFrame:
    """Who influences this stakeholder and whom they influence: those influencing them first,
    then by the other stakeholder's name.

    Columns: id, version, direction (INFLUENCES_THEM: the other stakeholder influences this one;
    INFLUENCED_BY_THEM: this one influences the other), other_id, other (the other stakeholder's
    name), strength (1-3). One statement."""
    require_record(session, viewer, Action.stakeholder_read, Stakeholder, stakeholder_id)
    source = aliased(Stakeholder, name="source")
    target = aliased(Stakeholder, name="target")
    inbound = col(InfluenceLink.to_stakeholder_id) == stakeholder_id
    other = sa.case((inbound, source.name), else_=target.name).label("other")
    statement = (
        sa.select(
            col(InfluenceLink.id),
            col(InfluenceLink.version),
            inbound.label("inbound"),
            sa.case((inbound, source.id), else_=target.id).label("other_id"),
            other,
            col(InfluenceLink.strength),
        )
        .join(source, col(source.id) == col(InfluenceLink.from_stakeholder_id))
        .join(target, col(target.id) == col(InfluenceLink.to_stakeholder_id))
        .where(sa.or_(inbound, col(InfluenceLink.from_stakeholder_id) == stakeholder_id))
        .order_by(inbound.desc(), other, col(InfluenceLink.id))
    )
    found = [
        row | {"direction": INFLUENCES_THEM if row["inbound"] else INFLUENCED_BY_THEM}
        for row in rows(session, statement)
    ]
    return frame(found, INFLUENCE_LINK_COLUMNS)


ENGAGEMENT_TABLE_COLUMNS = (
    "id",
    "version",
    "occurred_on",
    "kind",
    "summary",
    "outcome",
    "follow_up_on",
    "follow_up_done",
    "attendees",
)
FOLLOW_UP_COLUMNS = (*ENGAGEMENT_TABLE_COLUMNS, "overdue")


def _engagements(
    session: Session, *where: sa.ColumnElement[bool], order: Iterable[Any]
) -> list[dict[str, Any]]:
    """Engagements matching `where` in `order`, each with `attendees`: the names of the
    stakeholders present, sorted and joined by ", ". One statement (a row per attendee)."""
    statement: Executable = (
        sa.select(
            col(Engagement.id),
            col(Engagement.version),
            col(Engagement.occurred_on),
            col(Engagement.kind),
            col(Engagement.summary),
            col(Engagement.outcome),
            col(Engagement.follow_up_on),
            col(Engagement.follow_up_done),
            col(Stakeholder.name).label("attendee"),
        )
        .outerjoin(
            EngagementStakeholder,
            col(EngagementStakeholder.engagement_id) == col(Engagement.id),
        )
        .outerjoin(Stakeholder, col(Stakeholder.id) == col(EngagementStakeholder.stakeholder_id))
        .where(*where)
        .order_by(*order, col(Engagement.id).desc(), sa.func.lower(col(Stakeholder.name)))
    )
    found: list[dict[str, Any]] = []
    for _, group in itertools.groupby(rows(session, statement), key=lambda row: row["id"]):
        people = list(group)
        first = {name: value for name, value in people[0].items() if name != "attendee"}
        names = [row["attendee"] for row in people if row["attendee"] is not None]
        found.append(first | {"kind": str(first["kind"]), "attendees": ", ".join(names)})
    return found


def engagement_table(*, session: Session, viewer: Viewer, programme_id: int) -> pd.DataFrame:
    """The programme's engagements, newest first.

    Columns: id, version, occurred_on, kind (an EngagementKind value), summary, outcome,
    follow_up_on (None without a follow-up), follow_up_done, attendees (names, ", "-joined)."""
    require_programme(session, viewer, Action.stakeholder_read, programme_id)
    found = _engagements(
        session,
        col(Engagement.programme_id) == programme_id,
        order=(col(Engagement.occurred_on).desc(),),
    )
    return frame(found, ENGAGEMENT_TABLE_COLUMNS, optional=("follow_up_on",))


def follow_ups(
    *, session: Session, viewer: Viewer, programme_id: int, today: dt.date
) -> pd.DataFrame:
    """The programme's open follow-ups (a follow-up date, not done), earliest first.

    Columns: those of engagement_table, and overdue (True when the follow-up date is before
    `today`; False when it is due today or later)."""
    require_programme(session, viewer, Action.stakeholder_read, programme_id)
    found = _engagements(
        session,
        col(Engagement.programme_id) == programme_id,
        col(Engagement.follow_up_on).is_not(None),
        col(Engagement.follow_up_done) == sa.false(),
        order=(col(Engagement.follow_up_on),),
    )
    return frame(
        [row | {"overdue": row["follow_up_on"] < today} for row in found], FOLLOW_UP_COLUMNS
    )


@dataclass(frozen=True)
class StakeholderNamed:
    """A stakeholder's name and their programme's code, for a confirmation that names them."""

    stakeholder_id: int
    name: str
    programme_code: str


def stakeholder_named(
    *, session: Session, viewer: Viewer, stakeholder_id: int, action: Action
) -> StakeholderNamed | None:
    """The stakeholder's name and programme code, once the viewer may take `action` on their
    programme (PermissionDeniedError otherwise); None when their record does not exist (once
    deleted, only the audit trail's copies of it are left)."""
    stakeholder = session.get(Stakeholder, stakeholder_id)
    if stakeholder is None:
        return None
    programme = require_programme(session, viewer, action, stakeholder.programme_id)
    return StakeholderNamed(
        stakeholder_id=stakeholder_id, name=stakeholder.name, programme_code=programme.code
    )
