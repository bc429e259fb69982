"""Engagements: dated contacts with one or more stakeholders, and their follow-ups."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import Executable
from sqlmodel import Session, col, select

from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import Engagement, EngagementBase, EngagementStakeholder, Stakeholder
from tracker.permissions import Action, require_change, require_new, require_programme
from tracker.read.sql import frame, rows
from tracker.services import records


def log_engagement(
    *,
    session: Session,
    viewer: Viewer,
    data: Mapping[str, Any],
    stakeholder_ids: Iterable[int],
) -> Engagement:
    """Record a contact with at least one stakeholder of the same programme."""
    require_new(session, viewer, Action.stakeholder_edit, Engagement, data)
    engagement = records.create(session, Engagement, EngagementBase, data)
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
    expected_version: int,
    changes: Mapping[str, Any],
) -> Engagement:
    require_change(session, viewer, Action.stakeholder_edit, Engagement, engagement_id, changes)
    return records.update(
        session,
        Engagement,
        EngagementBase,
        engagement_id,
        expected_version=expected_version,
        changes=changes,
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


def delete_engagement(
    *, session: Session, viewer: Viewer, engagement_id: int, expected_version: int
) -> None:
    require_change(session, viewer, Action.stakeholder_edit, Engagement, engagement_id)
    records.delete(session, Engagement, engagement_id, expected_version=expected_version)


# --- Reads for the Manage pages -------------------------------------------------------------

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
