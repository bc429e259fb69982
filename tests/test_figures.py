"""Derived figures (shared/DOMAIN.md), checked against numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date

import pytest

from tracker import figures
from tracker.figures import (
    DEFAULT_IMPACT_WEIGHTS,
    STANCE_WINDOW_DAYS,
    Forecast,
    change_load,
    forecast_finish,
    is_hotspot,
    is_overdue,
    metric_attainment,
    month_start,
    progress,
    quadrant,
    slip_days,
    stance_gap,
    stance_index,
    stance_movement,
    weekly_throughput,
)
from tracker.vocabulary import Direction, Impact, MilestoneStatus, Quadrant

TODAY = date(2025, 6, 30)

done = MilestoneStatus.done
cancelled = MilestoneStatus.cancelled
not_started = MilestoneStatus.not_started
in_progress = MilestoneStatus.in_progress
blocked = MilestoneStatus.blocked


@dataclass(frozen=True)
class FakeMilestone:
    status: MilestoneStatus | str
    weight: int = 3


def milestone(status: MilestoneStatus | str = not_started, weight: int = 3) -> FakeMilestone:
    return FakeMilestone(status=status, weight=weight)


# --- Progress -------------------------------------------------------------------------------


def test_progress_is_none_when_there_are_no_milestones() -> None:
    assert progress([]) is None


def test_progress_is_none_when_all_milestones_cancelled() -> None:
    assert progress([milestone(cancelled, 5), milestone(cancelled, 1)]) is None


@pytest.mark.parametrize(
    ("milestones", "expected"),
    [
        # done 5 of planned 5 + 3 + 2 = 10; the cancelled 4 is left out
        (
            [
                milestone(done, 5),
                milestone(in_progress, 3),
                milestone(not_started, 2),
                milestone(cancelled, 4),
            ],
            0.5,
        ),
        # done 1 + 2 = 3 of planned 1 + 2 + 5 = 8
        ([milestone(done, 1), milestone(done, 2), milestone(blocked, 5)], 0.375),
        # a heavy open milestone outweighs a light done one: 1 of 1 + 4 = 5
        ([milestone(done, 1), milestone(not_started, 4)], 0.2),
        ([milestone(done, 2), milestone(done, 5), milestone(cancelled, 3)], 1.0),
        ([milestone(not_started, 2), milestone(in_progress, 5)], 0.0),
    ],
)
def test_progress_is_done_weight_over_weight_not_cancelled(
    milestones: list[FakeMilestone], expected: float
) -> None:
    assert progress(milestones) == pytest.approx(expected)


def test_progress_accepts_status_as_stored_string() -> None:
    assert progress([milestone("done", 1), milestone("in_progress", 3)]) == pytest.approx(0.25)


def test_progress_accepts_a_generator() -> None:
    assert progress(milestone(s, 1) for s in (done, not_started)) == pytest.approx(0.5)


# --- Overdue and slip -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_date", "status", "expected"),
    [
        (date(2025, 6, 29), not_started, True),
        (date(2025, 6, 29), in_progress, True),
        (date(2025, 6, 29), blocked, True),
        (date(2025, 1, 1), "blocked", True),
        (date(2025, 6, 29), done, False),
        (date(2025, 6, 29), cancelled, False),
        (date(2025, 6, 30), not_started, False),
        (date(2025, 7, 1), in_progress, False),
    ],
)
def test_a_milestone_is_overdue_when_due_before_today_and_still_open(
    due_date: date, status: MilestoneStatus | str, expected: bool
) -> None:
    assert is_overdue(due_date=due_date, status=status, today=TODAY) is expected


@pytest.mark.parametrize(
    ("status", "due_date", "completed_date", "expected"),
    [
        (done, date(2025, 6, 1), date(2025, 6, 11), 10),
        # done late is measured to the completion date, not to today
        (done, date(2025, 3, 1), date(2025, 3, 5), 4),
        (done, date(2025, 6, 1), date(2025, 6, 1), 0),
        (done, date(2025, 6, 1), date(2025, 5, 20), 0),
        (in_progress, date(2025, 6, 1), None, 29),
        (blocked, date(2024, 12, 31), None, 181),
        ("not_started", date(2025, 6, 29), None, 1),
        (not_started, date(2025, 6, 30), None, 0),
        (not_started, date(2025, 7, 15), None, 0),
        (cancelled, date(2025, 1, 1), None, 0),
    ],
)
def test_slip_days_counts_days_late(
    status: MilestoneStatus | str, due_date: date, completed_date: date | None, expected: int
) -> None:
    result = slip_days(due_date=due_date, status=status, completed_date=completed_date, today=TODAY)
    assert result == expected


def test_slip_days_rejects_a_done_milestone_without_a_completed_date() -> None:
    with pytest.raises(ValueError, match="completed_date"):
        slip_days(due_date=date(2025, 6, 1), status=done, completed_date=None, today=TODAY)


# --- Throughput -----------------------------------------------------------------------------


def test_weekly_throughput_counts_each_seven_day_window_oldest_first() -> None:
    completed = [
        date(2025, 6, 30),  # today: last window
        date(2025, 6, 24),  # 6 days ago: last window
        date(2025, 6, 23),  # 7 days ago: the window before
        date(2025, 6, 17),  # 13 days ago: the window before
        date(2025, 6, 16),  # 14 days ago: the first of three windows
        date(2025, 6, 9),  # 21 days ago: too old
        date(2025, 7, 1),  # tomorrow: ignored
    ]
    assert weekly_throughput(completed, today=TODAY, weeks=3) == [1, 2, 2]


def test_weekly_throughput_defaults_to_twelve_empty_weeks() -> None:
    assert weekly_throughput([], today=TODAY) == [0] * 12


def test_weekly_throughput_reaches_back_exactly_twelve_weeks_by_default() -> None:
    # 83 days ago is in the oldest window; 84 days ago is outside
    completed = [date(2025, 4, 8), date(2025, 4, 7)]
    assert weekly_throughput(completed, today=TODAY) == [1] + [0] * 11


def test_weekly_throughput_rejects_fewer_than_one_week() -> None:
    with pytest.raises(ValueError, match="weeks"):
        weekly_throughput([], today=TODAY, weeks=0)


# --- Forecast -------------------------------------------------------------------------------


@pytest.mark.parametrize("throughput", [[], [0], [0, 0, 0, 0]])
def test_forecast_is_none_with_no_throughput_yet(throughput: list[int]) -> None:
    assert forecast_finish(remaining=5, throughput=throughput, today=TODAY) is None


@pytest.mark.parametrize("throughput", [[3, 1], [], [0, 0]])
def test_forecast_with_nothing_remaining_is_today(throughput: list[int]) -> None:
    assert forecast_finish(remaining=0, throughput=throughput, today=TODAY) == Forecast(
        p50=TODAY, p85=TODAY, weeks_p50=0, weeks_p85=0
    )


def test_forecast_at_a_constant_two_a_week_finishes_ten_in_exactly_five_weeks() -> None:
    assert forecast_finish(remaining=10, throughput=[2, 2, 2, 2], today=TODAY) == Forecast(
        p50=date(2025, 8, 4), p85=date(2025, 8, 4), weeks_p50=5, weeks_p85=5
    )


def test_forecast_rounds_a_part_week_up() -> None:
    # 3 a week: 9 after three weeks, so the tenth lands in week four
    forecast = forecast_finish(remaining=10, throughput=[3], today=TODAY)
    assert forecast == Forecast(
        p50=date(2025, 7, 28), p85=date(2025, 7, 28), weeks_p50=4, weeks_p85=4
    )


def test_forecast_is_the_same_for_the_same_seed() -> None:
    throughput = [0, 1, 3, 0, 2, 5, 1, 0, 2, 4, 1, 1]
    first = forecast_finish(remaining=20, throughput=throughput, today=TODAY, seed=7)
    second = forecast_finish(remaining=20, throughput=throughput, today=TODAY, seed=7)
    assert first is not None
    assert first == second


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_forecast_p85_is_never_before_p50(seed: int) -> None:
    forecast = forecast_finish(
        remaining=15, throughput=[0, 1, 4, 2, 0, 3], today=TODAY, runs=500, seed=seed
    )
    assert forecast is not None
    assert forecast.weeks_p85 >= forecast.weeks_p50 >= 1
    assert forecast.p85 >= forecast.p50 > TODAY


def test_forecast_with_varied_throughput_falls_between_the_fastest_and_slowest_pace() -> None:
    # 12 remaining: at 4 a week every week it takes 3 weeks; at 1 a week, 12
    forecast = forecast_finish(remaining=12, throughput=[1, 4], today=TODAY, runs=1000)
    assert forecast is not None
    assert 3 < forecast.weeks_p50 < 12
    assert forecast.weeks_p85 < 12


def test_forecast_gives_up_at_ten_years() -> None:
    forecast = forecast_finish(remaining=10_000, throughput=[1], today=TODAY, runs=3)
    assert forecast == Forecast(
        p50=date(2035, 6, 18), p85=date(2035, 6, 18), weeks_p50=520, weeks_p85=520
    )


# --- Stakeholders ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ([(3, 2)], 2.0),
        ([(5, -2), (5, -2)], -2.0),
        # (5*2 + 1*-2) / 6 = 8/6
        ([(5, 2), (1, -2)], 4 / 3),
        # (4*-1 + 2*1) / 6 = -2/6
        ([(4, -1), (2, 1)], -1 / 3),
        ([(1, -2), (1, 2)], 0.0),
        # (5*0 + 3*1 + 2*2) / 10
        ([(5, 0), (3, 1), (2, 2)], 0.7),
    ],
)
def test_stance_index_is_influence_weighted_mean_stance(
    readings: list[tuple[int, int]], expected: float
) -> None:
    assert stance_index(readings) == pytest.approx(expected)


def test_stance_index_is_none_with_no_readings() -> None:
    assert stance_index([]) is None


@pytest.mark.parametrize(
    ("influence", "stance", "expected"),
    [
        (4, -1, True),
        (5, -2, True),
        (4, -2, True),
        (3, -1, False),
        (3, -2, False),
        (4, 0, False),
        (5, 0, False),
        (5, 2, False),
    ],
)
def test_a_hotspot_is_an_influential_resistor(influence: int, stance: int, expected: bool) -> None:
    assert is_hotspot(influence=influence, stance=stance) is expected


@pytest.mark.parametrize(
    ("influence", "interest", "expected"),
    [
        (3, 3, Quadrant.manage_closely),
        (5, 5, Quadrant.manage_closely),
        (3, 2, Quadrant.keep_satisfied),
        (5, 1, Quadrant.keep_satisfied),
        (2, 3, Quadrant.keep_informed),
        (1, 5, Quadrant.keep_informed),
        (2, 2, Quadrant.monitor),
        (1, 1, Quadrant.monitor),
    ],
)
def test_quadrant_follows_mendelow_with_three_as_high(
    influence: int, interest: int, expected: Quadrant
) -> None:
    assert quadrant(influence=influence, interest=interest) is expected


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (Quadrant.manage_closely, "Manage closely"),
        (Quadrant.keep_satisfied, "Keep satisfied"),
        (Quadrant.keep_informed, "Keep informed"),
        (Quadrant.monitor, "Monitor"),
    ],
)
def test_quadrant_labels_read_as_words(value: Quadrant, label: str) -> None:
    assert value.label == label


def test_quadrant_values_are_the_stored_strings() -> None:
    assert Quadrant("keep_informed") is Quadrant.keep_informed


def test_stance_window_is_ninety_days() -> None:
    assert STANCE_WINDOW_DAYS == 90


# TODAY - 90 days = 2025-04-01, the start of the default window.
@pytest.mark.parametrize(
    ("history", "expected"),
    [
        # a resistor who comes round
        ([(date(2025, 3, 1), -2), (date(2025, 6, 15), 1)], 3),
        # the same, given newest first
        ([(date(2025, 6, 15), 1), (date(2025, 3, 1), -2)], 3),
        # a supporter cooling
        ([(date(2025, 1, 1), 1), (date(2025, 6, 1), -1)], -2),
        # the stance in force at the window start is the latest on or before it
        ([(date(2025, 1, 1), -2), (date(2025, 4, 1), -1), (date(2025, 6, 1), 2)], 3),
        ([(date(2025, 1, 1), -2), (date(2025, 4, 2), -1), (date(2025, 6, 1), 2)], 4),
        # nothing before the window: from the earliest reading inside it
        ([(date(2025, 5, 1), -1), (date(2025, 6, 1), 0), (date(2025, 6, 20), 2)], 3),
        # one reading before the window and nothing since: no movement
        ([(date(2025, 2, 1), -1)], 0),
        # a reading after today is not counted yet
        ([(date(2025, 3, 1), 0), (date(2025, 7, 15), 2)], 0),
        # unchanged over the window
        ([(date(2025, 3, 1), 1), (date(2025, 5, 1), 2), (date(2025, 6, 1), 1)], 0),
    ],
)
def test_stance_movement_is_change_over_the_window(
    history: list[tuple[date, int]], expected: int
) -> None:
    assert stance_movement(history, today=TODAY) == expected


@pytest.mark.parametrize(
    "history",
    [
        [],
        [(date(2025, 6, 1), -1)],
        [(date(2025, 4, 2), 2)],
        [(date(2025, 7, 1), 1)],
    ],
)
def test_stance_movement_is_none_with_nothing_to_compare(history: list[tuple[date, int]]) -> None:
    assert stance_movement(history, today=TODAY) is None


def test_stance_movement_uses_the_window_given() -> None:
    # a 30-day window starts 2025-05-31: in force then was the 2025-05-01 reading
    history = [(date(2025, 1, 1), -2), (date(2025, 5, 1), 0), (date(2025, 6, 20), 1)]
    assert stance_movement(history, today=TODAY, window_days=30) == 1


@pytest.mark.parametrize(
    ("stance", "desired", "expected"),
    [(-2, 1, 3), (-1, 2, 3), (0, 1, 1), (1, 1, 0), (2, 1, -1)],
)
def test_stance_gap_is_desired_minus_current(stance: int, desired: int, expected: int) -> None:
    assert stance_gap(stance=stance, desired=desired) == expected


# --- Metrics --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "target", "latest", "direction", "expected"),
    [
        (20.0, 60.0, 40.0, Direction.up, 0.5),
        (20.0, 60.0, 60.0, Direction.up, 1.0),
        (20.0, 60.0, 20.0, Direction.up, 0.0),
        # over-achievement is not clamped
        (20.0, 60.0, 80.0, Direction.up, 1.5),
        # falling back below the baseline reads negative
        (20.0, 60.0, 10.0, Direction.up, -0.25),
        # a metric that should go down: 40 -> 25 of the way to 10
        (40.0, 10.0, 25.0, Direction.down, 0.5),
        (40.0, 10.0, 10.0, Direction.down, 1.0),
        (40.0, 10.0, 4.0, Direction.down, 1.2),
        (40.0, 10.0, 55.0, "down", -0.5),
        (0.0, 200.0, 50.0, "up", 0.25),
    ],
)
def test_metric_attainment_is_share_of_the_way_from_baseline_to_target(
    baseline: float, target: float, latest: float, direction: Direction | str, expected: float
) -> None:
    result = metric_attainment(baseline=baseline, target=target, latest=latest, direction=direction)
    assert result == pytest.approx(expected)


@pytest.mark.parametrize("direction", [Direction.up, Direction.down])
def test_metric_attainment_is_none_when_target_equals_baseline(direction: Direction) -> None:
    assert metric_attainment(baseline=30.0, target=30.0, latest=35.0, direction=direction) is None


def test_metric_attainment_is_none_before_the_first_reading() -> None:
    assert metric_attainment(baseline=20.0, target=60.0, latest=None, direction="up") is None


def test_metric_attainment_rejects_an_unknown_direction() -> None:
    with pytest.raises(ValueError):
        metric_attainment(baseline=20.0, target=60.0, latest=40.0, direction="sideways")


# --- Change load ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 3, 1), date(2025, 3, 1)),
        (date(2025, 3, 31), date(2025, 3, 1)),
        (date(2024, 2, 29), date(2024, 2, 1)),
        (date(2024, 12, 31), date(2024, 12, 1)),
    ],
)
def test_month_start_is_the_first_of_the_month(day: date, expected: date) -> None:
    assert month_start(day) == expected


def test_default_impact_weights_are_one_five_and_ten() -> None:
    assert dict(DEFAULT_IMPACT_WEIGHTS) == {Impact.low: 1, Impact.medium: 5, Impact.high: 10}


def test_change_load_adds_low_and_high_for_one_group_in_one_month() -> None:
    impacts = [(1, date(2025, 3, 5), Impact.low), (1, date(2025, 3, 28), Impact.high)]
    assert change_load(impacts) == {(1, date(2025, 3, 1)): 11}


def test_change_load_buckets_by_calendar_month() -> None:
    impacts = [
        (1, date(2025, 3, 31), Impact.medium),
        (1, date(2025, 4, 1), Impact.medium),
        (1, date(2024, 12, 31), Impact.high),
        (1, date(2025, 1, 1), Impact.low),
    ]
    assert change_load(impacts) == {
        (1, date(2025, 3, 1)): 5,
        (1, date(2025, 4, 1)): 5,
        (1, date(2024, 12, 1)): 10,
        (1, date(2025, 1, 1)): 1,
    }


def test_change_load_keeps_staff_groups_apart() -> None:
    impacts = [
        (1, date(2025, 3, 5), Impact.high),
        (2, date(2025, 3, 5), Impact.high),
        (2, date(2025, 3, 20), "medium"),
        (2, date(2025, 3, 21), "low"),
    ]
    assert change_load(impacts) == {(1, date(2025, 3, 1)): 10, (2, date(2025, 3, 1)): 16}


def test_change_load_uses_the_weights_given() -> None:
    weights = {Impact.low: 2, Impact.medium: 3, Impact.high: 4}
    impacts = [(7, date(2025, 5, 2), Impact.low), (7, date(2025, 5, 9), Impact.high)]
    assert change_load(impacts, weights) == {(7, date(2025, 5, 1)): 6}


def test_change_load_is_empty_with_no_impacts() -> None:
    assert change_load([]) == {}


@pytest.mark.parametrize(
    ("change", "direction"),
    [
        (None, None),
        (0.0, "steady"),
        (0.1, "steady"),
        (-0.1, "steady"),
        (0.3 - 0.2, "steady"),  # 0.09999... from arithmetic, still inside the band
        (0.1001, "improving"),
        (-0.1001, "worsening"),
        (1.5, "improving"),
    ],
)
def test_stance_direction_reads_movement_within_a_tenth_as_steady(
    change: float | None, direction: str | None
) -> None:
    assert figures.stance_direction(change) == direction


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (-1.3, "▼ falling"),
        (-0.25, "▼ falling"),
        (-0.2, "▼ worsening"),
        (-0.1, "► steady"),
        (0.08, "► steady"),  # rounded to one decimal this once read "▲ rising"
        (0.04, "► steady"),
        (0.3, "▲ improving"),
        (None, ""),
    ],
)
def test_stance_trend_words_pair_a_symbol_with_a_word_with_one_dead_band(
    change: float | None, words: str
) -> None:
    assert figures.stance_trend_words(change) == words


@pytest.mark.parametrize(
    ("p85_weeks", "late", "label"),
    [
        (10, True, "At risk of finishing late"),
        (8, False, "On track"),
        (None, False, "No forecast yet"),
    ],
)
def test_forecast_is_late_when_p85_is_after_the_target(
    p85_weeks: int | None, late: bool, label: str
) -> None:
    today = dt.date(2027, 1, 4)
    target = today + dt.timedelta(weeks=8)
    forecast = (
        None
        if p85_weeks is None
        else figures.Forecast(
            p50=today + dt.timedelta(weeks=6),
            p85=today + dt.timedelta(weeks=p85_weeks),
            weeks_p50=6,
            weeks_p85=p85_weeks,
        )
    )
    assert figures.forecast_late(forecast, target) is late
    assert figures.forecast_verdict(forecast, target).label == label
