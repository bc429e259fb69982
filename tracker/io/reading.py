"""Spreadsheet files in: an upload (CSV in any common encoding and delimiter, or XLSX) becomes a
Table of header cells and data rows, each row carrying the number a spreadsheet shows for it.

Nothing here knows about programmes or milestones (tracker.io.imports does); nothing is dropped
without a trace: blank rows, '#' comment lines and titles above the header are listed in
`Table.skipped`, and duplicated headers or text beyond the last column in `Table.notices`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import chain, islice
from typing import Any

from tracker.errors import DomainError

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
