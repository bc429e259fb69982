"""How values are written in the interface and the board packs (GOV.UK style): dates, months,
amounts, percentages, the stance index with its nearest stance, and stage labels. One function
per kind of value, so a screen and a pack never word the same value two ways.

Every function takes what a read or a table cell holds, so a missing value (None, or pandas'
NaN/NaT in a table) is written in words rather than shown as "nan"."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from tracker.stages import STAGE_INFO
from tracker.vocabulary import Stage, Stance, key_words

__all__ = [
    "NONE_STARTED",
    "NOT_SET",
    "amount_text",
    "date_text",
    "date_words",
    "is_missing",
    "key_words",
    "month_words",
    "nearest_stance",
    "percent",
    "short_month",
    "stage_heading",
    "stage_label",
    "stage_labels",
    "stance_number",
    "stance_words",
    "time_text",
]

NOT_SET = "not set"
NONE_STARTED = "None started"


def is_missing(value: object) -> bool:
    """True for None and for the missing markers a table cell holds (NaN, NaT, pd.NA)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    # pandas' NaT and NA are not equal to themselves; a date, a number or a string always is.
    try:
        return bool(value != value)
    except TypeError:
        return True


def month_words(day: dt.date) -> str:
    """E.g. "March 2027"."""
    return f"{day:%B} {day.year}"


def short_month(day: dt.date) -> str:
    """A month where space is short, e.g. "Apr 2028"."""
    return f"{day:%b %Y}"


def date_words(day: dt.date) -> str:
    """A date as GOV.UK writes it, e.g. "6 March 2027"."""
    return f"{day.day} {day:%B} {day.year}"


def date_text(value: dt.date | None) -> str:
    """A date in a table or a caption, e.g. "6 Mar 2027"; "not set" when there is none. A
    datetime is written as its date."""
    if is_missing(value):
        return NOT_SET
    assert value is not None
    return f"{value.day} {value:%b %Y}"


def time_text(value: dt.datetime) -> str:
    """A moment to the second, as a log shows it, e.g. "6 Mar 2027 14:03:09" (in the time zone
    it carries: the audit trail and the sign-in log store UTC)."""
    return f"{value.day} {value:%b %Y %H:%M:%S}"


def amount_text(value: float, unit: str) -> str:
    """A metric value with its unit, as people write it: 61%, £120,000, 14 days, 6.5.

    Whole numbers show no decimals; others show up to two decimal places. Thousands take
    commas. "%" and "£" attach to the number; any other unit follows it after a space.
    """
    number = f"{value:,.2f}".rstrip("0").rstrip(".")
    if number in ("-0", ""):
        number = "0"
    if unit == "%":
        return f"{number}%"
    if unit == "£":
        return f"-£{number[1:]}" if number.startswith("-") else f"£{number}"
    return f"{number} {unit}" if unit else number


def percent(value: float | None, *, not_defined: str = "Not planned") -> str:
    """A share in [0, 1] as a whole percentage, e.g. "61%"; `not_defined` when there is none."""
    return not_defined if is_missing(value) else f"{float(value or 0):.0%}"


def nearest_stance(value: float) -> Stance:
    """The stance nearest a stance index in [-2, 2] (rounded, then held to the scale)."""
    return Stance(max(-2, min(2, round(value))))


def stance_choice(value: int) -> str:
    """One stance on the scale, the word first so the number is never the only signal: e.g.
    "Passive resistor (-1)", "Neutral (0)"."""
    return f"{Stance(value).label} ({value:+d})" if value else "Neutral (0)"


def stance_number(value: float | None) -> str:
    """A stance index with its sign, e.g. "+0.40"; "None yet" when nobody is assessed."""
    return "None yet" if is_missing(value) else f"{float(value or 0):+.2f}"


def stance_words(value: float | None, *, missing: str = "No assessments") -> str:
    """A stance index in [-2, 2] with the nearest stance in words, so the number is never the
    only signal: e.g. "+0.40, closest to neutral"; `missing` when nobody is assessed."""
    if is_missing(value):
        return missing
    number = float(value or 0)
    return f"{number:+.2f}, closest to {nearest_stance(number).label.lower()}"


def stage_label(stage: Stage | str, *, separator: str = " ") -> str:
    """A stage's number and short title, e.g. "1 Vision" (or "1. Vision" with separator=". ")."""
    info = STAGE_INFO[Stage(stage)]
    return f"{info.number}{separator}{info.short}"


def stage_heading(stage: Stage | str) -> str:
    """A stage's number and full title, e.g. "1. Get the vision and narrative right"."""
    info = STAGE_INFO[Stage(stage)]
    return f"{info.number}. {info.title}"


def stage_labels(keys: str | Iterable[Stage | str] | None) -> str:
    """Stages as labels in one line: "vision,test" (or a list of keys) -> "1 Vision, 3 Test";
    "None started" when there are none."""
    if keys is None or isinstance(keys, str):
        keys = [key for key in (keys or "").split(",") if key]
    labels = [stage_label(key) for key in keys]
    return ", ".join(labels) if labels else NONE_STARTED
