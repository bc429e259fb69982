"""The demo portfolio: loaded from the files in data/demo/, written once, idempotent,
deterministic, and rich enough that every dashboard has something true to show
(shared/DOMAIN.md)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col, select

from tests import factories
from tracker import access, db, figures
from tracker.cli import main
from tracker.errors import DomainError
from tracker.models import (
    Assessment,
    AuditEvent,
    Barrier,
    BarrierCategory,
    Engagement,
    ExitCriterion,
    InfluenceLink,
    Metric,
    MetricReading,
    Milestone,
    MilestoneDependency,
    MilestoneImpact,
    MilestoneStatus,
    Narrative,
    Organisation,
    Programme,
    ProgrammePartner,
    Role,
    StaffGroup,
    Stage,
    StageRecord,
    Stakeholder,
    User,
)
from tracker.seed.accounts import DEMO_DATA, demo_accounts
from tracker.seed.demo import (
    DEMO_ACTOR,
    DEMO_PROGRAMME_CODES,
    DEMO_USERS,
    moved_to,
    read_portfolio,
    seed_demo,
)

# The day every test here seeds on, so a run that crosses midnight still compares like with like.
TODAY = dt.date.today()
STAGE_ORDER = list(Stage)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def is_timestamp(column: sa.Column[Any]) -> bool:
    kind = column.type.impl if isinstance(column.type, sa.types.TypeDecorator) else column.type
    return isinstance(kind, sa.DateTime)


def business_dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit trail, in key order, without timestamps (the
    moment of seeding is the one thing allowed to differ)."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "audit_event":
                continue
            columns = [c for c in table.columns if not is_timestamp(c)]
            query = sa.select(*columns).order_by(*table.primary_key.columns)
            dump[table.name] = [tuple(row) for row in connection.execute(query)]
    return dump


@pytest.fixture(scope="module")
def demo_engine(
    migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One SQLite database with the demo seeded on TODAY, shared by the read-only tests."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(migrated_sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKER_TODAY", TODAY.isoformat())
        seed_demo(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def on_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_TODAY", TODAY.isoformat())


def everything(engine: Engine, table: type[SQLModel]) -> list[Any]:
    with db.read_session(engine) as session:
        return list(session.exec(select(table)).all())


def programmes_by_code(engine: Engine) -> dict[str, Programme]:
    return {p.code: p for p in everything(engine, Programme)}


def milestones_by_programme(engine: Engine) -> dict[int, list[Milestone]]:
    grouped: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in everything(engine, Milestone):
        grouped[milestone.programme_id].append(milestone)
    return grouped


def history_of(engine: Engine) -> dict[int, list[tuple[dt.date, int]]]:
    """Each stakeholder's (assessed on, stance), oldest first."""
    histories: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    with db.read_session(engine) as session:
        rows = session.exec(
            select(Assessment).order_by(col(Assessment.assessed_on), col(Assessment.id))
        ).all()
    for row in rows:
        histories[row.stakeholder_id].append((row.assessed_on, row.stance))
    return histories


# --- Writing it: idempotent, resettable, deterministic -----------------------------------------


@pytest.mark.usefixtures("on_today")
def test_seeding_twice_changes_nothing_and_reset_rebuilds_the_same_rows(engine: Engine) -> None:
    first = seed_demo(engine)
    counts = row_counts(engine)
    assert first.created
    assert first.programmes == counts["programme"] == 5
    assert first.milestones == counts["milestone"]
    assert first.assessments == counts["assessment"]

    again = seed_demo(engine)
    assert not again.created
    assert again.describe() == "Demo portfolio already present: nothing changed"
    assert row_counts(engine) == counts

    factories.programme(engine, code="NOT-DEMO")
    rebuilt = seed_demo(engine, reset=True)
    assert rebuilt.created
    assert rebuilt == first
    assert "NOT-DEMO" not in programmes_by_code(engine)
    assert row_counts(engine) == counts


@pytest.mark.usefixtures("on_today")
def test_two_fresh_databases_seeded_the_same_day_hold_the_same_data(
    engine: Engine, demo_engine: Engine
) -> None:
    seed_demo(engine)
    assert business_dump(engine) == business_dump(demo_engine)


def test_seeding_a_database_that_clashes_with_the_demo_writes_nothing(
    sqlite_engine: Engine,
) -> None:
    factories.organisation(sqlite_engine, name="Eastbrook District Council", short_name="EBDC")
    before = row_counts(sqlite_engine)
    with pytest.raises(DomainError, match="already has this name"):
        seed_demo(sqlite_engine)
    assert row_counts(sqlite_engine) == before


def test_every_demo_record_was_written_through_the_audited_services(demo_engine: Engine) -> None:
    counts = row_counts(demo_engine)
    audit = everything(demo_engine, AuditEvent)
    assert {event.actor for event in audit} == {DEMO_ACTOR}
    created = Counter(event.record_type for event in audit if event.action == "create")
    # Every table but the trail itself and the data version (a counter of commits, not a record).
    bookkeeping = {"audit_event", "data_version"}
    assert created == {name: n for name, n in counts.items() if name not in bookkeeping and n}


# --- Organisations, programmes and stages -------------------------------------------------------


def test_three_organisations_each_have_four_to_six_staff_groups(demo_engine: Engine) -> None:
    organisations = everything(demo_engine, Organisation)
    groups = Counter(group.organisation_id for group in everything(demo_engine, StaffGroup))
    assert sorted(org.name for org in organisations) == [
        "Eastbrook District Council",
        "Northmoor County Council",
        "Northmoor Integrated Care Board",
    ]
    assert all(4 <= groups[org.id] <= 6 for org in organisations)


def test_five_programmes_stand_at_different_points_of_the_six_stages(demo_engine: Engine) -> None:
    programmes = programmes_by_code(demo_engine)
    assert sorted(programmes) == sorted(DEMO_PROGRAMME_CODES)
    assert {p.status for p in programmes.values()} == {"planned", "active"}
    furthest: dict[int, Stage] = {}
    for record in everything(demo_engine, StageRecord):
        if record.actual_start is not None:
            latest = furthest.get(record.programme_id, Stage.vision)
            furthest[record.programme_id] = max(latest, record.stage, key=STAGE_ORDER.index)
    assert sorted(furthest.values(), key=STAGE_ORDER.index) == [
        Stage.influencers,
        Stage.test,
        Stage.equip,
        Stage.launch,
        Stage.celebrate,
    ]


def test_one_programme_is_pooled_by_the_two_councils(demo_engine: Engine) -> None:
    names = {org.id: org.name for org in everything(demo_engine, Organisation)}
    owners = {p.id: names[p.organisation_id] for p in everything(demo_engine, Programme)}
    pooled = {
        (owners[link.programme_id], names[link.organisation_id])
        for link in everything(demo_engine, ProgrammePartner)
    }
    assert ("Eastbrook District Council", "Northmoor County Council") in pooled
    assert ("Northmoor County Council", "Northmoor Integrated Care Board") in pooled


def test_every_stage_has_a_narrative_consistent_dates_and_exit_criteria(
    demo_engine: Engine,
) -> None:
    records = everything(demo_engine, StageRecord)
    criteria: dict[int, list[ExitCriterion]] = defaultdict(list)
    for criterion in everything(demo_engine, ExitCriterion):
        criteria[criterion.stage_record_id].append(criterion)
    assert len(records) == 30
    for record in records:
        assert 80 <= len(record.narrative) <= 600, record.narrative
        assert record.planned_start is not None and record.planned_end is not None
        assert 2 <= len(criteria[record.id]) <= 3
        if record.actual_end is not None:
            assert record.actual_start is not None and record.actual_end <= TODAY
            assert all(c.met for c in criteria[record.id])
        elif record.actual_start is None:
            assert not any(c.met for c in criteria[record.id])
            assert record.planned_start > TODAY - dt.timedelta(days=31)
        else:
            assert record.actual_start <= TODAY


# --- Milestones ---------------------------------------------------------------------------------


def test_each_programme_has_twenty_milestones_some_done_overdue_and_blocked(
    demo_engine: Engine,
) -> None:
    started = {
        (r.programme_id, r.stage)
        for r in everything(demo_engine, StageRecord)
        if r.actual_start is not None
    }
    all_statuses: Counter[str] = Counter()
    for programme_milestones in milestones_by_programme(demo_engine).values():
        statuses = Counter(m.status for m in programme_milestones)
        all_statuses.update(statuses)
        overdue = [
            m
            for m in programme_milestones
            if figures.is_overdue(due_date=m.due_date, status=m.status, today=TODAY)
        ]
        assert len(programme_milestones) >= 20
        assert statuses[MilestoneStatus.done] and statuses[MilestoneStatus.blocked] and overdue
        assert {m.weight for m in programme_milestones} <= {1, 2, 3, 4, 5}
        assert len({m.stage for m in programme_milestones}) == 6
        for milestone in programme_milestones:
            if milestone.completed_date is not None:
                assert milestone.completed_date < TODAY
                assert (milestone.programme_id, milestone.stage) in started
    assert all_statuses[MilestoneStatus.cancelled] >= 3
    assert all_statuses[MilestoneStatus.in_progress] >= 5


def test_recent_throughput_gives_every_programme_a_forecast(demo_engine: Engine) -> None:
    for programme_milestones in milestones_by_programme(demo_engine).values():
        throughput = figures.weekly_throughput(
            [m.completed_date for m in programme_milestones if m.completed_date], today=TODAY
        )
        remaining = sum(m.status not in ("done", "cancelled") for m in programme_milestones)
        assert sum(throughput) >= 2
        assert figures.forecast_finish(remaining=remaining, throughput=throughput, today=TODAY)


@pytest.mark.parametrize("year", [2027, 2028])
def test_the_milestone_plan_holds_on_every_day_of_the_year(year: int) -> None:
    portfolio = read_portfolio()
    plans = {
        code: {"milestones": portfolio.programme(code, portfolio.as_of)["milestones"]}
        for code in portfolio.codes
    }
    # Late: in progress and already overdue on the day the files were written.
    late = {
        (code, m["title"])
        for code, plan in plans.items()
        for m in plan["milestones"]
        if m["status"] == "in_progress" and dt.date.fromisoformat(m["due_date"]) < portfolio.as_of
    }
    assert late
    day = dt.date(year, 1, 1)
    while day.year == year:
        heavy: Counter[tuple[str, dt.date]] = Counter()
        for code, plan in plans.items():
            moved = moved_to(plan, as_of=portfolio.as_of, today=day)["milestones"]
            statuses = Counter(m["status"] for m in moved)
            recent = [
                m["completed_date"]
                for m in moved
                if m["completed_date"]
                and (day - dt.date.fromisoformat(m["completed_date"])).days < 84
            ]
            assert statuses["done"] and statuses["blocked"] and len(recent) >= 2, (code, day)
            assert all(
                dt.date.fromisoformat(m["due_date"]) < day
                for m in moved
                if (code, m["title"]) in late
            ), (code, day)
            heavy.update(
                (
                    i["staff_group"]["name"],
                    figures.month_start(dt.date.fromisoformat(m["due_date"])),
                )
                for m in moved
                for i in m["impacts"]
                if i["impact"] == "high"
            )
        (group, month), count = heavy.most_common(1)[0]
        assert group == "Revenues and benefits" and count >= 4, day
        assert month < figures.month_start(day), day
        day += dt.timedelta(days=1)


def heavy_month(engine: Engine) -> tuple[int, dt.date, int]:
    """The (staff group, month) with the most high-impact milestones due, and how many."""
    due = {m.id: m.due_date for m in everything(engine, Milestone)}
    high = Counter(
        (i.staff_group_id, figures.month_start(due[i.milestone_id]))
        for i in everything(engine, MilestoneImpact)
        if i.impact == "high"
    )
    (group_id, month), count = high.most_common(1)[0]
    return group_id, month, count


def test_most_milestones_land_on_staff_groups_and_one_group_has_a_heavy_month(
    demo_engine: Engine,
) -> None:
    impacts = everything(demo_engine, MilestoneImpact)
    assert len({i.milestone_id for i in impacts}) >= 0.6 * len(everything(demo_engine, Milestone))
    assert {i.impact for i in impacts} == {"low", "medium", "high"}
    group_id, month, count = heavy_month(demo_engine)
    groups = {g.id: g.name for g in everything(demo_engine, StaffGroup)}
    assert count >= 4
    assert groups[group_id] == "Revenues and benefits"
    assert month < figures.month_start(TODAY)


# --- People -------------------------------------------------------------------------------------


def test_each_programme_has_eight_stakeholders_assessed_monthly_for_up_to_eighteen_months(
    demo_engine: Engine,
) -> None:
    stakeholders = everything(demo_engine, Stakeholder)
    per_programme = Counter(s.programme_id for s in stakeholders)
    assert len(per_programme) == 5 and min(per_programme.values()) >= 8
    assert all(s.role and s.relationship_owner and s.notes for s in stakeholders)
    histories = history_of(demo_engine)
    spans = [
        (last[0].year - first[0].year) * 12 + last[0].month - first[0].month
        for first, *_, last in histories.values()
    ]
    assert max(spans) >= 17
    for history in histories.values():
        gaps = [(b[0] - a[0]).days for a, b in zip(history, history[1:], strict=False)]
        assert all(0 < gap <= 35 for gap in gaps)
        assert history[-1][0] <= TODAY
    assessments = everything(demo_engine, Assessment)
    with_adkar = [a for a in assessments if a.awareness and a.desire and a.reinforcement]
    assert len(with_adkar) >= 0.8 * len(assessments)


def test_a_resistor_comes_round_and_a_champion_cools(demo_engine: Engine) -> None:
    histories = history_of(demo_engine).values()
    assert any(h[0][1] <= -1 and h[-1][1] >= 1 for h in histories)
    assert any(h[0][1] == 2 and h[-1][1] == 0 for h in histories)


def test_stakeholders_of_the_group_with_the_heavy_month_harden_after_it(
    demo_engine: Engine,
) -> None:
    group, month, _ = heavy_month(demo_engine)
    histories = history_of(demo_engine)
    hardened = [s for s in everything(demo_engine, Stakeholder) if s.staff_group_id == group]
    assert len(hardened) >= 3
    for stakeholder in hardened:
        before = [stance for day, stance in histories[stakeholder.id] if day < month][-1]
        assert stakeholder.stance < before
        assert figures.stance_movement(histories[stakeholder.id], today=TODAY) < 0


def test_a_resistance_hotspot_is_needed_by_a_milestone_not_yet_done(demo_engine: Engine) -> None:
    hotspots = {
        s.id
        for s in everything(demo_engine, Stakeholder)
        if figures.is_hotspot(influence=s.influence, stance=s.stance)
    }
    milestones = {m.id: m for m in everything(demo_engine, Milestone)}
    blocked_by_hotspot = [
        milestones[d.milestone_id]
        for d in everything(demo_engine, MilestoneDependency)
        if d.stakeholder_id in hotspots
    ]
    assert any(m.status not in ("done", "cancelled") for m in blocked_by_hotspot)


def test_engagements_have_follow_ups_both_due_and_overdue(demo_engine: Engine) -> None:
    contacts = everything(demo_engine, Engagement)
    assert min(Counter(e.programme_id for e in contacts).values()) >= 3
    open_follow_ups = [e.follow_up_on for e in contacts if e.follow_up_on and not e.follow_up_done]
    assert any(day < TODAY for day in open_follow_ups)
    assert any(day >= TODAY for day in open_follow_ups)
    assert all(e.occurred_on <= TODAY for e in contacts)


def test_stakeholders_are_joined_by_at_least_eight_influence_links(demo_engine: Engine) -> None:
    assert len(everything(demo_engine, InfluenceLink)) >= 8


# --- Barriers, metrics, narratives --------------------------------------------------------------


def test_barriers_cover_every_category_of_the_article(demo_engine: Engine) -> None:
    barriers = everything(demo_engine, Barrier)
    assert {b.category for b in barriers} == set(BarrierCategory)
    assert {b.status for b in barriers} == {"open", "mitigating", "closed"}


def test_each_programme_has_three_metrics_read_monthly_that_move(demo_engine: Engine) -> None:
    metrics = everything(demo_engine, Metric)
    readings: dict[int, list[MetricReading]] = defaultdict(list)
    for reading in sorted(everything(demo_engine, MetricReading), key=lambda r: r.reading_on):
        readings[reading.metric_id].append(reading)
    assert min(Counter(m.programme_id for m in metrics).values()) >= 3
    assert {m.direction for m in metrics} == {"up", "down"}
    moved: set[int] = set()
    for metric in metrics:
        series = readings[metric.id]
        months = [r.reading_on for r in series]
        assert len(series) >= 7 and months[-1] <= TODAY
        assert all(day.day == 1 for day in months)
        assert all(31 >= (b - a).days >= 28 for a, b in zip(months, months[1:], strict=False))
        first, latest = (
            figures.metric_attainment(
                baseline=metric.baseline,
                target=metric.target,
                latest=r.value,
                direction=metric.direction,
            )
            for r in (series[0], series[-1])
        )
        assert first is not None and latest is not None
        if latest > first + 0.05:
            moved.add(metric.programme_id)
    assert len(moved) == 5


def test_narratives_are_published_and_drafted_for_every_audience(demo_engine: Engine) -> None:
    stories = everything(demo_engine, Narrative)
    published = [n for n in stories if n.status == "published"]
    assert {n.audience for n in published} == {"staff", "leadership", "everyone"}
    assert any(n.status == "draft" for n in stories)
    assert all(n.published_on <= TODAY for n in published)
    assert all(n.body and n.author for n in stories)


# --- Users --------------------------------------------------------------------------------------


def test_there_is_a_demo_user_for_every_role(demo_engine: Engine) -> None:
    orgs = {o.id: o.short_name for o in everything(demo_engine, Organisation)}
    groups = {g.id: (orgs[g.organisation_id], g.name) for g in everything(demo_engine, StaffGroup)}
    with db.read_session(demo_engine) as session:
        viewers = [access.load_viewer(session, email=user.email) for user in DEMO_USERS]
    assert all(viewers)
    seen = {(v.role, frozenset(orgs[o] for o in v.organisation_ids)) for v in viewers if v}
    assert (Role.admin, frozenset({"NCC", "EDC", "NICB"})) in seen
    assert (Role.manager, frozenset({"NCC"})) in seen
    assert (Role.manager, frozenset({"EDC"})) in seen
    assert (Role.leadership, frozenset({"NCC", "EDC"})) in seen
    staff_groups = {groups[v.staff_group_id] for v in viewers if v and v.role is Role.staff}
    assert staff_groups == {("NCC", "Customer services"), ("EDC", "Revenues and benefits")}
    assert len(everything(demo_engine, User)) == len(DEMO_USERS)


def test_staff_users_groups_have_change_landing_on_them(demo_engine: Engine) -> None:
    landed = {i.staff_group_id for i in everything(demo_engine, MilestoneImpact)}
    with db.read_session(demo_engine) as session:
        staff = [access.load_viewer(session, email=u.email) for u in DEMO_USERS]
    assert all(v.staff_group_id in landed for v in staff if v and v.role is Role.staff)


# --- The files --------------------------------------------------------------------------------


def test_the_seeder_loads_the_data_files_so_an_edit_shows_in_the_seeded_database(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(DEMO_DATA, folder)
    programme_file = folder / "programmes" / f"{DEMO_PROGRAMME_CODES[0]}.json"
    document = json.loads(programme_file.read_text(encoding="utf-8"))
    document["programme"]["title"] = "A title changed in the file"
    document["barriers"] = document["barriers"][:1]
    programme_file.write_text(json.dumps(document), encoding="utf-8")
    accounts_file = folder / "accounts.json"
    accounts = json.loads(accounts_file.read_text(encoding="utf-8"))
    accounts[0]["name"] = "Ada Edited"
    accounts_file.write_text(json.dumps(accounts), encoding="utf-8")

    summary = seed_demo(sqlite_engine, folder=folder)

    programme = programmes_by_code(sqlite_engine)[DEMO_PROGRAMME_CODES[0]]
    assert programme.title == "A title changed in the file"
    barriers = Counter(b.programme_id for b in everything(sqlite_engine, Barrier))
    assert barriers[programme.id] == 1
    assert summary.barriers == len(everything(sqlite_engine, Barrier))
    assert {u.name for u in everything(sqlite_engine, User)} >= {"Ada Edited"}
    assert demo_accounts(folder)[0].name == "Ada Edited"


def test_the_files_are_dated_as_of_a_reference_date_and_moved_to_today(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    portfolio = read_portfolio()
    later = portfolio.as_of + dt.timedelta(days=100)
    monkeypatch.setenv("TRACKER_TODAY", later.isoformat())
    seed_demo(sqlite_engine)

    code = DEMO_PROGRAMME_CODES[0]
    written = portfolio.programme(code, portfolio.as_of)["programme"]["start_date"]
    programme = programmes_by_code(sqlite_engine)[code]
    assert programme.start_date == dt.date.fromisoformat(written) + dt.timedelta(days=100)
    latest = max(r.reading_on for r in everything(sqlite_engine, MetricReading))
    assert latest == figures.month_start(later)


def test_the_sign_in_list_reads_the_accounts_file_without_the_seeder() -> None:
    code = (
        "import sys; from tracker.seed.accounts import demo_accounts; "
        "assert demo_accounts(); "
        "assert 'tracker.seed.demo' not in sys.modules and 'tracker.models' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert demo_accounts() == DEMO_USERS


def test_tracker_demo_reset_reloads_the_demo(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = db.make_engine(demo_url)
    factories.programme(engine, code="NOT-DEMO")
    before = row_counts(engine)

    assert main(["demo", "--reset"]) == 0

    assert capsys.readouterr().out.startswith("Demo portfolio seeded: 5 programmes, ")
    assert "NOT-DEMO" not in programmes_by_code(engine)
    assert row_counts(engine)["programme"] == before["programme"] - 1
    engine.dispose()
