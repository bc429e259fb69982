"""Filtering and sorting the portfolio's rows, as a board member narrows the table."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tracker import read


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
