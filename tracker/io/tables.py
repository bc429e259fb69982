"""The one CSV and XLSX writer: every table the tracker hands out as a spreadsheet (the programme
exports, the subject access export, the audit trail) is written here, so every one of them gets
the same cells and the same guard.

- Cells: dates are ISO dates (`2026-03-31`; real date cells in XLSX), times in UTC, yes/no for
  true/false, nothing for None; numbers stay numbers.
- Every text cell that a spreadsheet could run as a formula (starting with =, +, -, @, a tab or a
  carriage return) gets a leading single quote, in CSV and XLSX alike (`neutralise`): no file
  the tracker writes can run anything when it is opened.
- CSV is UTF-8 with a byte-order mark, so spreadsheet programs read £ and accents correctly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CSV_ENCODING = "utf-8-sig"  # with a byte-order mark, so Excel reads £ and accents correctly
CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | Decimal | bool | dt.date | dt.datetime | None


@dataclass(frozen=True)
class Sheet:
    """One table of a spreadsheet: its title (the XLSX sheet's name), column headers and rows,
    each row in the order of the headers."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[Sequence[Cell]]


def neutralise(text: str) -> str:
    """`text` with a leading single quote when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Cell) -> str | int | float | Decimal:
    """One value as a CSV cell (see the module's docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return value


def xlsx_cell(value: Cell) -> Cell:
    """One value as an XLSX cell (see the module's docstring)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        # Excel has no time zones: times are written in UTC, without the zone.
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, str):
        # Control characters other than tab and line breaks are not allowed in XLSX.
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """A CSV file: the header row, then one line per row; UTF-8 with a byte-order mark, no cell
    able to run as a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(header) for header in headers])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode(CSV_ENCODING)


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """An XLSX workbook with one sheet per table: a bold, frozen header row, then the rows (date
    cells in the ISO format yyyy-mm-dd, which openpyxl gives them by itself); no cell able to
    run as a formula."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for table in sheets:
        sheet = workbook.create_sheet(table.title)
        sheet.append([xlsx_cell(header) for header in table.headers])
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        for row in table.rows:
            sheet.append([xlsx_cell(value) for value in row])
        for index, header in enumerate(table.headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, len(header) + 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
