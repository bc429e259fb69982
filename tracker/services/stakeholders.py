"""Stakeholders, their assessments over time, and who influences whom. The current stance of a
stakeholder is always that of their latest assessment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from tracker import clock
from tracker.errors import DomainError
from tracker.models import (
    Assessment,
    AssessmentBase,
    InfluenceLink,
    InfluenceLinkBase,
    Stakeholder,
    StakeholderBase,
)
from tracker.services import records


def create_stakeholder(
    *,
    session: Session,
    data: Mapping[str, Any],
    assessed_by: str = "",
    first_assessment: Mapping[str, Any] | None = None,
) -> Stakeholder:
    """A new stakeholder and their first assessment, so their stance has a history. The first
    assessment is dated today unless `first_assessment` gives `assessed_on`; it may also carry
    ADKAR scores."""
    stakeholder = records.create(session, Stakeholder, StakeholderBase, data)
    assert stakeholder.id is not None
    records.create(
        session,
        Assessment,
        AssessmentBase,
        {
            "stakeholder_id": stakeholder.id,
            "assessed_on": clock.today(),
            "stance": stakeholder.stance,
            "influence": stakeholder.influence,
            "interest": stakeholder.interest,
            "assessed_by": assessed_by,
            **(first_assessment or {}),
        },
    )
    return stakeholder


def update_stakeholder(
    *,
    session: Session,
    stakeholder_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
    assessed_by: str = "",
) -> Stakeholder:
    """Change a stakeholder's details. A new stance is recorded as an assessment dated today."""
    if "programme_id" in changes:
        raise DomainError("programme_id", "a stakeholder cannot move to another programme")
    stakeholder = records.update(
        session,
        Stakeholder,
        StakeholderBase,
        stakeholder_id,
        expected_version=expected_version,
        changes={k: v for k, v in changes.items() if k != "stance"},
    )
    if "stance" in changes and changes["stance"] != stakeholder.stance:
        record_assessment(
            session=session,
            data={
                "stakeholder_id": stakeholder_id,
                "assessed_on": clock.today(),
                "stance": changes["stance"],
                "assessed_by": assessed_by,
            },
        )
    return stakeholder


def record_assessment(*, session: Session, data: Mapping[str, Any]) -> Assessment:
    """A dated reading of stance (and optionally influence, interest, ADKAR). The stakeholder's
    current stance, influence and interest follow their latest assessment."""
    clean = records.validated(AssessmentBase, data)
    if clean.assessed_on > clock.today():
        raise DomainError("assessed_on", "an assessment cannot be dated in the future")
    stakeholder = records.get(session, Stakeholder, clean.stakeholder_id, for_update=True)
    assessment = records.create(session, Assessment, AssessmentBase, clean.model_dump())
    _follow_latest(session, stakeholder)
    return assessment


def _follow_latest(session: Session, stakeholder: Stakeholder) -> None:
    latest = session.exec(
        select(Assessment)
        .where(Assessment.stakeholder_id == stakeholder.id)
        .order_by(col(Assessment.assessed_on).desc(), col(Assessment.id).desc())
        .limit(1)
    ).one()
    wanted = {
        "stance": latest.stance,
        "influence": latest.influence or stakeholder.influence,
        "interest": latest.interest or stakeholder.interest,
    }
    changed = False
    for name, value in wanted.items():
        if getattr(stakeholder, name) != value:
            setattr(stakeholder, name, value)
            changed = True
    if changed:
        stakeholder.version += 1
        records.flush(session, Stakeholder)


def delete_stakeholder(*, session: Session, stakeholder_id: int, expected_version: int) -> None:
    records.delete(session, Stakeholder, stakeholder_id, expected_version=expected_version)


def add_influence_link(*, session: Session, data: Mapping[str, Any]) -> InfluenceLink:
    """Stakeholder A influences stakeholder B; both in the same programme."""
    clean = records.validated(InfluenceLinkBase, data)
    source = records.get(session, Stakeholder, clean.from_stakeholder_id)
    target = records.get(session, Stakeholder, clean.to_stakeholder_id)
    if source.programme_id != target.programme_id:
        raise DomainError("to_stakeholder_id", "both stakeholders must be in the same programme")
    return records.create(session, InfluenceLink, InfluenceLinkBase, clean.model_dump())


def update_influence_link(
    *, session: Session, link_id: int, expected_version: int, strength: int
) -> InfluenceLink:
    return records.update(
        session,
        InfluenceLink,
        InfluenceLinkBase,
        link_id,
        expected_version=expected_version,
        changes={"strength": strength},
    )


def delete_influence_link(*, session: Session, link_id: int, expected_version: int) -> None:
    records.delete(session, InfluenceLink, link_id, expected_version=expected_version)
