"""CSV and XLSX exports: every record of one or more programmes, one file (or sheet) per record
type, with human column headers that the spreadsheet import reads back.

- Cells: dates are ISO dates (`2026-03-31`; real date cells in XLSX), yes/no for true/false,
  numbers stay numbers. A list in one cell is joined by `LIST_SEPARATOR`; a staff group reads
  "NCC: Customer services" (organisation short name, colon, group name) and a milestone's impact
  on it "NCC: Customer services (high)".
- Every text cell that a spreadsheet could run as a formula (starting with =, +, -, @, a tab or a
  carriage return) gets a leading single quote, in CSV and XLSX alike: the files are written by
  the one CSV/XLSX writer, `tracker.io.tables`.
- Personal data: stakeholders, their notes, their stance history (assessments), engagements
  with them and who influences whom are exported only with `personal_data=True`, which needs a
  manager or administrator of every programme exported (permissions: programme.edit). Without
  it those record types, and the names milestones depend on, are left out. Staff never export.

Each table is read (tracker.read.exports) with one query for all the programmes at once; this
module decides who may export what and lays the rows out as files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from tracker import permissions, read
from tracker.access import Viewer
from tracker.errors import PermissionDeniedError
from tracker.io.tables import Cell, Sheet, csv_bytes, xlsx_bytes
from tracker.models import (
    Role,
    Stage,
)
from tracker.read.exports import Rows
from tracker.stages import stage_title
from tracker.vocabulary import ADKAR

# Joins several values in one cell, e.g. a milestone's staff groups or an engagement's attendees.
LIST_SEPARATOR = "; "
_STAGE_ORDER = {stage: index for index, stage in enumerate(Stage)}


@dataclass(frozen=True)
class RecordType:
    """One kind of record: its file name stem, sheet title and column headers."""

    key: str
    title: str
    headers: tuple[str, ...]
    personal: bool = False

    @property
    def file_name(self) -> str:
        return f"{self.key}.csv"


PROGRAMMES = RecordType(
    "programmes",
    "Programmes",
    (
        "Programme code",
        "Title",
        "Organisation",
        "Partners",
        "Status",
        "Start date",
        "Target end date",
        "Closed on",
        "Sponsor",
        "Manager",
        "Lawful basis",
        "Budget",
        "Expected benefits",
        "Summary",
        "Vision statement",
    ),
)
STAGES = RecordType(
    "stages",
    "Stages",
    (
        "Programme code",
        "Stage key",
        "Stage",
        "Planned start",
        "Planned end",
        "Actual start",
        "Actual end",
        "Narrative",
    ),
)
EXIT_CRITERIA = RecordType(
    "exit-criteria",
    "Exit criteria",
    ("Programme code", "Stage key", "Position", "Exit criterion", "Met"),
)
MILESTONES = RecordType(
    "milestones",
    "Milestones",
    (
        "Programme code",
        "Stage key",
        "Milestone title",
        "Owner",
        "Due date",
        "Completed date",
        "Status",
        "Weight",
        "Staff groups affected",
        "Depends on stakeholders",
    ),
)
STAKEHOLDERS = RecordType(
    "stakeholders",
    "Stakeholders",
    (
        "Programme code",
        "Stakeholder name",
        "Role",
        "Staff group",
        "Influence",
        "Interest",
        "Stance",
        "Desired stance",
        "Relationship owner",
        "Notes",
    ),
    personal=True,
)
ASSESSMENTS = RecordType(
    "assessments",
    "Assessments",
    (
        "Programme code",
        "Stakeholder name",
        "Assessed on",
        "Stance",
        "Influence",
        "Interest",
        "Awareness",
        "Desire",
        "Knowledge",
        "Ability",
        "Reinforcement",
        "Assessed by",
    ),
    personal=True,
)
ENGAGEMENTS = RecordType(
    "engagements",
    "Engagements",
    (
        "Programme code",
        "Occurred on",
        "Kind",
        "Summary",
        "Outcome",
        "Follow-up on",
        "Follow-up done",
        "Stakeholders",
    ),
    personal=True,
)
BARRIERS = RecordType(
    "barriers",
    "Barriers",
    (
        "Programme code",
        "Barrier title",
        "Kind",
        "Category",
        "Likelihood",
        "Impact",
        "Owner",
        "Mitigation",
        "Status",
    ),
)
METRICS = RecordType(
    "metrics",
    "Metrics",
    (
        "Programme code",
        "Metric name",
        "Unit",
        "Baseline",
        "Target",
        "Target date",
        "Direction",
        "Stage key",
    ),
)
METRIC_READINGS = RecordType(
    "metric-readings",
    "Metric readings",
    ("Programme code", "Metric name", "Reading date", "Value", "Note"),
)
NARRATIVES = RecordType(
    "narratives",
    "Narratives",
    (
        "Programme code",
        "Narrative title",
        "Stage key",
        "Audience",
        "Status",
        "Author",
        "Published on",
        "Body",
    ),
)
INFLUENCE_LINKS = RecordType(
    "influence-links",
    "Influence links",
    ("Programme code", "Influencer", "Influences", "Strength"),
    personal=True,
)

# Every record type, in the order of the files and sheets.
RECORD_TYPES: tuple[RecordType, ...] = (
    PROGRAMMES,
    STAGES,
    EXIT_CRITERIA,
    MILESTONES,
    STAKEHOLDERS,
    ASSESSMENTS,
    ENGAGEMENTS,
    BARRIERS,
    METRICS,
    METRIC_READINGS,
    NARRATIVES,
    INFLUENCE_LINKS,
)


@dataclass(frozen=True)
class Table:
    """The rows of one record type, in the order of its headers."""

    record_type: RecordType
    rows: list[tuple[Cell, ...]]

    @property
    def sheet(self) -> Sheet:
        """The table as the CSV/XLSX writer takes it."""
        return Sheet(self.record_type.title, self.record_type.headers, self.rows)


def staff_group_label(organisation_short_name: str, group_name: str) -> str:
    """How a cell names a staff group: "NCC: Customer services"."""
    return f"{organisation_short_name}: {group_name}"


def export_tables(
    *,
    session: Session,
    viewer: Viewer,
    programme_ids: Iterable[int] | None = None,
    personal_data: bool,
) -> list[Table]:
    """The records of the programmes (default: every programme the viewer may see), one Table
    per record type in RECORD_TYPES order, rows sorted by programme code then naturally.

    `personal_data` includes stakeholders (with notes), assessments, engagements, influence
    links and milestones' dependencies; it needs a manager or administrator of every programme.
    Raises PermissionDeniedError for staff, for a programme the viewer may not see, and for
    personal data without the right to manage a programme.
    """
    ids = _allowed(session, viewer, programme_ids, personal_data=personal_data)
    layout = _Layout(session, ids)
    tables = [
        Table(PROGRAMMES, layout.programmes()),
        Table(STAGES, layout.stages()),
        Table(EXIT_CRITERIA, layout.exit_criteria()),
        _milestones_table(layout.milestones(), personal_data=personal_data),
    ]
    if personal_data:
        tables += [
            Table(STAKEHOLDERS, layout.stakeholders()),
            Table(ASSESSMENTS, layout.assessments()),
            Table(ENGAGEMENTS, layout.engagements()),
        ]
    tables += [
        Table(BARRIERS, layout.barriers()),
        Table(METRICS, layout.metrics()),
        Table(METRIC_READINGS, layout.metric_readings()),
        Table(NARRATIVES, layout.narratives()),
    ]
    if personal_data:
        tables.append(Table(INFLUENCE_LINKS, layout.influence_links()))
    return tables


def _milestones_table(rows: list[tuple[Cell, ...]], *, personal_data: bool) -> Table:
    if personal_data:
        return Table(MILESTONES, rows)
    # Without personal data, the column naming the stakeholders each milestone needs goes.
    without = RecordType(MILESTONES.key, MILESTONES.title, MILESTONES.headers[:-1])
    return Table(without, [row[:-1] for row in rows])


def export_csv_files(
    *,
    session: Session,
    viewer: Viewer,
    programme_ids: Iterable[int] | None = None,
    personal_data: bool,
) -> dict[str, bytes]:
    """One CSV file per record type (file name -> UTF-8 bytes with a byte-order mark), as
    export_tables describes; every record type exported has a file, even when it has no rows."""
    tables = export_tables(
        session=session, viewer=viewer, programme_ids=programme_ids, personal_data=personal_data
    )
    return {
        table.record_type.file_name: csv_bytes(table.record_type.headers, table.rows)
        for table in tables
    }


def export_xlsx(
    *,
    session: Session,
    viewer: Viewer,
    programme_ids: Iterable[int] | None = None,
    personal_data: bool,
) -> bytes:
    """An XLSX workbook with one sheet per record type (titled e.g. "Exit criteria"), a bold,
    frozen header row, as export_tables describes."""
    tables = export_tables(
        session=session, viewer=viewer, programme_ids=programme_ids, personal_data=personal_data
    )
    return xlsx_bytes(table.sheet for table in tables)


def _joined(values: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(values)


# --- Who may export what ----------------------------------------------------------------------


def _allowed(
    session: Session, viewer: Viewer, programme_ids: Iterable[int] | None, *, personal_data: bool
) -> list[int]:
    if viewer.role is Role.staff:
        raise PermissionDeniedError(
            None, "Exports are for managers, administrators and leadership, not staff accounts."
        )
    if programme_ids is None:
        ids = read.exports.visible_programme_ids(session, viewer)
    else:
        ids = sorted(set(programme_ids))
    for programme_id in ids:
        if personal_data:
            if not viewer.can_manage:
                raise PermissionDeniedError(
                    "personal_data",
                    "Stakeholder notes and stance history are personal data: only managers and "
                    "administrators of the programme can export them. Export without them.",
                )
            # The programme's people: its owner's, or a partner's with a data-sharing agreement.
            permissions.require_programme(
                session, viewer, permissions.Action.stakeholder_read, programme_id
            )
        else:
            permissions.require_programme(
                session, viewer, permissions.Action.programme_read, programme_id
            )
    return ids


# --- Laying the tables out --------------------------------------------------------------------


class _Layout:
    """Lays out each table (read once for all the programmes by tracker.read.exports) as rows in
    their record type's order."""

    def __init__(self, session: Session, programme_ids: Sequence[int]) -> None:
        self.session = session
        self.ids = list(programme_ids)
        self.codes = read.exports.programme_codes(session, self.ids)

    def _read(self, reader: Callable[[Session, Sequence[int]], Rows]) -> Rows:
        return reader(self.session, self.ids)

    def _code(self, row: dict[str, Any]) -> str:
        return self.codes[row["programme_id"]]

    def _cells(self, rows: Rows, names: Sequence[str]) -> list[tuple[Cell, ...]]:
        """The rows sorted by programme code (then in the order read), each as its programme's
        code followed by the named columns."""
        return [(self._code(row), *(row[name] for name in names)) for row in self._by_code(rows)]

    def _by_code(self, rows: Rows) -> Rows:
        return sorted(rows, key=self._code)

    def _by_stage(self, rows: Rows) -> Rows:
        return sorted(rows, key=lambda r: (self._code(r), _STAGE_ORDER[Stage(r["stage"])]))

    def programmes(self) -> list[tuple[Cell, ...]]:
        partners: defaultdict[int, list[str]] = defaultdict(list)
        for row in self._read(read.exports.programme_partners):
            partners[row["programme_id"]].append(row["short_name"])
        return [
            (
                row["code"],
                row["title"],
                row["owner"],
                _joined(partners[row["id"]]),
                row["status"],
                row["start_date"],
                row["target_end_date"],
                row["closed_on"],
                row["sponsor"],
                row["manager"],
                row["lawful_basis"],
                row["budget"],
                row["expected_benefits"],
                row["summary"],
                row["vision_statement"],
            )
            for row in self._read(read.exports.programmes)
        ]

    def stages(self) -> list[tuple[Cell, ...]]:
        return [
            (
                self._code(row),
                row["stage"],
                stage_title(row["stage"]),
                row["planned_start"],
                row["planned_end"],
                row["actual_start"],
                row["actual_end"],
                row["narrative"],
            )
            for row in self._by_stage(self._read(read.exports.stages))
        ]

    def exit_criteria(self) -> list[tuple[Cell, ...]]:
        return [
            (self._code(row), row["stage"], row["position"], row["text"], row["met"])
            for row in self._by_stage(self._read(read.exports.exit_criteria))
        ]

    def milestones(self) -> list[tuple[Cell, ...]]:
        impacts: defaultdict[int, list[str]] = defaultdict(list)
        for row in self._read(read.exports.milestone_impacts):
            label = staff_group_label(row["short_name"], row["name"])
            impacts[row["milestone_id"]].append(f"{label} ({row['impact']})")
        needs: defaultdict[int, list[str]] = defaultdict(list)
        for row in self._read(read.exports.milestone_needs):
            needs[row["milestone_id"]].append(row["name"])
        return [
            (
                self._code(row),
                row["stage"],
                row["title"],
                row["owner"],
                row["due_date"],
                row["completed_date"],
                row["status"],
                row["weight"],
                _joined(impacts[row["id"]]),
                _joined(needs[row["id"]]),
            )
            for row in self._by_stage(self._read(read.exports.milestones))
        ]

    def stakeholders(self) -> list[tuple[Cell, ...]]:
        return [
            (
                self._code(row),
                row["name"],
                row["role"],
                None
                if row["group_name"] is None
                else staff_group_label(row["group_organisation"], row["group_name"]),
                row["influence"],
                row["interest"],
                row["stance"],
                row["desired_stance"],
                row["relationship_owner"],
                row["notes"],
            )
            for row in self._by_code(self._read(read.exports.stakeholders))
        ]

    def assessments(self) -> list[tuple[Cell, ...]]:
        return self._cells(
            self._read(read.exports.assessments),
            (
                "stakeholder_name",
                "assessed_on",
                "stance",
                "influence",
                "interest",
                *ADKAR,
                "assessed_by",
            ),
        )

    def engagements(self) -> list[tuple[Cell, ...]]:
        attendees: defaultdict[int, list[str]] = defaultdict(list)
        for row in self._read(read.exports.engagement_attendees):
            attendees[row["engagement_id"]].append(row["name"])
        return [
            (
                self._code(row),
                row["occurred_on"],
                row["kind"],
                row["summary"],
                row["outcome"],
                row["follow_up_on"],
                row["follow_up_done"],
                _joined(attendees[row["id"]]),
            )
            for row in self._by_code(self._read(read.exports.engagements))
        ]

    def barriers(self) -> list[tuple[Cell, ...]]:
        return self._cells(
            self._read(read.exports.barriers),
            ("title", "kind", "category", "likelihood", "impact", "owner", "mitigation", "status"),
        )

    def metrics(self) -> list[tuple[Cell, ...]]:
        return self._cells(
            self._read(read.exports.metrics),
            ("name", "unit", "baseline", "target", "target_date", "direction", "stage"),
        )

    def metric_readings(self) -> list[tuple[Cell, ...]]:
        return self._cells(
            self._read(read.exports.metric_readings), ("metric_name", "reading_on", "value", "note")
        )

    def narratives(self) -> list[tuple[Cell, ...]]:
        return self._cells(
            self._read(read.exports.narratives),
            ("title", "stage", "audience", "status", "author", "published_on", "body"),
        )

    def influence_links(self) -> list[tuple[Cell, ...]]:
        return self._cells(
            self._read(read.exports.influence_links), ("from_name", "to_name", "strength")
        )
