"""The programme exchange file: one whole programme as JSON, to move it from one Change Tracker
database to another (docs/exchange-format.md is the schema).

The file names things, never database ids (ids differ between databases): organisations by
short name, staff groups by organisation short name and group name, stakeholders by name (unique
within a programme). Lists come in a fixed order and dates as ISO text, so the same programme
always gives the same file: exporting, importing into a fresh database and exporting again
gives an identical document. Versions (the optimistic-lock counters) are not part of it.

Importing recreates the programme through the services, so it is validated and audited like any
other change, inside the caller's write_session: a refusal anywhere leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel

from tracker import permissions, read
from tracker.access import Viewer
from tracker.errors import DomainError, PermissionDeniedError
from tracker.models import (
    Assessment,
    AssessmentBase,
    BarrierCreate,
    ConfidenceOverride,
    ConfidenceOverrideBase,
    Engagement,
    EngagementBase,
    ExitCriterionUpdate,
    MetricCreate,
    MetricReadingCreate,
    MilestoneCreate,
    NarrativeCreate,
    Programme,
    ProgrammeCreate,
    Role,
    Stage,
    StagePlan,
    StageRecordBase,
    Stakeholder,
    StakeholderBase,
)
from tracker.models.organisation import OrganisationCreate, StaffGroupCreate
from tracker.models.people import (
    AssessmentCreate,
    EngagementCreate,
    InfluenceLinkCreate,
    StakeholderCreate,
)
from tracker.permissions import Action
from tracker.services import (
    barriers,
    engagements,
    metrics,
    milestones,
    narratives,
    organisations,
    programmes,
    records,
    stakeholders,
)

FORMAT = "change-tracker-programme"
VERSION = 2
MEDIA_TYPE = "application/json"

_Row = TypeVar("_Row", bound=SQLModel)
_STAGE_ORDER = {stage: index for index, stage in enumerate(Stage)}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The kinds whose JSON value is already the Python value: its type, and how a refusal says it.
_TAKEN_AS_IS: dict[str, tuple[type, str]] = {
    "boolean": (bool, "true or false"),
    "list": (list, "a list"),
    "object": (dict, "an object"),
}


# --- The schema -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One key of an object in the file: its JSON kind, and whether it may be left out (then
    `default` applies). Kinds: text, integer, number, boolean, date (YYYY-MM-DD), datetime (ISO
    8601 with its UTC offset), money (a decimal number as text, e.g. "1250.00"), texts (a list of
    text), object, list (of objects). A kind ending in "?" may also be null."""

    kind: str
    required: bool = False
    default: Any = None


def _required(kind: str) -> Key:
    return Key(kind, required=True)


def _optional(kind: str, default: Any = None) -> Key:
    return Key(kind, default=default)


# Every object of the format and its keys. docs/exchange-format.md describes the same (a test
# checks that every key is documented). Version 2 added programme.data_sharing; a version 1
# file, which lacks it, still reads (no partner has an agreement).
SCHEMA: dict[str, dict[str, Key]] = {
    "document": {
        "format": _required("text"),
        "version": _required("integer"),
        "organisations": _required("list"),
        "programme": _required("object"),
        "stages": _optional("list", ()),
        "milestones": _optional("list", ()),
        "stakeholders": _optional("list", ()),
        "influence_links": _optional("list", ()),
        "engagements": _optional("list", ()),
        "barriers": _optional("list", ()),
        "metrics": _optional("list", ()),
        "narratives": _optional("list", ()),
        "confidence_overrides": _optional("list", ()),
    },
    "organisation": {
        "name": _required("text"),
        "short_name": _required("text"),
        "staff_groups": _optional("texts", ()),
    },
    "programme": {
        "code": _required("text"),
        "title": _required("text"),
        "organisation": _required("text"),
        "partners": _optional("texts", ()),
        "data_sharing": _optional("texts", ()),
        "summary": _optional("text", ""),
        "vision_statement": _optional("text", ""),
        "sponsor": _optional("text", ""),
        "manager": _optional("text", ""),
        "start_date": _required("date"),
        "target_end_date": _required("date"),
        "status": _optional("text", "active"),
        "closed_on": _optional("date?"),
        "lawful_basis": _optional("text", "public_task"),
        "budget": _optional("money?"),
        "expected_benefits": _optional("money?"),
    },
    "stage": {
        "stage": _required("text"),
        "narrative": _optional("text", ""),
        "planned_start": _optional("date?"),
        "planned_end": _optional("date?"),
        "actual_start": _optional("date?"),
        "actual_end": _optional("date?"),
        "exit_criteria": _optional("list", ()),
    },
    "exit_criterion": {
        "text": _required("text"),
        "met": _optional("boolean", False),
        "position": _optional("integer?"),
    },
    "milestone": {
        "stage": _required("text"),
        "title": _required("text"),
        "owner": _optional("text", ""),
        "due_date": _required("date"),
        "completed_date": _optional("date?"),
        "status": _optional("text", "not_started"),
        "weight": _optional("integer", 3),
        "impacts": _optional("list", ()),
        "depends_on": _optional("texts", ()),
    },
    "impact": {
        "staff_group": _required("object"),
        "impact": _required("text"),
    },
    "staff_group": {
        "organisation": _required("text"),
        "name": _required("text"),
    },
    "stakeholder": {
        "name": _required("text"),
        "role": _optional("text", ""),
        "staff_group": _optional("object?"),
        "influence": _optional("integer", 3),
        "interest": _optional("integer", 3),
        "stance": _optional("integer", 0),
        "desired_stance": _optional("integer", 1),
        "relationship_owner": _optional("text", ""),
        "notes": _optional("text", ""),
        "assessments": _optional("list", ()),
    },
    "assessment": {
        "assessed_on": _required("date"),
        "stance": _required("integer"),
        "influence": _optional("integer?"),
        "interest": _optional("integer?"),
        "awareness": _optional("integer?"),
        "desire": _optional("integer?"),
        "knowledge": _optional("integer?"),
        "ability": _optional("integer?"),
        "reinforcement": _optional("integer?"),
        "assessed_by": _optional("text", ""),
    },
    "influence_link": {
        "from": _required("text"),
        "to": _required("text"),
        "strength": _optional("integer", 2),
    },
    "engagement": {
        "occurred_on": _required("date"),
        "kind": _required("text"),
        "summary": _required("text"),
        "outcome": _optional("text", ""),
        "follow_up_on": _optional("date?"),
        "follow_up_done": _optional("boolean", False),
        "stakeholders": _optional("texts", ()),
    },
    "barrier": {
        "title": _required("text"),
        "kind": _optional("text", "risk"),
        "category": _required("text"),
        "likelihood": _required("integer"),
        "impact": _required("integer"),
        "owner": _optional("text", ""),
        "mitigation": _optional("text", ""),
        "status": _optional("text", "open"),
    },
    "metric": {
        "name": _required("text"),
        "unit": _optional("text", ""),
        "baseline": _required("number"),
        "target": _required("number"),
        "target_date": _optional("date?"),
        "direction": _optional("text", "up"),
        "stage": _optional("text?"),
        "readings": _optional("list", ()),
    },
    "reading": {
        "reading_on": _required("date"),
        "value": _required("number"),
        "note": _optional("text", ""),
    },
    "narrative": {
        "title": _required("text"),
        "body": _optional("text", ""),
        "stage": _optional("text?"),
        "audience": _optional("text", "everyone"),
        "status": _optional("text", "draft"),
        "author": _optional("text", ""),
        "published_on": _optional("date?"),
    },
    "confidence_override": {
        "rating": _required("text"),
        "reason": _required("text"),
        "set_by": _required("text"),
        "set_at": _required("datetime"),
    },
}


# Where an object holds objects of another kind (a list of them, or one): the shape of a document.
NESTED: dict[str, dict[str, str]] = {
    "document": {
        "organisations": "organisation",
        "programme": "programme",
        "stages": "stage",
        "milestones": "milestone",
        "stakeholders": "stakeholder",
        "influence_links": "influence_link",
        "engagements": "engagement",
        "barriers": "barrier",
        "metrics": "metric",
        "narratives": "narrative",
        "confidence_overrides": "confidence_override",
    },
    "stage": {"exit_criteria": "exit_criterion"},
    "milestone": {"impacts": "impact"},
    "impact": {"staff_group": "staff_group"},
    "stakeholder": {"staff_group": "staff_group", "assessments": "assessment"},
    "metric": {"readings": "reading"},
}


def move_dates(
    document: Mapping[str, Any], move: Callable[[str, dt.date], dt.date]
) -> dict[str, Any]:
    """A copy of a document (plain JSON values, not yet checked) with every date and datetime
    replaced by `move(where, value)`; `where` names the key as "object.key" (e.g.
    "reading.reading_on"), and a datetime is passed, and must come back, as a datetime."""

    def walk(value: Any, name: str) -> Any:
        if isinstance(value, list):
            return [walk(item, name) for item in value]
        if not isinstance(value, dict):
            return value
        result: dict[str, Any] = {}
        for key, item in value.items():
            kind = SCHEMA[name][key].kind.rstrip("?") if key in SCHEMA[name] else ""
            if key in NESTED.get(name, {}):
                result[key] = walk(item, NESTED[name][key])
            elif kind == "date" and isinstance(item, str):
                result[key] = move(f"{name}.{key}", dt.date.fromisoformat(item)).isoformat()
            elif kind == "datetime" and isinstance(item, str):
                result[key] = _value(move(f"{name}.{key}", dt.datetime.fromisoformat(item)))
            else:
                result[key] = item
        return result

    moved: dict[str, Any] = walk(dict(document), "document")
    return moved


# --- Export -----------------------------------------------------------------------------------


def export_programme(*, session: Session, viewer: Viewer, programme_id: int) -> dict[str, Any]:
    """The programme as an exchange document (plain JSON values; see to_json). It holds
    stakeholders' notes and stance history, so only a manager or administrator of the programme
    may export it, and only where they may see its people: the owner's, or a partner's under a
    data-sharing agreement (Action.stakeholder_read; PermissionDeniedError otherwise)."""
    programme = permissions.require_programme(
        session, viewer, Action.stakeholder_read, programme_id
    )
    return _Exporter(
        read.exchange.programme_records(session=session, programme=programme)
    ).document()


def to_json(document: Mapping[str, Any]) -> str:
    """The document as JSON text: keys sorted, indented, UTF-8 characters kept, ending in a
    newline. The same document always gives the same text."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _value(value: Any) -> Any:
    """A column value as JSON: enum values, ISO dates, money as text with two decimals."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        aware = value if value.utcoffset() is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def _fields(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _value(getattr(record, name)) for name in names}


def _columns(name: str, *apart: str) -> tuple[str, ...]:
    """The keys of the file's `name` objects that are columns of the record as they stand: all
    but those `apart` (laid out by other means)."""
    return tuple(key for key in SCHEMA[name] if key not in apart)


def _nested(
    parents: list[Any],
    name: str,
    key: str,
    children: Mapping[int, list[_Row]],
    order: Callable[[_Row], Any],
) -> list[dict[str, Any]]:
    """Each of `parents` as the file's `name` object, in the order given, with its children
    (by the parent's id) under `key`, in `order`."""
    fields = _columns(name, key)
    child_fields = _columns(NESTED[name][key])
    return [
        {
            **_fields(parent, fields),
            key: [
                _fields(child, child_fields)
                for child in sorted(children.get(parent.id or 0, []), key=order)
            ],
        }
        for parent in parents
    ]


def _stage_rank(stage: Any) -> int:
    return _STAGE_ORDER[Stage(stage)]


class _Exporter:
    """Shapes the document from the programme's records (read.exchange.programme_records).
    Lists are sorted in Python (database collations differ), each ending with the id, so that
    a re-import, which creates records in file order, sorts the same way."""

    def __init__(self, records: read.exchange.ProgrammeRecords) -> None:
        self.records = records
        orgs = records.organisations
        self.group_refs: dict[int, dict[str, str]] = {
            group_id: {"organisation": orgs[group.organisation_id].short_name, "name": group.name}
            for group_id, group in records.staff_groups.items()
        }
        self.people = records.stakeholders

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "organisations": self._organisations(),
            "programme": self._programme(),
            "stages": self._stages(),
            "milestones": self._milestones(),
            "stakeholders": self._stakeholders(),
            "influence_links": self._influence_links(),
            "engagements": self._engagements(),
            "barriers": self._rows(
                self.records.barriers, "barrier", lambda b: (b.title, b.id or 0)
            ),
            "metrics": self._metrics(),
            "narratives": self._rows(
                self.records.narratives, "narrative", lambda n: (n.title, n.id or 0)
            ),
            "confidence_overrides": self._rows(
                self.records.confidence_overrides,
                "confidence_override",
                lambda o: (o.set_at, o.id or 0),
            ),
        }

    def _organisations(self) -> list[dict[str, Any]]:
        names: defaultdict[int, list[str]] = defaultdict(list)
        for group in self.records.staff_groups.values():
            names[group.organisation_id].append(group.name)
        result = [
            {
                "name": org.name,
                "short_name": org.short_name,
                "staff_groups": sorted(names[org_id]),
            }
            for org_id, org in self.records.organisations.items()
        ]
        return sorted(result, key=lambda org: org["short_name"])

    def _programme(self) -> dict[str, Any]:
        programme = self.records.programme
        orgs = self.records.organisations
        partners = self.records.partners
        # The organisations are named below, by short name.
        fields = _columns("programme", "organisation", "partners", "data_sharing")
        return {
            **_fields(programme, fields),
            "organisation": orgs[programme.organisation_id].short_name,
            "partners": sorted({orgs[p.organisation_id].short_name for p in partners}),
            "data_sharing": sorted(
                {orgs[p.organisation_id].short_name for p in partners if p.data_sharing_agreement}
            ),
        }

    def _stages(self) -> list[dict[str, Any]]:
        return _nested(
            sorted(self.records.stage_records, key=lambda r: _stage_rank(r.stage)),
            "stage",
            "exit_criteria",
            self.records.exit_criteria_by_stage_record,
            lambda c: (c.position, c.id or 0),
        )

    def _group_ref(self, group_id: int | None) -> dict[str, str] | None:
        return None if group_id is None else dict(self.group_refs[group_id])

    def _milestones(self) -> list[dict[str, Any]]:
        impacts: dict[int, list[dict[str, Any]]] = {
            milestone_id: [
                {"staff_group": self._group_ref(impact.staff_group_id), "impact": impact.impact}
                for impact in rows_of
            ]
            for milestone_id, rows_of in self.records.impacts_by_milestone.items()
        }
        needs = {
            milestone_id: [self.people[dependency.stakeholder_id].name for dependency in rows_of]
            for milestone_id, rows_of in self.records.dependencies_by_milestone.items()
        }
        fields = _columns("milestone", "impacts", "depends_on")
        ordered = sorted(
            self.records.milestones,
            key=lambda m: (_stage_rank(m.stage), m.due_date, m.title, m.id or 0),
        )
        return [
            {
                **_fields(milestone, fields),
                "impacts": [
                    {"staff_group": item["staff_group"], "impact": _value(item["impact"])}
                    for item in sorted(
                        impacts.get(milestone.id or 0, []),
                        key=lambda i: (i["staff_group"]["organisation"], i["staff_group"]["name"]),
                    )
                ],
                "depends_on": sorted(needs.get(milestone.id or 0, [])),
            }
            for milestone in ordered
        ]

    def _stakeholders(self) -> list[dict[str, Any]]:
        history = self.records.assessments_by_stakeholder
        fields = _columns("stakeholder", "staff_group", "assessments")
        assessment_fields = _columns("assessment")
        return [
            {
                **_fields(person, fields),
                "staff_group": self._group_ref(person.staff_group_id),
                "assessments": [
                    _fields(assessment, assessment_fields)
                    for assessment in sorted(
                        history.get(person_id, []), key=lambda a: (a.assessed_on, a.id or 0)
                    )
                ],
            }
            for person_id, person in sorted(self.people.items(), key=lambda item: item[1].name)
        ]

    def _influence_links(self) -> list[dict[str, Any]]:
        result = [
            {
                "from": self.people[link.from_stakeholder_id].name,
                "to": self.people[link.to_stakeholder_id].name,
                "strength": link.strength,
            }
            for link in self.records.influence_links
        ]
        return sorted(result, key=lambda link: (link["from"], link["to"]))

    def _engagements(self) -> list[dict[str, Any]]:
        attendees = self.records.attendees_by_engagement
        fields = _columns("engagement", "stakeholders")
        ordered = sorted(
            self.records.engagements,
            key=lambda e: (e.occurred_on, e.kind, e.summary, e.id or 0),
        )
        return [
            {
                **_fields(row, fields),
                "stakeholders": sorted(
                    self.people[attendee.stakeholder_id].name
                    for attendee in attendees.get(row.id or 0, [])
                ),
            }
            for row in ordered
        ]

    def _metrics(self) -> list[dict[str, Any]]:
        return _nested(
            sorted(self.records.metrics, key=lambda m: m.name),
            "metric",
            "readings",
            self.records.readings_by_metric,
            lambda r: r.reading_on,
        )

    @staticmethod
    def _rows(rows: list[_Row], name: str, order: Callable[[_Row], Any]) -> list[dict[str, Any]]:
        """Records whose every column is a key of the file's `name` objects, in `order`."""
        fields = _columns(name)
        return [_fields(row, fields) for row in sorted(rows, key=order)]


# --- Reading a document -----------------------------------------------------------------------


def _refuse(path: str, reason: str) -> DomainError:
    """A refusal about one place in the file: `field` is its JSON path, and the reason names it
    too, since pages show only the reason."""
    return DomainError(path, f"{path}: {reason}")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _refuse(path, f"must be text, not {_json_kind(value)}")
    if "\x00" in value:
        raise _refuse(path, "must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(path, "contains characters that are not valid Unicode") from None
    return value


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _convert(value: Any, kind: str, path: str) -> Any:
    """`value` checked against `kind` (see Key) and turned into its Python value."""
    if kind.endswith("?"):
        return None if value is None else _convert(value, kind[:-1], path)
    if kind == "text":
        return _text(value, path)
    if kind == "texts":
        if not isinstance(value, list):
            raise _refuse(path, f"must be a list of text, not {_json_kind(value)}")
        return [_text(item, _join(path, index)) for index, item in enumerate(value)]
    if kind in _TAKEN_AS_IS:
        python_type, words = _TAKEN_AS_IS[kind]
        if not isinstance(value, python_type):
            raise _refuse(path, f"must be {words}, not {_json_kind(value)}")
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _refuse(path, f"must be a whole number, not {_json_kind(value)}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _refuse(path, f"must be a number, not {_json_kind(value)}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise _refuse(path, "must be a finite number")
        return number
    if kind == "date":
        text = value if isinstance(value, str) else None
        try:
            if text is None or not _ISO_DATE.fullmatch(text):
                raise ValueError
            return dt.date.fromisoformat(text)
        except ValueError:
            raise _refuse(
                path, f"must be a date written YYYY-MM-DD, such as 2026-03-31, not {value!r}"
            ) from None
    if kind == "datetime":
        try:
            if not isinstance(value, str) or not _ISO_DATE.match(value):
                raise ValueError
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise _refuse(
                path,
                "must be a date and time with its offset from UTC, such as "
                f"2026-03-31T09:30:00+00:00, not {value!r}",
            ) from None
        if moment.utcoffset() is None:
            raise _refuse(path, f"needs its offset from UTC, such as +00:00 (it is {value!r})")
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise _refuse(path, f"is out of range ({value!r})") from None
    if kind == "money":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _refuse(path, f'must be an amount such as "1250.00", not {_json_kind(value)}')
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise _refuse(path, f'must be an amount such as "1250.00", not {value!r}') from None
        if not amount.is_finite():
            raise _refuse(path, "must be a finite amount")
        return amount
    raise AssertionError(f"unknown kind {kind}")


def _read(value: Any, path: str, name: str) -> dict[str, Any]:
    """The object at `path`, checked against SCHEMA[name]: no missing or unknown keys, every
    value of its kind; left-out optional keys get their defaults."""
    if not isinstance(value, dict):
        raise _refuse(path or "the file", f"must be an object, not {_json_kind(value)}")
    keys = SCHEMA[name]
    unknown = sorted(str(key) for key in value if key not in keys)
    if unknown:
        raise _refuse(
            _join(path, unknown[0]),
            f"is not a key of version {VERSION} of the exchange format "
            f"(a {name.replace('_', ' ')} has {', '.join(keys)})",
        )
    result: dict[str, Any] = {}
    for key, spec in keys.items():
        where = _join(path, key)
        if key not in value:
            if spec.required:
                raise _refuse(where, f"is missing: every {name.replace('_', ' ')} needs it")
            default = spec.default
            result[key] = list(default) if isinstance(default, tuple) else default
            continue
        result[key] = _convert(value[key], spec.kind, where)
    return result


def _items(values: list[Any], path: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    """Each object of a list, with its path."""
    return [
        (_join(path, index), _read(item, _join(path, index), name))
        for index, item in enumerate(values)
    ]


@dataclass
class _Parsed:
    """A document that passed every check that needs no database, with paths for messages."""

    organisations: list[tuple[str, dict[str, Any]]]
    programme: dict[str, Any]
    stages: list[tuple[str, dict[str, Any]]]
    milestones: list[tuple[str, dict[str, Any]]]
    stakeholders: list[tuple[str, dict[str, Any]]]
    influence_links: list[tuple[str, dict[str, Any]]]
    engagements: list[tuple[str, dict[str, Any]]]
    barriers: list[tuple[str, dict[str, Any]]]
    metrics: list[tuple[str, dict[str, Any]]]
    narratives: list[tuple[str, dict[str, Any]]]
    confidence_overrides: list[tuple[str, dict[str, Any]]]


def _parse(document: Mapping[str, Any] | str) -> _Parsed:
    """Check a document (or its JSON text) without the database: format, version, keys, kinds
    of values, and that every name it refers to is in it. Raises DomainError naming the JSON
    path (its `field`) of the first problem."""
    if isinstance(document, str):
        try:
            document = json.loads(document, parse_constant=_no_constant)
        except json.JSONDecodeError as error:
            raise DomainError(
                None,
                f"The file is not valid JSON (line {error.lineno}, column {error.colno}: "
                f"{error.msg}). Is it a Change Tracker programme exchange file?",
            ) from None
        except ValueError as error:
            raise DomainError(None, f"The file is not valid JSON: {error}.") from None
        except RecursionError:
            raise DomainError(
                None,
                "The file nests values too deeply to be a Change Tracker programme exchange "
                "file. Nothing was imported.",
            ) from None
    if not isinstance(document, Mapping):
        raise DomainError(
            None, "The file must hold one JSON object: a Change Tracker programme exchange file."
        )
    _check_format(document)
    top = _read(dict(document), "", "document")
    parsed = _Parsed(
        organisations=_items(top["organisations"], "organisations", "organisation"),
        programme=_read(top["programme"], "programme", "programme"),
        stages=_items(top["stages"], "stages", "stage"),
        milestones=_items(top["milestones"], "milestones", "milestone"),
        stakeholders=_items(top["stakeholders"], "stakeholders", "stakeholder"),
        influence_links=_items(top["influence_links"], "influence_links", "influence_link"),
        engagements=_items(top["engagements"], "engagements", "engagement"),
        barriers=_items(top["barriers"], "barriers", "barrier"),
        metrics=_items(top["metrics"], "metrics", "metric"),
        narratives=_items(top["narratives"], "narratives", "narrative"),
        confidence_overrides=_items(
            top["confidence_overrides"], "confidence_overrides", "confidence_override"
        ),
    )
    for path, stage in parsed.stages:
        stage["exit_criteria"] = _items(
            stage["exit_criteria"], _join(path, "exit_criteria"), "exit_criterion"
        )
    for path, milestone in parsed.milestones:
        milestone["impacts"] = _items(milestone["impacts"], _join(path, "impacts"), "impact")
        for impact_path, impact in milestone["impacts"]:
            where = _join(impact_path, "staff_group")
            impact["staff_group"] = _read(impact["staff_group"], where, "staff_group")
    for path, person in parsed.stakeholders:
        person["assessments"] = _items(
            person["assessments"], _join(path, "assessments"), "assessment"
        )
        if person["staff_group"] is not None:
            where = _join(path, "staff_group")
            person["staff_group"] = _read(person["staff_group"], where, "staff_group")
    for path, metric in parsed.metrics:
        metric["readings"] = _items(metric["readings"], _join(path, "readings"), "reading")
    _check_references(parsed)
    return parsed


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _check_format(document: Mapping[str, Any]) -> None:
    if "format" not in document:
        raise _refuse(
            "format",
            f'is missing: a programme exchange file starts with "format": "{FORMAT}". '
            "This is not a Change Tracker programme exchange file.",
        )
    if document["format"] != FORMAT:
        raise _refuse(
            "format",
            f'is {document["format"]!r}, not "{FORMAT}": this is not a Change Tracker '
            "programme exchange file.",
        )
    if "version" not in document:
        raise _refuse("version", "is missing: the file must say which version of the format")
    version = document["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _refuse("version", f"must be a whole number from 1, not {version!r}")
    if version > VERSION:
        raise _refuse(
            "version",
            f"the file is version {version} of the exchange format, newer than this Change "
            f"Tracker reads (version {VERSION}). Update Change Tracker, or export the file "
            f"again from one that writes version {VERSION}.",
        )


def _unique(items: list[tuple[str, dict[str, Any]]], key: str, what: str) -> set[str]:
    seen: set[str] = set()
    for path, item in items:
        if item[key] in seen:
            raise _refuse(_join(path, key), f"another {what} in the file has {item[key]!r}")
        seen.add(item[key])
    return seen


def _check_references(parsed: _Parsed) -> None:
    """Every organisation, staff group and stakeholder the file names is defined in it."""
    short_names = _unique(parsed.organisations, "short_name", "organisation")
    _unique(parsed.organisations, "name", "organisation")
    groups: set[tuple[str, str]] = set()
    for path, org in parsed.organisations:
        for index, name in enumerate(org["staff_groups"]):
            if (org["short_name"], name) in groups:
                where = _join(_join(path, "staff_groups"), index)
                raise _refuse(where, f"{name!r} is listed twice")
            groups.add((org["short_name"], name))

    def organisation(short_name: str, path: str) -> None:
        if short_name not in short_names:
            raise _refuse(path, f"names the organisation {short_name!r}, not in organisations")

    def group(ref: Mapping[str, str], path: str) -> None:
        organisation(ref["organisation"], _join(path, "organisation"))
        if (ref["organisation"], ref["name"]) not in groups:
            raise _refuse(
                _join(path, "name"),
                f"names the staff group {ref['name']!r}, not among the staff groups of "
                f"{ref['organisation']} in organisations",
            )

    programme = parsed.programme
    organisation(programme["organisation"], "programme.organisation")
    for index, partner in enumerate(programme["partners"]):
        where = _join("programme.partners", index)
        organisation(partner, where)
        if partner == programme["organisation"]:
            raise _refuse(where, "the owning organisation cannot also be a partner")
        if partner in programme["partners"][:index]:
            raise _refuse(where, f"{partner!r} is listed twice")
    for index, partner in enumerate(programme["data_sharing"]):
        if partner not in programme["partners"]:
            raise _refuse(
                _join("programme.data_sharing", index),
                f"{partner!r} is not among the programme's partners: an agreement to share "
                "its people is with a partner",
            )
    seen_stages: set[str] = set()
    for path, stage in parsed.stages:
        where = _join(path, "stage")
        if stage["stage"] not in {s.value for s in Stage}:
            keys = ", ".join(s.value for s in Stage)
            raise _refuse(where, f"{stage['stage']!r} is not one of the six stages ({keys})")
        if stage["stage"] in seen_stages:
            raise _refuse(where, f"the stage {stage['stage']!r} is in the file twice")
        seen_stages.add(stage["stage"])
    people = _unique(parsed.stakeholders, "name", "stakeholder")

    def person(name: str, path: str) -> None:
        if name not in people:
            raise _refuse(path, f"names {name!r}, who is not among the file's stakeholders")

    for path, person_data in parsed.stakeholders:
        if person_data["staff_group"] is not None:
            group(person_data["staff_group"], _join(path, "staff_group"))
    for path, milestone in parsed.milestones:
        for impact_path, impact in milestone["impacts"]:
            group(impact["staff_group"], _join(impact_path, "staff_group"))
        for index, name in enumerate(milestone["depends_on"]):
            person(name, _join(_join(path, "depends_on"), index))
    for path, link in parsed.influence_links:
        person(link["from"], _join(path, "from"))
        person(link["to"], _join(path, "to"))
    for path, engagement in parsed.engagements:
        for index, name in enumerate(engagement["stakeholders"]):
            person(name, _join(_join(path, "stakeholders"), index))
    _unique(parsed.metrics, "name", "metric")


# --- Import -----------------------------------------------------------------------------------


@contextmanager
def _at(path: str, rename: Mapping[str, str] | None = None) -> Iterator[None]:
    """Refusals by the services, re-raised naming the place in the file (`rename` maps a
    service's field to the file's key)."""
    try:
        yield
    except DomainError as error:
        field = (rename or {}).get(error.field or "", error.field)
        where = _join(path, field) if field else path
        raise type(error)(where, f"{where}: {error.reason}") from None


def _with(item: Mapping[str, Any], *, key: str, value: Any) -> dict[str, Any]:
    """The item's values with one more (a parent's id)."""
    return {**item, key: value}


def _provenance(value: str, words: str, claimed: str, limit: int = 120) -> str:
    """`value`, followed by what the file claimed in brackets (cut to fit `limit` characters):
    the file's word is kept, but never taken as a user of this installation."""
    claimed = str(claimed or "").strip()
    if not claimed:
        return value
    note = f" ({words} {claimed})"
    if len(value) + len(note) > limit:
        note = note[: max(0, limit - len(value) - 2)] + "…)"
    return (value + note)[:limit]


def import_programme(
    *,
    session: Session,
    viewer: Viewer,
    document: Mapping[str, Any] | str,
    as_written: bool = False,
) -> Programme:
    """Create the programme an exchange document (or its JSON text) describes, through the
    services, in the caller's write_session: all of it, or (on any DomainError) nothing.

    Organisations and staff groups are matched by short name and name; an administrator's
    import creates those missing (and administers them from then on), anyone else's is refused
    until they exist. The owner and partners the file names must be organisations the importer
    acts for (Action.exchange_import, decided by tracker.permissions), so nobody can push a
    programme into another organisation's portfolio. Who set an override and who wrote a
    narrative are recorded as the importer, with the file's words kept as provenance, except
    `as_written`: the installation loading its own files (the demo portfolio) keeps them as the
    file says; a person's import never may (ValueError). Refused (DomainError on "code") when a
    programme with the same code exists. Problems with the file name its JSON path, e.g.
    "milestones[3].due_date".
    """
    if as_written and not viewer.system:
        raise ValueError("only the installation's own files are imported as written")
    if not viewer.can_manage:
        raise PermissionDeniedError(None, "Only managers and administrators can import programmes.")
    parsed = _parse(document)
    code = parsed.programme["code"]
    if read.exchange.programme_code_exists(session=session, code=code):
        raise DomainError(
            "code",
            f"A programme with the code {code} already exists here (programme.code in the "
            "file). Nothing was imported.",
        )
    return _Importer(session, viewer, parsed, as_written=as_written).run()


class _Importer:
    def __init__(
        self, session: Session, viewer: Viewer, parsed: _Parsed, *, as_written: bool
    ) -> None:
        self.session = session
        self.viewer = viewer
        self.parsed = parsed
        self.as_written = as_written
        self.organisation_ids: dict[str, int] = {}
        self.group_ids: dict[tuple[str, str], int] = {}
        self.people: dict[str, int] = {}
        self.programme_id = 0

    def run(self) -> Programme:
        self._organisations()
        programme = self._programme()
        self._stakeholders()
        self._milestones()
        self._influence_links()
        self._engagements()
        self._barriers()
        self._metrics()
        self._narratives()
        self._overrides()
        return programme

    # Organisations and staff groups: matched, or created by an administrator.

    def _organisations(self) -> None:
        orgs = self.parsed.organisations
        by_short = read.exchange.organisations_by_short_name(
            session=self.session, short_names=[org["short_name"] for _, org in orgs]
        )
        missing: list[str] = []
        for path, org in orgs:
            found = by_short.get(org["short_name"])
            if found is not None and found.name != org["name"]:
                raise _refuse(
                    _join(path, "name"),
                    f"the organisation {org['short_name']} is called {found.name!r} here, not "
                    f"{org['name']!r}. Correct the file if they are the same body.",
                )
            if found is not None and found.id is not None:
                self.organisation_ids[org["short_name"]] = found.id
            else:
                missing.append(f"{org['name']} ({org['short_name']})")
        existing_groups = read.exchange.staff_groups_of(
            session=self.session, organisation_ids=self.organisation_ids.values()
        )
        short_of = {org_id: short for short, org_id in self.organisation_ids.items()}
        for group in existing_groups:
            if group.id is not None:
                self.group_ids[(short_of[group.organisation_id], group.name)] = group.id
        for _path, org in orgs:
            for name in org["staff_groups"]:
                if org["short_name"] in self.organisation_ids:
                    if (org["short_name"], name) not in self.group_ids:
                        missing.append(f"the staff group {name!r} of {org['short_name']}")
        if missing and self.viewer.role is not Role.admin:
            raise DomainError(
                "organisations",
                "The file needs organisations and staff groups that are not here: "
                f"{'; '.join(missing)}. An administrator can add them, or import the file "
                "to have them created.",
            )
        owner = self.parsed.programme["organisation"]
        for short in [owner, *self.parsed.programme["partners"]]:
            found_id = self.organisation_ids.get(short)
            if found_id is None:
                continue  # created below, by an administrator who then administers it
            if not permissions.allowed(
                self.viewer, Action.exchange_import, permissions.organisations([found_id])
            ):
                role = "belongs to" if short == owner else "is shared with"
                raise PermissionDeniedError(
                    "programme.organisation",
                    f"programme.organisation: the programme {role} {short}, which is not one "
                    "of your organisations, so you cannot import it. Nothing was imported.",
                )
        for path, org in orgs:
            if org["short_name"] not in self.organisation_ids:
                created = self._write(
                    path,
                    organisations.add_organisation,
                    OrganisationCreate,
                    {"name": org["name"], "short_name": org["short_name"]},
                )
                assert created.id is not None
                self.organisation_ids[org["short_name"]] = created.id
                # The importing administrator administers it from now on.
                self.viewer = replace(
                    self.viewer, organisation_ids=self.viewer.organisation_ids | {created.id}
                )
            for index, name in enumerate(org["staff_groups"]):
                if (org["short_name"], name) in self.group_ids:
                    continue
                group = self._write(
                    _join(_join(path, "staff_groups"), index),
                    organisations.create_staff_group,
                    StaffGroupCreate,
                    {"organisation_id": self.organisation_ids[org["short_name"]], "name": name},
                )
                assert group.id is not None
                self.group_ids[(org["short_name"], name)] = group.id

    def _group_id(self, ref: Mapping[str, str] | None) -> int | None:
        return None if ref is None else self.group_ids[(ref["organisation"], ref["name"])]

    # The programme, its stages and exit criteria.

    def _programme(self) -> Programme:
        data = dict(self.parsed.programme)
        partners = data.pop("partners")
        sharing = set(data.pop("data_sharing"))
        data["organisation_id"] = self.organisation_ids[data.pop("organisation")]
        stages: dict[Stage, StagePlan] = {}
        for path, stage in self.parsed.stages:
            fields = {k: v for k, v in stage.items() if k not in ("stage", "exit_criteria")}
            with _at(path):
                # Checked here so that a refusal names the stage rather than the programme.
                records.validated(
                    StageRecordBase, {**fields, "programme_id": 0, "stage": stage["stage"]}
                )
                stages[Stage(stage["stage"])] = records.validated(StagePlan, fields)
        with _at("programme", {"organisation_id": "organisation", "partners": "partners"}):
            programme = programmes.create_programme(
                session=self.session,
                viewer=self.viewer,
                data=records.validated(ProgrammeCreate, data),
                partner_ids=[self.organisation_ids[short] for short in partners],
                sharing_ids=[self.organisation_ids[short] for short in sharing],
                stages=stages,
            )
        assert programme.id is not None
        self.programme_id = programme.id
        for _path, stage in self.parsed.stages:
            record = read.manage.stage_record(
                session=self.session, programme_id=programme.id, stage=stage["stage"]
            )
            assert record.id is not None
            for criterion_path, criterion in stage["exit_criteria"]:
                with _at(criterion_path):
                    added = programmes.add_exit_criterion(
                        session=self.session,
                        viewer=self.viewer,
                        stage_record_id=record.id,
                        text=criterion["text"],
                        met=criterion["met"],
                    )
                    position = criterion["position"]
                    if position is not None and position != added.position:
                        assert added.id is not None
                        programmes.update_exit_criterion(
                            session=self.session,
                            viewer=self.viewer,
                            criterion_id=added.id,
                            data=ExitCriterionUpdate(version=added.version, position=position),
                        )
        return programme

    # Stakeholders and their assessments, so that the current stance is the file's.

    def _stakeholders(self) -> None:
        for path, person in self.parsed.stakeholders:
            data = {k: v for k, v in person.items() if k not in ("assessments", "staff_group")}
            data["programme_id"] = self.programme_id
            data["staff_group_id"] = self._group_id(person["staff_group"])
            history = person["assessments"]
            first = history[0][1] if history else None
            if history:
                with _at(history[0][0]):
                    records.validated(AssessmentBase, {**history[0][1], "stakeholder_id": 0})
            created = self._write(
                path,
                stakeholders.create_stakeholder,
                StakeholderCreate,
                data,
                rename={"staff_group_id": "staff_group"},
                assessed_by=first["assessed_by"] if first else "",
                first_assessment=first,
            )
            assert created.id is not None
            self.people[person["name"]] = created.id
            if not history:
                self._drop_automatic_assessment(created.id)
            for assessment_path, assessment in history[1:]:
                self._write(
                    assessment_path,
                    stakeholders.record_assessment,
                    AssessmentCreate,
                    {**assessment, "stakeholder_id": created.id},
                )
            # An assessment's empty influence or interest leaves the stakeholder's own, and a
            # stakeholder's details can change without an assessment: make them the file's.
            wanted = {key: person[key] for key in ("stance", "influence", "interest")}
            if any(getattr(created, key) != value for key, value in wanted.items()):
                with _at(path):
                    records.update(
                        self.session,
                        Stakeholder,
                        StakeholderBase,
                        created.id,
                        expected_version=created.version,
                        changes=wanted,
                    )

    def _drop_automatic_assessment(self, stakeholder_id: int) -> None:
        # create_stakeholder always records a first assessment; the file has none.
        for assessment in read.exchange.assessments_of(
            session=self.session, stakeholder_id=stakeholder_id
        ):
            self.session.delete(assessment)
        records.flush(self.session, Assessment)

    def _milestones(self) -> None:
        for path, milestone in self.parsed.milestones:
            data = {k: v for k, v in milestone.items() if k not in ("impacts", "depends_on")}
            created = self._write(
                path,
                milestones.create_milestone,
                MilestoneCreate,
                {**data, "programme_id": self.programme_id},
            )
            assert created.id is not None
            impacts = {
                self.group_ids[
                    (impact["staff_group"]["organisation"], impact["staff_group"]["name"])
                ]: impact["impact"]
                for _impact_path, impact in milestone["impacts"]
            }
            if impacts:
                with _at(_join(path, "impacts")):
                    milestones.set_impacts(
                        session=self.session,
                        viewer=self.viewer,
                        milestone_id=created.id,
                        impacts=impacts,
                    )
            if milestone["depends_on"]:
                with _at(_join(path, "depends_on")):
                    milestones.set_dependencies(
                        session=self.session,
                        viewer=self.viewer,
                        milestone_id=created.id,
                        stakeholder_ids=[self.people[name] for name in milestone["depends_on"]],
                    )

    def _influence_links(self) -> None:
        for path, link in self.parsed.influence_links:
            self._write(
                path,
                stakeholders.add_influence_link,
                InfluenceLinkCreate,
                {
                    "from_stakeholder_id": self.people[link["from"]],
                    "to_stakeholder_id": self.people[link["to"]],
                    "strength": link["strength"],
                },
                rename={"from_stakeholder_id": "from", "to_stakeholder_id": "to"},
            )

    def _engagements(self) -> None:
        for path, engagement in self.parsed.engagements:
            data = {k: v for k, v in engagement.items() if k != "stakeholders"}
            data["programme_id"] = self.programme_id
            attendees = [self.people[name] for name in engagement["stakeholders"]]
            if attendees:
                self._write(
                    path,
                    engagements.log_engagement,
                    EngagementCreate,
                    data,
                    stakeholder_ids=attendees,
                )
            else:
                with _at(path):
                    # Its stakeholders were deleted since: log_engagement would refuse it.
                    records.create(self.session, Engagement, EngagementBase, data)

    def _barriers(self) -> None:
        self._write_each(
            self.parsed.barriers,
            barriers.create_barrier,
            BarrierCreate,
            lambda barrier: {**barrier, "programme_id": self.programme_id},
        )

    def _metrics(self) -> None:
        defined = self._write_each(
            self.parsed.metrics,
            metrics.define_metric,
            MetricCreate,
            lambda metric: {
                **{k: v for k, v in metric.items() if k != "readings"},
                "programme_id": self.programme_id,
            },
        )
        for (_path, metric), created in zip(self.parsed.metrics, defined, strict=True):
            self._write_each(
                metric["readings"],
                metrics.record_reading,
                MetricReadingCreate,
                partial(_with, key="metric_id", value=created.id),
            )

    def _narratives(self) -> None:
        self._write_each(
            self.parsed.narratives,
            narratives.write_narrative,
            NarrativeCreate,
            lambda narrative: {
                **narrative,
                "author": self._claimed(narrative["author"], "written by"),
                "programme_id": self.programme_id,
            },
        )

    def _write_each(
        self,
        items: list[tuple[str, dict[str, Any]]],
        write: Callable[..., Any],
        model: type[SQLModel],
        values: Callable[[dict[str, Any]], Mapping[str, Any]],
    ) -> list[Any]:
        """Each of the file's `items` written by `write` (see _write) with `values(item)`, in
        file order; what each write returned."""
        return [self._write(path, write, model, values(item)) for path, item in items]

    def _write(
        self,
        path: str,
        write: Callable[..., Any],
        model: type[SQLModel],
        values: Mapping[str, Any],
        *,
        rename: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> Any:
        """`write` (a service) called with the values checked as `model`, and `extra`; a
        refusal names `path` in the file (`rename`: a service's field -> the file's key)."""
        with _at(path, rename):
            return write(
                session=self.session,
                viewer=self.viewer,
                data=records.validated(model, values),
                **extra,
            )

    def _claimed(self, claimed: str, words: str) -> str:
        """Who the file says did something: as written, or the importer with the claim kept."""
        return claimed if self.as_written else _provenance(self.viewer.name, words, claimed)

    def _overrides(self) -> None:
        # override_confidence stamps the time now; the history keeps when each was set, so the
        # rows are written through the shared write path (validated and audited) instead.
        # Who set it is the importer; the file's claim is kept as words in the reason, never
        # trusted as a user.
        permissions.require_programme(
            self.session, self.viewer, Action.confidence_override, self.programme_id
        )
        for path, override in self.parsed.confidence_overrides:
            with _at(path):
                records.create(
                    self.session,
                    ConfidenceOverride,
                    ConfidenceOverrideBase,
                    {
                        **override,
                        "reason": override["reason"]
                        if self.as_written
                        else _provenance(
                            override["reason"],
                            "imported; the file says set by",
                            override["set_by"],
                            limit=1000,
                        ),
                        "set_by": override["set_by"] if self.as_written else self.viewer.email,
                        "programme_id": self.programme_id,
                    },
                )
