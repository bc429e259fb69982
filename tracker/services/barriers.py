"""Barriers: risks and issues in the article's categories, scored likelihood x impact."""

from __future__ import annotations

from sqlmodel import Session

from tracker.access import Viewer
from tracker.models import (
    Barrier,
    BarrierBase,
    BarrierCategory,
    BarrierCreate,
    BarrierKind,
    BarrierStatus,
    BarrierUpdate,
)
from tracker.permissions import Action
from tracker.services import records

# The article's categories, kinds and statuses as the interface writes them.
# Labels by stored value (tracker.vocabulary), for tables and choices.
CATEGORY_WORDS: dict[str, str] = {category.value: category.label for category in BarrierCategory}
KIND_WORDS: dict[str, str] = {kind.value: kind.label for kind in BarrierKind}
STATUS_WORDS: dict[str, str] = {status.value: status.label for status in BarrierStatus}


def create_barrier(*, session: Session, viewer: Viewer, data: BarrierCreate) -> Barrier:
    """A new risk or issue on the programme (Action.programme_edit)."""
    return records.create_checked(
        session, viewer, Action.programme_edit, Barrier, BarrierBase, data
    )


def update_barrier(
    *, session: Session, viewer: Viewer, barrier_id: int, data: BarrierUpdate
) -> Barrier:
    """Change the fields `data` sets, if the barrier is still at `data.version`."""
    return records.update_checked(
        session, viewer, Action.programme_edit, Barrier, BarrierBase, barrier_id, data
    )


def delete_barrier(
    *, session: Session, viewer: Viewer, barrier_id: int, expected_version: int
) -> None:
    records.delete_checked(
        session,
        viewer,
        Action.programme_edit,
        Barrier,
        barrier_id,
        expected_version=expected_version,
    )
