"""Metrics the programme promised, and their dated readings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from tracker.models import Metric, MetricBase, MetricReading, MetricReadingBase
from tracker.services import records


def define_metric(*, session: Session, data: Mapping[str, Any]) -> Metric:
    return records.create(session, Metric, MetricBase, data)


def update_metric(
    *, session: Session, metric_id: int, expected_version: int, changes: Mapping[str, Any]
) -> Metric:
    return records.update(
        session, Metric, MetricBase, metric_id, expected_version=expected_version, changes=changes
    )


def delete_metric(*, session: Session, metric_id: int, expected_version: int) -> None:
    records.delete(session, Metric, metric_id, expected_version=expected_version)


def record_reading(*, session: Session, data: Mapping[str, Any]) -> MetricReading:
    """One dated value; a second reading on the same date is refused (edit the first instead)."""
    records.get(session, Metric, data.get("metric_id"))
    return records.create(session, MetricReading, MetricReadingBase, data)


def update_reading(
    *, session: Session, reading_id: int, expected_version: int, changes: Mapping[str, Any]
) -> MetricReading:
    return records.update(
        session,
        MetricReading,
        MetricReadingBase,
        reading_id,
        expected_version=expected_version,
        changes=changes,
    )


def delete_reading(*, session: Session, reading_id: int, expected_version: int) -> None:
    records.delete(session, MetricReading, reading_id, expected_version=expected_version)
