"""Stakeholders, their assessments over time, and who influences whom. The current stance of a
stakeholder is always that of their latest assessment. Writes only: the reads are in
tracker/read/people.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from tracker import clock
from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import (
    Assessment,
    AssessmentBase,
    InfluenceLink,
    InfluenceLinkBase,
    Stakeholder,
    StakeholderBase,
)
from tracker.models.people import (
    AssessmentCreate,
    AssessmentUpdate,
    InfluenceLinkCreate,
    InfluenceLinkUpdate,
    StakeholderCreate,
    StakeholderUpdate,
)
from tracker.permissions import Action, require_change, require_new
from tracker.read.people import REGISTER_COLUMNS, staff_group_options
from tracker.services import records
from tracker.workspace import TableEditCounts, apply_table_edits


def create_stakeholder(
    *,
    session: Session,
    viewer: Viewer,
    data: StakeholderCreate,
    assessed_by: str = "",
    first_assessment: Mapping[str, Any] | None = None,
) -> Stakeholder:
    """A new stakeholder and their first assessment, so their stance has a history. The first
    assessment is dated today unless `first_assessment` gives `assessed_on`; it may also carry
    ADKAR scores."""
    values = data.model_dump()
    require_new(session, viewer, Action.stakeholder_edit, Stakeholder, values)
    stakeholder = records.create(session, Stakeholder, StakeholderBase, values)
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
    viewer: Viewer,
    stakeholder_id: int,
    data: StakeholderUpdate,
    assessed_by: str = "",
) -> Stakeholder:
    """Change a stakeholder's details. A new stance is recorded as an assessment dated today."""
    require_change(session, viewer, Action.stakeholder_edit, Stakeholder, stakeholder_id)
    changes = records.changes_of(data)
    stance = changes.pop("stance", None)
    stakeholder = records.update(
        session,
        Stakeholder,
        StakeholderBase,
        stakeholder_id,
        expected_version=data.version,
        changes=changes,
    )
    if "stance" in data.model_fields_set and stance != stakeholder.stance:
        record_assessment(
            session=session,
            viewer=viewer,
            data=records.validated(
                AssessmentCreate,
                {
                    "stakeholder_id": stakeholder_id,
                    "assessed_on": clock.today(),
                    "stance": stance,
                    "assessed_by": assessed_by,
                },
            ),
        )
    return stakeholder


def record_assessment(*, session: Session, viewer: Viewer, data: AssessmentCreate) -> Assessment:
    """A dated reading of stance (and optionally influence, interest, ADKAR). The stakeholder's
    current stance, influence and interest follow their latest assessment."""
    require_new(session, viewer, Action.stakeholder_edit, Assessment, data.model_dump())
    check_assessed_on(data.assessed_on)
    stakeholder = records.get(session, Stakeholder, data.stakeholder_id, for_update=True)
    assessment = records.create(session, Assessment, AssessmentBase, data.model_dump())
    follow_latest(session, stakeholder)
    return assessment


def check_assessed_on(assessed_on: dt.date) -> None:
    """An assessment records what was seen: DomainError when it is dated after today."""
    if assessed_on > clock.today():
        raise DomainError("assessed_on", "an assessment cannot be dated in the future")


def correct_assessment(
    *, session: Session, viewer: Viewer, assessment_id: int, data: AssessmentUpdate
) -> Assessment:
    """Change an assessment's fields (the merged whole must pass the model's rules); the
    stakeholder then follows their latest assessment, as after recording one."""
    require_change(session, viewer, Action.stakeholder_edit, Assessment, assessment_id)
    assessment = records.get(session, Assessment, assessment_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    merged = {name: getattr(assessment, name) for name in AssessmentBase.model_fields}
    clean = records.validated(AssessmentBase, merged | changes).model_dump()
    check_assessed_on(clean["assessed_on"])
    for name in changes:
        setattr(assessment, name, clean[name])
    records.flush(session, Assessment)
    stakeholder = records.get(session, Stakeholder, assessment.stakeholder_id, for_update=True)
    follow_latest(session, stakeholder)
    return assessment


def follow_latest(session: Session, stakeholder: Stakeholder) -> None:
    """Set the stakeholder's stance, influence and interest to their latest assessment's
    (after assessments were written in bulk, e.g. by an import)."""
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


def delete_stakeholder(
    *, session: Session, viewer: Viewer, stakeholder_id: int, expected_version: int
) -> None:
    records.delete_checked(
        session,
        viewer,
        Action.stakeholder_edit,
        Stakeholder,
        stakeholder_id,
        expected_version=expected_version,
    )


def add_influence_link(
    *, session: Session, viewer: Viewer, data: InfluenceLinkCreate
) -> InfluenceLink:
    """Stakeholder A influences stakeholder B; both in the same programme."""
    require_new(session, viewer, Action.stakeholder_edit, InfluenceLink, data.model_dump())
    source = records.get(session, Stakeholder, data.from_stakeholder_id)
    target = records.get(session, Stakeholder, data.to_stakeholder_id)
    if source.programme_id != target.programme_id:
        raise DomainError("to_stakeholder_id", "both stakeholders must be in the same programme")
    return records.create(session, InfluenceLink, InfluenceLinkBase, data.model_dump())


def update_influence_link(
    *, session: Session, viewer: Viewer, link_id: int, data: InfluenceLinkUpdate
) -> InfluenceLink:
    return records.update_checked(
        session, viewer, Action.stakeholder_edit, InfluenceLink, InfluenceLinkBase, link_id, data
    )


def delete_influence_link(
    *, session: Session, viewer: Viewer, link_id: int, expected_version: int
) -> None:
    records.delete_checked(
        session,
        viewer,
        Action.stakeholder_edit,
        InfluenceLink,
        link_id,
        expected_version=expected_version,
    )


def check_staff_group(*, session: Session, programme_id: int, staff_group_id: int | None) -> None:
    """Refuse a staff group outside the programme's owner and partners (None is allowed)."""
    if staff_group_id is None:
        return
    if staff_group_id not in staff_group_options(session=session, programme_id=programme_id):
        raise DomainError(
            "staff_group_id", "choose a staff group of this programme's organisations"
        )


def apply_register_edits(
    *,
    session: Session,
    viewer: Viewer,
    programme_id: int,
    snapshot: Sequence[Mapping[str, Any]],
    changes: Mapping[str, Any],
    assessed_by: str = "",
) -> TableEditCounts:
    """The register editor's changes (rows of stakeholder_table) saved all or nothing, as
    workspace.apply_table_edits: only REGISTER_COLUMNS change; a new row becomes a stakeholder
    with a first assessment; a staff group must be one of the programme's organisations'."""

    def checked(values: dict[str, Any]) -> dict[str, Any]:
        group = values.get("staff_group_id")
        check_staff_group(session=session, programme_id=programme_id, staff_group_id=group)
        return values

    return apply_table_edits(
        session=session,
        snapshot=snapshot,
        changes=changes,
        columns=REGISTER_COLUMNS,
        create=lambda values: create_stakeholder(
            session=session,
            viewer=viewer,
            data=records.validated(
                StakeholderCreate, {**checked(values), "programme_id": programme_id}
            ),
            assessed_by=assessed_by,
        ),
        update=lambda stakeholder_id, version, values: update_stakeholder(
            session=session,
            viewer=viewer,
            stakeholder_id=stakeholder_id,
            data=records.validated(StakeholderUpdate, {**checked(values), "version": version}),
        ),
        delete=lambda stakeholder_id, version: delete_stakeholder(
            session=session, viewer=viewer, stakeholder_id=stakeholder_id, expected_version=version
        ),
    )


def apply_link_edits(
    *,
    session: Session,
    viewer: Viewer,
    snapshot: Sequence[Mapping[str, Any]],
    changes: Mapping[str, Any],
) -> TableEditCounts:
    """The links editor's changes (rows of influence_links) saved all or nothing: strengths
    changed and links deleted. Links are added with link_stakeholders, not here."""

    def refuse(_: dict[str, Any]) -> None:
        raise DomainError(None, "add a link with the form below the table")

    return apply_table_edits(
        session=session,
        snapshot=snapshot,
        changes=changes,
        columns=("strength",),
        create=refuse,
        update=lambda link_id, version, values: update_influence_link(
            session=session,
            viewer=viewer,
            link_id=link_id,
            data=records.validated(
                InfluenceLinkUpdate, {"version": version, "strength": values["strength"]}
            ),
        ),
        delete=lambda link_id, version: delete_influence_link(
            session=session, viewer=viewer, link_id=link_id, expected_version=version
        ),
    )


def link_stakeholders(
    *,
    session: Session,
    viewer: Viewer,
    stakeholder_id: int,
    other_id: int | None,
    other_influences: bool,
    strength: int,
) -> InfluenceLink:
    """Add an influence link between a stakeholder and another: the other influences them
    (`other_influences`), or they influence the other."""
    if other_id is None:
        raise DomainError("other", "choose the other stakeholder")
    source, target = (other_id, stakeholder_id) if other_influences else (stakeholder_id, other_id)
    return add_influence_link(
        session=session,
        viewer=viewer,
        data=records.validated(
            InfluenceLinkCreate,
            {"from_stakeholder_id": source, "to_stakeholder_id": target, "strength": strength},
        ),
    )
