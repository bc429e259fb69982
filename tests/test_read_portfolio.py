"""Portfolio-wide reads (tracker/read/portfolio.py), on SQLite and PostgreSQL, against numbers
worked out by hand and against the pure figures; and filtering and sorting the dashboard's rows
and checking a shared link's values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests import factories
from tests.factories import SYSTEM
from tests.read_builders import (
    TODAY,
    assess,
    dashboard_row,
    depends,
    done,
    figures_of,
    latest_on_or_before,
    metric_with_readings,
    on_day,
    override,
    set_impacts,
    set_partners,
    viewer_of,
)
from tracker import access, db, figures, read
from tracker.errors import NotFoundError
from tracker.models import (
    DeliveryConfidence,
    Impact,
    Role,
)


def rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "title": ["Bins online", "Adult care", "Care record"],
            "organisation": [
                "Northmoor County Council",
                "Eastbrook District Council",
                "Northmoor County Council",
            ],
            "partners": ["", "NCC", "NICB"],
            "current_stages": ["vision", "test,equip", "launch"],
            "confidence": ["green", "red", "amber"],
            "sponsor": ["A. Sponsor", "B. Sponsor", "A. Sponsor"],
            "progress": [0.2, None, 0.9],
            "overdue": [0, 5, 2],
            "stance_index": [0.5, -1.0, None],
            "forecast_p50": [dt.date(2027, 1, 1), None, dt.date(2028, 1, 1)],
        }
    )


def titles(frame: pd.DataFrame) -> list[str]:
    return list(frame["title"])


def test_totals_count_programmes_red_or_amber_red_overdue_and_hotspots() -> None:
    frame = rows().assign(confidence=["amber_red", "red", "amber"], hotspots=[1, 0, 2])
    assert read.portfolio.totals(frame) == read.portfolio.Totals(
        programmes=3, needs_decision=2, overdue=7, hotspots=3
    )
    assert read.portfolio.totals(frame.iloc[0:0]) == read.portfolio.Totals(0, 0, 0, 0)


def test_no_filter_keeps_every_programme() -> None:
    assert titles(read.portfolio.filter_portfolio(rows())) == [
        "Bins online",
        "Adult care",
        "Care record",
    ]


def test_an_organisation_matches_programmes_it_owns_or_partners_in() -> None:
    chosen = {"Northmoor County Council": "NCC"}
    assert titles(read.portfolio.filter_portfolio(rows(), organisations=chosen)) == [
        "Bins online",
        "Adult care",
        "Care record",
    ]
    chosen = {"Northmoor Integrated Care Board": "NICB"}
    assert titles(read.portfolio.filter_portfolio(rows(), organisations=chosen)) == ["Care record"]


def test_a_stage_matches_any_of_a_programmes_current_stages() -> None:
    assert titles(read.portfolio.filter_portfolio(rows(), stages=["equip"])) == ["Adult care"]


def test_filters_combine_so_every_one_must_match() -> None:
    found = read.portfolio.filter_portfolio(
        rows(), ratings=["green", "amber"], sponsors=["A. Sponsor"]
    )
    assert titles(found) == ["Bins online", "Care record"]
    assert (
        titles(read.portfolio.filter_portfolio(rows(), ratings=["red"], sponsors=["A. Sponsor"]))
        == []
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("confidence", ["Adult care", "Care record", "Bins online"]),
        ("title", ["Adult care", "Bins online", "Care record"]),
        ("progress", ["Bins online", "Care record", "Adult care"]),
        ("overdue", ["Adult care", "Care record", "Bins online"]),
        ("stance", ["Adult care", "Bins online", "Care record"]),
        ("forecast", ["Care record", "Bins online", "Adult care"]),
    ],
)
def test_each_sort_orders_the_programmes_with_missing_values_last(
    key: str, expected: list[str]
) -> None:
    assert titles(read.portfolio.sort_portfolio(rows(), key)) == expected


def test_an_unknown_sort_is_refused() -> None:
    with pytest.raises(ValueError, match="sort"):
        read.portfolio.sort_portfolio(rows(), "by-magic")


def test_unknown_link_values_are_listed_in_the_order_asked() -> None:
    assert read.portfolio.unknown_values(["red", "purple", "x"], ["red", "amber"]) == [
        "purple",
        "x",
    ]


# --- Scope ----------------------------------------------------------------------------------


def test_the_portfolio_shows_only_programmes_of_the_viewers_organisations(engine: Engine) -> None:
    owner = factories.organisation(engine, name="Northshire County Council", short_name="NCC")
    partner = factories.organisation(engine, short_name="WBC")
    other_partner = factories.organisation(engine, short_name="EBC")
    outsider = factories.organisation(engine)
    pooled = factories.programme(engine, owner, title="Shared platform", sponsor="Chief exec")
    set_partners(engine, pooled, [partner, other_partner])
    own = factories.programme(engine, outsider, title="Outsider's own")

    with db.read_session(engine) as session:
        seen_by_outsider = read.portfolio.portfolio(
            session=session, viewer=viewer_of(engine, [outsider]), today=TODAY
        )
        seen_by_partner = read.portfolio.portfolio(
            session=session, viewer=viewer_of(engine, [partner]), today=TODAY
        )
        seen_by_nobody = read.portfolio.portfolio(
            session=session, viewer=viewer_of(engine, [factories.organisation(engine)]), today=TODAY
        )
    assert seen_by_outsider["programme_id"].tolist() == [own]
    assert seen_by_partner["programme_id"].tolist() == [pooled]
    assert list(seen_by_partner.columns) == list(read.portfolio.PORTFOLIO_COLUMNS)
    row = seen_by_partner.iloc[0]
    assert row["organisation"] == "Northshire County Council"
    assert row["partners"] == "EBC, WBC"
    assert (row["title"], row["sponsor"], row["status"]) == (
        "Shared platform",
        "Chief exec",
        "active",
    )
    assert seen_by_nobody.empty
    assert list(seen_by_nobody.columns) == list(read.portfolio.PORTFOLIO_COLUMNS)


def test_the_portfolio_is_ordered_by_title(engine: Engine) -> None:
    org = factories.organisation(engine)
    for title in ("Waste services online", "Adult social care portal", "Libraries app"):
        factories.programme(engine, org, title=title)
    with db.read_session(engine) as session:
        frame = read.portfolio.portfolio(
            session=session, viewer=viewer_of(engine, [org]), today=TODAY
        )
    assert frame["title"].tolist() == [
        "Adult social care portal",
        "Libraries app",
        "Waste services online",
    ]


# --- Change load ----------------------------------------------------------------------------


def test_change_load_sums_impact_weights_by_staff_group_and_due_month(engine: Engine) -> None:
    org = factories.organisation(engine, name="Midshire Council", short_name="MC")
    adults = factories.staff_group(engine, org, name="Adult social care")
    customers = factories.staff_group(engine, org, name="Customer services")
    elsewhere = factories.organisation(engine)
    theirs = factories.staff_group(engine, elsewhere)
    pid = factories.programme(engine, org)
    pooled = factories.programme(engine, elsewhere)
    set_partners(engine, pooled, [org])
    unseen = factories.programme(engine, elsewhere)

    def due(programme_id: int, on: date, impacts: dict[int, str], **overrides: Any) -> None:
        milestone_id = factories.milestone(engine, programme_id, due_date=on, **overrides)
        set_impacts(engine, milestone_id, impacts)

    due(pid, date(2026, 7, 3), {adults: "high", customers: "low"})
    due(pid, date(2026, 7, 31), {adults: "medium"})
    due(pooled, date(2026, 7, 20), {adults: "high"})  # a partner's programme counts too
    due(pid, date(2026, 8, 1), {adults: "low"}, status="done", completed_date=date(2026, 6, 1))
    due(pid, date(2026, 9, 30), {customers: "medium"})
    due(pid, date(2026, 6, 30), {adults: "high"})  # the month before
    due(pid, date(2026, 10, 1), {adults: "high"})  # the month after
    due(pid, date(2026, 7, 15), {adults: "high"}, status="cancelled")
    due(unseen, date(2026, 7, 15), {theirs: "high"})  # not the viewer's

    viewer = viewer_of(engine, [org])
    with db.read_session(engine) as session:
        frame = read.portfolio.change_load(
            session=session, viewer=viewer, start=date(2026, 7, 15), months=3
        )
        custom = read.portfolio.change_load(
            session=session,
            viewer=viewer,
            start=date(2026, 7, 15),
            months=3,
            weights={Impact.low: 2, Impact.medium: 3, Impact.high: 4},
        )
    assert list(frame.columns) == list(read.portfolio.CHANGE_LOAD_COLUMNS)
    cells = [tuple(row) for row in frame[["staff_group", "month", "load"]].to_numpy()]
    assert cells == [
        ("Adult social care", date(2026, 7, 1), 10 + 5 + 10),
        ("Adult social care", date(2026, 8, 1), 1),
        ("Customer services", date(2026, 7, 1), 1),
        ("Customer services", date(2026, 9, 1), 5),
    ]
    assert set(frame["organisation"]) == {"Midshire Council"}
    assert frame["staff_group_id"].tolist() == [adults, adults, customers, customers]
    assert custom["load"].tolist() == [4 + 3 + 4, 2, 2, 3]


def test_change_load_needs_at_least_one_month(engine: Engine) -> None:
    viewer = viewer_of(engine, [factories.organisation(engine)])
    with db.read_session(engine) as session, pytest.raises(ValueError, match="months"):
        read.portfolio.change_load(session=session, viewer=viewer, start=TODAY, months=0)


# --- No whole-table loads -------------------------------------------------------------------


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs while the test body counts."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", count)


def test_the_portfolio_takes_the_same_number_of_statements_for_2_or_6_programmes(
    engine: Engine, statements: list[str]
) -> None:
    org = factories.organisation(engine)
    partner = factories.organisation(engine)
    viewer = viewer_of(engine, [org])

    def add_programmes(count: int) -> None:
        for _ in range(count):
            pid = factories.programme(engine, org)
            set_partners(engine, pid, [partner])
            factories.milestone(engine, pid, status="in_progress")
            factories.stakeholder(engine, pid, influence=4, stance=-1)

    def statements_for_portfolio() -> tuple[int, int]:
        statements.clear()
        with db.read_session(engine) as session:
            frame = read.portfolio.portfolio(session=session, viewer=viewer, today=TODAY)
        return len(statements), len(frame)

    add_programmes(2)
    few, rows_few = statements_for_portfolio()
    add_programmes(4)
    many, rows_many = statements_for_portfolio()
    assert (rows_few, rows_many) == (2, 6)
    assert many == few
    assert few <= 4


# --- Portfolio dashboard: forecast, stance movement, delivery confidence --------------------


def test_the_portfolio_dashboard_adds_forecast_stance_movement_and_suggested_confidence(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)  # 1 January 2026 to 31 December 2027
    on_day(monkeypatch, date(2026, 1, 10))
    head = factories.stakeholder(engine, pid, name="Head of service", influence=5, stance=0)
    on_day(monkeypatch, date(2026, 2, 1))
    rep = factories.stakeholder(engine, pid, name="Union rep", influence=4, stance=-1)
    on_day(monkeypatch, date(2026, 4, 1))  # after the day 90 days ago: not in that index
    factories.stakeholder(engine, pid, name="Digital lead", influence=2, stance=2)
    on_day(monkeypatch, TODAY)
    assess(engine, head, date(2026, 5, 1), -2)

    done(engine, pid, date(2026, 6, 10), due_date=date(2026, 6, 10), weight=3)
    finished = done(engine, pid, date(2026, 5, 20), due_date=date(2026, 5, 20), weight=3)
    factories.milestone(engine, pid, due_date=date(2026, 6, 1), status="in_progress", weight=2)
    factories.milestone(engine, pid, due_date=date(2026, 9, 30), status="blocked", weight=1)
    needs_head = factories.milestone(engine, pid, due_date=date(2026, 9, 30), weight=5)
    factories.milestone(engine, pid, due_date=date(2026, 10, 30), weight=2)
    factories.milestone(engine, pid, due_date=date(2026, 5, 1), status="cancelled", weight=4)
    depends(engine, needs_head, [head])
    depends(engine, finished, [rep])  # done work blocks nothing
    metric_with_readings(engine, pid, "Staff trained", [(date(2026, 6, 1), 10)])

    row = dashboard_row(engine, viewer_of(engine, [org]), pid)
    headline = figures_of(engine, pid)
    assert headline.forecast is not None
    assert (row["forecast_p50"], row["forecast_p85"]) == (
        headline.forecast.p50,
        headline.forecast.p85,
    )
    assert row["forecast_late"] is (headline.forecast.p85 > date(2027, 12, 31))
    # Now: (5 x -2 + 4 x -1 + 2 x 2) / 11. On 17 March: the head at 0, the rep at -1, over 9.
    assert row["stance_index"] == pytest.approx(-10 / 11)
    assert row["stance_index_90d"] == pytest.approx(-4 / 9)
    assert row["stance_change"] == pytest.approx(-10 / 11 + 4 / 9)
    assert row["stance_direction"] == "worsening"
    assert row["mean_attainment"] == pytest.approx(0.1)
    assert (row["hotspots"], row["hotspots_blocking"]) == (2, 1)
    # Planned work weighs 3 + 3 + 2 + 1 + 5 + 2 = 16: 2 overdue (12.5%, Amber), 1 blocked
    # (6%, Amber/Green); one of two hotspots blocks open work (Amber). The worst, Amber, is
    # suggested, and the overdue rule comes first of the two that raise it.
    assert (row["suggested"], row["suggested_label"]) == ("amber", "Amber")
    assert row["deciding_rule"] == "12% of planned work is overdue"
    assert (row["confidence"], row["confidence_label"]) == ("amber", "Amber")
    assert [row[name] for name in ("override", "override_reason", "override_by")] == [None] * 3
    assert row["override_at"] is None

    with db.read_session(engine) as session:
        suggestion, override = read.programme.confidence_for(
            session=session, programme_id=pid, today=TODAY
        )
    assert override is None
    assert suggestion.rating is DeliveryConfidence.amber
    assert [result.rating for result in suggestion.results] == [
        DeliveryConfidence.amber,
        DeliveryConfidence.amber_green,
        None,
        DeliveryConfidence.amber,
        None,
    ]


def test_a_programme_with_nothing_recorded_is_green_with_nothing_to_forecast(
    engine: Engine,
) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    row = dashboard_row(engine, viewer_of(engine, [org]), pid)
    assert [row[name] for name in ("forecast_p50", "forecast_p85", "stance_index_90d")] == [
        None,
        None,
        None,
    ]
    assert row["forecast_late"] is False
    assert (row["stance_change"], row["stance_direction"], row["mean_attainment"]) == (
        None,
        None,
        None,
    )
    assert (row["suggested"], row["deciding_rule"], row["confidence_label"]) == (
        "green",
        None,
        "Green",
    )


def test_confidence_for_a_missing_programme_is_not_found(engine: Engine) -> None:
    with db.read_session(engine) as session, pytest.raises(NotFoundError):
        read.programme.confidence_for(session=session, programme_id=999_999, today=TODAY)


# --- Needs a decision -----------------------------------------------------------------------


def test_needs_decision_lists_red_programmes_blocking_hotspots_and_heavy_overdue_work(
    engine: Engine,
) -> None:
    org = factories.organisation(engine)
    elsewhere = factories.organisation(engine)
    # Alpha: all its open work overdue, suggested Red.
    alpha = factories.programme(engine, org, title="Alpha", code="ALPHA")
    factories.milestone(
        engine, alpha, title="Close the old phone line", due_date=date(2026, 6, 1), weight=4,
        owner="Jo Bloggs",
    )  # fmt: skip
    factories.milestone(engine, alpha, title="Light work", due_date=date(2026, 6, 14), weight=3)
    # Beta: nothing wrong in the figures, but a manager says Amber/Red.
    beta = factories.programme(engine, org, title="Beta", code="BETA")
    override(engine, beta, "amber_red", "Sponsor leaving in July")
    # Gamma: suggested Red, overridden to Amber, so only its hotspot needs a decision.
    gamma = factories.programme(engine, org, title="Gamma", code="GAMMA")
    head = factories.stakeholder(
        engine, gamma, name="Head of revenues", role="Head of service", influence=5, stance=-2,
        notes="secret remark",
    )  # fmt: skip
    quiet = factories.stakeholder(engine, gamma, name="Quiet resistor", influence=4, stance=-1)
    friend = factories.stakeholder(engine, gamma, name="Friend", influence=5, stance=1)
    rota = factories.milestone(engine, gamma, title="Agree rota", due_date=date(2026, 6, 1))
    budget = factories.milestone(engine, gamma, title="Sign off budget")
    signed = done(engine, gamma, date(2026, 6, 1), title="Signed earlier")
    depends(engine, rota, [head, friend])
    depends(engine, budget, [head])
    depends(engine, signed, [quiet])
    override(engine, gamma, "amber", "The rota is agreed in principle")
    # Not the viewer's: never listed.
    hidden = factories.programme(engine, elsewhere, title="Hidden")
    factories.milestone(engine, hidden, due_date=date(2026, 6, 1), weight=5)

    viewer = viewer_of(engine, [org])
    with db.read_session(engine) as session:
        frame = read.portfolio.needs_decision(session=session, viewer=viewer, today=TODAY)
    assert list(frame.columns) == list(read.portfolio.NEEDS_DECISION_COLUMNS)
    rows = frame.to_dict("records")
    assert [(row["kind"], row["programme_code"], row["item"]) for row in rows] == [
        ("Delivery confidence", "ALPHA", "Red"),
        ("Delivery confidence", "BETA", "Amber/Red"),
        ("Hotspot blocking work", "GAMMA", "Head of revenues, Head of service"),
        ("Overdue high-weight milestone", "ALPHA", "Close the old phone line"),
    ]
    assert rows[0]["programme"] == "Alpha"
    assert rows[0]["detail"] == "Suggested: 100% of planned work is overdue (>= 30% gives Red)"
    assert rows[1]["detail"].startswith("Override by maya@x.org on ")
    assert rows[1]["detail"].endswith(": Sponsor leaving in July (suggested Green)")
    assert rows[2]["detail"] == "Blocks: Agree rota; Sign off budget"
    assert rows[3]["detail"] == "Due 1 June 2026, 14 days late; weight 4; owner Jo Bloggs"
    assert "secret remark" not in frame.to_string()


# --- Change load beside the staff groups' stance --------------------------------------------


def test_change_load_comes_with_each_staff_groups_stance_and_whether_it_is_falling(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = factories.organisation(engine, name="Midshire Council")
    adults = factories.staff_group(engine, org, name="Adult social care")
    customers = factories.staff_group(engine, org, name="Customer services")
    ict = factories.staff_group(engine, org, name="ICT")
    planning = factories.staff_group(engine, org, name="Planning")
    pid = factories.programme(engine, org)
    unseen = factories.programme(engine, factories.organisation(engine))
    for group, level in ((adults, "high"), (customers, "low"), (ict, "medium")):
        milestone_id = factories.milestone(engine, pid, due_date=date(2026, 7, 10))
        set_impacts(engine, milestone_id, {group: level})

    on_day(monkeypatch, date(2026, 1, 10))
    warm = factories.stakeholder(engine, pid, staff_group_id=adults, influence=4, stance=1)
    factories.stakeholder(engine, pid, staff_group_id=adults, influence=2, stance=0)
    cooling = factories.stakeholder(engine, pid, staff_group_id=planning, influence=1, stance=1)
    factories.stakeholder(engine, pid, staff_group_id=planning, influence=3, stance=0)
    factories.stakeholder(engine, pid, influence=5, stance=-2)  # no staff group
    # In a programme the viewer cannot see: never counts, even for the viewer's group.
    factories.stakeholder(engine, unseen, staff_group_id=adults, influence=5, stance=-2)
    on_day(monkeypatch, date(2026, 4, 1))
    factories.stakeholder(engine, pid, staff_group_id=customers, influence=3, stance=1)
    on_day(monkeypatch, TODAY)
    assess(engine, warm, date(2026, 5, 1), -1)
    assess(engine, cooling, date(2026, 5, 1), 0)

    viewer = viewer_of(engine, [org])
    with db.read_session(engine) as session:
        load, stance = read.portfolio.change_load_with_stance(
            session=session, viewer=viewer, start=date(2026, 7, 1), months=3, today=TODAY
        )
        plain = read.portfolio.change_load(
            session=session, viewer=viewer, start=date(2026, 7, 1), months=3
        )
    assert load.equals(plain)
    assert list(stance.columns) == list(read.portfolio.GROUP_STANCE_COLUMNS)
    rows = {row["staff_group"]: row for row in stance.to_dict("records")}
    assert list(rows) == ["Adult social care", "Customer services", "ICT", "Planning"]
    assert rows["Adult social care"]["staff_group_id"] == adults
    assert rows["Adult social care"]["organisation"] == "Midshire Council"
    # Adults: (4 x -1 + 2 x 0) / 6 now, (4 x 1 + 2 x 0) / 6 on 17 March.
    adult = rows["Adult social care"]
    assert adult["stakeholders"] == 2
    assert adult["stance_index"] == pytest.approx(-4 / 6)
    assert adult["stance_index_90d"] == pytest.approx(4 / 6)
    assert adult["stance_change"] == pytest.approx(-8 / 6)
    assert adult["falling"] is True
    # Planning: from (1 x 1) / 4 to 0, a fall of exactly 0.25: falling.
    assert rows["Planning"]["stance_change"] == pytest.approx(-0.25)
    assert rows["Planning"]["falling"] is True
    # Customer services: nobody assessed 90 days ago, so no change to judge.
    assert (rows["Customer services"]["stance_index"], rows["Customer services"]["falling"]) == (
        1.0,
        False,
    )
    assert rows["Customer services"]["stance_index_90d"] is None
    assert rows["Customer services"]["stance_change"] is None
    # ICT carries change but has no stakeholders.
    assert [rows["ICT"][name] for name in ("stakeholders", "stance_index", "stance_change")] == [
        0,
        None,
        None,
    ]
    assert rows["ICT"]["falling"] is False


def test_the_stance_90_days_ago_takes_each_stakeholders_latest_assessment_by_date_then_entry(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlmodel import select

    from tracker.models import Assessment, Stakeholder

    org = factories.organisation(engine)
    group = factories.staff_group(engine, org)
    pid = factories.programme(engine, org)
    on_day(monkeypatch, date(2026, 1, 10))
    head = factories.stakeholder(engine, pid, influence=5, stance=0, staff_group_id=group)
    rep = factories.stakeholder(engine, pid, influence=3, stance=-1, staff_group_id=group)
    on_day(monkeypatch, date(2026, 4, 1))  # after the day 90 days ago (17 March)
    factories.stakeholder(engine, pid, influence=2, stance=0, staff_group_id=group)
    on_day(monkeypatch, TODAY)
    for stakeholder_id, assessed_on, stance in (
        # Two on the day itself: the later recorded stands.
        (head, date(2026, 3, 17), -2),
        (head, date(2026, 3, 17), 1),
        # After the day: counts now, not then.
        (head, date(2026, 3, 18), 2),
        # Recorded last but dated earlier: older than the two on the 17th.
        (head, date(2026, 2, 1), -1),
        # Two on one day before the day: the later recorded stands.
        (rep, date(2026, 3, 10), 0),
        (rep, date(2026, 3, 10), -2),
    ):
        assess(engine, stakeholder_id, assessed_on, stance)

    viewer = viewer_of(engine, [org])
    row = dashboard_row(engine, viewer, pid)
    with db.read_session(engine) as session:
        _load, stance = read.portfolio.change_load_with_stance(
            session=session, viewer=viewer, start=TODAY, months=1, today=TODAY
        )
        history: dict[int, list[tuple[date, int, int]]] = {}
        for assessment in session.exec(select(Assessment)).all():
            assert assessment.id is not None
            history.setdefault(assessment.stakeholder_id, []).append(
                (assessment.assessed_on, assessment.id, assessment.stance)
            )
        people = session.exec(select(Stakeholder).where(Stakeholder.programme_id == pid)).all()
    ninety_days_ago = TODAY - dt.timedelta(days=figures.STANCE_WINDOW_DAYS)
    then = [
        (person.influence, latest[2])
        for person in people
        if (latest := latest_on_or_before(history[person.id or 0], ninety_days_ago))
    ]
    # On 17 March: the head at 1, the rep at -2; the newcomer not yet assessed.
    assert figures.stance_index(then) == pytest.approx((5 * 1 + 3 * -2) / 8)
    assert row["stance_index_90d"] == pytest.approx(figures.stance_index(then))
    # Now: the head at 2 (18 March), the rep at -2, the newcomer at 0.
    assert row["stance_index"] == pytest.approx((5 * 2 + 3 * -2 + 2 * 0) / 10)
    (group_row,) = stance.to_dict("records")
    assert group_row["stance_index_90d"] == pytest.approx(figures.stance_index(then))
    assert group_row["stance_index"] == pytest.approx(row["stance_index"])


def test_mean_attainment_on_the_dashboard_takes_each_metrics_latest_reading_by_date(
    engine: Engine,
) -> None:
    org = factories.organisation(engine)
    pid = factories.programme(engine, org)
    # Recorded out of date order: the latest by date counts (20), not the last entered (90).
    metric_with_readings(
        engine, pid, "Staff trained",
        [(date(2026, 5, 1), 40), (date(2026, 6, 1), 20), (date(2026, 3, 1), 90)],
    )  # fmt: skip
    metric_with_readings(engine, pid, "Sites live", [(date(2026, 4, 1), 60)])
    # Undefined attainment (target equals baseline) and no readings: neither counts.
    metric_with_readings(engine, pid, "Flat", [(date(2026, 6, 1), 5)], baseline=50, target=50)
    metric_with_readings(engine, pid, "Not measured yet", [])

    row = dashboard_row(engine, viewer_of(engine, [org]), pid)
    assert row["mean_attainment"] == pytest.approx((0.2 + 0.6) / 2)
    assert row["mean_attainment"] == pytest.approx(figures_of(engine, pid).mean_attainment)


# --- Fixed statement counts for the portfolio's new queries ---------------------------------


def test_the_dashboard_queries_take_the_same_number_of_statements_for_2_or_6_programmes(
    engine: Engine, statements: list[str]
) -> None:
    org = factories.organisation(engine)
    group = factories.staff_group(engine, org)
    viewer = viewer_of(engine, [org])

    def add_programmes(count: int) -> None:
        for _ in range(count):
            pid = factories.programme(engine, org)
            done(engine, pid, date(2026, 6, 1))
            late = factories.milestone(engine, pid, due_date=date(2026, 6, 1), weight=5)
            set_impacts(engine, late, {group: "high"})
            hot = factories.stakeholder(engine, pid, influence=4, stance=-1, staff_group_id=group)
            depends(engine, late, [hot])
            metric_with_readings(engine, pid, "Staff trained", [(date(2026, 5, 1), 40)])
            override(engine, pid, "red", "A reason long enough")

    def counts() -> tuple[int, int, int, int]:
        with db.read_session(engine) as session:
            statements.clear()
            frame = read.portfolio.portfolio_dashboard(session=session, viewer=viewer, today=TODAY)
            dashboard = len(statements)
            statements.clear()
            decisions = read.portfolio.needs_decision(session=session, viewer=viewer, today=TODAY)
            needs = len(statements)
            statements.clear()
            read.portfolio.change_load_with_stance(
                session=session, viewer=viewer, start=TODAY, months=6, today=TODAY
            )
            load = len(statements)
        return dashboard, needs, load, len(frame) + len(decisions)

    add_programmes(2)
    few = counts()
    add_programmes(4)
    many = counts()
    assert few[:3] == many[:3]
    assert many[3] == 6 + 6 * 3  # each: Red, a blocking hotspot, a heavy overdue milestone
    assert few[:3] <= (5, 3, 3)  # the first includes BEGIN on SQLite


# --- The dashboards' queries agree with the pure figures on the demo portfolio --------------


def test_dashboard_queries_agree_with_pure_figures_on_demo_portfolio(engine: Engine) -> None:
    from sqlmodel import col, select

    from tracker import clock, confidence
    from tracker.models import (
        Assessment,
        ConfidenceOverride,
        Metric,
        MetricReading,
        Milestone,
        MilestoneDependency,
        Organisation,
        Programme,
        Stakeholder,
    )
    from tracker.seed import demo

    demo.seed_demo(engine)
    today = clock.today()
    ninety_days_ago = today - dt.timedelta(days=figures.STANCE_WINDOW_DAYS)
    open_statuses = {"not_started", "in_progress", "blocked"}

    with db.read_session(engine) as session:
        everyone = access.Viewer(
            user_id=0,
            email="agreement@example.org",
            name="Agreement",
            role=Role.leadership,
            organisation_ids=frozenset(
                org_id for org_id in session.exec(select(Organisation.id)).all() if org_id
            ),
        )
        dashboard = read.portfolio.portfolio_dashboard(
            session=session, viewer=everyone, today=today
        )
        assert dashboard[list(read.portfolio.PORTFOLIO_COLUMNS)].equals(
            read.portfolio.portfolio(session=session, viewer=everyone, today=today)
        )
        decisions = read.portfolio.needs_decision(session=session, viewer=everyone, today=today)
        _load, group_stance = read.portfolio.change_load_with_stance(
            session=session, viewer=everyone, start=today, months=6, today=today
        )
        all_people = session.exec(select(Stakeholder)).all()
        history: dict[int, list[tuple[date, int, int]]] = {}
        for assessment in session.exec(select(Assessment)).all():
            assert assessment.id is not None
            history.setdefault(assessment.stakeholder_id, []).append(
                (assessment.assessed_on, assessment.id, assessment.stance)
            )

        def index_as_of(people: list[Stakeholder], as_of: date) -> float | None:
            readings = []
            for person in people:
                latest = latest_on_or_before(history.get(person.id or 0, []), as_of)
                if latest is not None:
                    readings.append((person.influence, latest[2]))
            return figures.stance_index(readings)

        expected_flagged: set[str] = set()
        expected_heavy = 0
        expected_blockers: set[str] = set()
        for row in dashboard.to_dict("records"):
            pid = row["programme_id"]
            programme = session.get(Programme, pid)
            assert programme is not None
            ms = session.exec(select(Milestone).where(Milestone.programme_id == pid)).all()
            people = [s for s in all_people if s.programme_id == pid]
            headline = read.programme.programme_figures(
                session=session, programme_id=pid, today=today
            )

            # Forecast, attainment and stance movement.
            assert headline.forecast is not None
            assert (row["forecast_p50"], row["forecast_p85"]) == (
                headline.forecast.p50,
                headline.forecast.p85,
            )
            assert row["forecast_late"] is (headline.forecast.p85 > programme.target_end_date)
            assert row["mean_attainment"] == pytest.approx(headline.mean_attainment)
            then = index_as_of(people, ninety_days_ago)
            assert row["stance_index_90d"] == pytest.approx(then)
            assert row["stance_change"] == pytest.approx(row["stance_index"] - then)

            # The evidence, worked out from the rows with the pure figures.
            open_work = [m for m in ms if m.status in open_statuses]
            planned_weight = sum(m.weight for m in ms if m.status != "cancelled")
            open_ids = {m.id for m in open_work}
            dependencies = session.exec(
                select(MilestoneDependency).where(
                    col(MilestoneDependency.milestone_id).in_(open_ids)
                )
            ).all()
            hot = [s for s in people if figures.is_hotspot(influence=s.influence, stance=s.stance)]
            blocking = [s for s in hot if any(d.stakeholder_id == s.id for d in dependencies)]
            expected_blockers |= {s.name for s in blocking}
            attainments = []
            for metric in session.exec(select(Metric).where(Metric.programme_id == pid)).all():
                values = session.exec(
                    select(MetricReading).where(MetricReading.metric_id == metric.id)
                ).all()
                latest = max(values, key=lambda r: r.reading_on).value if values else None
                attained = figures.metric_attainment(
                    baseline=metric.baseline,
                    target=metric.target,
                    latest=latest,
                    direction=metric.direction,
                )
                if attained is not None:
                    attainments.append(attained)
            evidence = confidence.Evidence(
                overdue_share=sum(
                    m.weight
                    for m in open_work
                    if figures.is_overdue(due_date=m.due_date, status=m.status, today=today)
                )
                / planned_weight,
                blocked_share=sum(m.weight for m in open_work if m.status == "blocked")
                / planned_weight,
                forecast_p50=headline.forecast.p50,
                forecast_p85=headline.forecast.p85,
                target_end_date=programme.target_end_date,
                hotspots=len(hot),
                hotspots_blocking=len(blocking),
                mean_attainment=sum(attainments) / len(attainments) if attainments else None,
                elapsed_share=confidence.elapsed_share(
                    start=programme.start_date, target=programme.target_end_date, today=today
                ),
                remaining=len(open_work),
            )
            expected = confidence.suggest(evidence)
            assert row["hotspots_blocking"] == len(blocking)
            assert row["suggested"] == expected.rating.value
            assert row["deciding_rule"] == (
                expected.deciding.evidence_text if expected.deciding else None
            )
            suggestion, override = read.programme.confidence_for(
                session=session, programme_id=pid, today=today
            )
            assert suggestion == expected
            latest_override = session.exec(
                select(ConfidenceOverride)
                .where(ConfidenceOverride.programme_id == pid)
                .order_by(col(ConfidenceOverride.set_at).desc(), col(ConfidenceOverride.id).desc())
            ).first()
            assert row["override"] == (latest_override.rating if latest_override else None)
            shown = confidence.effective(suggestion, override)[0]
            assert row["confidence"] == shown.value
            if shown in (DeliveryConfidence.red, DeliveryConfidence.amber_red):
                expected_flagged.add(programme.code)
            expected_heavy += sum(
                1
                for m in open_work
                if m.weight >= read.portfolio.HIGH_WEIGHT
                and figures.is_overdue(due_date=m.due_date, status=m.status, today=today)
            )

            # The programme dashboard's pieces.
            burn = read.programme.burnup(session=session, programme_id=pid, today=today)
            assert burn["done"].iloc[-1] == headline.done
            assert burn["done"].is_monotonic_increasing
            assert set(burn["scope"]) == {headline.milestones}
            grid = read.programme.stakeholder_grid(
                session=session, viewer=SYSTEM, programme_id=pid, named=False
            )
            by_id = {s.id: s for s in people}
            for point in grid.to_dict("records"):
                person = by_id[point["stakeholder_id"]]
                is_hot = figures.is_hotspot(influence=person.influence, stance=person.stance)
                assert point["hotspot"] is is_hot
                assert point["label"] == (person.name if is_hot else "")
                assert (
                    point["quadrant"]
                    == figures.quadrant(influence=person.influence, interest=person.interest).label
                )
            history_frame = read.programme.stance_history(
                session=session, programme_id=pid, today=today
            )
            trend = read.programme.stance_trend(session=session, programme_id=pid, today=today)
            assert history_frame["stance_index"].tolist() == trend["stance_index"].tolist()
            now_point = history_frame.iloc[-1]
            assert now_point["desired_index"] == pytest.approx(
                figures.stance_index([(s.influence, s.desired_stance) for s in people])
            )

        kinds = decisions.groupby("kind")["programme_code"].apply(list).to_dict()
        assert set(kinds["Delivery confidence"]) == expected_flagged
        assert len(kinds.get("Overdue high-weight milestone", [])) == expected_heavy
        hotspot_rows = decisions[decisions["kind"] == "Hotspot blocking work"]["item"]
        assert {item.split(",")[0] for item in hotspot_rows} == expected_blockers

        for group in group_stance.to_dict("records"):
            members = [s for s in all_people if s.staff_group_id == group["staff_group_id"]]
            assert group["stakeholders"] == len(members)
            assert group["stance_index"] == pytest.approx(
                figures.stance_index([(s.influence, s.stance) for s in members])
            )
            assert group["stance_index_90d"] == pytest.approx(index_as_of(members, ninety_days_ago))
