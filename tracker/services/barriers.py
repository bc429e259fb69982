"""Barriers: risks and issues in the article's categories, scored likelihood x impact."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col

from tracker.access import Viewer
from tracker.models import Barrier, BarrierBase, BarrierCategory, BarrierKind, BarrierStatus
from tracker.permissions import Action, require_change, require_new
from tracker.read.sql import frame, rows
from tracker.services import records

# The article's categories, kinds and statuses as the interface writes them.
CATEGORY_WORDS: dict[str, str] = {
    BarrierCategory.financial.value: "Financial",
    BarrierCategory.cultural.value: "Cultural",
    BarrierCategory.legal_data_protection.value: "Legal and data protection",
    BarrierCategory.technical.value: "Technical",
    BarrierCategory.capacity.value: "Capacity",
    BarrierCategory.other.value: "Other",
}
KIND_WORDS: dict[str, str] = {BarrierKind.risk.value: "Risk", BarrierKind.issue.value: "Issue"}
STATUS_WORDS: dict[str, str] = {
    BarrierStatus.open.value: "Open",
    BarrierStatus.mitigating.value: "Mitigating",
    BarrierStatus.closed.value: "Closed",
}

BARRIER_COLUMNS = (
    "id",
    "version",
    "title",
    "kind",
    "category",
    "likelihood",
    "impact",
    "score",
    "owner",
    "mitigation",
    "status",
)


def create_barrier(*, session: Session, viewer: Viewer, data: Mapping[str, Any]) -> Barrier:
    require_new(session, viewer, Action.programme_edit, Barrier, data)
    return records.create(session, Barrier, BarrierBase, data)


def update_barrier(
    *,
    session: Session,
    viewer: Viewer,
    barrier_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Barrier:
    require_change(session, viewer, Action.programme_edit, Barrier, barrier_id, changes)
    return records.update(
        session,
        Barrier,
        BarrierBase,
        barrier_id,
        expected_version=expected_version,
        changes=changes,
    )


def delete_barrier(
    *, session: Session, viewer: Viewer, barrier_id: int, expected_version: int
) -> None:
    require_change(session, viewer, Action.programme_edit, Barrier, barrier_id)
    records.delete(session, Barrier, barrier_id, expected_version=expected_version)


def barrier_table(*, session: Session, programme_id: int) -> pd.DataFrame:
    """The programme's barriers for a bulk editor, highest score first (then by title).

    Columns: id, version, title, kind, category and status (the stored values, e.g.
    "legal_data_protection"), likelihood and impact (1-5), score (likelihood x impact, 1-25),
    owner, mitigation.
    """
    score = (col(Barrier.likelihood) * col(Barrier.impact)).label("score")
    statement = (
        sa.select(
            col(Barrier.id),
            col(Barrier.version),
            col(Barrier.title),
            col(Barrier.kind),
            col(Barrier.category),
            col(Barrier.likelihood),
            col(Barrier.impact),
            score,
            col(Barrier.owner),
            col(Barrier.mitigation),
            col(Barrier.status),
        )
        .where(col(Barrier.programme_id) == programme_id)
        .order_by(score.desc(), col(Barrier.title), col(Barrier.id))
    )
    found = [
        {**row, **{name: str(row[name]) for name in ("kind", "category", "status")}}
        for row in rows(session, statement)
    ]
    # Typed even when empty, so an editor of no rows still knows its number columns.
    return frame(found, BARRIER_COLUMNS).astype(
        dict.fromkeys(("id", "version", "likelihood", "impact", "score"), "int64")
    )
