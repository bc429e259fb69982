"""Builders shared by the read tests (tests/test_read_programme.py, tests/test_read_portfolio.py):
write records through the services, read one row back."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests import factories
from tests.factories import ACTOR, SYSTEM
from tracker import access, db, read
from tracker.models import (
    MetricCreate,
    MetricReadingCreate,
    Role,
    Stage,
    StageRecordUpdate,
)
from tracker.models.people import AssessmentCreate
from tracker.services import (
    metrics,
    milestones,
    programmes,
    records,
    stakeholders,
)

TODAY = date(2026, 6, 15)


_emails = itertools.count(1)


def write(engine: Engine) -> Any:
    return db.write_session(engine, actor=ACTOR)


def viewer_of(engine: Engine, organisation_ids: list[int]) -> access.Viewer:
    email = f"viewer{next(_emails)}@example.org"
    factories.user(engine, organisation_ids, role=Role.leadership, email=email)
    with db.read_session(engine) as session:
        viewer = access.load_viewer(session, email=email)
    assert viewer is not None
    return viewer


def set_partners(engine: Engine, programme_id: int, organisation_ids: list[int]) -> None:
    with write(engine) as session:
        programmes.set_partners(
            session=session,
            viewer=SYSTEM,
            programme_id=programme_id,
            organisation_ids=organisation_ids,
        )


def set_impacts(engine: Engine, milestone_id: int, impacts: dict[int, str]) -> None:
    with write(engine) as session:
        milestones.set_impacts(
            session=session, viewer=SYSTEM, milestone_id=milestone_id, impacts=impacts
        )


def done(engine: Engine, programme_id: int, completed: date, **overrides: Any) -> int:
    return factories.milestone(
        engine, programme_id, status="done", completed_date=completed, **overrides
    )


def portfolio_row(engine: Engine, viewer: access.Viewer, programme_id: int) -> dict[str, Any]:
    with db.read_session(engine) as session:
        frame = read.portfolio.portfolio(session=session, viewer=viewer, today=TODAY)
    rows = frame[frame["programme_id"] == programme_id].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def figures_of(engine: Engine, programme_id: int) -> read.programme.ProgrammeFigures:
    with db.read_session(engine) as session:
        return read.programme.programme_figures(
            session=session, programme_id=programme_id, today=TODAY
        )


def stages_of(engine: Engine, programme_id: int) -> dict[str, dict[str, Any]]:
    with db.read_session(engine) as session:
        frame = read.programme.stage_summary(
            session=session, programme_id=programme_id, today=TODAY
        )
    return {row["stage"]: row for row in frame.to_dict("records")}


def update_stage(engine: Engine, programme_id: int, stage: Stage, **changes: Any) -> int:
    with write(engine) as session:
        record = read.manage.stage_record(session=session, programme_id=programme_id, stage=stage)
        assert record.id is not None
        programmes.update_stage_record(
            session=session,
            viewer=SYSTEM,
            stage_record_id=record.id,
            data=records.validated(StageRecordUpdate, {**changes, "version": record.version}),
        )
        return record.id


def latest_on_or_before(
    history: list[tuple[date, int, int]], as_of: date
) -> tuple[date, int, int] | None:
    """The latest (assessed_on, id, stance) on or before as_of; ties broken by the later id."""
    candidates = [reading for reading in history if reading[0] <= as_of]
    return max(candidates) if candidates else None


def on_day(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Fix tracker.clock's today (records made now are dated that day)."""
    monkeypatch.setenv("TRACKER_TODAY", day.isoformat())


def assess(
    engine: Engine, stakeholder_id: int, assessed_on: date, stance: int, **extra: Any
) -> None:
    with write(engine) as session:
        stakeholders.record_assessment(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                AssessmentCreate,
                {
                    "stakeholder_id": stakeholder_id,
                    "assessed_on": assessed_on,
                    "stance": stance,
                    **extra,
                },
            ),
        )


def depends(engine: Engine, milestone_id: int, stakeholder_ids: list[int]) -> None:
    with write(engine) as session:
        milestones.set_dependencies(
            session=session,
            viewer=SYSTEM,
            milestone_id=milestone_id,
            stakeholder_ids=stakeholder_ids,
        )


def metric_with_readings(
    engine: Engine, programme_id: int, name: str, readings: list[tuple[date, float]], **data: Any
) -> int:
    with write(engine) as session:
        metric = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": name, "baseline": 0, "target": 100} | data,
            ),
        )
        assert metric.id is not None
        for reading_on, value in readings:
            metrics.record_reading(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    MetricReadingCreate,
                    {"metric_id": metric.id, "reading_on": reading_on, "value": value},
                ),
            )
        return metric.id


def dashboard_row(engine: Engine, viewer: access.Viewer, programme_id: int) -> dict[str, Any]:
    with db.read_session(engine) as session:
        frame = read.portfolio.portfolio_dashboard(session=session, viewer=viewer, today=TODAY)
        plain = read.portfolio.portfolio(session=session, viewer=viewer, today=TODAY)
    assert list(frame.columns) == list(read.portfolio.PORTFOLIO_DASHBOARD_COLUMNS)
    # Every portfolio column, unchanged, in the same rows and order.
    assert frame[list(read.portfolio.PORTFOLIO_COLUMNS)].equals(plain)
    rows = frame[frame["programme_id"] == programme_id].to_dict("records")
    assert len(rows) == 1
    return rows[0]


def override(engine: Engine, programme_id: int, rating: str, reason: str) -> None:
    with db.write_session(engine, actor="maya@x.org") as session:
        programmes.override_confidence(
            session=session,
            viewer=SYSTEM,
            programme_id=programme_id,
            rating=rating,
            reason=reason,
            set_by="maya@x.org",
        )


ADKAR = ("awareness", "desire", "knowledge", "ability", "reinforcement")
