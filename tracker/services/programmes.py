"""Programmes, their partners, their six stage records and exit criteria, and overrides of the
suggested delivery confidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlmodel import Session, select

from tracker import clock
from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import (
    ConfidenceOverride,
    ConfidenceOverrideBase,
    DeliveryConfidence,
    ExitCriterion,
    ExitCriterionBase,
    ExitCriterionUpdate,
    Organisation,
    Programme,
    ProgrammeBase,
    ProgrammeCreate,
    ProgrammePartner,
    ProgrammeUpdate,
    Stage,
    StagePlan,
    StageRecord,
    StageRecordBase,
    StageRecordCreate,
    StageRecordUpdate,
)
from tracker.permissions import (
    Action,
    forget_scope,
    organisations,
    require,
    require_change,
    require_programme,
)
from tracker.services import records


def create_programme(
    *,
    session: Session,
    viewer: Viewer,
    data: ProgrammeCreate,
    partner_ids: Iterable[int] = (),
    sharing_ids: Iterable[int] = (),
    stages: Mapping[Stage, StagePlan] | None = None,
) -> Programme:
    """A new programme with all six stage records (every programme has all six). `stages` may
    give each stage's narrative and dates. The owner and every partner must be organisations
    the viewer acts for (Action.programme_create); `sharing_ids` are the partners with a
    data-sharing agreement."""
    partners = set(partner_ids)
    require(viewer, Action.programme_create, organisations({*partners, data.organisation_id}))
    programme = records.create(session, Programme, ProgrammeBase, records.changes_of(data))
    assert programme.id is not None
    for stage in Stage:
        plan = (stages or {}).get(stage)
        fields = {} if plan is None else records.changes_of(plan)
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
    *, session: Session, viewer: Viewer, programme_id: int, data: ProgrammeUpdate
) -> Programme:
    """Change a programme's details, if it is still at `data.version`. Its owning organisation
    is not one of them: a programme stays with the organisation that owns it."""
    require_programme(session, viewer, Action.programme_edit, programme_id)
    if data.organisation_id is not None:
        current = records.get(session, Programme, programme_id)
        if data.organisation_id != current.organisation_id:
            raise DomainError(
                "organisation_id", "a programme stays with the organisation that owns it"
            )
    return records.update_from(session, Programme, ProgrammeBase, programme_id, data)


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


def create_stage_record(
    *, session: Session, viewer: Viewer, data: StageRecordCreate
) -> StageRecord:
    """Only for repairing data: create_programme already makes all six."""
    return records.create_checked(
        session, viewer, Action.programme_edit, StageRecord, StageRecordBase, data
    )


def update_stage_record(
    *, session: Session, viewer: Viewer, stage_record_id: int, data: StageRecordUpdate
) -> StageRecord:
    """Change the stage's story and dates, if the record is still at `data.version`."""
    require_change(session, viewer, Action.programme_edit, StageRecord, stage_record_id)
    if {"programme_id", "stage"} & data.model_fields_set:
        raise DomainError("stage", "a stage record stays with its programme and stage")
    return records.update_from(session, StageRecord, StageRecordBase, stage_record_id, data)


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


def update_exit_criterion(
    *, session: Session, viewer: Viewer, criterion_id: int, data: ExitCriterionUpdate
) -> ExitCriterion:
    """Change the fields `data` sets, if the criterion is still at `data.version`."""
    return records.update_checked(
        session, viewer, Action.programme_edit, ExitCriterion, ExitCriterionBase, criterion_id, data
    )


def delete_exit_criterion(
    *, session: Session, viewer: Viewer, criterion_id: int, expected_version: int
) -> None:
    """Delete the criterion, if it is still at `expected_version`."""
    records.delete_checked(
        session,
        viewer,
        Action.programme_edit,
        ExitCriterion,
        criterion_id,
        expected_version=expected_version,
    )


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
