"""How values are written on screen and in the packs (tracker/words.py): one function per kind of
value, missing values in words, never "nan"."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from tracker import words
from tracker.vocabulary import Stage, Stance


@pytest.mark.parametrize("missing", [None, math.nan, pd.NaT, pd.NA])
def test_a_missing_value_is_written_in_words(missing: object) -> None:
    assert words.is_missing(missing)
    assert words.date_text(missing) == "not set"  # type: ignore[arg-type]
    assert words.percent(missing) == "Not planned"  # type: ignore[arg-type]
    assert words.percent(missing, not_defined="No readings") == "No readings"  # type: ignore[arg-type]
    assert words.stance_number(missing) == "None yet"  # type: ignore[arg-type]
    assert words.stance_words(missing) == "No assessments"  # type: ignore[arg-type]
    assert words.stance_words(missing, missing="No assessments yet") == "No assessments yet"  # type: ignore[arg-type]


@pytest.mark.parametrize("present", [0, 0.0, "", dt.date(2027, 3, 6), pd.Timestamp("2027-03-06")])
def test_zero_an_empty_text_and_a_date_are_not_missing(present: object) -> None:
    assert not words.is_missing(present)


def test_dates_months_and_times() -> None:
    day = dt.date(2027, 3, 6)
    assert words.date_words(day) == "6 March 2027"
    assert words.date_text(day) == "6 Mar 2027"
    assert words.date_text(pd.Timestamp("2027-03-06 14:30")) == "6 Mar 2027"
    assert words.month_words(day) == "March 2027"
    assert words.short_month(day) == "Mar 2027"
    at = dt.datetime(2027, 3, 6, 14, 3, 9, tzinfo=dt.UTC)
    assert words.time_text(at) == "6 Mar 2027 14:03:09"


def test_percentages_are_whole() -> None:
    # 0.615 of planned work: 61.5% rounds to 62%.
    assert words.percent(0.615) == "62%"
    assert words.percent(0.0) == "0%"
    assert words.percent(1.0) == "100%"


@pytest.mark.parametrize(
    ("index", "number", "sentence"),
    [
        (0.4, "+0.40", "+0.40, closest to neutral"),
        (0.5, "+0.50", "+0.50, closest to neutral"),  # halves round to even
        (1.6, "+1.60", "+1.60, closest to champion"),
        (-0.75, "-0.75", "-0.75, closest to passive resistor"),
        (-2.0, "-2.00", "-2.00, closest to active resistor"),
        (0.0, "+0.00", "+0.00, closest to neutral"),
    ],
)
def test_a_stance_index_reads_with_its_nearest_stance(
    index: float, number: str, sentence: str
) -> None:
    assert words.stance_number(index) == number
    assert words.stance_words(index) == sentence


def test_the_nearest_stance_is_held_to_the_scale() -> None:
    assert words.nearest_stance(2.4) is Stance.champion
    assert words.nearest_stance(-3.0) is Stance.active_resistor
    assert words.nearest_stance(0.6) is Stance.supporter


def test_stage_labels_and_headings() -> None:
    assert words.stage_label(Stage.vision) == "1 Vision"
    assert words.stage_label("test", separator=". ") == "3. Test"
    assert words.stage_heading("equip") == "4. Equip people with skills and resources"
    assert words.stage_labels("vision,test") == "1 Vision, 3 Test"
    assert words.stage_labels([Stage.launch]) == "5 Launch"
    assert words.stage_labels("") == "None started"
    assert words.stage_labels(None) == "None started"


def test_a_stored_key_in_words() -> None:
    assert words.key_words("legal_basis") == "Legal basis"
    assert words.key_words("in_progress") == "In progress"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-2, "Active resistor (-2)"), (0, "Neutral (0)"), (2, "Champion (+2)")],
)
def test_a_stance_on_the_scale_reads_word_first_then_its_number(value: int, expected: str) -> None:
    assert words.stance_choice(value) == expected
