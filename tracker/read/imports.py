"""What an import reads: the records a file's rows could refer to, fetched in a few queries
each, the programmes the viewer may change, and the organisations' saved column choices.

The import's row plans (tracker.io.imports) take these as plain values; nothing here decides
what a row does, and nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from tracker import access, permissions
from tracker.access import Viewer
from tracker.errors import NotFoundError
from tracker.models import (
    Assessment,
    ConfidenceOverride,
    DeliveryConfidence,
    ImportKind,
    ImportMapping,
    Metric,
    MetricReading,
    Milestone,
    Organisation,
    Programme,
    ProgrammePartner,
    StaffGroup,
    Stakeholder,
)

__all__ = [
    "assessments",
    "latest_ratings",
    "mapping_organisation",
    "metrics",
    "milestones",
    "organisations",
    "programmes_by_code",
    "readings",
    "saved_mapping",
    "staff_groups",
    "stakeholders",
    "visible_programme_ids",
]


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def programmes_by_code(session: Session, codes: Iterable[str]) -> dict[str, Programme]:
    """The programmes whose code is one of `codes`, by code (any viewer's: the plan decides)."""
    found: dict[str, Programme] = {}
    for chunk in _chunks(sorted(set(codes))):
        for programme in session.exec(select(Programme).where(col(Programme.code).in_(chunk))):
            found[programme.code] = programme
    return found


def organisations(session: Session) -> list[Organisation]:
    """Every organisation (a programme row names its own by name or short name)."""
    return list(session.exec(select(Organisation)))


def visible_programme_ids(session: Session, viewer: Viewer) -> set[int]:
    """The ids of the programmes the viewer can see."""
    visible = session.exec(access.visible_programme_ids(viewer)).all()
    return {programme_id for programme_id in visible if programme_id}


def latest_ratings(session: Session, programme_ids: Sequence[int]) -> dict[int, DeliveryConfidence]:
    """Each programme's latest delivery confidence override (absent when it has none)."""
    latest: dict[int, DeliveryConfidence] = {}
    for chunk in _chunks(programme_ids):
        for override in session.exec(
            select(ConfidenceOverride)
            .where(col(ConfidenceOverride.programme_id).in_(chunk))
            .order_by(col(ConfidenceOverride.set_at), col(ConfidenceOverride.id))
        ):
            latest[override.programme_id] = DeliveryConfidence(override.rating)
    return latest


def milestones(session: Session, programme_id: int | None) -> list[Milestone]:
    """The programme's milestones."""
    return list(session.exec(select(Milestone).where(Milestone.programme_id == programme_id)))


def stakeholders(session: Session, programme_id: int | None) -> list[Stakeholder]:
    """The programme's stakeholders."""
    return list(session.exec(select(Stakeholder).where(Stakeholder.programme_id == programme_id)))


def staff_groups(session: Session, programme_id: int | None) -> tuple[int, list[StaffGroup]]:
    """The programme's owning organisation, and the staff groups of it and of its partners."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFoundError(None, "That programme no longer exists. Reload the page.")
    partners = select(ProgrammePartner.organisation_id).where(
        ProgrammePartner.programme_id == programme_id
    )
    groups = session.exec(
        select(StaffGroup).where(
            sa.or_(
                col(StaffGroup.organisation_id) == programme.organisation_id,
                col(StaffGroup.organisation_id).in_(partners),
            )
        )
    )
    return programme.organisation_id, list(groups)


def assessments(session: Session, programme_id: int | None) -> list[Assessment]:
    """Every assessment of the programme's stakeholders."""
    of_programme = select(Stakeholder.id).where(Stakeholder.programme_id == programme_id)
    return list(
        session.exec(select(Assessment).where(col(Assessment.stakeholder_id).in_(of_programme)))
    )


def metrics(session: Session, programme_id: int | None) -> list[Metric]:
    """The programme's metrics."""
    return list(session.exec(select(Metric).where(Metric.programme_id == programme_id)))


def readings(session: Session, programme_id: int | None) -> list[MetricReading]:
    """Every reading of the programme's metrics."""
    of_programme = select(Metric.id).where(Metric.programme_id == programme_id)
    return list(
        session.exec(select(MetricReading).where(col(MetricReading.metric_id).in_(of_programme)))
    )


def mapping_organisation(
    *, session: Session, viewer: Viewer, programme_id: int | None
) -> int | None:
    """The organisation whose saved column choices read a file into this programme (and that
    new choices are saved for): the programme's owner when the viewer acts for it, otherwise
    the viewer's first organisation by name; None for a viewer of no organisation. Raises
    NotFoundError when the viewer cannot see the programme."""
    if programme_id is not None:
        owner = permissions.require_programme(
            session, viewer, permissions.Action.programme_read, programme_id
        ).organisation_id
        if owner in viewer.organisation_ids:
            return owner
    first = session.exec(
        select(Organisation.id)
        .where(col(Organisation.id).in_(sorted(viewer.organisation_ids)))
        .order_by(col(Organisation.name))
    ).first()
    return first


def saved_mapping(session: Session, organisation_id: int, kind: ImportKind) -> ImportMapping | None:
    """The organisation's saved column choices for `kind`, or None when it has none."""
    return session.exec(
        select(ImportMapping).where(
            ImportMapping.organisation_id == organisation_id, ImportMapping.kind == kind
        )
    ).first()
