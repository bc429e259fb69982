"""Derived figures (shared/DOMAIN.md, "Derived figures"): pure functions over plain values.

No session, no I/O, no Streamlit. `None` means "not defined" (nothing planned, no readings, no
throughput yet); the page decides how to show it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np

from tracker.vocabulary import (
    Direction,
    ForecastVerdict,
    Impact,
    MilestoneStatus,
    Quadrant,
    StanceDirection,
)

__all__ = [
    "DEFAULT_IMPACT_WEIGHTS",
    "FALLING_STANCE_CHANGE",
    "STANCE_DEAD_BAND",
    "STANCE_WINDOW_DAYS",
    "Forecast",
    "ForecastVerdict",
    "Quadrant",
    "StanceDirection",
    "WeightedStatus",
    "change_load",
    "forecast_finish",
    "forecast_late",
    "forecast_verdict",
    "is_hotspot",
    "is_overdue",
    "metric_attainment",
    "month_start",
    "progress",
    "quadrant",
    "slip_days",
    "stance_direction",
    "stance_falling",
    "stance_gap",
    "stance_index",
    "stance_movement",
    "stance_trend_words",
    "weekly_throughput",
]

# Read-only so no caller can change the defaults for everyone else.
DEFAULT_IMPACT_WEIGHTS: Mapping[Impact, int] = MappingProxyType(
    {Impact.low: 1, Impact.medium: 5, Impact.high: 10}
)
STANCE_WINDOW_DAYS = 90
# A change in stance index smaller than this either way (over the window) reads as "steady".
STANCE_DEAD_BAND = 0.1
# A staff group's stance index falling by at least this much over the window counts as falling:
# where heavy change meets hardening resistance.
FALLING_STANCE_CHANGE = -0.25
# Tolerance for comparing differences of floats with the bands above.
_EPSILON = 1e-9

# A forecast run stops here (ten years) so a trickle of throughput cannot loop for ever.
_MAX_FORECAST_WEEKS = 520

_CLOSED = frozenset({MilestoneStatus.done, MilestoneStatus.cancelled})


# --- Milestones -----------------------------------------------------------------------------


class WeightedStatus(Protocol):
    """Anything with a milestone status and a progress weight, e.g. a Milestone row."""

    @property
    def status(self) -> MilestoneStatus | str: ...

    @property
    def weight(self) -> int: ...


def progress(milestones: Iterable[WeightedStatus]) -> float | None:
    """Weighted share of the planned work that is done, in [0, 1].

    Sum of the weights of `done` milestones over the sum of the weights of milestones that are not
    `cancelled`. Serves both stage progress and programme progress. None when nothing is planned:
    no milestones, all cancelled (or, defensively, a planned weight of zero).
    """
    done = 0
    planned = 0
    for milestone in milestones:
        status = MilestoneStatus(milestone.status)
        if status is MilestoneStatus.cancelled:
            continue
        planned += milestone.weight
        if status is MilestoneStatus.done:
            done += milestone.weight
    if planned == 0:
        return None
    return done / planned


def is_overdue(*, due_date: dt.date, status: MilestoneStatus | str, today: dt.date) -> bool:
    """True when the due date is before today and the milestone is neither done nor cancelled.

    A milestone due today is not yet overdue.
    """
    return due_date < today and MilestoneStatus(status) not in _CLOSED


def slip_days(
    *,
    due_date: dt.date,
    status: MilestoneStatus | str,
    completed_date: dt.date | None,
    today: dt.date,
) -> int:
    """Days late, >= 0.

    Done: days from due date to completed date (0 if finished on time or early). Cancelled: 0.
    Open (not started, in progress, blocked): days from due date to today (0 if not yet due).
    `completed_date` is ignored unless the milestone is done.

    Raises ValueError for a done milestone without a completed date (the model forbids it).
    """
    status = MilestoneStatus(status)
    if status is MilestoneStatus.cancelled:
        return 0
    if status is MilestoneStatus.done:
        if completed_date is None:
            raise ValueError("completed_date: a done milestone needs the date it was completed")
        return max(0, (completed_date - due_date).days)
    return max(0, (today - due_date).days)


# --- Throughput and forecast ----------------------------------------------------------------


def weekly_throughput(
    completed_dates: Iterable[dt.date], *, today: dt.date, weeks: int = 12
) -> list[int]:
    """Milestones completed in each of the last `weeks` 7-day windows ending today, oldest first.

    Window i (0-based) covers today - 7*(weeks-i) < d <= today - 7*(weeks-i-1), so the last window
    is the seven days ending today, inclusive. Dates after today or before the first window are
    ignored. Returns `weeks` counts (each >= 0); raises ValueError when `weeks` < 1.
    """
    if weeks < 1:
        raise ValueError("weeks: need at least one week of throughput")
    counts = [0] * weeks
    for day in completed_dates:
        days_ago = (today - day).days
        if days_ago < 0:
            continue
        weeks_ago = days_ago // 7
        if weeks_ago < weeks:
            counts[weeks - 1 - weeks_ago] += 1
    return counts


@dataclass(frozen=True)
class Forecast:
    """When the remaining milestones will be done: P50 (as likely as not) and P85 (fairly sure).

    Dates are today + 7 * weeks; weeks are whole weeks from today, >= 0, with p85 >= p50.
    """

    p50: dt.date
    p85: dt.date
    weeks_p50: int
    weeks_p85: int


def _nearest_rank(sorted_values: Sequence[int], percent: int) -> int:
    """The nearest-rank percentile of ascending values: the ceil(p/100 * n)-th smallest."""
    rank = max(1, math.ceil(percent * len(sorted_values) / 100))
    return sorted_values[rank - 1]


def _weeks_needed(remaining: int, throughput: Sequence[int], runs: int, seed: int) -> Any:
    """Weeks each run takes to reach `remaining` (capped), all runs at once with NumPy: a
    portfolio forecasts every programme, and a draw at a time in Python took seconds each."""
    values = np.asarray(throughput, dtype=np.int32)
    rng = np.random.default_rng(seed)
    # Draw blocks of weeks about as long as the expected finish, and more only for the runs
    # that have not finished yet.
    block = int(min(_MAX_FORECAST_WEEKS, max(8, math.ceil(1.5 * remaining / values.mean()))))
    weeks = np.full(runs, _MAX_FORECAST_WEEKS, dtype=np.int64)
    totals = np.zeros(runs, dtype=np.int32)
    pending = np.arange(runs)
    elapsed = 0
    while pending.size and elapsed < _MAX_FORECAST_WEEKS:
        width = min(block, _MAX_FORECAST_WEEKS - elapsed)
        # Small integer draws (indexes into the weeks) are about twice as fast as rng.choice.
        drawn = rng.integers(0, values.size, size=(pending.size, width), dtype=np.int16)
        sums = np.cumsum(values[drawn], axis=1, dtype=np.int32)
        sums += totals[pending, None]
        reached = sums >= remaining
        finished = reached.any(axis=1)
        weeks[pending[finished]] = elapsed + reached[finished].argmax(axis=1) + 1
        totals[pending] = sums[:, -1]
        pending = pending[~finished]
        elapsed += width
    return weeks


def forecast_finish(
    *,
    remaining: int,
    throughput: Sequence[int],
    today: dt.date,
    runs: int = 2000,
    seed: int = 0,
) -> Forecast | None:
    """Monte Carlo forecast of when `remaining` milestones will be done, from weekly throughput.

    Each run draws weeks with replacement from `throughput` (milestones done per week) until the
    draws add up to `remaining`; P50 and P85 are the nearest-rank percentiles of the weeks needed.
    A run is capped at 520 weeks. The same arguments and seed always give the same answer.

    `remaining` <= 0 gives Forecast(today, today, 0, 0), even with no throughput: nothing is left.
    None when `throughput` is empty or all zero ("no throughput yet"). Raises ValueError when
    `runs` < 1.
    """
    if runs < 1:
        raise ValueError("runs: need at least one forecast run")
    if remaining <= 0:
        return Forecast(p50=today, p85=today, weeks_p50=0, weeks_p85=0)
    if not any(count > 0 for count in throughput):
        return None
    weeks_needed = np.sort(_weeks_needed(remaining, throughput, runs, seed)).tolist()
    weeks_p50 = _nearest_rank(weeks_needed, 50)
    weeks_p85 = _nearest_rank(weeks_needed, 85)
    return Forecast(
        p50=today + dt.timedelta(weeks=weeks_p50),
        p85=today + dt.timedelta(weeks=weeks_p85),
        weeks_p50=weeks_p50,
        weeks_p85=weeks_p85,
    )


def forecast_late(forecast: Forecast | None, target: dt.date) -> bool:
    """True when the forecast is at risk of finishing late: P85 (fairly sure) is after the
    target end date. The delivery-confidence forecast rule judges on the same P85, so a
    programme read as late is the one whose rating the forecast lowers. False without a
    forecast (nothing can be said yet; see forecast_verdict)."""
    return forecast is not None and forecast.p85 > target


def forecast_verdict(forecast: Forecast | None, target: dt.date) -> ForecastVerdict:
    """Late, on track, or no forecast yet (forecast_late's rule, with its words)."""
    if forecast is None:
        return ForecastVerdict.no_forecast
    return ForecastVerdict.late if forecast_late(forecast, target) else ForecastVerdict.on_track


# --- Stakeholders ---------------------------------------------------------------------------


def stance_index(readings: Iterable[tuple[int, int]]) -> float | None:
    """Influence-weighted mean stance of a set of stakeholders, in [-2, 2].

    `readings` are (influence 1-5, stance -2..2) pairs. sum(influence * stance) / sum(influence).
    None when there are no readings (or, defensively, their influences sum to zero).
    """
    weighted = 0
    total_influence = 0
    for influence, stance in readings:
        weighted += influence * stance
        total_influence += influence
    if total_influence == 0:
        return None
    return weighted / total_influence


def is_hotspot(*, influence: int, stance: int) -> bool:
    """A resistance hotspot: influence >= 4 (of 5) and stance <= -1 (a resistor)."""
    return influence >= 4 and stance <= -1


def quadrant(*, influence: int, interest: int) -> Quadrant:
    """The stakeholder's Mendelow quadrant; influence and interest are 1-5, high means >= 3.

    High influence and interest: manage closely; high influence only: keep satisfied;
    high interest only: keep informed; neither: monitor.
    """
    high_influence = influence >= 3
    high_interest = interest >= 3
    if high_influence and high_interest:
        return Quadrant.manage_closely
    if high_influence:
        return Quadrant.keep_satisfied
    if high_interest:
        return Quadrant.keep_informed
    return Quadrant.monitor


def stance_movement(
    history: Iterable[tuple[dt.date, int]],
    *,
    today: dt.date,
    window_days: int = STANCE_WINDOW_DAYS,
) -> int | None:
    """Change in stance over the window ending today, in stance points (-4..4; positive = warmer).

    `history` is (assessed on, stance) readings in any order; readings after today are ignored.
    The latest reading on or before today, minus the stance in force at the window start
    (today - window_days): the latest reading on or before that date, or, when there is none, the
    earliest reading inside the window. Readings on the same date keep their given order, so the
    later one counts as the newer.

    None when there are no readings (on or before today), or when the only one is inside the
    window, so there is nothing to compare. A single reading from before the window gives 0.
    """
    readings = sorted(
        (reading for reading in history if reading[0] <= today), key=lambda reading: reading[0]
    )
    if not readings:
        return None
    window_start = today - dt.timedelta(days=window_days)
    before_window = [reading for reading in readings if reading[0] <= window_start]
    if before_window:
        start_stance = before_window[-1][1]
    elif len(readings) == 1:
        return None
    else:
        start_stance = readings[0][1]
    return readings[-1][1] - start_stance


def stance_direction(change: float | None) -> StanceDirection | None:
    """Improving when the stance index rose by more than STANCE_DEAD_BAND (0.1), worsening when
    it fell by more than that, steady otherwise; None when the change is not defined."""
    if change is None or math.isnan(change):
        return None
    if change > STANCE_DEAD_BAND + _EPSILON:
        return StanceDirection.improving
    if change < -STANCE_DEAD_BAND - _EPSILON:
        return StanceDirection.worsening
    return StanceDirection.steady


def stance_falling(change: float | None) -> bool:
    """True when a stance index fell by FALLING_STANCE_CHANGE (0.25) or more over the window."""
    return change is not None and change <= FALLING_STANCE_CHANGE + _EPSILON


def stance_trend_words(change: float | None) -> str:
    """How a stance index is moving, as a symbol and a word: "▼ falling" when it fell by 0.25 or
    more, else the direction's words ("▲ improving", "▼ worsening", "► steady"); "" when there
    is no earlier reading to compare with."""
    if stance_falling(change):
        return "▼ falling"
    direction = stance_direction(change)
    return "" if direction is None else direction.text


def stance_gap(*, stance: int, desired: int) -> int:
    """Desired stance minus current stance, in stance points (-4..4).

    Positive: still to move towards support; 0: where we want them; negative: warmer than needed.
    """
    return desired - stance


# --- Metrics --------------------------------------------------------------------------------


def metric_attainment(
    *, baseline: float, target: float, latest: float | None, direction: Direction | str
) -> float | None:
    """How far a metric has moved from baseline to target, as a fraction (1.0 = target met).

    (latest - baseline) / (target - baseline), not clamped: above 1 is over-achievement, below 0 is
    movement the wrong way. For a `down` metric this is (baseline - latest) / (baseline - target),
    the same quotient, so progress downwards towards a lower target reads as positive.
    None when there is no reading yet (`latest` is None) or target equals baseline.
    """
    # Both directions reduce to one quotient; coercing still rejects an unknown direction.
    Direction(direction)
    if latest is None or target == baseline:
        return None
    return (latest - baseline) / (target - baseline)


# --- Change load ----------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    """The first day of the month `day` falls in."""
    return day.replace(day=1)


def change_load(
    impacts: Iterable[tuple[int, dt.date, Impact | str]],
    weights: Mapping[Impact, int] = DEFAULT_IMPACT_WEIGHTS,
) -> dict[tuple[int, dt.date], int]:
    """Weighted change landing on each staff group per month, across all programmes.

    `impacts` are (staff group id, milestone due date, impact level). Returns
    {(staff group id, first of the due month): summed impact weight}; only pairs with at least
    one impact appear. Weights default to low 1, medium 5, high 10; a level missing from a custom
    `weights` raises KeyError.
    """
    load: dict[tuple[int, dt.date], int] = {}
    for staff_group_id, due_date, level in impacts:
        key = (staff_group_id, month_start(due_date))
        load[key] = load.get(key, 0) + weights[Impact(level)]
    return load
