"""Metrics the programme promised, and their dated readings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session, col, select

from tracker import read
from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import Direction, Metric, MetricBase, MetricReading, MetricReadingBase, Stage
from tracker.permissions import Action, require_change, require_new
from tracker.read.sql import frame, rows
from tracker.services import records
from tracker.stages import STAGE_INFO
from tracker.words import amount_text, date_words

# Which way is better, as the interface writes it.
DIRECTION_WORDS: dict[str, str] = {
    Direction.up.value: "Up: higher is better",
    Direction.down.value: "Down: lower is better",
}

METRIC_COLUMNS = (
    "id",
    "version",
    "name",
    "unit",
    "baseline",
    "target",
    "target_date",
    "direction",
    "stage",
    "latest",
    "latest_on",
    "attainment",
)
READING_COLUMNS = ("id", "version", "reading_on", "value", "note")


def define_metric(*, session: Session, viewer: Viewer, data: Mapping[str, Any]) -> Metric:
    require_new(session, viewer, Action.programme_edit, Metric, data)
    return records.create(session, Metric, MetricBase, data)


def update_metric(
    *,
    session: Session,
    viewer: Viewer,
    metric_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Metric:
    require_change(session, viewer, Action.programme_edit, Metric, metric_id, changes)
    return records.update(
        session, Metric, MetricBase, metric_id, expected_version=expected_version, changes=changes
    )


def delete_metric(
    *, session: Session, viewer: Viewer, metric_id: int, expected_version: int
) -> None:
    require_change(session, viewer, Action.programme_edit, Metric, metric_id)
    records.delete(session, Metric, metric_id, expected_version=expected_version)


def record_reading(*, session: Session, viewer: Viewer, data: Mapping[str, Any]) -> MetricReading:
    """One dated value; a second reading on the same date is refused (edit the first instead)."""
    records.get(session, Metric, data.get("metric_id"))
    require_new(session, viewer, Action.programme_edit, MetricReading, data)
    _refuse_second_reading(
        session, metric_id=data.get("metric_id"), day=_day(data.get("reading_on")), reading_id=None
    )
    return records.create(session, MetricReading, MetricReadingBase, data)


def update_reading(
    *,
    session: Session,
    viewer: Viewer,
    reading_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> MetricReading:
    require_change(session, viewer, Action.programme_edit, MetricReading, reading_id, changes)
    reading = records.get(session, MetricReading, reading_id)
    if reading.version == expected_version and "reading_on" in changes:
        _refuse_second_reading(
            session,
            metric_id=reading.metric_id,
            day=_day(changes["reading_on"]),
            reading_id=reading_id,
        )
    return records.update(
        session,
        MetricReading,
        MetricReadingBase,
        reading_id,
        expected_version=expected_version,
        changes=changes,
    )


def delete_reading(
    *, session: Session, viewer: Viewer, reading_id: int, expected_version: int
) -> None:
    require_change(session, viewer, Action.programme_edit, MetricReading, reading_id)
    records.delete(session, MetricReading, reading_id, expected_version=expected_version)


def _day(value: Any) -> dt.date | None:
    """`value` as a date, or None when it is not one (validation then names the problem)."""
    try:
        return TypeAdapter(dt.date).validate_python(value)
    except ValidationError:
        return None


def _refuse_second_reading(
    session: Session, *, metric_id: Any, day: dt.date | None, reading_id: int | None
) -> None:
    """One reading per metric and date: the database enforces it too, this says it plainly."""
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


def metric_table(*, session: Session, programme_id: int) -> pd.DataFrame:
    """The programme's metrics with their latest reading, by name, for the Manage page.

    Columns: id, version, name, unit, baseline, target, target_date (date or None), direction
    ("up"/"down"), stage (a stage key or None), latest (the latest reading's value, None without
    readings), latest_on (its date), attainment (figures.metric_attainment as computed by
    read.programme.metric_status: 1.0 = target met, direction-aware; None without readings or when
    target equals baseline).
    """
    status = read.programme.metric_status(session=session, programme_id=programme_id)
    kept = {
        int(row["id"]): (int(row["version"]), row["stage"])
        for row in rows(
            session,
            sa.select(col(Metric.id), col(Metric.version), col(Metric.stage)).where(
                col(Metric.programme_id) == programme_id
            ),
        )
    }
    found: list[dict[str, Any]] = []
    for record in status.to_dict("records"):
        values = {str(name): value for name, value in record.items()}
        version, stage = kept[int(values["metric_id"])]
        found.append(
            values
            | {
                "id": int(values["metric_id"]),
                "version": version,
                "stage": None if stage is None else str(stage),
            }
        )
    return frame(
        found,
        METRIC_COLUMNS,
        optional=("target_date", "stage", "latest", "latest_on", "attainment"),
    )


def reading_table(*, session: Session, metric_id: int) -> pd.DataFrame:
    """One metric's readings for a bulk editor, newest first.

    Columns: id, version, reading_on (date), value, note."""
    statement = (
        sa.select(
            col(MetricReading.id),
            col(MetricReading.version),
            col(MetricReading.reading_on),
            col(MetricReading.value),
            col(MetricReading.note),
        )
        .where(col(MetricReading.metric_id) == metric_id)
        .order_by(col(MetricReading.reading_on).desc())
    )
    # Typed even when empty, so an editor of no rows still knows its number columns.
    return frame(rows(session, statement), READING_COLUMNS).astype(
        {"id": "int64", "version": "int64", "value": "float64", "note": "object"}
    )


def stage_words(stage: str | None) -> str:
    """A metric's stage as the interface writes it: "4. Equip people with skills and resources",
    or "Not tied to a stage"."""
    if stage is None:
        return "Not tied to a stage"
    info = STAGE_INFO[Stage(stage)]
    return f"{info.number}. {info.title}"


def attainment_words(*, latest: float | None, attainment: float | None) -> str:
    """Attainment as shown beside a metric: a whole percentage ("45%"), "No reading yet", or
    "Not defined (target equals baseline)" when there is a reading but no distance to cover."""
    if latest is None:
        return "No reading yet"
    if attainment is None:
        return "Not defined (target equals baseline)"
    return f"{attainment:.0%}"


def metric_listing(table: pd.DataFrame) -> pd.DataFrame:
    """metric_table's rows in words, for people to read: Metric, Baseline, Target, Target date,
    Direction, Stage, Latest reading ("6.4% on 1 Dec 2026") and Attainment (attainment_words)."""

    def day(value: dt.date | None) -> str:
        return "not set" if value is None else f"{value.day} {value:%b %Y}"

    return pd.DataFrame(
        [
            {
                "Metric": m["name"],
                "Baseline": amount_text(m["baseline"], m["unit"]),
                "Target": amount_text(m["target"], m["unit"]),
                "Target date": day(m["target_date"]),
                "Direction": DIRECTION_WORDS[m["direction"]],
                "Stage": stage_words(m["stage"]),
                "Latest reading": "None yet"
                if m["latest"] is None
                else f"{amount_text(m['latest'], m['unit'])} on {day(m['latest_on'])}",
                "Attainment": attainment_words(latest=m["latest"], attainment=m["attainment"]),
            }
            for m in table.to_dict("records")
        ],
        columns=[
            "Metric",
            "Baseline",
            "Target",
            "Target date",
            "Direction",
            "Stage",
            "Latest reading",
            "Attainment",
        ],
    )
