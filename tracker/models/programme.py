"""Programmes and the work along their six stages: stage records, exit criteria, milestones."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Self

import sqlalchemy as sa
from pydantic import model_validator
from sqlmodel import Field, Relationship, SQLModel

from tracker.models.base import Versioned, checks_for, dates_in_order, enum_type
from tracker.vocabulary import (
    DeliveryConfidence,
    Impact,
    LawfulBasis,
    MilestoneStatus,
    ProgrammeStatus,
    Stage,
)

if TYPE_CHECKING:
    from tracker.models.organisation import Organisation


def _end_not_before_start(start: dt.date | None, end: dt.date | None, field: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{field}: must not be before the start date")


# Organisations that pool resources into a programme owned by another (the shared platform).
class ProgrammePartner(SQLModel, table=True):
    __tablename__ = "programme_partner"
    programme_id: int = Field(foreign_key="programme.id", primary_key=True, ondelete="CASCADE")
    organisation_id: int = Field(
        foreign_key="organisation.id", primary_key=True, ondelete="CASCADE"
    )
    # The owner records a data-sharing agreement with this partner: the partner's managers may
    # then see and keep the programme's stakeholders (stance, notes, engagements). Without one a
    # partner works on the plan only (RELIABILITY.md #5).
    data_sharing_agreement: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )


# A digital-transformation programme: the fields a manager edits.
class ProgrammeBase(SQLModel):
    # A short reference people type and import by, e.g. "NCC-CARE-RECORD".
    code: str = Field(
        min_length=2, max_length=20, schema_extra={"pattern": r"^[A-Z0-9][A-Z0-9-]*$"}
    )
    title: str = Field(min_length=3, max_length=160)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="RESTRICT", index=True)
    summary: str = Field(default="", max_length=4000)
    vision_statement: str = Field(default="", max_length=2000)
    sponsor: str = Field(default="", max_length=120)
    manager: str = Field(default="", max_length=120)
    start_date: dt.date
    target_end_date: dt.date
    status: ProgrammeStatus = Field(
        default=ProgrammeStatus.active, sa_type=enum_type(ProgrammeStatus)
    )
    closed_on: dt.date | None = None
    lawful_basis: LawfulBasis = Field(
        default=LawfulBasis.public_task, sa_type=enum_type(LawfulBasis)
    )
    budget: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    expected_benefits: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)

    @model_validator(mode="after")
    def _dates(self) -> Self:
        _end_not_before_start(self.start_date, self.target_end_date, "target_end_date")
        if self.status is ProgrammeStatus.closed and self.closed_on is None:
            raise ValueError("closed_on: a closed programme needs the date it closed")
        if self.status is not ProgrammeStatus.closed and self.closed_on is not None:
            raise ValueError("closed_on: only a closed programme has a closing date")
        return self


# What a caller sets to start a programme (its partners and stage plans are given beside it).
class ProgrammeCreate(ProgrammeBase):
    pass


# A change to a programme's details: only the fields set change; `version` is the one the form
# was built from. The owner is here so that naming the same owner is harmless and another is
# refused in words.
class ProgrammeUpdate(SQLModel):
    version: int
    code: str | None = None
    title: str | None = None
    organisation_id: int | None = None
    summary: str | None = None
    vision_statement: str | None = None
    sponsor: str | None = None
    manager: str | None = None
    start_date: dt.date | None = None
    target_end_date: dt.date | None = None
    status: ProgrammeStatus | None = None
    closed_on: dt.date | None = None
    lawful_basis: LawfulBasis | None = None
    budget: Decimal | None = None
    expected_benefits: Decimal | None = None


class Programme(ProgrammeBase, Versioned, table=True):
    __table_args__ = (
        sa.UniqueConstraint("code"),
        *checks_for(ProgrammeBase),
        sa.CheckConstraint("code = upper(code) AND code NOT LIKE '% %'", name="code_format"),
        dates_in_order("start_date", "target_end_date"),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_on IS NOT NULL)", name="closed_on_when_closed"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    organisation: "Organisation" = Relationship(back_populates="programmes")
    partners: list["Organisation"] = Relationship(link_model=ProgrammePartner)
    stage_records: list["StageRecord"] = Relationship(
        back_populates="programme", cascade_delete=True
    )
    milestones: list["Milestone"] = Relationship(back_populates="programme", cascade_delete=True)


# One per programme and stage: the stage's story, plan and actual dates.
class StageRecordBase(SQLModel):
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE")
    stage: Stage = Field(sa_type=enum_type(Stage))
    narrative: str = Field(default="", max_length=20000)
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    actual_start: dt.date | None = None
    actual_end: dt.date | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        _end_not_before_start(self.planned_start, self.planned_end, "planned_end")
        _end_not_before_start(self.actual_start, self.actual_end, "actual_end")
        return self


# What a caller sets to repair a missing stage record (a new programme gets all six).
class StageRecordCreate(StageRecordBase):
    pass


# A stage's story and dates as a manager plans them: the part of a stage record that changes.
class StagePlan(SQLModel):
    narrative: str | None = None
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    actual_start: dt.date | None = None
    actual_end: dt.date | None = None


# A change to a stage record: only the fields set change; `version` is the one the form was
# built from. Its programme and stage are named only to be refused in words.
class StageRecordUpdate(StagePlan):
    version: int
    programme_id: int | None = None
    stage: Stage | None = None


class StageRecord(StageRecordBase, Versioned, table=True):
    __tablename__ = "stage_record"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "stage", name="uq_stage_record_programme_stage"),
        *checks_for(StageRecordBase),
        dates_in_order("planned_start", "planned_end"),
        dates_in_order("actual_start", "actual_end"),
    )
    id: int | None = Field(default=None, primary_key=True)
    programme: "Programme" = Relationship(back_populates="stage_records")
    exit_criteria: list["ExitCriterion"] = Relationship(
        back_populates="stage_record", cascade_delete=True
    )


# One line of a stage's "what done looks like" checklist.
class ExitCriterionBase(SQLModel):
    stage_record_id: int = Field(foreign_key="stage_record.id", ondelete="CASCADE", index=True)
    position: int = Field(default=0, ge=0, le=999)
    text: str = Field(min_length=3, max_length=300)
    met: bool = False


# A change to an exit criterion: only the fields set change; `version` is the one the form was
# built from.
class ExitCriterionUpdate(SQLModel):
    version: int
    stage_record_id: int | None = None
    position: int | None = None
    text: str | None = None
    met: bool | None = None


class ExitCriterion(ExitCriterionBase, Versioned, table=True):
    __tablename__ = "exit_criterion"
    __table_args__ = checks_for(ExitCriterionBase)
    id: int | None = Field(default=None, primary_key=True)
    stage_record: "StageRecord" = Relationship(back_populates="exit_criteria")


# A piece of work in one stage, weighted 1-5 for progress.
class MilestoneBase(SQLModel):
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE")
    stage: Stage = Field(sa_type=enum_type(Stage))
    title: str = Field(min_length=3, max_length=200)
    owner: str = Field(default="", max_length=120)
    due_date: dt.date
    completed_date: dt.date | None = None
    status: MilestoneStatus = Field(
        default=MilestoneStatus.not_started, sa_type=enum_type(MilestoneStatus)
    )
    weight: int = Field(default=3, ge=1, le=5)

    @model_validator(mode="after")
    def _completion(self) -> Self:
        if self.status is MilestoneStatus.done and self.completed_date is None:
            raise ValueError("completed_date: a done milestone needs the date it was completed")
        if self.status is not MilestoneStatus.done and self.completed_date is not None:
            raise ValueError("completed_date: only a done milestone has a completed date")
        return self


# What a caller sets to add a milestone. The completed date may be left out of a done one: the
# service stamps today's date (or clears a date that does not belong) and then checks the pair.
class MilestoneCreate(MilestoneBase):
    @model_validator(mode="after")
    def _completion(self) -> Self:
        return self


# A change to a milestone: only the fields set change; `version` is the one the form was built
# from. Its programme is named only to be refused in words.
class MilestoneUpdate(SQLModel):
    version: int
    programme_id: int | None = None
    stage: Stage | None = None
    title: str | None = None
    owner: str | None = None
    due_date: dt.date | None = None
    completed_date: dt.date | None = None
    status: MilestoneStatus | None = None
    weight: int | None = None


class Milestone(MilestoneBase, Versioned, table=True):
    __table_args__ = (
        *checks_for(MilestoneBase),
        sa.CheckConstraint(
            "(status = 'done') = (completed_date IS NOT NULL)", name="completed_when_done"
        ),
        sa.Index("ix_milestone_programme_stage_status", "programme_id", "stage", "status"),
        sa.Index("ix_milestone_status_due", "status", "due_date"),
        sa.Index("ix_milestone_completed", "programme_id", "completed_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    programme: "Programme" = Relationship(back_populates="milestones")
    impacts: list["MilestoneImpact"] = Relationship(back_populates="milestone", cascade_delete=True)


# A staff group a milestone lands on, and how hard.
class MilestoneImpact(SQLModel, table=True):
    __tablename__ = "milestone_impact"
    __table_args__ = (sa.Index("ix_milestone_impact_group", "staff_group_id"),)
    milestone_id: int = Field(foreign_key="milestone.id", primary_key=True, ondelete="CASCADE")
    staff_group_id: int = Field(foreign_key="staff_group.id", primary_key=True, ondelete="CASCADE")
    impact: Impact = Field(sa_type=enum_type(Impact))
    milestone: "Milestone" = Relationship(back_populates="impacts")


# A milestone that needs a named stakeholder's support: joins resistance to the work it blocks.
class MilestoneDependency(SQLModel, table=True):
    __tablename__ = "milestone_dependency"
    __table_args__ = (sa.Index("ix_milestone_dependency_stakeholder", "stakeholder_id"),)
    milestone_id: int = Field(foreign_key="milestone.id", primary_key=True, ondelete="CASCADE")
    stakeholder_id: int = Field(foreign_key="stakeholder.id", primary_key=True, ondelete="CASCADE")


# A manager's override of the suggested delivery confidence; the latest one stands.
class ConfidenceOverrideBase(SQLModel):
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    rating: DeliveryConfidence = Field(sa_type=enum_type(DeliveryConfidence))
    reason: str = Field(min_length=10, max_length=1000)
    set_by: str = Field(max_length=254)
    set_at: dt.datetime


class ConfidenceOverride(ConfidenceOverrideBase, table=True):
    __tablename__ = "confidence_override"
    __table_args__ = checks_for(ConfidenceOverrideBase)
    id: int | None = Field(default=None, primary_key=True)
