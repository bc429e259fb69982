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
  manager or administrator of every programme exported (tracker.access.require_manager). Without
  it those record types, and the names milestones depend on, are left out. Staff never export.

Each table is read with one query for all the programmes at once.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Executable
from sqlmodel import Session, col

from tracker import access, permissions, read
from tracker.access import Viewer
from tracker.errors import PermissionDeniedError
from tracker.io.tables import Cell, Sheet, csv_bytes, xlsx_bytes
from tracker.models import (
    Assessment,
    Barrier,
    Engagement,
    EngagementStakeholder,
    ExitCriterion,
    InfluenceLink,
    Metric,
    MetricReading,
    Milestone,
    MilestoneDependency,
    MilestoneImpact,
    Narrative,
    Organisation,
    Programme,
    ProgrammePartner,
    Role,
    StaffGroup,
    Stage,
    StageRecord,
    Stakeholder,
)
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
    reader = _Reader(session, ids)
    tables = [
        Table(PROGRAMMES, reader.programmes()),
        Table(STAGES, reader.stages()),
        Table(EXIT_CRITERIA, reader.exit_criteria()),
        _milestones_table(reader.milestones(), personal_data=personal_data),
    ]
    if personal_data:
        tables += [
            Table(STAKEHOLDERS, reader.stakeholders()),
            Table(ASSESSMENTS, reader.assessments()),
            Table(ENGAGEMENTS, reader.engagements()),
        ]
    tables += [
        Table(BARRIERS, reader.barriers()),
        Table(METRICS, reader.metrics()),
        Table(METRIC_READINGS, reader.metric_readings()),
        Table(NARRATIVES, reader.narratives()),
    ]
    if personal_data:
        tables.append(Table(INFLUENCE_LINKS, reader.influence_links()))
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


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


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
        visible = session.exec(access.visible_programme_ids(viewer)).all()
        ids = sorted({int(programme_id) for programme_id in visible})
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
            access.require_programme(session, viewer, programme_id)
    return ids


# --- Reading the tables -----------------------------------------------------------------------


class _Reader:
    """Reads each table once for all the programmes, as rows in their record type's order."""

    def __init__(self, session: Session, programme_ids: Sequence[int]) -> None:
        self.session = session
        self.ids = list(programme_ids)
        self.codes: dict[int, str] = {}
        if self.ids:
            statement: Executable = sa.select(col(Programme.id), col(Programme.code)).where(
                col(Programme.id).in_(self.ids)
            )
            self.codes = {row["id"]: row["code"] for row in self._rows(statement)}

    def _rows(self, statement: Executable) -> list[dict[str, Any]]:
        if not self.ids:
            return []
        return [
            {name: _plain(value) for name, value in row.items()}
            for row in read.sql.rows(self.session, statement)
        ]

    def _code(self, row: dict[str, Any]) -> str:
        return self.codes[row["programme_id"]]

    def _cells(self, statement: Executable, names: Sequence[str]) -> list[tuple[Cell, ...]]:
        """The statement's rows sorted by programme code (then in the statement's order), each as
        its programme's code followed by the named columns."""
        rows = sorted(self._rows(statement), key=self._code)
        return [(self._code(row), *(row[name] for name in names)) for row in rows]

    def programmes(self) -> list[tuple[Cell, ...]]:
        partners: defaultdict[int, list[str]] = defaultdict(list)
        statement: Executable = (
            sa.select(col(ProgrammePartner.programme_id), col(Organisation.short_name))
            .join(Organisation, col(Organisation.id) == col(ProgrammePartner.organisation_id))
            .where(col(ProgrammePartner.programme_id).in_(self.ids))
            .order_by(col(Organisation.short_name))
        )
        for row in self._rows(statement):
            partners[row["programme_id"]].append(row["short_name"])
        statement = (
            sa.select(Programme.__table__, col(Organisation.short_name).label("owner"))  # type: ignore[attr-defined]
            .join(Organisation, col(Organisation.id) == col(Programme.organisation_id))
            .where(col(Programme.id).in_(self.ids))
            .order_by(col(Programme.code))
        )
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
            for row in self._rows(statement)
        ]

    def stages(self) -> list[tuple[Cell, ...]]:
        statement: Executable = sa.select(StageRecord.__table__).where(  # type: ignore[attr-defined]
            col(StageRecord.programme_id).in_(self.ids)
        )
        rows = sorted(
            self._rows(statement), key=lambda r: (self._code(r), _STAGE_ORDER[Stage(r["stage"])])
        )
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
            for row in rows
        ]

    def exit_criteria(self) -> list[tuple[Cell, ...]]:
        statement: Executable = (
            sa.select(
                ExitCriterion.__table__,  # type: ignore[attr-defined]
                col(StageRecord.programme_id),
                col(StageRecord.stage),
            )
            .join(StageRecord, col(StageRecord.id) == col(ExitCriterion.stage_record_id))
            .where(col(StageRecord.programme_id).in_(self.ids))
            .order_by(col(ExitCriterion.position), col(ExitCriterion.id))
        )
        rows = sorted(
            self._rows(statement), key=lambda r: (self._code(r), _STAGE_ORDER[Stage(r["stage"])])
        )
        return [
            (self._code(row), row["stage"], row["position"], row["text"], row["met"])
            for row in rows
        ]

    def milestones(self) -> list[tuple[Cell, ...]]:
        in_programmes = col(Milestone.programme_id).in_(self.ids)
        impacts: defaultdict[int, list[str]] = defaultdict(list)
        statement: Executable = (
            sa.select(
                col(MilestoneImpact.milestone_id),
                col(MilestoneImpact.impact),
                col(StaffGroup.name),
                col(Organisation.short_name),
            )
            .join(Milestone, col(Milestone.id) == col(MilestoneImpact.milestone_id))
            .join(StaffGroup, col(StaffGroup.id) == col(MilestoneImpact.staff_group_id))
            .join(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
            .where(in_programmes)
            .order_by(col(Organisation.short_name), col(StaffGroup.name))
        )
        for row in self._rows(statement):
            label = staff_group_label(row["short_name"], row["name"])
            impacts[row["milestone_id"]].append(f"{label} ({row['impact']})")
        needs: defaultdict[int, list[str]] = defaultdict(list)
        statement = (
            sa.select(col(MilestoneDependency.milestone_id), col(Stakeholder.name))
            .join(Milestone, col(Milestone.id) == col(MilestoneDependency.milestone_id))
            .join(Stakeholder, col(Stakeholder.id) == col(MilestoneDependency.stakeholder_id))
            .where(in_programmes)
            .order_by(col(Stakeholder.name))
        )
        for row in self._rows(statement):
            needs[row["milestone_id"]].append(row["name"])
        statement = (
            sa.select(Milestone.__table__)  # type: ignore[attr-defined]
            .where(in_programmes)
            .order_by(col(Milestone.due_date), col(Milestone.title), col(Milestone.id))
        )
        rows = sorted(
            self._rows(statement), key=lambda r: (self._code(r), _STAGE_ORDER[Stage(r["stage"])])
        )
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
            for row in rows
        ]

    def stakeholders(self) -> list[tuple[Cell, ...]]:
        statement: Executable = (
            sa.select(
                Stakeholder.__table__,  # type: ignore[attr-defined]
                col(StaffGroup.name).label("group_name"),
                col(Organisation.short_name).label("group_organisation"),
            )
            .outerjoin(StaffGroup, col(StaffGroup.id) == col(Stakeholder.staff_group_id))
            .outerjoin(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
            .where(col(Stakeholder.programme_id).in_(self.ids))
            .order_by(col(Stakeholder.name))
        )
        rows = sorted(self._rows(statement), key=self._code)
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
            for row in rows
        ]

    def assessments(self) -> list[tuple[Cell, ...]]:
        statement: Executable = (
            sa.select(
                Assessment.__table__,  # type: ignore[attr-defined]
                col(Stakeholder.programme_id),
                col(Stakeholder.name).label("stakeholder_name"),
            )
            .join(Stakeholder, col(Stakeholder.id) == col(Assessment.stakeholder_id))
            .where(col(Stakeholder.programme_id).in_(self.ids))
            .order_by(col(Stakeholder.name), col(Assessment.assessed_on), col(Assessment.id))
        )
        return self._cells(
            statement,
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
        in_programmes = col(Engagement.programme_id).in_(self.ids)
        attendees: defaultdict[int, list[str]] = defaultdict(list)
        statement: Executable = (
            sa.select(col(EngagementStakeholder.engagement_id), col(Stakeholder.name))
            .join(Engagement, col(Engagement.id) == col(EngagementStakeholder.engagement_id))
            .join(Stakeholder, col(Stakeholder.id) == col(EngagementStakeholder.stakeholder_id))
            .where(in_programmes)
            .order_by(col(Stakeholder.name))
        )
        for row in self._rows(statement):
            attendees[row["engagement_id"]].append(row["name"])
        statement = (
            sa.select(Engagement.__table__)  # type: ignore[attr-defined]
            .where(in_programmes)
            .order_by(col(Engagement.occurred_on), col(Engagement.id))
        )
        rows = sorted(self._rows(statement), key=self._code)
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
            for row in rows
        ]

    def barriers(self) -> list[tuple[Cell, ...]]:
        statement: Executable = (
            sa.select(Barrier.__table__)  # type: ignore[attr-defined]
            .where(col(Barrier.programme_id).in_(self.ids))
            .order_by(col(Barrier.title), col(Barrier.id))
        )
        return self._cells(
            statement,
            ("title", "kind", "category", "likelihood", "impact", "owner", "mitigation", "status"),
        )

    def metrics(self) -> list[tuple[Cell, ...]]:
        statement: Executable = (
            sa.select(Metric.__table__)  # type: ignore[attr-defined]
            .where(col(Metric.programme_id).in_(self.ids))
            .order_by(col(Metric.name))
        )
        return self._cells(
            statement, ("name", "unit", "baseline", "target", "target_date", "direction", "stage")
        )

    def metric_readings(self) -> list[tuple[Cell, ...]]:
        statement: Executable = (
            sa.select(
                MetricReading.__table__,  # type: ignore[attr-defined]
                col(Metric.programme_id),
                col(Metric.name).label("metric_name"),
            )
            .join(Metric, col(Metric.id) == col(MetricReading.metric_id))
            .where(col(Metric.programme_id).in_(self.ids))
            .order_by(col(Metric.name), col(MetricReading.reading_on))
        )
        return self._cells(statement, ("metric_name", "reading_on", "value", "note"))

    def narratives(self) -> list[tuple[Cell, ...]]:
        statement: Executable = (
            sa.select(Narrative.__table__)  # type: ignore[attr-defined]
            .where(col(Narrative.programme_id).in_(self.ids))
            .order_by(col(Narrative.title), col(Narrative.id))
        )
        return self._cells(
            statement, ("title", "stage", "audience", "status", "author", "published_on", "body")
        )

    def influence_links(self) -> list[tuple[Cell, ...]]:
        source = aliased(Stakeholder)
        target = aliased(Stakeholder)
        statement: Executable = (
            sa.select(
                col(source.programme_id),
                col(source.name).label("from_name"),
                col(target.name).label("to_name"),
                col(InfluenceLink.strength),
            )
            .join(source, col(source.id) == col(InfluenceLink.from_stakeholder_id))
            .join(target, col(target.id) == col(InfluenceLink.to_stakeholder_id))
            .where(col(source.programme_id).in_(self.ids))
            .order_by(col(source.name), col(target.name))
        )
        return self._cells(statement, ("from_name", "to_name", "strength"))
