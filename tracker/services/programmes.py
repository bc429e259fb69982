"""Programmes, their partners, their six stage records and exit criteria, and overrides of the
suggested delivery confidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, col, select

from tracker import clock
from tracker.errors import DomainError
from tracker.models import (
    ConfidenceOverride,
    ConfidenceOverrideBase,
    DeliveryConfidence,
    ExitCriterion,
    ExitCriterionBase,
    Organisation,
    Programme,
    ProgrammeBase,
    ProgrammePartner,
    Stage,
    StageRecord,
    StageRecordBase,
)
from tracker.services import records


def create_programme(
    *,
    session: Session,
    data: Mapping[str, Any],
    partner_ids: Iterable[int] = (),
    stages: Mapping[Stage, Mapping[str, Any]] | None = None,
) -> Programme:
    """A new programme with all six stage records (every programme has all six). `stages` may
    give each stage's narrative and dates."""
    programme = records.create(session, Programme, ProgrammeBase, data)
    assert programme.id is not None
    for stage in Stage:
        fields = dict((stages or {}).get(stage, {}))
        records.create(
            session,
            StageRecord,
            StageRecordBase,
            {**fields, "programme_id": programme.id, "stage": stage},
        )
    set_partners(session=session, programme_id=programme.id, organisation_ids=partner_ids)
    return programme


def update_programme(
    *, session: Session, programme_id: int, expected_version: int, changes: Mapping[str, Any]
) -> Programme:
    return records.update(
        session,
        Programme,
        ProgrammeBase,
        programme_id,
        expected_version=expected_version,
        changes=changes,
    )


def set_partners(*, session: Session, programme_id: int, organisation_ids: Iterable[int]) -> None:
    """Make exactly these organisations partners of the programme (not its owner)."""
    programme = records.get(session, Programme, programme_id)
    wanted = set(organisation_ids)
    if programme.organisation_id in wanted:
        raise DomainError("partners", "the owning organisation cannot also be a partner")
    for organisation_id in wanted:
        records.get(session, Organisation, organisation_id)
    existing = session.exec(
        select(ProgrammePartner).where(ProgrammePartner.programme_id == programme_id)
    ).all()
    for link in existing:
        if link.organisation_id not in wanted:
            session.delete(link)
    have = {link.organisation_id for link in existing}
    for organisation_id in sorted(wanted - have):
        session.add(ProgrammePartner(programme_id=programme_id, organisation_id=organisation_id))
    records.flush(session, ProgrammePartner)


def organisation_choices(*, session: Session) -> dict[int, str]:
    """Every organisation, id -> name, by name: the owners and partners a programme can have."""
    rows = session.exec(
        select(Organisation.id, Organisation.name).order_by(col(Organisation.name))
    ).all()
    return {int(org_id): name for org_id, name in rows if org_id is not None}


def partner_ids(*, session: Session, programme_id: int) -> list[int]:
    """The organisations pooling resources into the programme (its owner excluded), by id."""
    return sorted(
        session.exec(
            select(ProgrammePartner.organisation_id).where(
                ProgrammePartner.programme_id == programme_id
            )
        ).all()
    )


def stage_record(*, session: Session, programme_id: int, stage: Stage | str) -> StageRecord:
    try:
        key = Stage(stage)
    except ValueError:
        raise DomainError("stage", f"'{stage}' is not one of the six stages") from None
    record = session.exec(
        select(StageRecord).where(
            StageRecord.programme_id == programme_id, StageRecord.stage == key
        )
    ).first()
    if record is None:
        raise DomainError("stage", "this programme has no record for that stage")
    return record


def create_stage_record(*, session: Session, data: Mapping[str, Any]) -> StageRecord:
    """Only for repairing data: create_programme already makes all six."""
    return records.create(session, StageRecord, StageRecordBase, data)


def update_stage_record(
    *, session: Session, stage_record_id: int, expected_version: int, changes: Mapping[str, Any]
) -> StageRecord:
    if "programme_id" in changes or "stage" in changes:
        raise DomainError("stage", "a stage record stays with its programme and stage")
    return records.update(
        session,
        StageRecord,
        StageRecordBase,
        stage_record_id,
        expected_version=expected_version,
        changes=changes,
    )


def add_exit_criterion(
    *, session: Session, stage_record_id: int, text: str, met: bool = False
) -> ExitCriterion:
    records.get(session, StageRecord, stage_record_id)
    count = len(
        session.exec(
            select(ExitCriterion.id).where(ExitCriterion.stage_record_id == stage_record_id)
        ).all()
    )
    return records.create(
        session,
        ExitCriterion,
        ExitCriterionBase,
        {"stage_record_id": stage_record_id, "text": text, "met": met, "position": count},
    )


def exit_criteria(*, session: Session, stage_record_id: int) -> list[ExitCriterion]:
    """A stage's exit criteria in checklist order (position, then the order they were added)."""
    return list(
        session.exec(
            select(ExitCriterion)
            .where(ExitCriterion.stage_record_id == stage_record_id)
            .order_by(col(ExitCriterion.position), col(ExitCriterion.id))
        ).all()
    )


def update_exit_criterion(
    *, session: Session, criterion_id: int, expected_version: int, changes: Mapping[str, Any]
) -> ExitCriterion:
    return records.update(
        session,
        ExitCriterion,
        ExitCriterionBase,
        criterion_id,
        expected_version=expected_version,
        changes=changes,
    )


def delete_exit_criterion(*, session: Session, criterion_id: int, expected_version: int) -> None:
    records.delete(session, ExitCriterion, criterion_id, expected_version=expected_version)


def override_confidence(
    *,
    session: Session,
    programme_id: int,
    rating: DeliveryConfidence | str,
    reason: str,
    set_by: str,
) -> ConfidenceOverride:
    """Record a manager's override of the suggested delivery confidence; a reason is required."""
    records.get(session, Programme, programme_id)
    return records.create(
        session,
        ConfidenceOverride,
        ConfidenceOverrideBase,
        {
            "programme_id": programme_id,
            "rating": rating,
            "reason": reason.strip(),
            "set_by": set_by,
            "set_at": clock.now(),
        },
    )
