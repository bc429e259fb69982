"""Narratives: stories for staff or leadership, drafted then published."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from tracker import clock
from tracker.models import Narrative, NarrativeBase, NarrativeStatus
from tracker.services import records


def write_narrative(*, session: Session, data: Mapping[str, Any]) -> Narrative:
    """A new narrative (a draft unless `data` says published, which then needs its date)."""
    return records.create(session, Narrative, NarrativeBase, data)


def update_narrative(
    *, session: Session, narrative_id: int, expected_version: int, changes: Mapping[str, Any]
) -> Narrative:
    return records.update(
        session,
        Narrative,
        NarrativeBase,
        narrative_id,
        expected_version=expected_version,
        changes=changes,
    )


def publish_narrative(*, session: Session, narrative_id: int, expected_version: int) -> Narrative:
    """Publish a draft today: staff see it from now on."""
    return update_narrative(
        session=session,
        narrative_id=narrative_id,
        expected_version=expected_version,
        changes={"status": NarrativeStatus.published, "published_on": clock.today()},
    )


def unpublish_narrative(*, session: Session, narrative_id: int, expected_version: int) -> Narrative:
    """Take a narrative back to draft: staff no longer see it."""
    return update_narrative(
        session=session,
        narrative_id=narrative_id,
        expected_version=expected_version,
        changes={"status": NarrativeStatus.draft, "published_on": None},
    )


def delete_narrative(*, session: Session, narrative_id: int, expected_version: int) -> None:
    records.delete(session, Narrative, narrative_id, expected_version=expected_version)
