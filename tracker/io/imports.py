"""Spreadsheet import: a Table (tracker.io.reading) becomes programmes, milestones, stakeholders,
assessments or metric readings, written through the same services as the app, so every change is
validated by the models and audited.

The steps a page or the CLI takes:

1. `read_table(data, filename, header_hints=header_hints(kind))` reads the file;
2. `guess_mapping(kind, table.headers, preferred=saved_mapping(...))` proposes which column feeds
   which field (the person may change it);
3. `preview(...)` checks every row without writing and lists every problem as (row, column,
   reason); errors block the import, warnings do not;
4. `commit_import(...)`, inside `db.write_session`, writes all rows or none.

Natural keys make a second import of the same file update instead of duplicate: programmes by
code, milestones by title, stakeholders by name (both case-insensitive, within the programme),
assessments by stakeholder and date, readings by metric and date. A blank cell leaves the current
value alone on an update, and takes the default on a create.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, SQLModel, col, select

from tracker import access, clock, permissions
from tracker.access import Viewer
from tracker.errors import DomainError, PermissionDeniedError, problems_of
from tracker.io.reading import EXCEL_ERRORS, Cell, Row, Table, header_key
from tracker.models import (
    Assessment,
    AssessmentBase,
    ConfidenceOverride,
    DeliveryConfidence,
    ImportKind,
    ImportMapping,
    ImportMappingBase,
    Metric,
    MetricReading,
    MetricReadingBase,
    MetricReadingCreate,
    MetricReadingUpdate,
    Milestone,
    MilestoneBase,
    MilestoneCreate,
    MilestoneStatus,
    MilestoneUpdate,
    Organisation,
    Programme,
    ProgrammeBase,
    ProgrammeCreate,
    ProgrammePartner,
    ProgrammeStatus,
    ProgrammeUpdate,
    StaffGroup,
    Stage,
    Stakeholder,
    StakeholderBase,
    Stance,
)
from tracker.models.people import (
    AssessmentCreate,
    AssessmentUpdate,
    StakeholderCreate,
    StakeholderUpdate,
)
from tracker.permissions import Action
from tracker.services import metrics, milestones, programmes, records, stakeholders
from tracker.stages import STAGE_INFO, STAGES
from tracker.vocabulary import key_words

__all__ = [
    "FIELDS",
    "FieldSpec",
    "ImportKind",
    "ImportPreview",
    "ImportResult",
    "Problem",
    "RowAction",
    "RowPlan",
    "Severity",
    "Unrated",
    "commit_import",
    "fields_for",
    "formula_problem",
    "guess_mapping",
    "header_hints",
    "mapping_from_json",
    "mapping_to_json",
    "parse_date",
    "parse_number",
    "parse_rating",
    "parse_stage",
    "parse_stance",
    "preview",
    "save_mapping",
    "saved_mapping",
]

# How often commit_import reports progress, in rows written.
PROGRESS_EVERY = 100
# Excel's day 0 (it counts 1900 as a leap year, so serials from 61 on count from here).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serial numbers read as dates: 1954-10-03 to 2119-01-10. Smaller numbers are more likely a
# year or a count than a date.
_SERIAL_RANGE = (20_000, 80_000)


class Severity(StrEnum):
    error = "error"
    warning = "warning"


class RowAction(StrEnum):
    create = "create"
    update = "update"
    unchanged = "unchanged"
    skip = "skip"
    invalid = "invalid"


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


@dataclass(frozen=True)
class RowPlan:
    """What the import will do with one data row. `key` names the record as a person reads it
    (a code, title or name, with a date for assessments and readings). For `create`, `data` holds
    the new record's fields; for `update`, only the fields that change, and `record_id` and
    `version` the record as it is now. `confidence` (programmes only) is a rating to record as a
    delivery confidence override."""

    row: int
    action: RowAction
    key: str = ""
    record_id: int | None = None
    version: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    confidence: DeliveryConfidence | None = None


@dataclass(frozen=True)
class ImportPreview:
    """The outcome of checking a file: one RowPlan per data row, and every problem. Nothing has
    been written. `skipped_rows` are the file's blank, comment and title rows (each also a
    warning); with `rows` they account for every row below the header."""

    kind: ImportKind
    filename: str
    mapping: Mapping[str, str | None]
    rows: tuple[RowPlan, ...]
    problems: tuple[Problem, ...]
    skipped_rows: tuple[int, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.error)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.warning)

    @property
    def can_commit(self) -> bool:
        """True when nothing blocks the import (there may still be nothing to change)."""
        return not self.errors

    def count(self, action: RowAction) -> int:
        return sum(1 for plan in self.rows if plan.action is action)

    def describe(self) -> str:
        """One line for a person, e.g. "12 rows: 10 to create, 2 to update, 1 skipped"."""
        parts = [
            f"{self.count(RowAction.create)} to create",
            f"{self.count(RowAction.update)} to update",
            f"{self.count(RowAction.unchanged)} unchanged",
            f"{self.count(RowAction.skip) + len(self.skipped_rows)} skipped",
        ]
        if self.errors:
            parts.append(f"{len(self.errors)} {_plural(len(self.errors), 'error')}")
        if self.warnings:
            parts.append(f"{len(self.warnings)} {_plural(len(self.warnings), 'warning')}")
        return f"{len(self.rows)} {_plural(len(self.rows), 'row')}: " + ", ".join(parts)


@dataclass(frozen=True)
class ImportResult:
    """What commit_import wrote."""

    kind: ImportKind
    created: int
    updated: int
    unchanged: int
    skipped: int
    confidence_overrides: int = 0
    warnings: tuple[Problem, ...] = ()

    def describe(self) -> str:
        text = (
            f"Imported {self.kind.value}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped"
        )
        if self.confidence_overrides:
            text += f", {self.confidence_overrides} delivery confidence ratings recorded"
        return text + "."


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


# --- Reading cells ----------------------------------------------------------------------------

_DASHES = frozenset("-–—")
# Control characters other than tab and line breaks: never kept in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NUMBER = re.compile(r"^[+-]?\s*[£$€]?\s*(\d[\d,]*(\.\d*)?|\.\d+)\s*%?$")


def _is_blank(cell: Cell) -> bool:
    """Empty, spaces, or only dashes (how people write "none" in a spreadsheet)."""
    if cell is None:
        return True
    if isinstance(cell, str):
        text = _CONTROL.sub("", cell).strip()
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
    return _CONTROL.sub(" ", str(cell).replace("\r\n", "\n").replace("\r", "\n")).strip()


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
    return FIELDS[_kind(kind)]


def _kind(kind: ImportKind | str) -> ImportKind:
    try:
        return ImportKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ImportKind)
        raise DomainError("kind", f"'{kind}' is not something to import ({allowed})") from None


def header_hints(kind: ImportKind | str | None = None) -> frozenset[str]:
    """Every header (as reading.header_key) that names a field of `kind` (of any kind when
    None): pass to read_table so it can find the header row below a title."""
    kinds = [_kind(kind)] if kind is not None else list(ImportKind)
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


# --- Checking a file --------------------------------------------------------------------------


class _Report:
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


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Importer:
    """One kind of import: batch lookups of what exists, a plan per row, and the writes."""

    base: ClassVar[type[SQLModel]]
    # Model field -> import field, where they differ (for naming the column of a problem).
    field_of: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        session: Session,
        viewer: Viewer,
        programme_id: int | None,
        report: _Report,
        filename: str,
    ) -> None:
        self.session = session
        self.viewer = viewer
        self.programme_id = programme_id
        self.report = report
        self.filename = filename
        self.today = clock.today()
        self.seen: dict[Any, int] = {}

    def load(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Fetch, in a few queries, every existing record the rows could refer to."""

    def plan(self, row: int, values: Mapping[str, Any], failed: set[str]) -> RowPlan:
        raise NotImplementedError

    # The services that write a row, and their typed inputs: create_with(session=, viewer=,
    # data=create_input) and update_with(session=, viewer=, <record_key>=id, data=update_input,
    # with the version the plan was made against when the record has one).
    create_with: ClassVar[Callable[..., Any]]
    create_input: ClassVar[type[SQLModel]]
    update_with: ClassVar[Callable[..., Any]]
    update_input: ClassVar[type[SQLModel]]
    record_key: ClassVar[str]

    def service_arguments(self) -> dict[str, Any]:
        """Further arguments both services take (e.g. who assessed)."""
        return {}

    def stakeholders_by_name(self) -> dict[str, list[Stakeholder]]:
        """The programme's stakeholders by their folded name (names may repeat)."""
        found: dict[str, list[Stakeholder]] = defaultdict(list)
        for stakeholder in self.session.exec(
            select(Stakeholder).where(Stakeholder.programme_id == self.programme_id)
        ):
            found[_fold(stakeholder.name)].append(stakeholder)
        return found

    def apply(self, plan: RowPlan) -> None:
        """Write the row through the services, which check it as a page's save would."""
        given = {"session": self.session, "viewer": self.viewer, **self.service_arguments()}
        if plan.action is RowAction.create:
            self.create_with(**given, data=records.validated(self.create_input, plan.data))
            return
        assert plan.record_id is not None
        version = {} if plan.version is None else {"version": plan.version}
        changes = records.validated(self.update_input, {**plan.data, **version})
        self.update_with(**given, **{self.record_key: plan.record_id}, data=changes)

    def first_time(self, row: int, key: Any, field: str, what: str) -> bool:
        """False (and an error) when an earlier row of the file has the same natural key."""
        earlier = self.seen.setdefault(key, row)
        if earlier != row:
            self.report.error(row, field, f"repeats row {earlier}: {what} once per file")
            return False
        return True

    def validated(
        self, data: Mapping[str, Any], row: int, failed: set[str]
    ) -> dict[str, Any] | None:
        """`data` as the model's rules leave it, or None after reporting every problem (except
        for fields whose cells could not be read, already reported)."""
        try:
            return self.base.model_validate(dict(data)).model_dump()
        except ValidationError as error:
            for name, reason in problems_of(error):
                key = self.field_of.get(name or "", name)
                if key not in failed:
                    self.report.error(row, key, reason)
            return None

    def create_or_update(
        self,
        row: int,
        key: str,
        record: SQLModel | None,
        values: Mapping[str, Any],
        failed: set[str],
        *,
        fixed: Mapping[str, Any],
        keep: Iterable[str] = (),
        adjust: Callable[[dict[str, Any], SQLModel | None], dict[str, Any]] | None = None,
    ) -> RowPlan:
        """The plan for a row whose natural key found `record` (or None): create with `fixed`
        and the row's values, or update the fields the row changes (never those in `keep`)."""
        fields = set(self.base.model_fields)
        given = {name: value for name, value in values.items() if name in fields}
        if record is None:
            data = {**given, **fixed}
            if adjust is not None:
                data = adjust(data, None)
            clean = self.validated(data, row, failed)
            if clean is None or failed:
                return RowPlan(row, RowAction.invalid, key)
            return RowPlan(row, RowAction.create, key, data=clean)
        changes = {name: value for name, value in given.items() if name not in set(keep)}
        if adjust is not None:
            changes = adjust(changes, record)
        current = {name: getattr(record, name) for name in fields}
        clean = self.validated(current | changes, row, failed)
        record_id = getattr(record, "id", None)
        version = getattr(record, "version", None)
        if clean is None or failed:
            return RowPlan(row, RowAction.invalid, key, record_id, version)
        changed = {name: clean[name] for name in changes if clean[name] != current[name]}
        action = RowAction.update if changed else RowAction.unchanged
        return RowPlan(row, action, key, record_id, version, data=changed)


class _Programmes(_Importer):
    base = ProgrammeBase
    field_of = {"organisation_id": "organisation"}

    def load(self, rows: Sequence[Mapping[str, Any]]) -> None:
        codes = sorted({str(values["code"]) for values in rows if values.get("code")})
        self.by_code: dict[str, Programme] = {}
        for chunk in _chunks(codes):
            for programme in self.session.exec(
                select(Programme).where(col(Programme.code).in_(chunk))
            ):
                self.by_code[programme.code] = programme
        self.organisations: dict[str, list[Organisation]] = defaultdict(list)
        for organisation in self.session.exec(select(Organisation)):
            for name in {_fold(organisation.name), _fold(organisation.short_name)}:
                self.organisations[name].append(organisation)
        visible = self.session.exec(access.visible_programme_ids(self.viewer)).all()
        self.visible: set[int] = {programme_id for programme_id in visible if programme_id}
        ids = [p.id for p in self.by_code.values()]
        self.latest_rating: dict[int, DeliveryConfidence] = {}
        for chunk in _chunks(ids):
            for override in self.session.exec(
                select(ConfidenceOverride)
                .where(col(ConfidenceOverride.programme_id).in_(chunk))
                .order_by(col(ConfidenceOverride.set_at), col(ConfidenceOverride.id))
            ):
                self.latest_rating[override.programme_id] = DeliveryConfidence(override.rating)

    def plan(self, row: int, values: Mapping[str, Any], failed: set[str]) -> RowPlan:
        code = str(values.get("code") or "")
        if not code or not self.first_time(row, code, "code", "each programme code"):
            return RowPlan(row, RowAction.invalid, code)
        fixed: dict[str, Any] = {}
        organisation = self._organisation(row, values.get("organisation"), failed)
        if organisation is not None:
            fixed["organisation_id"] = organisation.id
        existing = self.by_code.get(code)
        if existing is not None:
            if existing.id not in self.visible:
                self.report.error(
                    row, "code", f"{code} is the code of a programme you cannot change"
                )
                return RowPlan(row, RowAction.invalid, code)
            if organisation is not None and organisation.id != existing.organisation_id:
                self.report.error(
                    row,
                    "organisation",
                    f"{code} belongs to another organisation; an import cannot move it",
                )
                return RowPlan(row, RowAction.invalid, code)
        plan = self.create_or_update(
            row, code, existing, values, failed, fixed=fixed, keep=("code", "organisation_id")
        )
        rating = values.get("confidence")
        if not isinstance(rating, DeliveryConfidence) or plan.action is RowAction.invalid:
            return plan
        if existing is not None and self.latest_rating.get(existing.id or 0) == rating:
            return plan
        action = RowAction.update if plan.action is RowAction.unchanged else plan.action
        return RowPlan(
            row, action, code, plan.record_id, plan.version, plan.data, confidence=rating
        )

    def _organisation(self, row: int, name: Any, failed: set[str]) -> Organisation | None:
        if not name:
            return None
        found = self.organisations.get(_fold(str(name)), [])
        if len(found) != 1:
            failed.add("organisation")
            self.report.error(
                row, "organisation", f"no organisation is called '{name}' (its name or short name)"
            )
            return None
        organisation = found[0]
        if organisation.id not in self.viewer.organisation_ids:
            failed.add("organisation")
            self.report.error(
                row,
                "organisation",
                f"you can import programmes only for your own organisations, and "
                f"{organisation.name} is not one of them",
            )
            return None
        return organisation

    def apply(self, plan: RowPlan) -> None:
        if plan.action is RowAction.create:
            programme = programmes.create_programme(
                session=self.session,
                viewer=self.viewer,
                data=records.validated(ProgrammeCreate, plan.data),
            )
            programme_id = programme.id
        else:
            assert plan.record_id is not None and plan.version is not None
            programme_id = plan.record_id
            if plan.data:
                programmes.update_programme(
                    session=self.session,
                    viewer=self.viewer,
                    programme_id=plan.record_id,
                    data=records.validated(ProgrammeUpdate, {**plan.data, "version": plan.version}),
                )
        if plan.confidence is not None:
            assert programme_id is not None
            name = self.filename if len(self.filename) <= 200 else self.filename[:199] + "…"
            programmes.override_confidence(
                session=self.session,
                viewer=self.viewer,
                programme_id=programme_id,
                rating=plan.confidence,
                reason=f"Rating imported from {name} on {self.today.day} {self.today:%B %Y}",
            )


class _Milestones(_Importer):
    base = MilestoneBase
    create_with = staticmethod(milestones.create_milestone)
    create_input = MilestoneCreate
    update_with = staticmethod(milestones.update_milestone)
    update_input = MilestoneUpdate
    record_key = "milestone_id"

    def load(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.by_title: dict[str, list[Milestone]] = defaultdict(list)
        for milestone in self.session.exec(
            select(Milestone).where(Milestone.programme_id == self.programme_id)
        ):
            self.by_title[_fold(milestone.title)].append(milestone)

    def plan(self, row: int, values: Mapping[str, Any], failed: set[str]) -> RowPlan:
        title = str(values.get("title") or "")
        key = _fold(title)
        if not key or not self.first_time(row, key, "title", "each milestone title"):
            return RowPlan(row, RowAction.invalid, title)
        found = self.by_title.get(key, [])
        if len(found) > 1:
            self.report.error(
                row,
                "title",
                f"{len(found)} milestones of this programme are called '{title}': rename all "
                "but one in the app first",
            )
            return RowPlan(row, RowAction.invalid, title)
        existing = found[0] if found else None

        def completion(data: dict[str, Any], record: SQLModel | None) -> dict[str, Any]:
            now = None
            if isinstance(record, Milestone):
                now = {"status": record.status, "completed_date": record.completed_date}
            status = data.get("status", now["status"] if now else MilestoneStatus.not_started)
            if "completed_date" in data and status != MilestoneStatus.done:
                # The service would drop the date without a word: say so instead.
                failed.add("completed_date")
                self.report.error(
                    row, "completed_date", "only a done milestone has a completed date"
                )
                return data
            # The service's own rule (done means a completed date), so the check matches the write.
            adjusted = milestones.with_completion(data, now)
            if adjusted.get("completed_date") and "completed_date" not in data:
                self.report.warn(
                    row, "completed_date", "done with no completed date: today's date is used"
                )
            return adjusted

        return self.create_or_update(
            row,
            existing.title if existing else title,
            existing,
            values,
            failed,
            fixed={"programme_id": self.programme_id},
            keep=("title", "programme_id"),
            adjust=completion,
        )


class _Stakeholders(_Importer):
    base = StakeholderBase
    create_with = staticmethod(stakeholders.create_stakeholder)
    create_input = StakeholderCreate
    update_with = staticmethod(stakeholders.update_stakeholder)
    update_input = StakeholderUpdate
    record_key = "stakeholder_id"
    field_of = {"staff_group_id": "staff_group"}

    def load(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.by_name = self.stakeholders_by_name()
        programme = records.get(self.session, Programme, self.programme_id)
        partners = select(ProgrammePartner.organisation_id).where(
            ProgrammePartner.programme_id == self.programme_id
        )
        self.groups: dict[str, list[StaffGroup]] = defaultdict(list)
        for group in self.session.exec(
            select(StaffGroup).where(
                sa.or_(
                    col(StaffGroup.organisation_id) == programme.organisation_id,
                    col(StaffGroup.organisation_id).in_(partners),
                )
            )
        ):
            self.groups[_fold(group.name)].append(group)
        self.owner_id = programme.organisation_id

    def plan(self, row: int, values: Mapping[str, Any], failed: set[str]) -> RowPlan:
        name = str(values.get("name") or "")
        key = _fold(name)
        if not key or not self.first_time(row, key, "name", "each stakeholder"):
            return RowPlan(row, RowAction.invalid, name)
        found = self.by_name.get(key, [])
        if len(found) > 1:
            self.report.error(
                row, "name", f"{len(found)} stakeholders are called '{name}': rename one first"
            )
            return RowPlan(row, RowAction.invalid, name)
        given = dict(values)
        group_name = given.pop("staff_group", None)
        if group_name:
            group = self._group(row, str(group_name))
            if group is not None:
                given["staff_group_id"] = group.id
        existing = found[0] if found else None
        return self.create_or_update(
            row,
            existing.name if existing else name,
            existing,
            given,
            failed,
            fixed={"programme_id": self.programme_id},
            keep=("name", "programme_id"),
        )

    def _group(self, row: int, name: str) -> StaffGroup | None:
        found = self.groups.get(_fold(name), [])
        owned = [group for group in found if group.organisation_id == self.owner_id]
        if len(owned) == 1 or len(found) == 1:
            return (owned or found)[0]
        why = (
            f"several of this programme's organisations have a staff group called '{name}'"
            if found
            else f"no staff group of this programme's organisations is called '{name}'"
        )
        self.report.warn(row, "staff_group", f"{why}: the group is left as it is")
        return None

    def service_arguments(self) -> dict[str, Any]:
        return {"assessed_by": self.viewer.name}


class _Assessments(_Importer):
    base = AssessmentBase
    create_with = staticmethod(stakeholders.record_assessment)
    create_input = AssessmentCreate
    update_with = staticmethod(stakeholders.correct_assessment)
    update_input = AssessmentUpdate
    record_key = "assessment_id"
    field_of = {"stakeholder_id": "stakeholder"}

    def load(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.people = self.stakeholders_by_name()
        self.by_day: dict[tuple[int, dt.date], list[Assessment]] = defaultdict(list)
        of_programme = select(Stakeholder.id).where(Stakeholder.programme_id == self.programme_id)
        for assessment in self.session.exec(
            select(Assessment).where(col(Assessment.stakeholder_id).in_(of_programme))
        ):
            self.by_day[(assessment.stakeholder_id, assessment.assessed_on)].append(assessment)

    def plan(self, row: int, values: Mapping[str, Any], failed: set[str]) -> RowPlan:
        name = str(values.get("stakeholder") or "")
        day = values.get("assessed_on")
        label = f"{name}, {day:%d/%m/%Y}" if isinstance(day, dt.date) else name
        people = self.people.get(_fold(name), [])
        if name and len(people) != 1:
            reason = (
                f"no stakeholder of this programme is called '{name}' (import stakeholders first)"
                if not people
                else f"{len(people)} stakeholders are called '{name}'"
            )
            self.report.error(row, "stakeholder", reason)
            return RowPlan(row, RowAction.invalid, label)
        if not people or not isinstance(day, dt.date):
            return RowPlan(row, RowAction.invalid, label)
        person = people[0]
        assert person.id is not None
        try:
            stakeholders.check_assessed_on(day)
        except DomainError as error:
            self.report.error(row, "assessed_on", error.reason)
            return RowPlan(row, RowAction.invalid, label)
        key = (person.id, day)
        if not self.first_time(row, key, "assessed_on", "each stakeholder and date"):
            return RowPlan(row, RowAction.invalid, label)
        found = self.by_day.get(key, [])
        if len(found) > 1:
            self.report.error(
                row,
                "assessed_on",
                f"{person.name} has {len(found)} assessments on this date: keep one in the app "
                "first",
            )
            return RowPlan(row, RowAction.invalid, label)
        return self.create_or_update(
            row,
            label,
            found[0] if found else None,
            values,
            failed,
            fixed={"stakeholder_id": person.id},
            keep=("stakeholder_id", "assessed_on"),
        )


class _Readings(_Importer):
    base = MetricReadingBase
    create_with = staticmethod(metrics.record_reading)
    create_input = MetricReadingCreate
    update_with = staticmethod(metrics.update_reading)
    update_input = MetricReadingUpdate
    record_key = "reading_id"
    field_of = {"metric_id": "metric"}

    def load(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.metrics: dict[str, list[Metric]] = defaultdict(list)
        for metric in self.session.exec(
            select(Metric).where(Metric.programme_id == self.programme_id)
        ):
            self.metrics[_fold(metric.name)].append(metric)
        of_programme = select(Metric.id).where(Metric.programme_id == self.programme_id)
        self.by_day: dict[tuple[int, dt.date], MetricReading] = {}
        for reading in self.session.exec(
            select(MetricReading).where(col(MetricReading.metric_id).in_(of_programme))
        ):
            self.by_day[(reading.metric_id, reading.reading_on)] = reading

    def plan(self, row: int, values: Mapping[str, Any], failed: set[str]) -> RowPlan:
        name = str(values.get("metric") or "")
        day = values.get("reading_on")
        label = f"{name}, {day:%d/%m/%Y}" if isinstance(day, dt.date) else name
        found = self.metrics.get(_fold(name), [])
        if name and len(found) != 1:
            self.report.error(
                row,
                "metric",
                f"no metric of this programme is called '{name}'"
                if not found
                else f"{len(found)} metrics are called '{name}'",
            )
            return RowPlan(row, RowAction.invalid, label)
        if not found or not isinstance(day, dt.date):
            return RowPlan(row, RowAction.invalid, label)
        metric = found[0]
        assert metric.id is not None
        key = (metric.id, day)
        if not self.first_time(row, key, "reading_on", "each metric and date"):
            return RowPlan(row, RowAction.invalid, label)
        return self.create_or_update(
            row,
            label,
            self.by_day.get(key),
            values,
            failed,
            fixed={"metric_id": metric.id},
            keep=("metric_id", "reading_on"),
        )


_IMPORTERS: dict[ImportKind, type[_Importer]] = {
    ImportKind.programmes: _Programmes,
    ImportKind.milestones: _Milestones,
    ImportKind.stakeholders: _Stakeholders,
    ImportKind.assessments: _Assessments,
    ImportKind.readings: _Readings,
}


def _check_permission(
    session: Session, viewer: Viewer, kind: ImportKind, programme_id: int | None
) -> None:
    if not viewer.can_manage:
        raise PermissionDeniedError(None, "Only managers and administrators can import data.")
    if kind is ImportKind.programmes:
        return
    if programme_id is None:
        raise DomainError("programme", "choose the programme to import into")
    # Stakeholders and their assessments are the programme's people (a partner needs a
    # data-sharing agreement); milestones and readings are its plan.
    people = kind in (ImportKind.stakeholders, ImportKind.assessments)
    action = Action.stakeholder_edit if people else Action.programme_edit
    permissions.require_programme(session, viewer, action, programme_id)


def _check_mapping(
    kind: ImportKind, table: Table, mapping: Mapping[str, str | None], report: _Report
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
        if header not in used and any(not _is_blank(row.cells[index]) for row in table.rows)
    ]
    if unused:
        listed = ", ".join(f"'{header}'" for header in unused)
        report.warn(None, None, f"not imported (no field chosen): {listed}")
    return columns


def _read_row(
    row: Row,
    kind: ImportKind,
    columns: Mapping[str, int],
    report: _Report,
) -> tuple[dict[str, Any], set[str]] | None:
    """The row's values by field (blank cells absent) and the fields whose cells failed; None
    for a row that is not a record (reported as a warning)."""
    specs = FIELDS[kind]
    present = {key for key, index in columns.items() if not _is_blank(row.cells[index])}
    missing_required = [spec for spec in specs if spec.required and spec.key not in present]
    filled = [index for index, cell in enumerate(row.cells) if not _is_blank(cell)]
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


def _run(
    *,
    session: Session,
    viewer: Viewer,
    kind: ImportKind | str,
    table: Table,
    mapping: Mapping[str, str | None],
    programme_id: int | None,
) -> tuple[ImportPreview, _Importer]:
    kind = _kind(kind)
    _check_permission(session, viewer, kind, programme_id)
    mapping = dict(mapping)
    report = _Report(kind, mapping)
    for notice in table.notices:
        report.problems.append(Problem(notice.row, notice.column, notice.message, Severity.warning))
    skipped_rows: list[int] = []
    for skipped in table.skipped:
        report.warn(skipped.first, None, skipped.describe())
        skipped_rows.extend(skipped.numbers)
    if not table.rows:
        report.error(None, None, "there are no rows of data below the header")
    columns = _check_mapping(kind, table, mapping, report)
    importer = _IMPORTERS[kind](session, viewer, programme_id, report, table.filename)
    if any(p.row is None and p.severity is Severity.error for p in report.problems):
        plans = tuple(RowPlan(row.number, RowAction.invalid) for row in table.rows)
        return _preview(kind, table, mapping, plans, report, skipped_rows), importer
    read = [(row, _read_row(row, kind, columns, report)) for row in table.rows]
    importer.load([outcome[0] for _row, outcome in read if outcome is not None])
    plan_list: list[RowPlan] = []
    for row, outcome in read:
        if outcome is None:
            plan_list.append(RowPlan(row.number, RowAction.skip))
            continue
        values, failed = outcome
        plan = importer.plan(row.number, values, failed)
        if row.number in report.rows_with_errors and plan.action is not RowAction.invalid:
            plan = RowPlan(row.number, RowAction.invalid, plan.key, plan.record_id, plan.version)
        elif plan.action is RowAction.invalid and row.number not in report.rows_with_errors:
            # A promise to the person importing: no row is left out without a reason.
            report.error(row.number, None, "this row could not be read as a record")
        plan_list.append(plan)
    return _preview(kind, table, mapping, tuple(plan_list), report, skipped_rows), importer


def _preview(
    kind: ImportKind,
    table: Table,
    mapping: Mapping[str, str | None],
    plans: tuple[RowPlan, ...],
    report: _Report,
    skipped_rows: list[int],
) -> ImportPreview:
    return ImportPreview(
        kind=kind,
        filename=table.filename,
        mapping=mapping,
        rows=plans,
        # The file's own problems first, then row by row (sorted() keeps each row's order).
        problems=tuple(sorted(report.problems, key=lambda p: (p.row is not None, p.row or 0))),
        skipped_rows=tuple(skipped_rows),
    )


def preview(
    *,
    session: Session,
    viewer: Viewer,
    kind: ImportKind | str,
    table: Table,
    mapping: Mapping[str, str | None],
    programme_id: int | None = None,
) -> ImportPreview:
    """Check every row of `table` as `mapping` reads it, without writing anything.

    Every data row gets a RowPlan (create, update, unchanged, skip or invalid), and every
    problem is listed: errors (a cell that cannot be read, a rule of the model broken, a name
    that matches nothing, a row repeating another's natural key, a cell that looks like a
    spreadsheet formula, a required column not chosen) and warnings (rows skipped, ratings kept
    as not rated, duplicated headers, columns not imported). `programme_id` is the programme
    to import into (needed for every kind but programmes, where it is not used).

    Raises PermissionDeniedError unless the viewer manages that programme (for programmes: is a
    manager or administrator), and DomainError for an unknown kind or a missing programme.
    """
    result, _importer = _run(
        session=session,
        viewer=viewer,
        kind=kind,
        table=table,
        mapping=mapping,
        programme_id=programme_id,
    )
    return result


def commit_import(
    *,
    session: Session,
    viewer: Viewer,
    kind: ImportKind | str,
    table: Table,
    mapping: Mapping[str, str | None],
    programme_id: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import every row of `table`, or none: call inside `db.write_session(engine,
    actor=viewer.email)`, which rolls back on any error.

    Re-runs preview() in this session and raises DomainError, writing nothing, when it finds
    any error. Otherwise creates and updates through the services (audited; updates name the
    record's current version). `progress(done, total)` is called as rows are written (total
    counts the rows to create or update) and once at the end with done == total.
    """
    checked, importer = _run(
        session=session,
        viewer=viewer,
        kind=kind,
        table=table,
        mapping=mapping,
        programme_id=programme_id,
    )
    if checked.errors:
        count = len(checked.errors)
        raise DomainError(
            None,
            f"The file has {count} {_plural(count, 'problem')} to fix first, so nothing was "
            f"imported. The first: {checked.errors[0].describe()}.",
        )
    work = [plan for plan in checked.rows if plan.action in (RowAction.create, RowAction.update)]
    total = len(work)
    if progress is not None:
        progress(0, total)
    for done, plan in enumerate(work, start=1):
        importer.apply(plan)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    return ImportResult(
        kind=checked.kind,
        created=checked.count(RowAction.create),
        updated=checked.count(RowAction.update),
        unchanged=checked.count(RowAction.unchanged),
        skipped=checked.count(RowAction.skip) + len(checked.skipped_rows),
        confidence_overrides=sum(1 for plan in work if plan.confidence is not None),
        warnings=checked.warnings,
    )


# --- Saved mappings ---------------------------------------------------------------------------


def _clean_mapping(kind: ImportKind, mapping: Mapping[str, Any]) -> dict[str, str | None]:
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
    kind = _kind(kind)
    document = {"kind": kind.value, "mapping": _clean_mapping(kind, mapping)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def mapping_from_json(text: str, *, kind: ImportKind | str) -> dict[str, str | None]:
    """A mapping from mapping_to_json's document, or from a plain {field: header} object.
    Raises DomainError for anything else, or a document written for another kind."""
    kind = _kind(kind)
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
    return _clean_mapping(kind, document)


def mapping_organisation(
    *, session: Session, viewer: Viewer, programme_id: int | None
) -> int | None:
    """The organisation whose saved column choices read a file into this programme (and that
    new choices are saved for): the programme's owner when the viewer acts for it, otherwise
    the viewer's first organisation by name; None for a viewer of no organisation. Raises
    NotFoundError when the viewer cannot see the programme."""
    if programme_id is not None:
        owner = access.require_programme(session, viewer, programme_id).organisation_id
        if owner in viewer.organisation_ids:
            return owner
    first = session.exec(
        select(Organisation.id)
        .where(col(Organisation.id).in_(sorted(viewer.organisation_ids)))
        .order_by(col(Organisation.name))
    ).first()
    return first


def saved_mapping(
    *, session: Session, organisation_id: int, kind: ImportKind | str
) -> dict[str, str | None] | None:
    """The organisation's saved mapping for `kind`, or None when it has none."""
    saved = session.exec(
        select(ImportMapping).where(
            ImportMapping.organisation_id == organisation_id, ImportMapping.kind == _kind(kind)
        )
    ).first()
    if saved is None:
        return None
    # Lenient: a field this version no longer has is dropped, not an error on every upload.
    stored = json.loads(saved.mapping)
    keys = {spec.key for spec in fields_for(kind)}
    return {key: header for key, header in stored.items() if key in keys}


def save_mapping(
    *,
    session: Session,
    viewer: Viewer,
    organisation_id: int,
    kind: ImportKind | str,
    mapping: Mapping[str, str | None],
) -> ImportMapping:
    """Remember `mapping` as the organisation's mapping for `kind`, replacing any saved one.
    Only a manager or administrator of that organisation may (PermissionDeniedError)."""
    kind = _kind(kind)
    if not viewer.can_manage or not permissions.allowed(
        viewer, Action.programme_create, permissions.organisations([organisation_id])
    ):
        raise PermissionDeniedError(
            None, "Only managers and administrators of the organisation can save its mappings."
        )
    text = json.dumps(_clean_mapping(kind, mapping), sort_keys=True, ensure_ascii=False)
    existing = session.exec(
        select(ImportMapping).where(
            ImportMapping.organisation_id == organisation_id, ImportMapping.kind == kind
        )
    ).first()
    changes = {"mapping": text, "updated_by": viewer.email}
    if existing is None:
        records.get(session, Organisation, organisation_id)
        return records.create(
            session,
            ImportMapping,
            ImportMappingBase,
            {"organisation_id": organisation_id, "kind": kind, **changes},
        )
    return records.update(
        session,
        ImportMapping,
        ImportMappingBase,
        existing.id,
        expected_version=existing.version,
        changes=changes,
    )
