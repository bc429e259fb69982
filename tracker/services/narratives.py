"""Narratives: stories for staff or leadership, drafted then published."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col

from tracker import clock
from tracker.access import Viewer
from tracker.models import Audience, Narrative, NarrativeBase, NarrativeStatus
from tracker.permissions import Action, require_change, require_new
from tracker.read.sql import frame, rows
from tracker.services import records

# Who a narrative is for, as the interface writes it.
AUDIENCE_WORDS: dict[str, str] = {
    Audience.staff.value: "Staff",
    Audience.leadership.value: "Leadership",
    Audience.everyone.value: "Everyone (staff and leadership)",
}
STATUS_WORDS: dict[str, str] = {
    NarrativeStatus.draft.value: "Draft",
    NarrativeStatus.published.value: "Published",
}

NARRATIVE_COLUMNS = (
    "id",
    "version",
    "title",
    "body",
    "audience",
    "stage",
    "status",
    "author",
    "published_on",
)


def write_narrative(*, session: Session, viewer: Viewer, data: Mapping[str, Any]) -> Narrative:
    """A new narrative (a draft unless `data` says published, which then needs its date)."""
    require_new(session, viewer, Action.programme_edit, Narrative, data)
    return records.create(session, Narrative, NarrativeBase, data)


def update_narrative(
    *,
    session: Session,
    viewer: Viewer,
    narrative_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Narrative:
    require_change(session, viewer, Action.programme_edit, Narrative, narrative_id, changes)
    return records.update(
        session,
        Narrative,
        NarrativeBase,
        narrative_id,
        expected_version=expected_version,
        changes=changes,
    )


def publish_narrative(
    *, session: Session, viewer: Viewer, narrative_id: int, expected_version: int
) -> Narrative:
    """Publish a draft today: staff see it from now on."""
    return update_narrative(
        session=session,
        viewer=viewer,
        narrative_id=narrative_id,
        expected_version=expected_version,
        changes={"status": NarrativeStatus.published, "published_on": clock.today()},
    )


def unpublish_narrative(
    *, session: Session, viewer: Viewer, narrative_id: int, expected_version: int
) -> Narrative:
    """Take a narrative back to draft: staff no longer see it."""
    return update_narrative(
        session=session,
        viewer=viewer,
        narrative_id=narrative_id,
        expected_version=expected_version,
        changes={"status": NarrativeStatus.draft, "published_on": None},
    )


def delete_narrative(
    *, session: Session, viewer: Viewer, narrative_id: int, expected_version: int
) -> None:
    require_change(session, viewer, Action.programme_edit, Narrative, narrative_id)
    records.delete(session, Narrative, narrative_id, expected_version=expected_version)


def narrative_table(*, session: Session, programme_id: int) -> pd.DataFrame:
    """The programme's narratives, drafts and published, newest written first.

    Columns: id, version, title, body (Markdown as written), audience, stage (a stage key or
    None), status ("draft"/"published"), author, published_on (date, None for a draft).
    """
    statement = (
        sa.select(*(col(getattr(Narrative, name)) for name in NARRATIVE_COLUMNS))
        .where(col(Narrative.programme_id) == programme_id)
        .order_by(col(Narrative.id).desc())
    )
    found = [
        {
            **row,
            "audience": str(row["audience"]),
            "status": str(row["status"]),
            "stage": None if row["stage"] is None else str(row["stage"]),
        }
        for row in rows(session, statement)
    ]
    return frame(found, NARRATIVE_COLUMNS, optional=("stage", "published_on"))
