"""People whose support matters: stakeholders, their assessed stance over time, engagements with
them, and who influences whom. This is personal data (DOMAIN.md "Data protection")."""

import datetime as dt
from typing import Self

import sqlalchemy as sa
from pydantic import model_validator
from sqlmodel import Field, Relationship, SQLModel

from tracker.models.base import Versioned, checks_for, enum_type, int_enum_field
from tracker.vocabulary import EngagementKind, Stance

NOTES_WARNING = (
    "Notes about a person can be disclosed to them if they ask for their data. "
    "Write only what you would be comfortable for them to read."
)


# A person or group whose support matters to one programme.
class StakeholderBase(SQLModel):
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE")
    name: str = Field(min_length=2, max_length=120)
    role: str = Field(default="", max_length=120)
    staff_group_id: int | None = Field(
        default=None, foreign_key="staff_group.id", ondelete="SET NULL"
    )
    influence: int = Field(default=3, ge=1, le=5)
    interest: int = Field(default=3, ge=1, le=5)
    # The latest assessment's stance, kept here so dashboards need no "latest row" lookup.
    stance: int = int_enum_field(Stance, default=0)
    desired_stance: int = int_enum_field(Stance, default=1)
    relationship_owner: str = Field(default="", max_length=120)
    notes: str = Field(default="", max_length=2000)


class Stakeholder(StakeholderBase, Versioned, table=True):
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "name", name="uq_stakeholder_programme_name"),
        *checks_for(StakeholderBase),
        sa.Index("ix_stakeholder_programme_stance", "programme_id", "influence", "stance"),
    )
    id: int | None = Field(default=None, primary_key=True)
    assessments: list["Assessment"] = Relationship(
        back_populates="stakeholder", cascade_delete=True
    )


# What a caller sets to add a stakeholder.
class StakeholderCreate(StakeholderBase):
    pass


# A change to a stakeholder: only the fields set change (the programme never does); `version` is
# the one the form was built from. A new stance is recorded as an assessment.
class StakeholderUpdate(SQLModel):
    version: int
    name: str | None = None
    role: str | None = None
    staff_group_id: int | None = None
    influence: int | None = None
    interest: int | None = None
    stance: int | None = None
    desired_stance: int | None = None
    relationship_owner: str | None = None
    notes: str | None = None


# A dated reading of one stakeholder's stance, and optionally influence, interest and ADKAR.
class AssessmentBase(SQLModel):
    stakeholder_id: int = Field(foreign_key="stakeholder.id", ondelete="CASCADE")
    assessed_on: dt.date
    stance: int = int_enum_field(Stance)
    influence: int | None = Field(default=None, ge=1, le=5)
    interest: int | None = Field(default=None, ge=1, le=5)
    awareness: int | None = Field(default=None, ge=1, le=5)
    desire: int | None = Field(default=None, ge=1, le=5)
    knowledge: int | None = Field(default=None, ge=1, le=5)
    ability: int | None = Field(default=None, ge=1, le=5)
    reinforcement: int | None = Field(default=None, ge=1, le=5)
    assessed_by: str = Field(default="", max_length=120)


class Assessment(AssessmentBase, table=True):
    __table_args__ = (
        *checks_for(AssessmentBase),
        # Each stakeholder's latest assessment (ties on a date: the higher id) is one seek.
        sa.Index("ix_assessment_stakeholder_latest", "stakeholder_id", "assessed_on", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    stakeholder: "Stakeholder" = Relationship(back_populates="assessments")


# What a caller sets to record an assessment.
class AssessmentCreate(AssessmentBase):
    pass


# A correction to an assessment (assessments are not versioned): only the fields set change.
class AssessmentUpdate(SQLModel):
    assessed_on: dt.date | None = None
    stance: int | None = None
    influence: int | None = None
    interest: int | None = None
    awareness: int | None = None
    desire: int | None = None
    knowledge: int | None = None
    ability: int | None = None
    reinforcement: int | None = None
    assessed_by: str | None = None


# The stakeholders present at an engagement.
class EngagementStakeholder(SQLModel, table=True):
    __tablename__ = "engagement_stakeholder"
    __table_args__ = (sa.Index("ix_engagement_stakeholder_stakeholder", "stakeholder_id"),)
    engagement_id: int = Field(foreign_key="engagement.id", primary_key=True, ondelete="CASCADE")
    stakeholder_id: int = Field(foreign_key="stakeholder.id", primary_key=True, ondelete="CASCADE")


# A dated contact with one or more stakeholders.
class EngagementBase(SQLModel):
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    occurred_on: dt.date
    kind: EngagementKind = Field(sa_type=enum_type(EngagementKind))
    summary: str = Field(min_length=3, max_length=2000)
    outcome: str = Field(default="", max_length=1000)
    follow_up_on: dt.date | None = None
    follow_up_done: bool = False

    @model_validator(mode="after")
    def _follow_up(self) -> Self:
        if self.follow_up_on is not None and self.follow_up_on < self.occurred_on:
            raise ValueError("follow_up_on: must not be before the engagement")
        return self


class Engagement(EngagementBase, Versioned, table=True):
    __table_args__ = (
        *checks_for(EngagementBase),
        sa.CheckConstraint(
            "follow_up_on IS NULL OR follow_up_on >= occurred_on", name="follow_up_after"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    stakeholders: list["Stakeholder"] = Relationship(link_model=EngagementStakeholder)


# What a caller sets to log an engagement (its attendees are given beside it).
class EngagementCreate(EngagementBase):
    pass


# A change to an engagement: only the fields set change; `version` is the one the form was
# built from.
class EngagementUpdate(SQLModel):
    version: int
    programme_id: int | None = None
    occurred_on: dt.date | None = None
    kind: EngagementKind | None = None
    summary: str | None = None
    outcome: str | None = None
    follow_up_on: dt.date | None = None
    follow_up_done: bool | None = None


# Stakeholder A influences stakeholder B (who listens to whom), strength 1-3.
class InfluenceLinkBase(SQLModel):
    from_stakeholder_id: int = Field(foreign_key="stakeholder.id", ondelete="CASCADE")
    to_stakeholder_id: int = Field(foreign_key="stakeholder.id", ondelete="CASCADE", index=True)
    strength: int = Field(default=2, ge=1, le=3)

    @model_validator(mode="after")
    def _not_self(self) -> Self:
        if self.from_stakeholder_id == self.to_stakeholder_id:
            raise ValueError("to_stakeholder_id: a stakeholder cannot influence themselves")
        return self


class InfluenceLink(InfluenceLinkBase, Versioned, table=True):
    __tablename__ = "influence_link"
    __table_args__ = (
        sa.UniqueConstraint(
            "from_stakeholder_id", "to_stakeholder_id", name="uq_influence_link_pair"
        ),
        sa.CheckConstraint("from_stakeholder_id <> to_stakeholder_id", name="not_self"),
        *checks_for(InfluenceLinkBase),
    )
    id: int | None = Field(default=None, primary_key=True)


# What a caller sets to add an influence link.
class InfluenceLinkCreate(InfluenceLinkBase):
    pass


# A change to an influence link: its strength; `version` is the one the form was built from.
class InfluenceLinkUpdate(SQLModel):
    version: int
    strength: int | None = None
