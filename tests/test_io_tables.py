"""The one CSV/XLSX writer (tracker/io/tables.py): every text cell a spreadsheet would run as a
formula gets a leading quote, in CSV and XLSX alike; numbers, dates and yes/no stay what they
are."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from tracker.io import tables

FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "+1 for the portal",
    "-2 days",
    "@SUM(A1)",
    "\tTab",
    "\rCR",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text: str) -> None:
    assert tables.neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Plain text", "a = b", "", "'already quoted"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert tables.neutralise(text) == text


def test_the_csv_neutralises_every_formula_and_keeps_numbers_dates_and_yes_no() -> None:
    rows = [(text, -3, Decimal("-1.5"), dt.date(2026, 3, 31), True, None) for text in FORMULAS]
    data = tables.csv_bytes(("Text", "Number", "Decimal", "Date", "Done", "Empty"), rows)
    assert data.startswith("\ufeff".encode())  # the byte-order mark spreadsheets want
    read = list(csv.reader(io.StringIO(data.decode(tables.CSV_ENCODING), newline="")))
    assert read[0] == ["Text", "Number", "Decimal", "Date", "Done", "Empty"]
    assert [row[0] for row in read[1:]] == ["'" + text for text in FORMULAS]
    assert {tuple(row[1:]) for row in read[1:]} == {("-3", "-1.5", "2026-03-31", "yes", "")}


def test_the_xlsx_neutralises_every_formula_and_keeps_numbers_as_numbers() -> None:
    rows = [(text, -3, 2.5, dt.date(2026, 3, 31), False) for text in FORMULAS]
    data = tables.xlsx_bytes(
        [tables.Sheet("Cells", ("Text", "Number", "Float", "Date", "Done"), rows)]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Cells"]
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    # XML keeps no bare carriage return: it reads back as a line feed, still quoted.
    assert [row[0] for row in values] == ["'" + text.replace("\r", "\n") for text in FORMULAS]
    for row in values:
        assert row[1:3] == (-3, 2.5)
        assert row[3] == dt.datetime(2026, 3, 31)
        assert row[4] == "no"
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
