"""What stands in the way (barriers), what was promised (metrics and their readings), and the
story told about it (narratives)."""

import datetime as dt
from typing import Self

import sqlalchemy as sa
from pydantic import model_validator
from sqlmodel import Field, Relationship, SQLModel

from tracker.models.base import Versioned, checks_for, enum_type
from tracker.vocabulary import (
    Audience,
    BarrierCategory,
    BarrierKind,
    BarrierStatus,
    Direction,
    NarrativeStatus,
    Stage,
)


# A risk or issue in one of the article's categories.
class BarrierBase(SQLModel):
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    title: str = Field(min_length=3, max_length=200)
    kind: BarrierKind = Field(default=BarrierKind.risk, sa_type=enum_type(BarrierKind))
    category: BarrierCategory = Field(sa_type=enum_type(BarrierCategory))
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    owner: str = Field(default="", max_length=120)
    mitigation: str = Field(default="", max_length=2000)
    status: BarrierStatus = Field(default=BarrierStatus.open, sa_type=enum_type(BarrierStatus))


# What a caller sets to record a barrier.
class BarrierCreate(BarrierBase):
    pass


# A change to a barrier: only the fields set change; `version` is the one the form was built
# from.
class BarrierUpdate(SQLModel):
    version: int
    programme_id: int | None = None
    title: str | None = None
    kind: BarrierKind | None = None
    category: BarrierCategory | None = None
    likelihood: int | None = None
    impact: int | None = None
    owner: str | None = None
    mitigation: str | None = None
    status: BarrierStatus | None = None


class Barrier(BarrierBase, Versioned, table=True):
    __table_args__ = checks_for(BarrierBase)
    id: int | None = Field(default=None, primary_key=True)


# A measure the programme promised to move.
class MetricBase(SQLModel):
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE", index=True)
    name: str = Field(min_length=3, max_length=160)
    unit: str = Field(default="", max_length=20)
    baseline: float
    target: float
    target_date: dt.date | None = None
    direction: Direction = Field(default=Direction.up, sa_type=enum_type(Direction))
    stage: Stage | None = Field(default=None, sa_type=enum_type(Stage))

    @model_validator(mode="after")
    def _target_matches_direction(self) -> Self:
        if self.direction is Direction.up and self.target < self.baseline:
            raise ValueError("target: a metric that should go up needs a target above its baseline")
        if self.direction is Direction.down and self.target > self.baseline:
            raise ValueError(
                "target: a metric that should go down needs a target below its baseline"
            )
        return self


# What a caller sets to define a metric.
class MetricCreate(MetricBase):
    pass


# A change to a metric: only the fields set change; `version` is the one the form was built
# from.
class MetricUpdate(SQLModel):
    version: int
    programme_id: int | None = None
    name: str | None = None
    unit: str | None = None
    baseline: float | None = None
    target: float | None = None
    target_date: dt.date | None = None
    direction: Direction | None = None
    stage: Stage | None = None


class Metric(MetricBase, Versioned, table=True):
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "name", name="uq_metric_programme_name"),
        *checks_for(MetricBase),
        sa.CheckConstraint(
            "(direction = 'up' AND target >= baseline)"
            " OR (direction = 'down' AND target <= baseline)",
            name="target_matches_direction",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    readings: list["MetricReading"] = Relationship(back_populates="metric", cascade_delete=True)


# One dated value of a metric.
class MetricReadingBase(SQLModel):
    metric_id: int = Field(foreign_key="metric.id", ondelete="CASCADE")
    reading_on: dt.date
    value: float
    note: str = Field(default="", max_length=500)


# What a caller sets to record a reading.
class MetricReadingCreate(MetricReadingBase):
    pass


# A change to a reading: only the fields set change; `version` is the one the form was built
# from.
class MetricReadingUpdate(SQLModel):
    version: int
    metric_id: int | None = None
    reading_on: dt.date | None = None
    value: float | None = None
    note: str | None = None


class MetricReading(MetricReadingBase, Versioned, table=True):
    __tablename__ = "metric_reading"
    __table_args__ = (
        sa.UniqueConstraint("metric_id", "reading_on", name="uq_metric_reading_metric_date"),
        *checks_for(MetricReadingBase),
    )
    id: int | None = Field(default=None, primary_key=True)
    metric: "Metric" = Relationship(back_populates="readings")


# A story for staff or leadership, written in Markdown.
class NarrativeBase(SQLModel):
    programme_id: int = Field(foreign_key="programme.id", ondelete="CASCADE")
    title: str = Field(min_length=3, max_length=200)
    body: str = Field(default="", max_length=20000)
    stage: Stage | None = Field(default=None, sa_type=enum_type(Stage))
    audience: Audience = Field(default=Audience.everyone, sa_type=enum_type(Audience))
    status: NarrativeStatus = Field(
        default=NarrativeStatus.draft, sa_type=enum_type(NarrativeStatus)
    )
    author: str = Field(default="", max_length=120)
    published_on: dt.date | None = None

    @model_validator(mode="after")
    def _published_date(self) -> Self:
        if self.status is NarrativeStatus.published and self.published_on is None:
            raise ValueError("published_on: a published narrative needs its publication date")
        if self.status is not NarrativeStatus.published and self.published_on is not None:
            raise ValueError("published_on: only a published narrative has a publication date")
        return self


# What a caller sets to write a narrative (a draft unless it says published, with its date).
class NarrativeCreate(NarrativeBase):
    pass


# A change to a narrative: only the fields set change; `version` is the one the form was built
# from.
class NarrativeUpdate(SQLModel):
    version: int
    programme_id: int | None = None
    title: str | None = None
    body: str | None = None
    stage: Stage | None = None
    audience: Audience | None = None
    status: NarrativeStatus | None = None
    author: str | None = None
    published_on: dt.date | None = None


class Narrative(NarrativeBase, Versioned, table=True):
    __table_args__ = (
        *checks_for(NarrativeBase),
        sa.CheckConstraint(
            "(status = 'published') = (published_on IS NOT NULL)",
            name="published_on_when_published",
        ),
        sa.Index("ix_narrative_programme_status", "programme_id", "status", "published_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
