"""Programmes, their partners, their six stage records and exit criteria, and overrides of the
suggested delivery confidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from tracker import clock
from tracker.access import Viewer
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
from tracker.permissions import (
    Action,
    allowed,
    forget_scope,
    organisations,
    programme_scope,
    require,
    require_change,
    require_new,
    require_programme,
)
from tracker.services import records


def create_programme(
    *,
    session: Session,
    viewer: Viewer,
    data: Mapping[str, Any],
    partner_ids: Iterable[int] = (),
    sharing_ids: Iterable[int] = (),
    stages: Mapping[Stage, Mapping[str, Any]] | None = None,
) -> Programme:
    """A new programme with all six stage records (every programme has all six). `stages` may
    give each stage's narrative and dates. The owner and every partner must be organisations
    the viewer acts for (Action.programme_create); `sharing_ids` are the partners with a
    data-sharing agreement."""
    partners = set(partner_ids)
    owner = data.get("organisation_id")
    named = {*partners, *([owner] if owner is not None else [])}
    if owner is None:
        raise DomainError("organisation_id", "is required")
    require(viewer, Action.programme_create, organisations(named))
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
    set_partners(
        session=session,
        viewer=viewer,
        programme_id=programme.id,
        organisation_ids=partners,
        sharing_ids=sharing_ids,
    )
    return programme


def update_programme(
    *,
    session: Session,
    viewer: Viewer,
    programme_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Programme:
    """Change a programme's details. Its owning organisation is not one of them: a programme
    stays with the organisation that owns it."""
    require_programme(session, viewer, Action.programme_edit, programme_id)
    if "organisation_id" in changes:
        current = records.get(session, Programme, programme_id)
        if int(changes["organisation_id"]) != current.organisation_id:
            raise DomainError(
                "organisation_id", "a programme stays with the organisation that owns it"
            )
    return records.update(
        session,
        Programme,
        ProgrammeBase,
        programme_id,
        expected_version=expected_version,
        changes=changes,
    )


def set_partners(
    *,
    session: Session,
    viewer: Viewer,
    programme_id: int,
    organisation_ids: Iterable[int],
    sharing_ids: Iterable[int] = (),
) -> None:
    """Make exactly these organisations partners of the programme (not its owner), and
    `sharing_ids` (some of them) the partners it records a data-sharing agreement with.

    Only the owner's managers and administrators decide who a programme is pooled with
    (Action.programme_share), and a new partner must be an organisation they act for
    (Action.programme_create): nobody can push a programme into another organisation's
    portfolio."""
    programme = require_programme(session, viewer, Action.programme_share, programme_id)
    wanted = set(organisation_ids)
    sharing = set(sharing_ids)
    if programme.organisation_id in wanted:
        raise DomainError("partners", "the owning organisation cannot also be a partner")
    if sharing - wanted:
        raise DomainError("data_sharing", "a data-sharing agreement is with a partner")
    for organisation_id in wanted:
        records.get(session, Organisation, organisation_id)
    existing = session.exec(
        select(ProgrammePartner).where(ProgrammePartner.programme_id == programme_id)
    ).all()
    have = {link.organisation_id for link in existing}
    if wanted - have:
        require(viewer, Action.programme_create, organisations(wanted - have))
    for link in existing:
        if link.organisation_id not in wanted:
            session.delete(link)
        elif link.data_sharing_agreement != (link.organisation_id in sharing):
            link.data_sharing_agreement = link.organisation_id in sharing
    for organisation_id in sorted(wanted - have):
        session.add(
            ProgrammePartner(
                programme_id=programme_id,
                organisation_id=organisation_id,
                data_sharing_agreement=organisation_id in sharing,
            )
        )
    records.flush(session, ProgrammePartner)
    forget_scope(session, programme_id)


def organisation_choices(*, session: Session) -> dict[int, str]:
    """Every organisation, id -> name, by name: the owners and partners a programme can have."""
    rows = session.exec(
        select(Organisation.id, Organisation.name).order_by(col(Organisation.name))
    ).all()
    return {int(org_id): name for org_id, name in rows if org_id is not None}


@dataclass(frozen=True)
class Pooling:
    """Who a programme is pooled with, as the form that changes it needs it."""

    partner_ids: list[int]
    sharing_ids: list[int]  # the partners with a data-sharing agreement
    # Organisations the form offers, by name: those the viewer may add as a partner (they act
    # for them), and those already pooled (so they can be removed).
    offered: list[int]
    may_change: bool  # Action.programme_share: the owner's managers and administrators


def pooling(*, session: Session, viewer: Viewer, programme_id: int) -> Pooling:
    """Who the programme is pooled with, and what the viewer may change of it."""
    programme = require_programme(session, viewer, Action.programme_edit, programme_id)
    partners = partner_ids(session=session, programme_id=programme_id)
    offered = [
        org_id
        for org_id in organisation_choices(session=session)
        if org_id != programme.organisation_id
        and (
            org_id in partners or allowed(viewer, Action.programme_create, organisations([org_id]))
        )
    ]
    return Pooling(
        partner_ids=partners,
        sharing_ids=sharing_partner_ids(session=session, programme_id=programme_id),
        offered=offered,
        may_change=allowed(viewer, Action.programme_share, programme_scope(session, programme_id)),
    )


def sharing_partner_ids(*, session: Session, programme_id: int) -> list[int]:
    """The partners the programme records a data-sharing agreement with, by id."""
    return sorted(
        session.exec(
            select(ProgrammePartner.organisation_id).where(
                ProgrammePartner.programme_id == programme_id,
                col(ProgrammePartner.data_sharing_agreement),
            )
        ).all()
    )


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


def create_stage_record(
    *, session: Session, viewer: Viewer, data: Mapping[str, Any]
) -> StageRecord:
    """Only for repairing data: create_programme already makes all six."""
    require_new(session, viewer, Action.programme_edit, StageRecord, data)
    return records.create(session, StageRecord, StageRecordBase, data)


def update_stage_record(
    *,
    session: Session,
    viewer: Viewer,
    stage_record_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> StageRecord:
    require_change(session, viewer, Action.programme_edit, StageRecord, stage_record_id)
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
    *, session: Session, viewer: Viewer, stage_record_id: int, text: str, met: bool = False
) -> ExitCriterion:
    records.get(session, StageRecord, stage_record_id)
    require_change(session, viewer, Action.programme_edit, StageRecord, stage_record_id)
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
    *,
    session: Session,
    viewer: Viewer,
    criterion_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> ExitCriterion:
    require_change(session, viewer, Action.programme_edit, ExitCriterion, criterion_id, changes)
    return records.update(
        session,
        ExitCriterion,
        ExitCriterionBase,
        criterion_id,
        expected_version=expected_version,
        changes=changes,
    )


def delete_exit_criterion(
    *, session: Session, viewer: Viewer, criterion_id: int, expected_version: int
) -> None:
    require_change(session, viewer, Action.programme_edit, ExitCriterion, criterion_id)
    records.delete(session, ExitCriterion, criterion_id, expected_version=expected_version)


def override_confidence(
    *,
    session: Session,
    viewer: Viewer,
    programme_id: int,
    rating: DeliveryConfidence | str,
    reason: str,
    set_by: str | None = None,
) -> ConfidenceOverride:
    """Record an override of the suggested delivery confidence by a manager or administrator
    of the owning organisation (Action.confidence_override); a reason is required. It is set by
    the viewer: `set_by` is for the installation's own writes (seeding) only, and is ignored
    for a person, so nobody can record an override in another's name."""
    require_programme(session, viewer, Action.confidence_override, programme_id)
    if not viewer.system or not set_by:
        set_by = viewer.email
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
