"""Domain rules hold under any input (RELIABILITY.md #14): whatever a form sends to a service,
the service either saves a valid record or refuses with a DomainError, and a refusal writes
nothing at all. (The importer has its own property test in test_io_imports.py.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests import factories
from tests.factories import SYSTEM
from tracker import db
from tracker.errors import DomainError
from tracker.models import BarrierCreate, MetricCreate, MilestoneCreate, NarrativeCreate
from tracker.models.people import StakeholderCreate
from tracker.services import barriers, metrics, milestones, narratives, records, stakeholders

# Values a browser, a spreadsheet or a hostile client might send for any field.
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)),
    st.sampled_from(["vision", "done", "up", "down", "high", "cultural", "published", "-2", "3"]),
)
_TEXT = st.text(min_size=3, max_size=40).filter(lambda t: t.strip() and "\x00" not in t)
_DATE = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 12, 31))
# Plausible values per field, so a fair share of examples is saved, not only refused.
VALID: dict[str, st.SearchStrategy[Any]] = {
    "stage": st.sampled_from(["vision", "influencers", "test", "equip", "launch", "celebrate"]),
    "title": _TEXT,
    "name": _TEXT,
    "owner": _TEXT,
    "role": _TEXT,
    "unit": st.sampled_from(["%", "£", "count"]),
    "notes": st.text(max_size=100),
    "body": st.text(max_size=200),
    "due_date": _DATE,
    "completed_date": st.none(),
    "target_date": _DATE,
    "published_on": st.none(),
    "status": st.sampled_from(["not_started", "in_progress", "open", "draft"]),
    "weight": st.integers(1, 5),
    "influence": st.integers(1, 5),
    "interest": st.integers(1, 5),
    "likelihood": st.integers(1, 5),
    "impact": st.integers(1, 5),
    "stance": st.integers(-2, 2),
    "desired_stance": st.integers(-2, 2),
    "kind": st.sampled_from(["risk", "issue"]),
    "category": st.sampled_from(["financial", "cultural", "legal_data_protection", "other"]),
    "baseline": st.floats(0, 50),
    "target": st.floats(50, 100),
    "direction": st.just("up"),
    "audience": st.sampled_from(["everyone", "staff", "leadership"]),
}
# Words that would mean a programmer's message reached a person.
JARGON = ("Traceback", "Input should", "pydantic", "validation error", "IntegrityError")
FIELDS = {
    "milestone": ["stage", "title", "owner", "due_date", "completed_date", "status", "weight"],
    "stakeholder": ["name", "role", "influence", "interest", "stance", "desired_stance", "notes"],
    "barrier": ["title", "kind", "category", "likelihood", "impact", "owner", "status"],
    "metric": ["name", "unit", "baseline", "target", "target_date", "direction", "stage"],
    "narrative": ["title", "body", "stage", "audience", "status", "published_on"],
}
CREATE: dict[str, Callable[..., Any]] = {
    "milestone": lambda s, data: milestones.create_milestone(
        session=s, viewer=SYSTEM, data=records.validated(MilestoneCreate, data)
    ),
    "stakeholder": lambda s, data: stakeholders.create_stakeholder(
        session=s, viewer=SYSTEM, data=records.validated(StakeholderCreate, data)
    ),
    "barrier": lambda s, data: barriers.create_barrier(
        session=s, viewer=SYSTEM, data=records.validated(BarrierCreate, data)
    ),
    "metric": lambda s, data: metrics.define_metric(
        session=s, viewer=SYSTEM, data=records.validated(MetricCreate, data)
    ),
    "narrative": lambda s, data: narratives.write_narrative(
        session=s, viewer=SYSTEM, data=records.validated(NarrativeCreate, data)
    ),
}


@pytest.fixture(scope="module")
def shared(
    migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, int]]:
    """One database for every example: refusals must leave it exactly as it was."""
    import shutil

    path = tmp_path_factory.mktemp("properties") / "tracker.db"
    shutil.copy(migrated_sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    yield engine, factories.programme(engine)
    engine.dispose()


def _counts(session: Session) -> dict[str, int]:
    tables = sa.inspect(session.get_bind()).get_table_names()
    return {
        name: int(session.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one())
        for name in tables
    }


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), kind=st.sampled_from(sorted(FIELDS)))
def test_any_input_is_saved_valid_or_refused_with_nothing_written(
    shared: tuple[Engine, int], data: st.DataObject, kind: str
) -> None:
    engine, programme_id = shared
    # Mostly plausible values, with now and then anything at all in any field.
    field_value = {
        name: st.integers(0, 9).flatmap(lambda n, v=VALID[name]: ANY_VALUE if n == 0 else v)
        for name in FIELDS[kind]
    }
    values = {
        name: data.draw(field_value[name], label=name)
        for name in FIELDS[kind]
        if data.draw(st.integers(0, 9), label=f"send {name}") > 0
    }
    with db.read_session(engine) as session:
        before = _counts(session)
    try:
        with db.write_session(engine, actor=factories.ACTOR) as session:
            record = CREATE[kind](session, {**values, "programme_id": programme_id})
    except DomainError as error:
        event(f"{kind} refused")
        # A reason a person can act on, never a programmer's message.
        assert error.reason and not any(word in error.reason for word in JARGON)
        with db.read_session(engine) as session:
            assert _counts(session) == before, "a refused record left rows behind"
    else:
        event(f"{kind} saved")
        # What was saved passes the model's own rules when read back.
        with db.read_session(engine) as session:
            saved = session.get(type(record), record.id)
            assert saved is not None
            type(record).model_validate(saved.model_dump())
