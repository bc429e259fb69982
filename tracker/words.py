"""How numbers and dates are written in the interface and the board pack (GOV.UK style)."""

from __future__ import annotations

import datetime as dt


def month_words(day: dt.date) -> str:
    """E.g. "March 2027"."""
    return f"{day:%B} {day.year}"


def date_words(day: dt.date) -> str:
    """A date as GOV.UK writes it, e.g. "6 March 2027"."""
    return f"{day.day} {day:%B} {day.year}"


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
