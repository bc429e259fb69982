"""Spreadsheet files in: an upload (CSV in any common encoding and delimiter, or XLSX) becomes a
Table of header cells and data rows, each row carrying the number a spreadsheet shows for it.

Nothing is dropped without a trace: blank rows, '#' comment lines and titles above the header are
listed in `Table.skipped`, and duplicated headers or text beyond the last column in
`Table.notices`.

Below the Table, the file format of an import: the fields each kind can fill (`FIELDS`), how a
cell becomes a date, number, stage, stance or rating, which header feeds which field
(`guess_mapping`), a mapping as JSON, and a row's values by field (`read_row`), each problem
named by row and column. What a row then does is tracker.io.imports' decision.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import chain, islice
from typing import Any

from tracker.errors import DomainError
from tracker.models import (
    DeliveryConfidence,
    ImportKind,
    MilestoneStatus,
    ProgrammeStatus,
    Stage,
    Stance,
)
from tracker.stages import STAGE_INFO, STAGES
from tracker.vocabulary import key_words

MAX_IMPORT_BYTES = 10 * 1024 * 1024
# More rows than this (not counting blank ones) is refused: split the file.
MAX_IMPORT_ROWS = 100_000
# The header is looked for among the first rows only: a title block is never this long.
HEADER_SEARCH_ROWS = 30
# A ZIP that inflates beyond this is not a spreadsheet anyone typed (a "zip bomb").
MAX_XLSX_UNPACKED_BYTES = 30 * MAX_IMPORT_BYTES
DELIMITERS = (",", ";", "\t", "|")
# What Excel writes in a cell whose formula failed; never a comment line.
EXCEL_ERRORS = frozenset(
    {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
)

# One cell as read: text from CSV; text, numbers, booleans, dates and times from XLSX.
Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | None


class SkipReason(StrEnum):
    blank = "blank"
    comment = "comment"
    above_header = "above_header"


@dataclass(frozen=True)
class Row:
    """A data row: `number` is the row number a spreadsheet shows (1 = the first row of the file);
    `cells` has exactly one value per header (None where the row is short)."""

    number: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Skipped:
    """Rows `first`..`last` (inclusive) were not read as data, for `reason`; `text` is what the
    row held (shortened), empty for blank rows."""

    first: int
    last: int
    reason: SkipReason
    text: str = ""

    def describe(self) -> str:
        rows = f"row {self.first}" if self.first == self.last else f"rows {self.first}–{self.last}"
        if self.reason is SkipReason.blank:
            return f"{rows} {'is' if self.first == self.last else 'are'} blank: skipped"
        if self.reason is SkipReason.comment:
            return f"{rows} is a comment (it begins with '#'): skipped"
        return f"{rows} above the header ('{self.text}') is a title or note: skipped"

    @property
    def numbers(self) -> range:
        return range(self.first, self.last + 1)


@dataclass(frozen=True)
class Notice:
    """Something about the file a person should know; it does not stop an import."""

    row: int | None
    column: str | None
    message: str


@dataclass(frozen=True)
class Table:
    """A spreadsheet as headers and rows. `headers` are unique (a repeated header gets " (2)");
    `header_row` is the row number the headers were on. Every row of the file after the header is
    either in `rows` or in `skipped`."""

    filename: str
    file_format: str
    headers: tuple[str, ...]
    header_row: int
    rows: tuple[Row, ...]
    skipped: tuple[Skipped, ...] = ()
    notices: tuple[Notice, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def describe(self) -> str:
        """One line for a person: how the file was read."""
        if self.file_format == "CSV":
            names = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
            how = f"CSV, {self.encoding}, separated by {names.get(self.delimiter or ',', 'commas')}"
        else:
            how = f"XLSX, sheet '{self.sheet}'"
        count = len(self.rows)
        return (
            f"{self.filename}: {count} {'row' if count == 1 else 'rows'} under the header on "
            f"row {self.header_row} ({how})"
        )


def header_key(text: str) -> str:
    """A header reduced to lower-case letters and digits, so "Due date", "due_date" and
    "DUE-DATE" compare equal."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def read_table(data: bytes, filename: str, *, header_hints: Iterable[str] = ()) -> Table:
    """Read an uploaded CSV or XLSX file.

    `header_hints` are header_key()s of column names the caller knows: the header is the row,
    among the first HEADER_SEARCH_ROWS, that matches most of them (then: has most text cells),
    so a title above the header is skipped. CSV is decoded as UTF-8 (with or without BOM),
    UTF-16 with a BOM, else Windows-1252, else Latin-1; the delimiter (, ; tab |) is sniffed.

    Raises DomainError(field="file") for an empty, over-large, binary or unreadable file, or one
    with no header row.
    """
    name = filename.strip() or "the file"
    if not data or not data.strip():
        raise DomainError(
            "file", f"{name} is empty: choose a CSV or XLSX file with a header row and data"
        )
    check_size(len(data), name)
    hints = frozenset(header_key(h) for h in header_hints)
    _refuse_known_binary(data, name)
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, name, hints)
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise DomainError(
            "file", f"{name} is not a valid XLSX workbook. Save it again from Excel, or as CSV."
        )
    text, encoding = _decode(data, name)
    if not text.strip():
        raise DomainError(
            "file", f"{name} is empty: choose a CSV or XLSX file with a header row and data"
        )
    delimiter = _sniff_delimiter(text)
    raw = _csv_rows(text, delimiter, name)
    return _tabulate(
        raw, hints, filename=name, file_format="CSV", encoding=encoding, delimiter=delimiter
    )


def check_size(size: int, filename: str) -> None:
    """DomainError when a file of `size` bytes is over MAX_IMPORT_BYTES (so a caller can refuse
    before reading it)."""
    if size > MAX_IMPORT_BYTES:
        raise DomainError(
            "file",
            f"{filename} is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_IMPORT_BYTES // 1024 // 1024} MB. Split it into smaller files.",
        )


def _refuse_known_binary(data: bytes, name: str) -> None:
    head = data[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DomainError(
            "file",
            f"{name} is in the old Excel format (.xls): open it in Excel and save it as "
            ".xlsx or CSV.",
        )
    kinds = {
        b"%PDF": "a PDF",
        b"\x89PNG": "an image",
        b"GIF8": "an image",
        b"\xff\xd8\xff": "an image",
    }
    for magic, kind in kinds.items():
        if head.startswith(magic):
            raise DomainError("file", f"{name} is {kind}, not a spreadsheet: choose a CSV or XLSX")


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return _text_or_refuse(data[3:].decode("utf-8"), name), "UTF-8"
        except UnicodeDecodeError:
            data = data[3:]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _text_or_refuse(data.decode("utf-16"), name), "UTF-16"
        except UnicodeDecodeError:
            raise _binary(name) from None
    if b"\x00" in data:
        raise _binary(name)
    # Windows-1252 before Latin-1: it is what Excel on Windows writes, and it has £ and €
    # where Latin-1 has invisible control characters.
    for encoding, label in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252")):
        try:
            return _text_or_refuse(data.decode(encoding), name), label
        except UnicodeDecodeError:
            continue
    return _text_or_refuse(data.decode("latin-1"), name), "Latin-1"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _text_or_refuse(text: str, name: str) -> str:
    sample = text[:65536]
    # Binary files nearly always hold NUL bytes (refused before decoding); this catches the
    # rest without refusing a spreadsheet for a few stray control characters.
    if len(_CONTROL.findall(sample)) > max(8, len(sample) // 10):
        raise _binary(name)
    return text.removeprefix("\ufeff")


def _binary(name: str) -> DomainError:
    return DomainError(
        "file",
        f"{name} does not look like a spreadsheet (it holds binary data). Save it as CSV or XLSX "
        "and try again.",
    )


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the most of the first records into rows of one width above 1
    (ties: the wider)."""
    best = (False, 0, 0)
    chosen = ","
    for delimiter in DELIMITERS:
        if delimiter not in text[:65536]:
            continue
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            widths = [
                len(record)
                for record in islice(reader, 60)
                if any(cell.strip() for cell in record) and not record[0].lstrip().startswith("#")
            ]
        except csv.Error:
            continue
        # The most common width of more than one column decides: notes of one cell (a title
        # line, "Notes only") must not outvote the records, whatever their number.
        wide = Counter(w for w in widths if w > 1)
        if not widths:
            continue
        if wide:
            width, count = max(wide.items(), key=lambda item: (item[1], item[0]))
        else:
            width, count = 1, len(widths)
        score = (width > 1, count, width)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def _csv_rows(text: str, delimiter: str, name: str) -> Iterator[Sequence[Cell]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        for record in reader:
            yield [cell.replace("\r\n", "\n") for cell in record]
    except csv.Error as error:
        raise DomainError(
            "file",
            f"{name} could not be read near row {reader.line_num} ({error}). A cell may have an "
            "opening quote without its closing quote.",
        ) from None


def _read_xlsx(data: bytes, name: str, hints: frozenset[str]) -> Table:
    import openpyxl  # only XLSX uploads pay for loading it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise _binary(name) from None
    if "xl/workbook.xml" not in names:
        if "content.xml" in names:
            raise DomainError(
                "file", f"{name} is an OpenDocument spreadsheet: save it as .xlsx or CSV."
            )
        raise DomainError("file", f"{name} is a ZIP archive, not a spreadsheet.")
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise DomainError("file", f"{name} unpacks to more than the import can read.")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise DomainError(
            "file", f"{name} could not be opened as an XLSX workbook. Save it again from Excel."
        ) from None
    try:
        sheets = [ws for ws in workbook.worksheets if getattr(ws, "sheet_state", "") == "visible"]
        sheets = sheets or list(workbook.worksheets)
        if not sheets:
            raise DomainError("file", f"{name} has no sheets.")
        sheet = max(
            sheets,
            key=lambda ws: (
                _best_header(_sheet_rows(ws, HEADER_SEARCH_ROWS), hints)[1],
                -sheets.index(ws),
            ),
        )
        table = _tabulate(
            _sheet_rows(sheet, None),
            hints,
            filename=name,
            file_format="XLSX",
            sheet=str(sheet.title),
        )
    except DomainError:
        raise
    except Exception:
        raise DomainError(
            "file", f"{name} could not be read as an XLSX workbook. Save it again from Excel."
        ) from None
    finally:
        workbook.close()
    others = [str(ws.title) for ws in sheets if ws is not sheet]
    if others:
        listed = ", ".join(f"'{title}'" for title in others)
        notice = Notice(None, None, f"read the sheet '{sheet.title}'; not read: {listed}")
        table = _with_notices(table, (notice,))
    return table


def _with_notices(table: Table, notices: tuple[Notice, ...]) -> Table:
    return replace(table, notices=notices + table.notices)


def _sheet_rows(sheet: Any, limit: int | None) -> Iterator[Sequence[Cell]]:
    sheet.reset_dimensions()  # some writers record a wrong size; read what is there
    rows = sheet.iter_rows(values_only=True)
    for values in rows if limit is None else islice(rows, limit):
        yield [_xlsx_cell(value) for value in values]


def _xlsx_cell(value: object) -> Cell:
    if isinstance(value, dt.datetime):
        # Excel stores dates as date-times at midnight.
        return value.date() if value.time() == dt.time(0) else value
    if value is None or isinstance(value, (str, bool, int, float, dt.date, dt.time)):
        return value
    return str(value)


def _is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _is_comment(cells: Sequence[Cell]) -> bool:
    first = cells[0] if cells else None
    if not isinstance(first, str):
        return False
    text = first.strip()
    return text.startswith("#") and text.upper() not in EXCEL_ERRORS


def _has_letters(cell: Cell) -> bool:
    return isinstance(cell, str) and any(ch.isalpha() for ch in cell)


def _header_score(cells: Sequence[Cell], hints: frozenset[str]) -> tuple[int, int]:
    """(cells naming a known column, cells with words in them)."""
    texts = [cell for cell in cells if _has_letters(cell)]
    known = {header_key(str(cell)) for cell in texts} & hints
    return len(known), len(texts)


def _best_header(
    rows: Iterable[Sequence[Cell]], hints: frozenset[str]
) -> tuple[int | None, tuple[int, int]]:
    """The index (0-based) of the header among `rows`, and its score; None when no row has
    text. The header is the row naming most known columns; among equals, the first row with
    two or more words in it (a title above is one cell; data below may be wider)."""
    best_index: int | None = None
    best_score = (0, 0)
    for index, cells in enumerate(rows):
        if all(_is_blank(cell) for cell in cells) or _is_comment(cells):
            continue
        known, texts = score = _header_score(cells, hints)
        if not texts:
            continue
        if (
            best_index is None
            or known > best_score[0]
            or (known == best_score[0] and best_score[1] < 2 and texts > best_score[1])
        ):
            best_index, best_score = index, score
    return best_index, best_score


def _shorten(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_text(cell: Cell) -> str:
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return " ".join(str(cell).split()) if cell is not None else ""


def _unique_headers(cells: Sequence[Cell], header_row: int) -> tuple[list[str], list[Notice]]:
    texts = [_header_text(cell) for cell in cells]
    while texts and not texts[-1]:
        texts.pop()
    headers: list[str] = []
    notices: list[Notice] = []
    first_seen: dict[str, int] = {}
    for index, text in enumerate(texts):
        letter = _column_letter(index)
        base = text or f"Column {letter}"
        key = base.casefold()
        if key in first_seen:
            count = 2
            while f"{base} ({count})".casefold() in {h.casefold() for h in headers}:
                count += 1
            unique = f"{base} ({count})"
            notices.append(
                Notice(
                    header_row,
                    unique,
                    f"the header '{base}' in column {letter} repeats column "
                    f"{_column_letter(first_seen[key])}: it is called '{unique}' here",
                )
            )
            headers.append(unique)
        else:
            first_seen[key] = index
            headers.append(base)
    return headers, notices


def _tabulate(
    raw: Iterable[Sequence[Cell]],
    hints: frozenset[str],
    *,
    filename: str,
    file_format: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Find the header in `raw` (row 1 first), then sort every later row into data or skipped."""
    iterator = iter(raw)
    head = list(islice(iterator, HEADER_SEARCH_ROWS))
    index, _score = _best_header(head, hints)
    if index is None:
        raise DomainError(
            "file",
            f"{filename} has no header row: its first rows should name the columns "
            "(for example Title, Stage, Due date).",
        )
    header_row = index + 1
    headers, notices = _unique_headers(head[index], header_row)
    width = len(headers)
    skipped: list[Skipped] = []

    def skip(number: int, reason: SkipReason, text: str = "") -> None:
        last = skipped[-1] if skipped else None
        if (
            reason is SkipReason.blank
            and last is not None
            and last.reason is SkipReason.blank
            and last.last == number - 1
        ):
            skipped[-1] = Skipped(last.first, number, reason)
        else:
            skipped.append(Skipped(number, number, reason, text))

    for number, cells in enumerate(head[:index], start=1):
        if all(_is_blank(cell) for cell in cells):
            skip(number, SkipReason.blank)
        else:
            words = " ".join(_header_text(cell) for cell in cells if not _is_blank(cell))
            skip(number, SkipReason.above_header, _shorten(words))

    rows: list[Row] = []
    later = enumerate(head[index + 1 :], start=header_row + 1)
    for number, cells in chain(later, enumerate(iterator, start=len(head) + 1)):
        if all(_is_blank(cell) for cell in cells):
            skip(number, SkipReason.blank)
            continue
        if _is_comment(cells):
            skip(number, SkipReason.comment, _shorten(str(cells[0])))
            continue
        extra = [i for i in range(width, len(cells)) if not _is_blank(cells[i])]
        if extra:
            letters = [_column_letter(i) for i in extra]
            where = (
                f"column {letters[0]}, which has"
                if len(letters) == 1
                else f"columns {', '.join(letters[:-1])} and {letters[-1]}, which have"
            )
            notices.append(Notice(number, None, f"text in {where} no header, was not read"))
        padded = tuple(cells[:width]) + (None,) * (width - len(cells))
        rows.append(Row(number, padded))
        if len(rows) > MAX_IMPORT_ROWS:
            raise DomainError(
                "file",
                f"{filename} has more than {MAX_IMPORT_ROWS:,} rows: split it into smaller files.",
            )
    return Table(
        filename=filename,
        file_format=file_format,
        headers=tuple(headers),
        header_row=header_row,
        rows=tuple(rows),
        skipped=tuple(skipped),
        notices=tuple(notices),
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
    )


# --- The fields of an import: cells, columns and header matching -----------------------------

# Excel's day 0 (it counts 1900 as a leap year, so serials from 61 on count from here).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serial numbers read as dates: 1954-10-03 to 2119-01-10. Smaller numbers are more likely a
# year or a count than a date.
_SERIAL_RANGE = (20_000, 80_000)


class Severity(StrEnum):
    error = "error"
    warning = "warning"


@dataclass(frozen=True)
class Unrated:
    """A rating cell whose text is not a delivery confidence: kept as "not rated", never
    guessed."""

    text: str


@dataclass(frozen=True)
class FieldSpec:
    """One field an import can fill: `key` is what a mapping names, `label` what a person reads,
    `synonyms` the column headers guess_mapping recognises, `accepts` what a cell may hold."""

    key: str
    label: str
    required: bool
    synonyms: tuple[str, ...]
    accepts: str
    parse: Callable[[Cell], Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Problem:
    """Something wrong (an error: blocks the import) or worth knowing (a warning) about one cell
    (`row` and `column`), one row (`column` None) or the whole file (`row` None)."""

    row: int | None
    column: str | None
    reason: str
    severity: Severity = Severity.error

    def describe(self) -> str:
        """E.g. "row 7, column Due date: must be a date, such as 31/03/2026"."""
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where) or 'file'}: {self.reason}"


# --- Reading cells ----------------------------------------------------------------------------

_DASHES = frozenset("-–—")
# Control characters other than tab and line breaks: never kept in text.
_CELL_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NUMBER = re.compile(r"^[+-]?\s*[£$€]?\s*(\d[\d,]*(\.\d*)?|\.\d+)\s*%?$")


def _empty_value(cell: Cell) -> bool:
    """Empty, spaces, or only dashes (how people write "none" in a spreadsheet)."""
    if cell is None:
        return True
    if isinstance(cell, str):
        text = _CELL_CONTROL.sub("", cell).strip()
        return not text or set(text) <= _DASHES
    return False


def formula_problem(cell: Cell) -> str | None:
    """Why a cell must not be imported as it is: a spreadsheet formula (which could run when the
    data is exported and opened again) or a spreadsheet error value; None when it is fine."""
    if not isinstance(cell, str):
        return None
    text = cell.strip()
    if not text:
        return None
    if text.upper() in EXCEL_ERRORS:
        return f"holds the spreadsheet error {text.upper()}: fix it in the spreadsheet"
    first, rest = text[0], text[1:].strip()
    if first == "=" or (first in "+-@" and rest and not _NUMBER.match(rest)):
        return "looks like a spreadsheet formula; remove it"
    return None


def _words(text: str) -> str:
    """Lower case, punctuation as spaces, single spaces: "In-Progress" -> "in progress"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def _line(cell: Cell) -> str:
    """One line of text (spaces and line breaks collapsed)."""
    return " ".join(_text(cell).split())


def _text(cell: Cell) -> str:
    """Text as typed, line breaks kept; numbers and dates as a spreadsheet shows them."""
    if isinstance(cell, bool):
        return "Yes" if cell else "No"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.strftime("%d/%m/%Y %H:%M")
    if isinstance(cell, dt.date):
        return cell.strftime("%d/%m/%Y")
    return _CELL_CONTROL.sub(" ", str(cell).replace("\r\n", "\n").replace("\r", "\n")).strip()


def _code(cell: Cell) -> str:
    return _line(cell).upper()


_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (
        dt.date(2000, number, 1).strftime("%B").lower(),
        dt.date(2000, number, 1).strftime("%b").lower(),
    )
} | {"sept": 9}
# An optional time after the date (text is lower-cased first, so ISO's "T" is "t").
_TIME = r"(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DAY_FIRST = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})" + _TIME + "$")
_YEAR_FIRST = re.compile(r"^(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})" + _TIME + "$")
_NAMED = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[ \-]([a-z]{3,9})\.?,?[ \-](\d{4})$")
_DATE_HELP = "must be a date (day/month/year), such as 31/03/2026"


def parse_date(cell: Cell) -> dt.date:
    """A date from a date cell, dd/mm/yyyy, dd.mm.yyyy, dd-mm-yyyy, yyyy-mm-dd, "31 March 2026",
    or an Excel serial number (e.g. 46000). Day before month always: never US order. Raises
    ValueError with a reason a person can act on."""
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, bool) or cell is None or isinstance(cell, dt.time):
        raise ValueError(_DATE_HELP)
    if isinstance(cell, (int, float)):
        return _from_serial(float(cell))
    text = cell.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _from_serial(float(text))
    parts: tuple[int, int, int] | None = None
    if match := _DAY_FIRST.match(text):
        parts = (int(match[4]), int(match[3]), int(match[1]))
    elif match := _YEAR_FIRST.match(text):
        parts = (int(match[1]), int(match[3]), int(match[4]))
    elif (match := _NAMED.match(text)) and match[2] in _MONTHS:
        parts = (int(match[3]), _MONTHS[match[2]], int(match[1]))
    if parts is None:
        raise ValueError(_DATE_HELP)
    year, month, day = parts
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(
            f"'{cell.strip()}' is not a real date (day/month/year, such as 31/03/2026)"
        ) from None


def _from_serial(serial: float) -> dt.date:
    low, high = _SERIAL_RANGE
    if not low <= serial < high:
        raise ValueError(_DATE_HELP)
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _whole_number(cell: Cell) -> int:
    """A whole number: 3, 3.0, "3" or "+3". Ranges are the model's to check."""
    if isinstance(cell, bool) or not isinstance(cell, (int, float, str)):
        raise ValueError("must be a whole number")
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        if cell.is_integer():
            return int(cell)
        raise ValueError("must be a whole number")
    text = cell.strip()
    if re.fullmatch(r"[+-]?\d+(\.0*)?", text):
        return int(float(text))
    raise ValueError("must be a whole number")


def parse_number(cell: Cell) -> float:
    """A number: 12.5, "1,234.5", "£1,200", "12.5%" (read as 12.5) or "-3". Commas may only
    separate thousands: "12,5" is refused rather than guessed. Raises ValueError."""
    if isinstance(cell, bool) or not isinstance(cell, (int, float, str)):
        raise ValueError("must be a number")
    if isinstance(cell, (int, float)):
        return float(cell)
    text = cell.strip().replace(" ", "")
    sign = -1.0 if text.startswith("-") else 1.0
    text = text.lstrip("+-").lstrip("£$€").rstrip("%")
    if text.startswith("-"):
        sign, text = -sign, text[1:]
    if "," in text and not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        raise ValueError(
            "must be a number; use commas only between thousands (1,234.5) and a full stop "
            "for decimals"
        )
    if not re.fullmatch(r"(\d+(\.\d*)?|\.\d+)", text.replace(",", "")):
        raise ValueError("must be a number")
    return sign * float(text.replace(",", ""))


def parse_stage(cell: Cell) -> Stage:
    """A stage by number (1-6, "3", "Stage 3"), key ("test"), short title ("Test") or title, or
    the start of one ("test the ground"). Raises ValueError."""
    text = _words(_text(cell)) if cell is not None else ""
    text = text.removeprefix("stage ").strip()
    number = re.match(r"^(\d+)\b\s*(.*)$", text)
    if number:
        index, rest = int(number[1]), number[2]
        if not 1 <= index <= len(STAGES):
            raise ValueError(f"stage numbers go from 1 to {len(STAGES)}")
        stage = STAGES[index - 1]
        if rest and not _stage_matches(stage.stage, rest):
            raise ValueError(f"'{_line(cell)}' names stage {index} and another stage's title")
        return stage.stage
    for info in STAGES:
        if _stage_matches(info.stage, text, exact=True):
            return info.stage
    starts = [info.stage for info in STAGES if len(text) >= 4 and _stage_matches(info.stage, text)]
    if len(starts) == 1:
        return starts[0]
    raise ValueError(
        f"'{_line(cell)}' is not one of the six stages: use 1-6 or a name such as "
        "'Vision' or 'Test the ground'"
    )


def _stage_matches(stage: Stage, text: str, *, exact: bool = False) -> bool:
    info = STAGE_INFO[stage]
    names = {_words(stage.value), _words(info.short), _words(info.title)}
    if text in names:
        return True
    return not exact and _words(info.title).startswith(text)


def _lookup(table: Mapping[str, Any], what: str, allowed: str) -> Callable[[Cell], Any]:
    def parse(cell: Cell) -> Any:
        words = _words(_text(cell))
        if words in table:
            return table[words]
        raise ValueError(f"'{_line(cell)}' is not {what} ({allowed})")

    return parse


_MILESTONE_STATUSES: dict[str, MilestoneStatus] = {
    **{_words(s.value): s for s in MilestoneStatus},
    **dict.fromkeys(
        ("to do", "todo", "not yet started", "not begun", "planned", "pending"),
        MilestoneStatus.not_started,
    ),
    **dict.fromkeys(
        ("in progress", "inprogress", "wip", "started", "underway", "under way", "ongoing"),
        MilestoneStatus.in_progress,
    ),
    **dict.fromkeys(
        ("complete", "completed", "finished", "achieved", "delivered"), MilestoneStatus.done
    ),
    **dict.fromkeys(("stuck",), MilestoneStatus.blocked),
    **dict.fromkeys(("canceled", "dropped", "abandoned", "withdrawn"), MilestoneStatus.cancelled),
}

_PROGRAMME_STATUSES: dict[str, ProgrammeStatus] = {
    **{_words(s.value): s for s in ProgrammeStatus},
    **dict.fromkeys(("not started", "pipeline", "proposed"), ProgrammeStatus.planned),
    **dict.fromkeys(
        ("in progress", "live", "underway", "ongoing", "open", "running"), ProgrammeStatus.active
    ),
    **dict.fromkeys(("on hold", "suspended"), ProgrammeStatus.paused),
    **dict.fromkeys(("complete", "completed", "done", "finished"), ProgrammeStatus.closed),
}

_STANCES: dict[str, int] = {
    **{_words(s.name): int(s) for s in Stance},
    "active resistance": -2,
    "passive resistance": -1,
    "support": 1,
    "supportive": 1,
}


def parse_stance(cell: Cell) -> int:
    """A stance from -2 to +2, as a number ("+1", -2) or words ("champion", "Active resistor").
    Raises ValueError."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        value = _whole_number(cell)
    else:
        text = _text(cell)
        if re.fullmatch(r"\s*[+-]?\d+(\.0*)?\s*", text):
            value = _whole_number(text)
        elif _words(text) in _STANCES:
            return _STANCES[_words(text)]
        else:
            raise ValueError(
                f"'{_line(cell)}' is not a stance: use -2 to +2 or active resistor, passive "
                "resistor, neutral, supporter, champion"
            )
    if value not in {int(s) for s in Stance}:
        raise ValueError("must be from -2 (active resistor) to +2 (champion)")
    return value


_RATING_LETTERS = {"green": "g", "g": "g", "amber": "a", "a": "a", "red": "r", "r": "r"}
_RATINGS = {
    ("g",): DeliveryConfidence.green,
    ("a", "g"): DeliveryConfidence.amber_green,
    ("a",): DeliveryConfidence.amber,
    ("a", "r"): DeliveryConfidence.amber_red,
    ("r",): DeliveryConfidence.red,
}
_NO_RATING = frozenset({"not rated", "unrated", "n a", "na", "none", "no rating"})


def parse_rating(cell: Cell) -> DeliveryConfidence | Unrated | None:
    """A delivery confidence in any common spelling: "Amber/Green", "Amber-Green", "A/G", "AG",
    "AMBER GREEN", "green", "G", "Red", "R", "Amber/Red", "A/R". "Not rated" or "N/A" is None;
    any other text is kept as not rated (an Unrated, which the import reports), never guessed."""
    words = _words(_text(cell))
    if not words or words in _NO_RATING:
        return None
    tokens = words.split()
    if len(tokens) == 1 and tokens[0] in {"ag", "ar"}:
        tokens = list(tokens[0])
    letters = tuple(_RATING_LETTERS.get(token, "?") for token in tokens)
    return _RATINGS.get(letters) or Unrated(_line(cell))


# --- What each kind of import reads -----------------------------------------------------------

_DATE = "a date such as 31/03/2026"


def _spec(
    key: str,
    label: str,
    parse: Callable[[Cell], Any],
    accepts: str,
    also: str = "",
    *,
    required: bool = False,
) -> FieldSpec:
    """A field; `also` lists, comma-separated, the headers besides its label that name it."""
    synonyms = tuple(name.strip() for name in also.split(",") if name.strip())
    return FieldSpec(key, label, required, (label, *synonyms), accepts, parse)


_ONE_TO_FIVE = "a whole number from 1 to 5"
_STANCE = "-2 to +2, or active resistor, passive resistor, neutral, supporter, champion"
_MILESTONE_STATUS = "not started, in progress, done, blocked or cancelled"
_PROGRAMME_STATUS = "planned, active, paused or closed"

FIELDS: dict[ImportKind, tuple[FieldSpec, ...]] = {
    ImportKind.programmes: (
        _spec(
            "code",
            "Code",
            _code,
            "capital letters, digits and hyphens, such as NCC-CARE",
            "Programme code, Programme ref, Reference, Ref, Project code, ID, Programme ID",
            required=True,
        ),
        _spec(
            "title",
            "Title",
            _line,
            "text",
            "Programme, Programme title, Programme name, Name, Project, Project name",
            required=True,
        ),
        _spec(
            "organisation",
            "Organisation",
            _line,
            "an organisation's name or short name",
            "Organization, Owning organisation, Owner organisation, Lead organisation, Council, "
            "Body, Org, Organisation short name",
            required=True,
        ),
        _spec(
            "sponsor",
            "Sponsor",
            _line,
            "text",
            "SRO, Senior responsible owner, Senior responsible officer, Executive sponsor",
        ),
        _spec("manager", "Manager", _line, "text", "Programme manager, Project manager, PM"),
        _spec(
            "start_date",
            "Start date",
            parse_date,
            _DATE,
            "Start, Starts, Date started, Begins",
            required=True,
        ),
        _spec(
            "target_end_date",
            "Target end date",
            parse_date,
            _DATE,
            "Target end, End, End date, Target date, Finish, Finish date, Due, Due date, "
            "Deadline, Ends",
            required=True,
        ),
        _spec(
            "status",
            "Status",
            _lookup(_PROGRAMME_STATUSES, "a programme status", _PROGRAMME_STATUS),
            _PROGRAMME_STATUS,
            "Programme status, State",
        ),
        _spec(
            "closed_on",
            "Closed on",
            parse_date,
            _DATE,
            "Closed, Date closed, Closure date, Closed date",
        ),
        _spec("summary", "Summary", _text, "text", "Description, Overview, Purpose"),
        _spec(
            "confidence",
            "Delivery confidence",
            parse_rating,
            "Green, Amber/Green, Amber, Amber/Red or Red",
            "RAG, RAG status, Status RAG, RAG rating, Overall RAG, "
            "Delivery confidence assessment, DCA, DCA rating, Confidence, Rating",
        ),
    ),
    ImportKind.milestones: (
        _spec(
            "title",
            "Title",
            _line,
            "text",
            "Milestone, Milestone title, Milestone name, Name, Task, Deliverable, Activity, "
            "Description",
            required=True,
        ),
        _spec(
            "stage",
            "Stage",
            parse_stage,
            "1-6, or a stage such as Vision or Test the ground",
            "Stage name, Stage number, Phase, Step",
            required=True,
        ),
        _spec("owner", "Owner", _line, "text", "Lead, Responsible, Assigned to, Who"),
        _spec(
            "due_date",
            "Due date",
            parse_date,
            _DATE,
            "Due, Deadline, Target date, Date due, Due by, Target, Planned date, Planned end, "
            "End date, Date",
            required=True,
        ),
        _spec(
            "status",
            "Status",
            _lookup(_MILESTONE_STATUSES, "a milestone status", _MILESTONE_STATUS),
            _MILESTONE_STATUS,
            "Progress, State",
        ),
        _spec(
            "completed_date",
            "Completed date",
            parse_date,
            _DATE,
            "Completed, Completed on, Date completed, Completion date, Done date, Date done, "
            "Actual date, Actual end, Finished",
        ),
        _spec(
            "weight",
            "Weight",
            _whole_number,
            _ONE_TO_FIVE,
            "Weighting, Importance, Size, Points",
        ),
    ),
    ImportKind.stakeholders: (
        _spec(
            "name",
            "Name",
            _line,
            "text",
            "Stakeholder, Stakeholder name, Person, Full name",
            required=True,
        ),
        _spec("role", "Role", _line, "text", "Job title, Position, Post"),
        _spec(
            "staff_group",
            "Staff group",
            _line,
            "the name of a staff group of the programme's organisations",
            "Group, Department, Team, Service, Service area, Directorate",
        ),
        _spec("influence", "Influence", _whole_number, _ONE_TO_FIVE, "Power, Influence score"),
        _spec("interest", "Interest", _whole_number, _ONE_TO_FIVE, "Interest score"),
        _spec("stance", "Stance", parse_stance, _STANCE, "Current stance, Attitude, Support"),
        _spec(
            "desired_stance",
            "Desired stance",
            parse_stance,
            _STANCE,
            "Target stance, Desired, Wanted stance",
        ),
        _spec(
            "relationship_owner",
            "Relationship owner",
            _line,
            "text",
            "Owner, Contact owner, Account owner, Relationship lead, Engagement lead",
        ),
        _spec("notes", "Notes", _text, "text", "Note, Comments, Comment"),
    ),
    ImportKind.assessments: (
        _spec(
            "stakeholder",
            "Stakeholder",
            _line,
            "the name of a stakeholder of the programme",
            "Name, Stakeholder name, Person, Who",
            required=True,
        ),
        _spec(
            "assessed_on",
            "Assessed on",
            parse_date,
            _DATE,
            "Date, Assessment date, Assessed, Date assessed, As at, As of, When",
            required=True,
        ),
        _spec("stance", "Stance", parse_stance, _STANCE, "Attitude, Support", required=True),
        _spec("influence", "Influence", _whole_number, _ONE_TO_FIVE, "Power"),
        _spec("interest", "Interest", _whole_number, _ONE_TO_FIVE),
        _spec("awareness", "Awareness", _whole_number, _ONE_TO_FIVE, "ADKAR awareness"),
        _spec("desire", "Desire", _whole_number, _ONE_TO_FIVE, "ADKAR desire"),
        _spec("knowledge", "Knowledge", _whole_number, _ONE_TO_FIVE, "ADKAR knowledge"),
        _spec("ability", "Ability", _whole_number, _ONE_TO_FIVE, "ADKAR ability"),
        _spec("reinforcement", "Reinforcement", _whole_number, _ONE_TO_FIVE, "ADKAR reinforcement"),
        _spec("assessed_by", "Assessed by", _line, "text", "Assessor, By, Reviewer"),
    ),
    ImportKind.readings: (
        _spec(
            "metric",
            "Metric",
            _line,
            "the name of a metric of the programme",
            "Measure, Metric name, KPI, Indicator, Name",
            required=True,
        ),
        _spec(
            "reading_on",
            "Reading date",
            parse_date,
            _DATE,
            "Date, Reading on, As at, As of, Period end, Measured on, When",
            required=True,
        ),
        _spec(
            "value",
            "Value",
            parse_number,
            "a number such as 42, 1,234.5 or 12.5%",
            "Reading, Actual, Result, Score, Figure, Amount",
            required=True,
        ),
        _spec("note", "Note", _text, "text", "Notes, Comment, Comments"),
    ),
}


def fields_for(kind: ImportKind | str) -> tuple[FieldSpec, ...]:
    """The fields an import of `kind` can fill, in the order a form shows them."""
    return FIELDS[import_kind(kind)]


def import_kind(kind: ImportKind | str) -> ImportKind:
    try:
        return ImportKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ImportKind)
        raise DomainError("kind", f"'{kind}' is not something to import ({allowed})") from None


def header_hints(kind: ImportKind | str | None = None) -> frozenset[str]:
    """Every header (as reading.header_key) that names a field of `kind` (of any kind when
    None): pass to read_table so it can find the header row below a title."""
    kinds = [import_kind(kind)] if kind is not None else list(ImportKind)
    return frozenset(
        header_key(name) for k in kinds for spec in FIELDS[k] for name in (spec.key, *spec.synonyms)
    )


def _without_brackets(header: str) -> str:
    return re.sub(r"\([^)]*\)|\[[^]]*\]", " ", header)


def guess_mapping(
    kind: ImportKind | str,
    headers: Sequence[str],
    *,
    preferred: Mapping[str, str | None] | None = None,
) -> dict[str, str | None]:
    """For each field of `kind`, the header that feeds it, or None. Headers compare without
    case, spaces or punctuation ("Due-date" is "Due date"); a bracketed note is ignored
    ("Influence (1-5)"). `preferred` (e.g. a saved mapping) wins wherever its header is in
    `headers`. Each header feeds at most one field."""
    specs = fields_for(kind)
    mapping: dict[str, str | None] = dict.fromkeys((spec.key for spec in specs), None)
    used: set[str] = set()
    for key, header in (preferred or {}).items():
        if key in mapping and header is not None and header in headers and header not in used:
            mapping[key] = header
            used.add(header)
    for normalise in (header_key, lambda h: header_key(_without_brackets(h))):
        for spec in specs:
            if mapping[spec.key] is not None:
                continue
            names = {header_key(name) for name in (spec.key, *spec.synonyms)}
            for header in headers:
                if header not in used and normalise(header) in names:
                    mapping[spec.key] = header
                    used.add(header)
                    break
    return mapping


class Report:
    """Collects problems, naming the column a field came from."""

    def __init__(self, kind: ImportKind, mapping: Mapping[str, str | None]) -> None:
        self.problems: list[Problem] = []
        self.mapping = mapping
        self.labels = {spec.key: spec.label for spec in FIELDS[kind]}
        self.rows_with_errors: set[int] = set()

    def add(self, row: int | None, key: str | None, reason: str, severity: Severity) -> None:
        column = self.mapping.get(key) if key else None
        if key and column is None:
            label = self.labels.get(key, key_words(key))
            reason = f"{label}: {reason}"
        self.problems.append(Problem(row, column, reason, severity))
        if severity is Severity.error and row is not None:
            self.rows_with_errors.add(row)

    def error(self, row: int | None, key: str | None, reason: str) -> None:
        self.add(row, key, reason, Severity.error)

    def warn(self, row: int | None, key: str | None, reason: str) -> None:
        self.add(row, key, reason, Severity.warning)


def check_mapping(
    kind: ImportKind, table: Table, mapping: Mapping[str, str | None], report: Report
) -> dict[str, int]:
    """The column index of each mapped field; file-level errors for a mapping that cannot be
    used."""
    specs = {spec.key: spec for spec in FIELDS[kind]}
    columns: dict[str, int] = {}
    used: dict[str, str] = {}
    for key, header in mapping.items():
        if key not in specs:
            report.error(None, None, f"'{key}' is not a field of a {kind.value} import")
            continue
        if header is None or header == "":
            continue
        if header not in table.headers:
            report.error(
                None,
                None,
                f"the column '{header}' chosen for {specs[key].label} is not in the file",
            )
            continue
        if header in used:
            report.error(
                None,
                None,
                f"the column '{header}' is chosen for both {specs[used[header]].label} and "
                f"{specs[key].label}",
            )
            continue
        used[header] = key
        columns[key] = table.headers.index(header)
    for spec in specs.values():
        if spec.required and spec.key not in columns and mapping.get(spec.key) is None:
            report.error(None, None, f"no column is chosen for {spec.label}, which every row needs")
    unused = [
        header
        for index, header in enumerate(table.headers)
        if header not in used and any(not _empty_value(row.cells[index]) for row in table.rows)
    ]
    if unused:
        listed = ", ".join(f"'{header}'" for header in unused)
        report.warn(None, None, f"not imported (no field chosen): {listed}")
    return columns


def read_row(
    row: Row,
    kind: ImportKind,
    columns: Mapping[str, int],
    report: Report,
) -> tuple[dict[str, Any], set[str]] | None:
    """The row's values by field (blank cells absent) and the fields whose cells failed; None
    for a row that is not a record (reported as a warning)."""
    specs = FIELDS[kind]
    present = {key for key, index in columns.items() if not _empty_value(row.cells[index])}
    missing_required = [spec for spec in specs if spec.required and spec.key not in present]
    filled = [index for index, cell in enumerate(row.cells) if not _empty_value(cell)]
    if not present:
        report.warn(row.number, None, "no text in any imported column: skipped")
        return None
    if filled == [0] and missing_required:
        report.warn(
            row.number,
            None,
            "only its first cell has text, so it reads as a note, not a record: skipped",
        )
        return None
    values: dict[str, Any] = {}
    failed: set[str] = set()
    for spec in specs:
        if spec.key not in present:
            if spec.required:
                failed.add(spec.key)
                report.error(row.number, spec.key, "is required")
            continue
        cell = row.cells[columns[spec.key]]
        trouble = formula_problem(cell)
        if trouble is not None:
            failed.add(spec.key)
            report.error(row.number, spec.key, trouble)
            continue
        try:
            value = spec.parse(cell)
        except ValueError as error:
            failed.add(spec.key)
            report.error(row.number, spec.key, str(error))
            continue
        if isinstance(value, Unrated):
            report.warn(
                row.number,
                spec.key,
                f"'{value.text}' is not a rating ({spec.accepts}): kept as not rated",
            )
            continue
        if value is not None and value != "":
            values[spec.key] = value
        elif spec.required:
            failed.add(spec.key)
            report.error(row.number, spec.key, "is required")
    return values, failed


def clean_mapping(kind: ImportKind, mapping: Mapping[str, Any]) -> dict[str, str | None]:
    keys = {spec.key for spec in FIELDS[kind]}
    clean: dict[str, str | None] = {}
    for key, header in mapping.items():
        if key not in keys:
            raise DomainError("mapping", f"'{key}' is not a field of a {kind.value} import")
        if header is not None and not isinstance(header, str):
            raise DomainError("mapping", f"the column for '{key}' must be a header's text")
        if isinstance(header, str) and len(header) > 200:
            raise DomainError("mapping", f"the column for '{key}' is longer than 200 characters")
        clean[key] = header or None
    return clean


def mapping_to_json(kind: ImportKind | str, mapping: Mapping[str, str | None]) -> str:
    """The mapping as a JSON document ({"kind": ..., "mapping": {field: header}}), for a file
    that `tracker import --mapping` reads back."""
    kind = import_kind(kind)
    document = {"kind": kind.value, "mapping": clean_mapping(kind, mapping)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def mapping_from_json(text: str, *, kind: ImportKind | str) -> dict[str, str | None]:
    """A mapping from mapping_to_json's document, or from a plain {field: header} object.
    Raises DomainError for anything else, or a document written for another kind."""
    kind = import_kind(kind)
    try:
        document = json.loads(text)
    except ValueError:
        raise DomainError("mapping", "the mapping file is not valid JSON") from None
    if isinstance(document, dict) and isinstance(document.get("mapping"), dict):
        if document.get("kind", kind.value) != kind.value:
            raise DomainError(
                "mapping", f"this mapping is for {document.get('kind')}, not {kind.value}"
            )
        document = document["mapping"]
    if not isinstance(document, dict):
        raise DomainError("mapping", "the mapping file must hold an object of field: column")
    return clean_mapping(kind, document)
