"""Spreadsheet import: a Table (tracker.io.reading) becomes programmes, milestones, stakeholders,
assessments or metric readings, written through the same services as the app, so every change is
validated by the models and audited.

This module holds the row plans: the rules that decide what each row does, over the values
tracker.io.reading read from its cells and the records tracker.read.imports fetched (it runs no
query and reads no cell itself). The steps a page or the CLI takes:

1. `reading.read_table(data, filename, header_hints=reading.header_hints(kind))` reads the file;
2. `reading.guess_mapping(kind, table.headers, preferred=saved_mapping(...))` proposes which
   column feeds which field (the person may change it);
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
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError
from sqlmodel import Session, SQLModel

from tracker import clock, permissions, read
from tracker.access import Viewer
from tracker.errors import DomainError, PermissionDeniedError, problems_of
from tracker.io.reading import (
    Problem,
    Report,
    Severity,
    Table,
    check_mapping,
    clean_mapping,
    fields_for,
    import_kind,
    read_row,
)
from tracker.models import (
    Assessment,
    AssessmentBase,
    DeliveryConfidence,
    ImportKind,
    ImportMapping,
    ImportMappingBase,
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
    ProgrammeBase,
    ProgrammeCreate,
    ProgrammeUpdate,
    StaffGroup,
    Stakeholder,
    StakeholderBase,
)
from tracker.models.people import (
    AssessmentCreate,
    AssessmentUpdate,
    StakeholderCreate,
    StakeholderUpdate,
)
from tracker.permissions import Action
from tracker.services import metrics, milestones, programmes, records, stakeholders

__all__ = [
    "ImportPreview",
    "ImportResult",
    "RowAction",
    "RowPlan",
    "commit_import",
    "preview",
    "save_mapping",
    "saved_mapping",
]

_T = TypeVar("_T")

# How often commit_import reports progress, in rows written.
PROGRESS_EVERY = 100


class RowAction(StrEnum):
    create = "create"
    update = "update"
    unchanged = "unchanged"
    skip = "skip"
    invalid = "invalid"


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


# --- Checking a file --------------------------------------------------------------------------


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _by_name(records: Iterable[_T], attribute: str) -> dict[str, list[_T]]:
    """`records` by the folded text of `attribute` (names may repeat)."""
    found: dict[str, list[_T]] = defaultdict(list)
    for record in records:
        found[_fold(getattr(record, attribute))].append(record)
    return found


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
        report: Report,
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
        return _by_name(read.imports.stakeholders(self.session, self.programme_id), "name")

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

    # For kinds whose rows name a record on a day: the two fields, and the reasons when no
    # record or several have the name ({name} and {count} filled in).
    named: ClassVar[tuple[str, str, str, str]]

    def named_on_day(
        self, row: int, values: Mapping[str, Any], by_name: Mapping[str, Sequence[_T]]
    ) -> tuple[str, _T | None, dt.date | None]:
        """For a row naming a record on a day (`named`): how a person reads the row ("name,
        31/03/2026"), the one record of `by_name` it names, and the day; the record is None
        when the name or day is missing, or after reporting that no record or several have
        the name."""
        name_field, day_field, none, several = self.named
        name = str(values.get(name_field) or "")
        day = values.get(day_field)
        label = f"{name}, {day:%d/%m/%Y}" if isinstance(day, dt.date) else name
        found = by_name.get(_fold(name), [])
        if name and len(found) != 1:
            reason = (several if found else none).format(name=name, count=len(found))
            self.report.error(row, name_field, reason)
            return label, None, None
        if not found or not isinstance(day, dt.date):
            return label, None, None
        return label, found[0], day

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
        codes = {str(values["code"]) for values in rows if values.get("code")}
        self.by_code = read.imports.programmes_by_code(self.session, codes)
        self.organisations: dict[str, list[Organisation]] = defaultdict(list)
        for organisation in read.imports.organisations(self.session):
            for name in {_fold(organisation.name), _fold(organisation.short_name)}:
                self.organisations[name].append(organisation)
        self.visible = read.imports.visible_programme_ids(self.session, self.viewer)
        ids = [p.id for p in self.by_code.values() if p.id is not None]
        self.latest_rating = read.imports.latest_ratings(self.session, ids)

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
        self.by_title = _by_name(read.imports.milestones(self.session, self.programme_id), "title")

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
        self.owner_id, groups = read.imports.staff_groups(self.session, self.programme_id)
        self.groups = _by_name(groups, "name")

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
    named = (
        "stakeholder",
        "assessed_on",
        "no stakeholder of this programme is called '{name}' (import stakeholders first)",
        "{count} stakeholders are called '{name}'",
    )

    def load(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.people = self.stakeholders_by_name()
        self.by_day: dict[tuple[int, dt.date], list[Assessment]] = defaultdict(list)
        for assessment in read.imports.assessments(self.session, self.programme_id):
            self.by_day[(assessment.stakeholder_id, assessment.assessed_on)].append(assessment)

    def plan(self, row: int, values: Mapping[str, Any], failed: set[str]) -> RowPlan:
        label, person, day = self.named_on_day(row, values, self.people)
        if person is None or day is None:
            return RowPlan(row, RowAction.invalid, label)
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
    named = (
        "metric",
        "reading_on",
        "no metric of this programme is called '{name}'",
        "{count} metrics are called '{name}'",
    )

    def load(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.metrics = _by_name(read.imports.metrics(self.session, self.programme_id), "name")
        self.by_day: dict[tuple[int, dt.date], MetricReading] = {}
        for reading in read.imports.readings(self.session, self.programme_id):
            self.by_day[(reading.metric_id, reading.reading_on)] = reading

    def plan(self, row: int, values: Mapping[str, Any], failed: set[str]) -> RowPlan:
        label, metric, day = self.named_on_day(row, values, self.metrics)
        if metric is None or day is None:
            return RowPlan(row, RowAction.invalid, label)
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


def _run(
    session: Session,
    viewer: Viewer,
    kind: ImportKind | str,
    table: Table,
    mapping: Mapping[str, str | None],
    programme_id: int | None,
) -> tuple[ImportPreview, _Importer]:
    kind = import_kind(kind)
    _check_permission(session, viewer, kind, programme_id)
    mapping = dict(mapping)
    report = Report(kind, mapping)
    for notice in table.notices:
        report.problems.append(Problem(notice.row, notice.column, notice.message, Severity.warning))
    skipped_rows: list[int] = []
    for skipped in table.skipped:
        report.warn(skipped.first, None, skipped.describe())
        skipped_rows.extend(skipped.numbers)
    if not table.rows:
        report.error(None, None, "there are no rows of data below the header")
    columns = check_mapping(kind, table, mapping, report)
    importer = _IMPORTERS[kind](session, viewer, programme_id, report, table.filename)
    if any(p.row is None and p.severity is Severity.error for p in report.problems):
        plans = tuple(RowPlan(row.number, RowAction.invalid) for row in table.rows)
        return _preview(kind, table, mapping, plans, report, skipped_rows), importer
    read = [(row, read_row(row, kind, columns, report)) for row in table.rows]
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
    report: Report,
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
    result, _importer = _run(session, viewer, kind, table, mapping, programme_id)
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
    checked, importer = _run(session, viewer, kind, table, mapping, programme_id)
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


def saved_mapping(
    *, session: Session, organisation_id: int, kind: ImportKind | str
) -> dict[str, str | None] | None:
    """The organisation's saved mapping for `kind`, or None when it has none."""
    saved = read.imports.saved_mapping(session, organisation_id, import_kind(kind))
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
    kind = import_kind(kind)
    if not viewer.can_manage or not permissions.allowed(
        viewer, Action.programme_create, permissions.organisations([organisation_id])
    ):
        raise PermissionDeniedError(
            None, "Only managers and administrators of the organisation can save its mappings."
        )
    text = json.dumps(clean_mapping(kind, mapping), sort_keys=True, ensure_ascii=False)
    existing = read.imports.saved_mapping(session, organisation_id, kind)
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
