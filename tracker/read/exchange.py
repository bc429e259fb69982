"""What the programme exchange file reads: one programme's records for an export, a table at a
time (one query per table, never one per record), and what an import needs to know of the
database (is the code taken, the organisations and staff groups the file names).

tracker.io.exchange lays the records out as the file and applies an import through the
services; nothing here decides what the file holds, and nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, col, select

from tracker.models.organisation import Organisation, StaffGroup
from tracker.models.outcomes import Barrier, Metric, MetricReading, Narrative
from tracker.models.people import (
    Assessment,
    Engagement,
    EngagementStakeholder,
    InfluenceLink,
    Stakeholder,
)
from tracker.models.programme import (
    ConfidenceOverride,
    ExitCriterion,
    Milestone,
    MilestoneDependency,
    MilestoneImpact,
    Programme,
    ProgrammePartner,
    StageRecord,
)

__all__ = [
    "ProgrammeRecords",
    "assessments_of",
    "organisations_by_short_name",
    "programme_code_exists",
    "programme_records",
    "staff_groups_of",
]

_Row = TypeVar("_Row", bound=SQLModel)


@dataclass(frozen=True)
class ProgrammeRecords:
    """Every record of one programme that its exchange file holds, as the model rows, in no
    particular order (the file sorts them). A `..._by_x` mapping holds the child rows by their
    parent's id; a parent without children is absent from it."""

    programme: Programme
    partners: list[ProgrammePartner]
    # The staff groups a milestone impact or a stakeholder names, and the organisations that
    # own the programme, partner in it or own one of those groups: each by id.
    staff_groups: dict[int, StaffGroup]
    organisations: dict[int, Organisation]
    stage_records: list[StageRecord]
    exit_criteria_by_stage_record: dict[int, list[ExitCriterion]]
    stakeholders: dict[int, Stakeholder]
    assessments_by_stakeholder: dict[int, list[Assessment]]
    milestones: list[Milestone]
    impacts_by_milestone: dict[int, list[MilestoneImpact]]
    dependencies_by_milestone: dict[int, list[MilestoneDependency]]
    influence_links: list[InfluenceLink]
    engagements: list[Engagement]
    attendees_by_engagement: dict[int, list[EngagementStakeholder]]
    barriers: list[Barrier]
    metrics: list[Metric]
    readings_by_metric: dict[int, list[MetricReading]]
    narratives: list[Narrative]
    confidence_overrides: list[ConfidenceOverride]


def programme_records(*, session: Session, programme: Programme) -> ProgrammeRecords:
    """Every record of `programme` its exchange file holds (see ProgrammeRecords), in a fixed
    number of queries whatever the programme holds. Whether the reader may see them is the
    caller's to decide."""
    assert programme.id is not None
    programme_id = programme.id

    def of_programme(model: type[_Row]) -> list[_Row]:
        """The programme's rows of `model`, a table with a programme_id."""
        table: Any = model
        return list(session.exec(select(model).where(table.programme_id == programme_id)))

    def by_parent(child: type[_Row], parent: type[Any], link: str) -> dict[int, list[_Row]]:
        """The programme's `child` rows grouped by `link`, the id of their `parent` (a record
        that has a programme_id)."""
        rows = session.exec(
            select(child)
            .join(parent, col(parent.id) == col(getattr(child, link)))
            .where(parent.programme_id == programme_id)
        ).all()
        grouped: defaultdict[int, list[_Row]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, link)].append(row)
        return dict(grouped)

    partners = of_programme(ProgrammePartner)
    groups = {
        group.id: group
        for group in session.exec(
            select(StaffGroup).where(
                col(StaffGroup.id).in_(_referenced_group_ids(session, programme_id))
            )
        ).all()
        if group.id is not None
    }
    organisation_ids = {
        programme.organisation_id,
        *(partner.organisation_id for partner in partners),
        *(group.organisation_id for group in groups.values()),
    }
    organisations = {
        org.id: org
        for org in session.exec(
            select(Organisation).where(col(Organisation.id).in_(organisation_ids))
        ).all()
        if org.id is not None
    }
    people = {person.id: person for person in of_programme(Stakeholder) if person.id is not None}
    return ProgrammeRecords(
        programme=programme,
        partners=partners,
        staff_groups=groups,
        organisations=organisations,
        stage_records=of_programme(StageRecord),
        exit_criteria_by_stage_record=by_parent(ExitCriterion, StageRecord, "stage_record_id"),
        stakeholders=people,
        milestones=of_programme(Milestone),
        impacts_by_milestone=by_parent(MilestoneImpact, Milestone, "milestone_id"),
        dependencies_by_milestone=by_parent(MilestoneDependency, Milestone, "milestone_id"),
        assessments_by_stakeholder=by_parent(Assessment, Stakeholder, "stakeholder_id"),
        influence_links=list(
            session.exec(
                select(InfluenceLink)
                .join(Stakeholder, col(Stakeholder.id) == col(InfluenceLink.from_stakeholder_id))
                .where(Stakeholder.programme_id == programme_id)
            )
        ),
        engagements=of_programme(Engagement),
        attendees_by_engagement=by_parent(EngagementStakeholder, Engagement, "engagement_id"),
        barriers=of_programme(Barrier),
        metrics=of_programme(Metric),
        readings_by_metric=by_parent(MetricReading, Metric, "metric_id"),
        narratives=of_programme(Narrative),
        confidence_overrides=of_programme(ConfidenceOverride),
    )


def _referenced_group_ids(session: Session, programme_id: int) -> set[int]:
    """The staff groups the programme's milestones change or its stakeholders belong to."""
    impacted = session.exec(
        select(MilestoneImpact.staff_group_id)
        .join(Milestone, col(Milestone.id) == col(MilestoneImpact.milestone_id))
        .where(Milestone.programme_id == programme_id)
    ).all()
    grouped = session.exec(
        select(Stakeholder.staff_group_id).where(
            Stakeholder.programme_id == programme_id, col(Stakeholder.staff_group_id).is_not(None)
        )
    ).all()
    return {group_id for group_id in [*impacted, *grouped] if group_id is not None}


# --- What an import needs to know -------------------------------------------------------------


def programme_code_exists(*, session: Session, code: str) -> bool:
    """Whether a programme here has the code (any viewer's: codes are unique everywhere)."""
    return session.exec(select(Programme.id).where(Programme.code == code)).first() is not None


def organisations_by_short_name(
    *, session: Session, short_names: Iterable[str]
) -> dict[str, Organisation]:
    """The organisations whose short name is one of `short_names`, by short name."""
    return {
        org.short_name: org
        for org in session.exec(
            select(Organisation).where(col(Organisation.short_name).in_(list(short_names)))
        ).all()
    }


def staff_groups_of(*, session: Session, organisation_ids: Iterable[int]) -> list[StaffGroup]:
    """Every staff group of the organisations."""
    return list(
        session.exec(
            select(StaffGroup).where(col(StaffGroup.organisation_id).in_(list(organisation_ids)))
        ).all()
    )


def assessments_of(*, session: Session, stakeholder_id: int) -> list[Assessment]:
    """Every assessment of one stakeholder."""
    return list(
        session.exec(select(Assessment).where(Assessment.stakeholder_id == stakeholder_id)).all()
    )
