"""`tracker generate`: scale data with exactly the promised counts and realistic shapes, the same
rows for the same seed, a database the query layer, the services and the pages work on
afterwards, and a database already in use left alone."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from tests.conftest import APP, sign_in
from tests.factories import SYSTEM
from tracker import db, read
from tracker.access import load_viewer
from tracker.cli import main
from tracker.errors import DomainError
from tracker.models import MilestoneCreate
from tracker.models.organisation import OrganisationCreate
from tracker.models.people import StakeholderCreate
from tracker.seed import generate
from tracker.services import milestones, organisations, records, stakeholders

# A fixed day, so what is overdue or under way does not depend on when the tests run.
TODAY = dt.date(2026, 6, 15)
LEADER = f"leader@{generate.EMAIL_DOMAIN}"


def _generate(engine: Engine, size: str = "S", seed: int = 1, **kwargs: Any) -> dict[str, int]:
    return generate.generate(engine, size, seed=seed, today=TODAY, **kwargs)


def _scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as connection:
        return connection.exec_driver_sql(sql).scalar()


def _rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.exec_driver_sql(sql))


def _digest(engine: Engine) -> str:
    """A hash of every generated row of every table, in primary-key order. The audit event is
    left out: it records the real time the data was generated."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for name in generate.TABLES:
            if name == "audit_event":
                continue
            table = SQLModel.metadata.tables[name]
            ordered = sa.select(table).order_by(*table.primary_key.columns)
            for row in connection.execute(ordered):
                digest.update(repr((name, tuple(row))).encode())
    return digest.hexdigest()


def test_size_s_writes_exactly_the_promised_rows_and_says_so(engine: Engine) -> None:
    counts = _generate(engine)

    promised = {
        "organisation": 2,
        "programme": 2,
        "milestone": 200,
        "stakeholder": 200,
        "assessment": 2_000,
        "metric_reading": 5_000,
        "stage_record": 12,
        "exit_criterion": 36,
        "app_user": 8,
        "audit_event": 1,
    }
    assert {name: counts[name] for name in promised} == promised
    assert list(counts) == list(generate.TABLES)
    for name, count in counts.items():
        assert _scalar(engine, f"SELECT count(*) FROM {name}") == count, name
    published = _scalar(
        engine, "SELECT count(DISTINCT programme_id) FROM narrative WHERE status = 'published'"
    )
    assert published == 2


def test_the_one_audit_event_records_the_run_and_the_data_version_moves(engine: Engine) -> None:
    with db.read_session(engine) as session:
        before = db.data_version(session)

    counts = _generate(engine, seed=5)

    ((actor, action, after),) = _rows(engine, "SELECT actor, action, after FROM audit_event")
    assert (actor, action) == ("generator", "create")
    assert '"size": "S"' in after and '"seed": 5' in after and '"metric_reading": 5000' in after
    assert counts["audit_event"] == 1
    with db.read_session(engine) as session:
        assert db.data_version(session) > before


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(engine: Engine) -> None:
    _generate(engine, seed=7)
    first = _digest(engine)
    with db.read_session(engine) as session:
        version = db.data_version(session)

    _generate(engine, seed=7, reset=True)
    assert _digest(engine) == first
    # The reset emptied every table, yet the data version still moved on, so caches refresh.
    with db.read_session(engine) as session:
        assert db.data_version(session) > version

    _generate(engine, seed=8, reset=True)
    assert _digest(engine) != first


@pytest.fixture(scope="module")
def size_m(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One size M database (SQLite) for the tests that only read it: enough programmes for the
    shapes to show."""
    path = tmp_path_factory.mktemp("generate") / "m.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    _generate(engine, "M", seed=1)
    yield engine
    engine.dispose()


def test_stance_is_skewed_towards_support_with_few_influential_resistors(size_m: Engine) -> None:
    stances = dict(_rows(size_m, "SELECT stance, count(*) FROM stakeholder GROUP BY stance"))
    total = sum(stances.values())
    resisting = stances.get(-2, 0) + stances.get(-1, 0)
    assert total == 2_000
    assert 0.05 * total < resisting < 0.3 * total
    assert stances.get(0, 0) + stances.get(1, 0) + stances.get(2, 0) > 0.7 * total
    assert stances[-1] > stances[-2] and stances[1] > stances[-1]
    hotspots = _scalar(
        size_m, "SELECT count(*) FROM stakeholder WHERE influence >= 4 AND stance <= -1"
    )
    assert 0 < hotspots < 0.1 * total


def test_each_stakeholders_assessments_run_over_months_and_end_at_their_stance(
    size_m: Engine,
) -> None:
    spans = _rows(
        size_m,
        "SELECT stakeholder_id, count(*), min(assessed_on), max(assessed_on), "
        "count(DISTINCT assessed_on), min(stance), max(stance) "
        "FROM assessment GROUP BY stakeholder_id",
    )
    assert len(spans) == 2_000
    for _, count, first, last, dates, *_ in spans:
        first, last = (dt.date.fromisoformat(str(day)[:10]) for day in (first, last))
        assert count == 10 and dates == 10
        assert (last - first).days >= 90
        assert last <= TODAY
    moved = sum(1 for *_, lowest, highest in spans if lowest != highest)
    assert moved > 0.5 * len(spans)
    mismatched = _scalar(
        size_m,
        "SELECT count(*) FROM stakeholder s JOIN assessment a ON a.stakeholder_id = s.id "
        "WHERE a.assessed_on = (SELECT max(assessed_on) FROM assessment "
        "WHERE stakeholder_id = s.id) AND a.stance <> s.stance",
    )
    assert mismatched == 0


def test_milestones_are_done_overdue_and_ahead_and_stages_at_different_points(
    size_m: Engine,
) -> None:
    today = f"'{TODAY.isoformat()}'"
    overdue = _scalar(
        size_m,
        f"SELECT count(*) FROM milestone WHERE due_date < {today} "
        "AND status NOT IN ('done', 'cancelled')",
    )
    statuses = dict(_rows(size_m, "SELECT status, count(*) FROM milestone GROUP BY status"))
    assert 0.01 * 2_000 < overdue < 0.2 * 2_000
    assert set(statuses) == {"not_started", "in_progress", "done", "blocked", "cancelled"}
    assert _scalar(size_m, f"SELECT count(*) FROM milestone WHERE completed_date > {today}") == 0
    stages = _rows(
        size_m,
        "SELECT stage, sum(CASE WHEN actual_start IS NOT NULL THEN 1 ELSE 0 END), "
        "sum(CASE WHEN actual_end IS NOT NULL THEN 1 ELSE 0 END) FROM stage_record GROUP BY stage",
    )
    started = {stage: count for stage, count, _ in stages}
    finished = {stage: count for stage, _, count in stages}
    assert started["vision"] == 20 and finished["vision"] > 0
    assert 0 < started["launch"] < 20 and started["celebrate"] < started["launch"]


def test_metric_readings_mostly_move_towards_their_targets(size_m: Engine) -> None:
    firsts_and_lasts = _rows(
        size_m,
        "SELECT m.baseline, m.target, "
        "(SELECT value FROM metric_reading WHERE metric_id = m.id ORDER BY reading_on LIMIT 1), "
        "(SELECT value FROM metric_reading WHERE metric_id = m.id "
        "ORDER BY reading_on DESC LIMIT 1) FROM metric m",
    )
    towards = [
        abs(target - last) < abs(target - first) for _, target, first, last in firsts_and_lasts
    ]
    assert 0.6 * len(towards) < sum(towards) < len(towards)


def test_the_query_layer_works_on_the_generated_data(engine: Engine) -> None:
    _generate(engine)

    with db.read_session(engine) as session:
        leader = load_viewer(session, email=LEADER)
        assert leader is not None
        portfolio = read.portfolio.portfolio_dashboard(session=session, viewer=leader, today=TODAY)
        codes = sorted(r[0] for r in _rows(engine, "SELECT code FROM programme"))
        assert sorted(portfolio["code"]) == codes
        programme_id = int(portfolio["programme_id"].iloc[0])
        figures = read.programme.programme_figures(
            session=session, programme_id=programme_id, today=TODAY
        )
        one = load_viewer(session, email=f"leadership1@{generate.EMAIL_DOMAIN}")
        assert one is not None
        theirs = read.portfolio.portfolio_dashboard(session=session, viewer=one, today=TODAY)
    planned = _scalar(
        engine,
        f"SELECT count(*) FROM milestone WHERE programme_id = {programme_id} "
        "AND status <> 'cancelled'",
    )
    assert figures.milestones == planned
    assert 1 <= len(theirs) <= len(portfolio)


def test_the_services_write_as_usual_afterwards(engine: Engine) -> None:
    _generate(engine)
    before = {
        name: _scalar(engine, f"SELECT max(id) FROM {name}")
        for name in ("milestone", "stakeholder", "assessment", "organisation", "audit_event")
    }

    with db.write_session(engine, actor="tester@example.org") as session:
        programme_id = _scalar(engine, "SELECT min(id) FROM programme")
        milestone = milestones.create_milestone(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MilestoneCreate,
                {
                    "programme_id": programme_id,
                    "stage": "equip",
                    "title": "Train the new starters",
                    "due_date": TODAY + dt.timedelta(days=30),
                },
            ),
        )
        person = stakeholders.create_stakeholder(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                StakeholderCreate,
                {
                    "programme_id": programme_id,
                    "name": "Nia Newcomer",
                    "stance": 1,
                },
            ),
        )
        organisation = organisations.create_organisation(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                OrganisationCreate, {"name": "Lakeside Council", "short_name": "LSC"}
            ),
        )

    assert milestone.id == before["milestone"] + 1
    assert person.id == before["stakeholder"] + 1
    assert organisation.id == before["organisation"] + 1
    assert _scalar(engine, "SELECT max(id) FROM assessment") == before["assessment"] + 1
    assert _scalar(engine, "SELECT max(id) FROM audit_event") > before["audit_event"]


def test_a_database_holding_programmes_is_refused_and_left_unchanged(engine: Engine) -> None:
    _generate(engine)
    digest = _digest(engine)

    with pytest.raises(DomainError, match="already holds 2 programmes") as refused:
        _generate(engine, seed=2)

    assert "--reset" in refused.value.reason
    assert _digest(engine) == digest
    assert _scalar(engine, "SELECT count(*) FROM audit_event") == 1


def test_an_organisation_the_generator_would_create_is_refused(sqlite_engine: Engine) -> None:
    with db.write_session(sqlite_engine, actor="tester@example.org") as session:
        organisations.create_organisation(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                OrganisationCreate, {"name": "Ashcombe County Council", "short_name": "ASH"}
            ),
        )

    with pytest.raises(DomainError, match="Ashcombe County Council"):
        _generate(sqlite_engine)

    assert _scalar(sqlite_engine, "SELECT count(*) FROM organisation") == 1


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL pointed at a new, empty SQLite file, and today fixed."""
    url = f"sqlite:///{tmp_path / 'generated.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_TODAY", TODAY.isoformat())
    return url


def test_the_command_shows_progress_then_the_rows_per_table(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--size", "s", "--seed", "3"]) == 0

    captured = capsys.readouterr()
    assert captured.out.startswith("Generated size S (seed 3) in ")
    assert "  metric_reading" in captured.out and "5,000" in captured.out
    assert "total" in captured.out and " rows" in captured.out
    assert LEADER in captured.out and f"staff2@{generate.EMAIL_DOMAIN}" in captured.out
    assert "[########################] 100%  milestone" in captured.err
    assert "200/200" in captured.err


def test_the_command_refuses_a_database_in_use_unless_reset(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--size", "S"]) == 0
    capsys.readouterr()

    assert main(["generate", "--size", "S", "--seed", "2"]) == 1
    captured = capsys.readouterr()
    assert "already holds 2 programmes" in captured.err and "--reset" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""

    assert main(["generate", "--size", "S", "--seed", "2", "--reset"]) == 0
    assert "Generated size S (seed 2)" in capsys.readouterr().out


def test_the_portfolio_page_shows_the_generated_portfolio_to_its_leader(
    database_url: str,
) -> None:
    from streamlit.testing.v1 import AppTest

    assert main(["generate", "--size", "S"]) == 0

    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, LEADER)
    at.run()
    at.switch_page("pages/portfolio.py").run()
    assert not at.exception, at.exception
    shown = at.dataframe[0].value
    assert len(shown) == 2
    assert {m.label: m.value for m in at.metric}["Programmes shown"] == "2 of 2"
