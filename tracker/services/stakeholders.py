"""Stakeholders, their assessments over time, and who influences whom. The current stance of a
stakeholder is always that of their latest assessment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import annotated_types
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select

from tracker import clock, figures
from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import (
    Assessment,
    AssessmentBase,
    InfluenceLink,
    InfluenceLinkBase,
    Organisation,
    Programme,
    ProgrammePartner,
    StaffGroup,
    Stakeholder,
    StakeholderBase,
    Stance,
)
from tracker.permissions import (
    Action,
    require_change,
    require_new,
    require_programme,
    require_record,
)
from tracker.read.sql import frame, rows
from tracker.services import records
from tracker.workspace import TableEditCounts, apply_table_edits


def create_stakeholder(
    *,
    session: Session,
    viewer: Viewer,
    data: Mapping[str, Any],
    assessed_by: str = "",
    first_assessment: Mapping[str, Any] | None = None,
) -> Stakeholder:
    """A new stakeholder and their first assessment, so their stance has a history. The first
    assessment is dated today unless `first_assessment` gives `assessed_on`; it may also carry
    ADKAR scores."""
    require_new(session, viewer, Action.stakeholder_edit, Stakeholder, data)
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
    viewer: Viewer,
    stakeholder_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
    assessed_by: str = "",
) -> Stakeholder:
    """Change a stakeholder's details. A new stance is recorded as an assessment dated today."""
    require_change(session, viewer, Action.stakeholder_edit, Stakeholder, stakeholder_id)
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
            viewer=viewer,
            data={
                "stakeholder_id": stakeholder_id,
                "assessed_on": clock.today(),
                "stance": changes["stance"],
                "assessed_by": assessed_by,
            },
        )
    return stakeholder


def record_assessment(*, session: Session, viewer: Viewer, data: Mapping[str, Any]) -> Assessment:
    """A dated reading of stance (and optionally influence, interest, ADKAR). The stakeholder's
    current stance, influence and interest follow their latest assessment."""
    clean = records.validated(AssessmentBase, data)
    require_new(session, viewer, Action.stakeholder_edit, Assessment, clean.model_dump())
    if clean.assessed_on > clock.today():
        raise DomainError("assessed_on", "an assessment cannot be dated in the future")
    stakeholder = records.get(session, Stakeholder, clean.stakeholder_id, for_update=True)
    assessment = records.create(session, Assessment, AssessmentBase, clean.model_dump())
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
    require_change(session, viewer, Action.stakeholder_edit, Stakeholder, stakeholder_id)
    records.delete(session, Stakeholder, stakeholder_id, expected_version=expected_version)


def add_influence_link(
    *, session: Session, viewer: Viewer, data: Mapping[str, Any]
) -> InfluenceLink:
    """Stakeholder A influences stakeholder B; both in the same programme."""
    clean = records.validated(InfluenceLinkBase, data)
    require_new(session, viewer, Action.stakeholder_edit, InfluenceLink, clean.model_dump())
    source = records.get(session, Stakeholder, clean.from_stakeholder_id)
    target = records.get(session, Stakeholder, clean.to_stakeholder_id)
    if source.programme_id != target.programme_id:
        raise DomainError("to_stakeholder_id", "both stakeholders must be in the same programme")
    return records.create(session, InfluenceLink, InfluenceLinkBase, clean.model_dump())


def update_influence_link(
    *, session: Session, viewer: Viewer, link_id: int, expected_version: int, strength: int
) -> InfluenceLink:
    require_change(session, viewer, Action.stakeholder_edit, InfluenceLink, link_id)
    return records.update(
        session,
        InfluenceLink,
        InfluenceLinkBase,
        link_id,
        expected_version=expected_version,
        changes={"strength": strength},
    )


def delete_influence_link(
    *, session: Session, viewer: Viewer, link_id: int, expected_version: int
) -> None:
    require_change(session, viewer, Action.stakeholder_edit, InfluenceLink, link_id)
    records.delete(session, InfluenceLink, link_id, expected_version=expected_version)


# --- Reads for the Manage pages -------------------------------------------------------------


def max_length(base: type[SQLModel], field: str) -> int:
    """The model's max_length for a text field, so an input's limit matches the database's."""
    for meta in base.model_fields[field].metadata:
        if isinstance(meta, annotated_types.MaxLen):
            return int(meta.max_length)
    raise ValueError(f"{base.__name__}.{field} has no max_length")


STAKEHOLDER_TABLE_COLUMNS = (
    "id",
    "version",
    "name",
    "role",
    "staff_group_id",
    "influence",
    "interest",
    "desired_stance",
    "relationship_owner",
    "stance",
    "stance_label",
    "assessed_on",
    "quadrant",
)


def stakeholder_table(*, session: Session, viewer: Viewer, programme_id: int) -> pd.DataFrame:
    """The programme's stakeholder register for bulk editing, by name. Never includes notes.

    Columns: id, version, name, role, staff_group_id (None without one), influence, interest
    (1-5), desired_stance and stance (-2..2; stance is the latest assessment's), stance_label
    (e.g. "Passive resistor"), assessed_on (the latest assessment's date, None without one),
    quadrant (figures.quadrant's label, e.g. "Keep satisfied"). One statement."""
    require_programme(session, viewer, Action.stakeholder_read, programme_id)
    latest = (
        sa.select(
            col(Assessment.stakeholder_id),
            sa.func.max(col(Assessment.assessed_on)).label("assessed_on"),
        )
        .group_by(col(Assessment.stakeholder_id))
        .subquery("latest_assessment")
    )
    statement = (
        sa.select(
            col(Stakeholder.id),
            col(Stakeholder.version),
            col(Stakeholder.name),
            col(Stakeholder.role),
            col(Stakeholder.staff_group_id),
            col(Stakeholder.influence),
            col(Stakeholder.interest),
            col(Stakeholder.desired_stance),
            col(Stakeholder.relationship_owner),
            col(Stakeholder.stance),
            latest.c.assessed_on,
        )
        .outerjoin(latest, latest.c.stakeholder_id == col(Stakeholder.id))
        .where(col(Stakeholder.programme_id) == programme_id)
        .order_by(sa.func.lower(col(Stakeholder.name)), col(Stakeholder.id))
    )
    records_ = [
        row
        | {
            "stance_label": Stance(row["stance"]).label,
            "quadrant": figures.quadrant(
                influence=row["influence"], interest=row["interest"]
            ).label,
        }
        for row in rows(session, statement)
    ]
    return frame(records_, STAKEHOLDER_TABLE_COLUMNS, optional=("staff_group_id", "assessed_on"))


def staff_group_options(*, session: Session, programme_id: int) -> dict[int, str]:
    """The staff groups of the programme's owner and partners, id -> name, by name. A name two
    organisations share is followed by the organisation's short name, e.g. "ICT (EDC)"."""
    organisations = sa.union(
        sa.select(col(Programme.organisation_id).label("organisation_id")).where(
            col(Programme.id) == programme_id
        ),
        sa.select(col(ProgrammePartner.organisation_id)).where(
            col(ProgrammePartner.programme_id) == programme_id
        ),
    ).subquery("programme_organisations")
    statement = (
        sa.select(col(StaffGroup.id), col(StaffGroup.name), col(Organisation.short_name))
        .join(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .where(col(StaffGroup.organisation_id).in_(sa.select(organisations.c.organisation_id)))
        .order_by(col(StaffGroup.name), col(Organisation.short_name))
    )
    found = rows(session, statement)
    names = [row["name"] for row in found]
    return {
        int(row["id"]): (
            f"{row['name']} ({row['short_name']})" if names.count(row["name"]) > 1 else row["name"]
        )
        for row in found
    }


def check_staff_group(*, session: Session, programme_id: int, staff_group_id: int | None) -> None:
    """Refuse a staff group outside the programme's owner and partners (None is allowed)."""
    if staff_group_id is None:
        return
    if staff_group_id not in staff_group_options(session=session, programme_id=programme_id):
        raise DomainError(
            "staff_group_id", "choose a staff group of this programme's organisations"
        )


REGISTER_COLUMNS = (
    "name",
    "role",
    "staff_group_id",
    "influence",
    "interest",
    "desired_stance",
    "relationship_owner",
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
            data={**checked(values), "programme_id": programme_id},
            assessed_by=assessed_by,
        ),
        update=lambda stakeholder_id, version, values: update_stakeholder(
            session=session,
            viewer=viewer,
            stakeholder_id=stakeholder_id,
            expected_version=version,
            changes=checked(values),
        ),
        delete=lambda stakeholder_id, version: delete_stakeholder(
            session=session, viewer=viewer, stakeholder_id=stakeholder_id, expected_version=version
        ),
    )


def stakeholder_names(*, session: Session, viewer: Viewer, programme_id: int) -> dict[int, str]:
    """The programme's stakeholders, id -> name, by name (for selectors)."""
    require_programme(session, viewer, Action.stakeholder_read, programme_id)
    statement = (
        sa.select(col(Stakeholder.id), col(Stakeholder.name))
        .where(col(Stakeholder.programme_id) == programme_id)
        .order_by(sa.func.lower(col(Stakeholder.name)), col(Stakeholder.id))
    )
    return {int(row["id"]): row["name"] for row in rows(session, statement)}


@dataclass(frozen=True)
class StakeholderNotes:
    """One stakeholder's notes and the version they were read at, as plain values."""

    stakeholder_id: int
    programme_id: int
    name: str
    notes: str
    stance: int
    version: int


def stakeholder_notes(*, session: Session, viewer: Viewer, stakeholder_id: int) -> StakeholderNotes:
    """The stakeholder's notes and version, or NotFoundError."""
    require_record(session, viewer, Action.stakeholder_notes_read, Stakeholder, stakeholder_id)
    stakeholder = records.get(session, Stakeholder, stakeholder_id)
    return StakeholderNotes(
        stakeholder_id=stakeholder_id,
        programme_id=stakeholder.programme_id,
        name=stakeholder.name,
        notes=stakeholder.notes,
        stance=stakeholder.stance,
        version=stakeholder.version,
    )


ADKAR = ("awareness", "desire", "knowledge", "ability", "reinforcement")
ASSESSMENT_HISTORY_COLUMNS = (
    "assessed_on",
    "stance",
    "stance_label",
    "influence",
    "interest",
    *ADKAR,
    "assessed_by",
)


def assessment_history(*, session: Session, viewer: Viewer, stakeholder_id: int) -> pd.DataFrame:
    """The stakeholder's assessments, newest first (the first row is their current stance).

    Columns: assessed_on, stance (-2..2), stance_label, influence, interest and the five ADKAR
    scores (1-5, None when not assessed), assessed_by."""
    require_record(session, viewer, Action.stakeholder_read, Stakeholder, stakeholder_id)
    statement = (
        sa.select(
            col(Assessment.assessed_on),
            col(Assessment.stance),
            col(Assessment.influence),
            col(Assessment.interest),
            *(getattr(Assessment, name) for name in ADKAR),
            col(Assessment.assessed_by),
        )
        .where(col(Assessment.stakeholder_id) == stakeholder_id)
        .order_by(col(Assessment.assessed_on).desc(), col(Assessment.id).desc())
    )
    found = [
        row | {"stance_label": Stance(row["stance"]).label} for row in rows(session, statement)
    ]
    return frame(found, ASSESSMENT_HISTORY_COLUMNS, optional=("influence", "interest", *ADKAR))


INFLUENCE_LINK_COLUMNS = ("id", "version", "direction", "other_id", "other", "strength")
# The direction column's words, said of the other stakeholder.
INFLUENCES_THEM = "Influences this person"
INFLUENCED_BY_THEM = "Is influenced by this person"


def influence_links(*, session: Session, viewer: Viewer, stakeholder_id: int) -> pd.DataFrame:
    """Who influences this stakeholder and whom they influence: those influencing them first,
    then by the other stakeholder's name.

    Columns: id, version, direction (INFLUENCES_THEM: the other stakeholder influences this one;
    INFLUENCED_BY_THEM: this one influences the other), other_id, other (the other stakeholder's
    name), strength (1-3). One statement."""
    require_record(session, viewer, Action.stakeholder_read, Stakeholder, stakeholder_id)
    source = aliased(Stakeholder, name="source")
    target = aliased(Stakeholder, name="target")
    inbound = col(InfluenceLink.to_stakeholder_id) == stakeholder_id
    other = sa.case((inbound, source.name), else_=target.name).label("other")
    statement = (
        sa.select(
            col(InfluenceLink.id),
            col(InfluenceLink.version),
            inbound.label("inbound"),
            sa.case((inbound, source.id), else_=target.id).label("other_id"),
            other,
            col(InfluenceLink.strength),
        )
        .join(source, col(source.id) == col(InfluenceLink.from_stakeholder_id))
        .join(target, col(target.id) == col(InfluenceLink.to_stakeholder_id))
        .where(sa.or_(inbound, col(InfluenceLink.from_stakeholder_id) == stakeholder_id))
        .order_by(inbound.desc(), other, col(InfluenceLink.id))
    )
    found = [
        row | {"direction": INFLUENCES_THEM if row["inbound"] else INFLUENCED_BY_THEM}
        for row in rows(session, statement)
    ]
    return frame(found, INFLUENCE_LINK_COLUMNS)


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
            expected_version=version,
            strength=values["strength"],
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
        data={"from_stakeholder_id": source, "to_stakeholder_id": target, "strength": strength},
    )
