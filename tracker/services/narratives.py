"""Narratives: stories for staff or leadership, drafted then published."""

from __future__ import annotations

from sqlmodel import Session

from tracker import clock
from tracker.access import Viewer
from tracker.models import (
    Audience,
    Narrative,
    NarrativeBase,
    NarrativeCreate,
    NarrativeStatus,
    NarrativeUpdate,
)
from tracker.permissions import Action
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


def write_narrative(*, session: Session, viewer: Viewer, data: NarrativeCreate) -> Narrative:
    """A new narrative (a draft unless `data` says published, which then needs its date)."""
    return records.create_checked(
        session, viewer, Action.programme_edit, Narrative, NarrativeBase, data
    )


def update_narrative(
    *, session: Session, viewer: Viewer, narrative_id: int, data: NarrativeUpdate
) -> Narrative:
    """Change the fields `data` sets, if the narrative is still at `data.version`."""
    return records.update_checked(
        session, viewer, Action.programme_edit, Narrative, NarrativeBase, narrative_id, data
    )


def publish_narrative(
    *, session: Session, viewer: Viewer, narrative_id: int, expected_version: int
) -> Narrative:
    """Publish a draft today: staff see it from now on."""
    published = NarrativeUpdate(
        version=expected_version, status=NarrativeStatus.published, published_on=clock.today()
    )
    return update_narrative(
        session=session, viewer=viewer, narrative_id=narrative_id, data=published
    )


def unpublish_narrative(
    *, session: Session, viewer: Viewer, narrative_id: int, expected_version: int
) -> Narrative:
    """Take a narrative back to draft: staff no longer see it."""
    draft = NarrativeUpdate(
        version=expected_version, status=NarrativeStatus.draft, published_on=None
    )
    return update_narrative(session=session, viewer=viewer, narrative_id=narrative_id, data=draft)


def delete_narrative(
    *, session: Session, viewer: Viewer, narrative_id: int, expected_version: int
) -> None:
    """Delete the narrative, if it is still at `expected_version`."""
    records.delete_checked(
        session,
        viewer,
        Action.programme_edit,
        Narrative,
        narrative_id,
        expected_version=expected_version,
    )
