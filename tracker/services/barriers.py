"""Barriers: risks and issues in the article's categories, scored likelihood x impact."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from tracker.models import Barrier, BarrierBase
from tracker.services import records


def create_barrier(*, session: Session, data: Mapping[str, Any]) -> Barrier:
    return records.create(session, Barrier, BarrierBase, data)


def update_barrier(
    *, session: Session, barrier_id: int, expected_version: int, changes: Mapping[str, Any]
) -> Barrier:
    return records.update(
        session,
        Barrier,
        BarrierBase,
        barrier_id,
        expected_version=expected_version,
        changes=changes,
    )


def delete_barrier(*, session: Session, barrier_id: int, expected_version: int) -> None:
    records.delete(session, Barrier, barrier_id, expected_version=expected_version)
