"""Metrics the programme promised, and their dated readings."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import (
    Metric,
    MetricBase,
    MetricCreate,
    MetricReading,
    MetricReadingBase,
    MetricReadingCreate,
    MetricReadingUpdate,
    MetricUpdate,
)
from tracker.permissions import Action, require_change, require_new
from tracker.services import records
from tracker.words import date_words


def define_metric(*, session: Session, viewer: Viewer, data: MetricCreate) -> Metric:
    """A new metric the programme promises to move (Action.programme_edit)."""
    return records.create_checked(session, viewer, Action.programme_edit, Metric, MetricBase, data)


def update_metric(
    *, session: Session, viewer: Viewer, metric_id: int, data: MetricUpdate
) -> Metric:
    """Change the fields `data` sets, if the metric is still at `data.version`."""
    return records.update_checked(
        session, viewer, Action.programme_edit, Metric, MetricBase, metric_id, data
    )


def delete_metric(
    *, session: Session, viewer: Viewer, metric_id: int, expected_version: int
) -> None:
    """Delete the metric and its readings, if it is still at `expected_version`."""
    records.delete_checked(
        session, viewer, Action.programme_edit, Metric, metric_id, expected_version=expected_version
    )


def record_reading(*, session: Session, viewer: Viewer, data: MetricReadingCreate) -> MetricReading:
    """One dated value; a second reading on the same date is refused (edit the first instead)."""
    records.get(session, Metric, data.metric_id)
    values = records.changes_of(data)
    require_new(session, viewer, Action.programme_edit, MetricReading, values)
    refuse_second_reading(session, metric_id=data.metric_id, day=data.reading_on, reading_id=None)
    return records.create(session, MetricReading, MetricReadingBase, values)


def update_reading(
    *, session: Session, viewer: Viewer, reading_id: int, data: MetricReadingUpdate
) -> MetricReading:
    """Change the fields `data` sets, if the reading is still at `data.version`; a date that
    another reading of the metric has is refused."""
    changes = records.changes_of(data)
    require_change(session, viewer, Action.programme_edit, MetricReading, reading_id, changes)
    reading = records.get(session, MetricReading, reading_id)
    if reading.version == data.version and "reading_on" in changes:
        refuse_second_reading(
            session, metric_id=reading.metric_id, day=data.reading_on, reading_id=reading_id
        )
    return records.update_from(session, MetricReading, MetricReadingBase, reading_id, data)


def delete_reading(
    *, session: Session, viewer: Viewer, reading_id: int, expected_version: int
) -> None:
    """Delete the reading, if it is still at `expected_version`."""
    records.delete_checked(
        session,
        viewer,
        Action.programme_edit,
        MetricReading,
        reading_id,
        expected_version=expected_version,
    )


def refuse_second_reading(
    session: Session, *, metric_id: int | None, day: dt.date | None, reading_id: int | None
) -> None:
    """One reading per metric and date: the database enforces it too, this says it plainly.
    `reading_id` is the reading being changed (None for a new one)."""
    if metric_id is None or day is None:
        return
    query = select(MetricReading.id).where(
        MetricReading.metric_id == metric_id, MetricReading.reading_on == day
    )
    if reading_id is not None:
        query = query.where(MetricReading.id != reading_id)
    if session.exec(query).first() is not None:
        raise DomainError(
            "reading_on",
            f"this metric already has a reading on {date_words(day)}. "
            "Change that reading instead of adding a second one.",
        )
