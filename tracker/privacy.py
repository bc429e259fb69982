"""Data protection (DOMAIN.md "Data protection"): everything held about one stakeholder, exported
for a subject access request (RELIABILITY.md #11); erasure of a stakeholder in one action, audit
copies included (#10, #21); and retention: stakeholders of programmes closed for longer than the
retention period are anonymised (#12). docs/data-protection.md says what is kept where.

Where a person can appear is one map, WHERE_A_PERSON_APPEARS: each table of programme data and
how its rows reach their programme; the free-text columns are read from the models. One finder
(`_mentions`) looks, in the stakeholder's own programme only, for every name they have had (whole,
and each part of 3 letters or more, as whole words, in any case), their roles and notes, in every
free-text column and in the audit copies of those records. Erasure rewrites what it finds; a
subject access export lists the same passages, so the two cannot disagree.

Erasure anonymises rather than deletes: the stakeholder keeps their id, numbers (stance,
influence, interest, desired stance, staff group) and assessments, so counts, the stance index
and stance trends stay as they were; their name becomes "Erased stakeholder <n>" and role, notes
and relationship owner are cleared. What the finder found is replaced by "[erased]", and every
audit copy of their own record is redacted; audit events are changed only by the one redaction
the database allows (migration 0003). The writes use Core statements rather than the ORM, so the
audit listener does not copy the personal data being removed into new events: the log records
only that an erasure happened (one 'erase' event, with no personal data). After the transaction
commits, `clean_up_storage` rewrites the storage of the tables that held the person
(`tracker.db.compact`) and refreshes their planner statistics, so neither keeps an old copy
(`erase` and `apply_retention` do both). A subject access file is recorded in the audit trail as
one 'subject_access' event (who, about which stakeholder; no personal data).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from tracker import audit, clock, db, permissions
from tracker.access import Viewer
from tracker.errors import DomainError, NotFoundError, PermissionDeniedError
from tracker.io.exports import neutralise
from tracker.models import (
    Assessment,
    AuditAction,
    Engagement,
    EngagementStakeholder,
    InfluenceLink,
    Milestone,
    MilestoneDependency,
    Organisation,
    Programme,
    ProgrammeStatus,
    StaffGroup,
    Stakeholder,
    Stance,
)
from tracker.ownership import PARENT
from tracker.services.settings import setting_value, store_setting

ERASED = "[erased]"
ANOTHER_STAKEHOLDER = "another stakeholder"
# The stakeholder's fields that are about the person; everything else is numbers and keys.
PERSONAL_FIELDS = ("name", "role", "notes", "relationship_owner")
_ERASED_NAME = re.compile(r"Erased stakeholder \d+")

RETENTION_SETTING = "retention_months"
DEFAULT_RETENTION_MONTHS = 24
RETENTION_MONTHS_MIN = 1
RETENTION_MONTHS_MAX = 240

# --- Where a person can appear ------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """How a row of one table belongs to a programme: `column` holds the programme's id, or (with
    `parent`) the id of a row of `parent`, which belongs to the programme in its own way."""

    column: str
    parent: str | None = None


# Every table of programme data in which a person can be named, and how its rows reach their
# programme. The map decides only the scope (which programme's records an erasure or a subject
# access request looks at); which columns are free text is read from the models
# (`text_columns`), so a new text column is covered without touching the map, and a new table
# with text must be added here or to _NOT_PROGRAMME_DATA (tests/test_privacy.py fails until it
# is). The audit copies (before/after) of these records are searched too: those about the same
# programme's records, whether the record still exists or not.
def _reach(table: str) -> Reach:
    # How a record reaches its programme is tracker.ownership's map, shared with the permission
    # resolver and the audit trail.
    if table == "programme":
        return Reach("id")
    if table in PARENT:
        parent, column = PARENT[table]
        return Reach(column, parent)
    return Reach("programme_id")


WHERE_A_PERSON_APPEARS: Mapping[str, Reach] = MappingProxyType(
    {
        table: _reach(table)
        for table in (
            "programme",
            "stakeholder",  # other stakeholders' notes, relationship owner
            "assessment",
            "engagement",
            "narrative",
            "barrier",
            "milestone",
            "stage_record",
            "exit_criterion",
            "metric",
            "metric_reading",
            "confidence_override",
        )
    }
)
# Tables whose text is not programme data (people who sign in, organisations and their groups,
# settings, sign-in bookkeeping): an erasure of a stakeholder does not rewrite them or their
# audit copies.
_NOT_PROGRAMME_DATA = frozenset(
    {
        "app_user",
        "organisation",
        "staff_group",
        "user_organisation",
        "import_mapping",
        "setting",
        "audit_event",
        "data_version",
        "sign_in_attempt",
        "user_session",
    }
)
# Columns never rewritten when the erased person's name occurs in them: another stakeholder's
# own name and role are that person's identity, and a programme code is a key.
_KEPT = {"stakeholder": frozenset({"name", "role"}), "programme": frozenset({"code"})}
# Columns emptied rather than partly replaced when they name the erased person.
_CLEARED = {"assessment": frozenset({"assessed_by"})}
# Audit events of these record types can be about one stakeholder (besides their own record).
_LINKS = ("assessment", "influence_link", "engagement_stakeholder", "milestone_dependency")
_BATCH = 1000
# Parts of a name that are titles, not the person: never looked for on their own.
_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lord", "lady", "cllr", "rev"}
)
# How much text around a match a subject access passage shows, each side (in characters).
_CONTEXT = 80


def text_columns(table_name: str) -> tuple[str, ...]:
    """The free-text columns of a table that an erasure may rewrite, read from the models:
    every text column except the ones kept (another stakeholder's name and role, a programme's
    code)."""
    kept = _KEPT.get(table_name, frozenset())
    return tuple(
        column.name
        for column in _table(table_name).columns
        if _is_text(column) and column.name not in kept
    )


def name_terms(name: str) -> list[str]:
    """What is looked for of one name: the whole name, then each part of it with 3 letters or
    more (split at spaces and hyphens, titles such as "Mrs" left out). "Priya Shah" gives
    ["Priya Shah", "Priya", "Shah"]; "Al Li" only ["Al Li"]."""
    whole = " ".join(name.split())
    if len(whole) < 2:
        return []
    terms = [whole]
    for word in whole.split(" "):
        for piece in (word, *word.split("-")):
            part = re.sub(r"^\W+|\W+$", "", piece)
            letters = sum(character.isalpha() for character in part)
            if letters >= 3 and part.casefold() not in _TITLES and part not in terms:
                terms.append(part)
    return terms


def _table(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


def _plain(value: Any) -> Any:
    """A JSON-ready value: enums by value, dates in ISO form, decimals as text."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _dump(values: Mapping[str, Any]) -> str:
    # The same form tracker.audit writes, so an unchanged copy dumps to the same text.
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def _loads(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def is_erased_name(name: str) -> bool:
    """True for the name an erasure gives a stakeholder ("Erased stakeholder 3")."""
    return _ERASED_NAME.fullmatch(name) is not None


def _personal_values(values: Mapping[str, Any]) -> dict[str, str]:
    """The personal fields of a stakeholder's column values that still hold something."""
    found: dict[str, str] = {}
    for name in PERSONAL_FIELDS:
        value = values.get(name)
        if not isinstance(value, str) or not value.strip() or value == ERASED:
            continue
        if name == "name" and is_erased_name(value):
            continue
        found[name] = value
    return found


def _matcher(needles: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for all needles, longest first, each matched as whole words
    (so "Shah" does not match in "Shahid"; Python's \\w knows every alphabet) and with any run
    of white space where the needle has a space."""
    parts = []
    for needle in sorted(set(needles), key=lambda n: (-len(n), n)):
        left = r"(?<!\w)" if re.match(r"\w", needle[0]) else ""
        right = r"(?!\w)" if re.match(r"\w", needle[-1]) else ""
        body = r"\s+".join(re.escape(word) for word in needle.split())
        parts.append(f"{left}{body}{right}")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _is_text(column: sa.Column[Any]) -> bool:
    """A column of free text (not an enum's value)."""
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, sa.String) and not isinstance(kind, sa.Enum)


# --- What is held about a stakeholder -----------------------------------------------------------


def _stakeholder_row(connection: sa.Connection, stakeholder_id: int) -> dict[str, Any] | None:
    table = _table("stakeholder")
    row = connection.execute(sa.select(table).where(table.c.id == stakeholder_id)).mappings()
    found = row.first()
    return dict(found) if found is not None else None


def _record_history(connection: sa.Connection, stakeholder_id: int) -> list[dict[str, Any]]:
    """Every before/after copy of the stakeholder's own record in the audit trail, oldest first."""
    events = _table("audit_event")
    copies: list[dict[str, Any]] = []
    query = (
        sa.select(events.c.before, events.c.after)
        .where(events.c.record_type == "stakeholder", events.c.record_id == str(stakeholder_id))
        .order_by(events.c.id)
    )
    for before, after in connection.execute(query):
        copies.extend(copy for copy in (_loads(before), _loads(after)) if copy)
    return copies


def _programme_of(connection: sa.Connection, stakeholder_id: int) -> int | None:
    """The stakeholder's programme: from their record, or (once deleted) its last audit copy."""
    row = _stakeholder_row(connection, stakeholder_id)
    if row is not None:
        return int(row["programme_id"])
    for copy in reversed(_record_history(connection, stakeholder_id)):
        if isinstance(copy.get("programme_id"), int):
            return int(copy["programme_id"])
    return None


def _holds_personal_data(connection: sa.Connection, stakeholder_id: int) -> bool:
    """True while the stakeholder's record, or any audit copy of it, still holds a name, role,
    notes or relationship owner (False once erased, unless someone wrote them in again)."""
    row = _stakeholder_row(connection, stakeholder_id)
    if row is not None and _personal_values(row):
        return True
    return any(_personal_values(copy) for copy in _record_history(connection, stakeholder_id))


def _needles(
    connection: sa.Connection, stakeholder_id: int, copies: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The texts to look for: every name the stakeholder has had and each part of it
    (`name_terms`), and every notes and role they have had. A role another stakeholder also
    holds ("Head of service") does not identify them and is not looked for."""
    names: set[str] = set()
    roles: set[str] = set()
    notes: set[str] = set()
    for copy in copies:
        values = _personal_values(copy)
        names.update(name_terms(values.get("name", "")))
        if len(values.get("role", "").strip()) >= 3:
            roles.add(values["role"].strip())
        if len(values.get("notes", "").strip()) >= 3:
            notes.add(values["notes"].strip())
    table = _table("stakeholder")
    shared = {
        str(role).casefold()
        for (role,) in connection.execute(
            sa.select(table.c.role).where(table.c.id != stakeholder_id).distinct()
        )
    }
    roles = {role for role in roles if role.casefold() not in shared}
    return sorted(names | roles | notes)


# --- Finding the person: one finder for erasure and subject access -----------------------------


@dataclass(frozen=True)
class Mention:
    """One free-text field that names the person, with its whole text: in a record of programme
    data, or (with `audit_event_id` and `copy`, "before" or "after") in an audit copy of one."""

    record_type: str
    record_id: str
    field: str
    text: str
    audit_event_id: int | None = None
    copy: str | None = None


@dataclass(frozen=True)
class _Search:
    """What to look for about one stakeholder, and where (their programme)."""

    stakeholder_id: int
    programme_id: int
    pattern: re.Pattern[str]
    # For a quick look at an audit event's raw JSON before it is parsed: the longest word of
    # each needle, as JSON writes it, case-folded (a needle can only match where it occurs).
    words: tuple[str, ...]


def _search(
    connection: sa.Connection,
    stakeholder_id: int,
    programme_id: int,
    copies: Sequence[Mapping[str, Any]],
) -> _Search | None:
    """The search for a stakeholder (`copies`: their record and its audit copies); None when
    nothing personal is left to look for."""
    needles = _needles(connection, stakeholder_id, copies)
    pattern = _matcher(needles)
    if pattern is None:
        return None
    words = {
        json.dumps(max(needle.split(), key=len), ensure_ascii=False)[1:-1].casefold()
        for needle in needles
    }
    return _Search(stakeholder_id, programme_id, pattern, tuple(sorted(words)))


def _in_programme(table_name: str, programme_id: int) -> sa.ColumnElement[bool]:
    """Rows of the table that belong to the programme (WHERE_A_PERSON_APPEARS)."""
    reach = WHERE_A_PERSON_APPEARS[table_name]
    table = _table(table_name)
    if reach.parent is None:
        return table.c[reach.column] == programme_id
    parent = _table(reach.parent)
    belongs = sa.select(parent.c.id).where(_in_programme(reach.parent, programme_id))
    return table.c[reach.column].in_(belongs)


class _AuditScope:
    """Whether an audit copy is about a record of the programme, including records deleted
    since: their ids are known from their own audit copies."""

    def __init__(self, connection: sa.Connection, programme_id: int) -> None:
        self._connection = connection
        self._programme_id = programme_id
        self._ids: dict[str, frozenset[int]] = {}

    def reaches(self, record_type: str, copy: Mapping[str, Any]) -> bool:
        reach = WHERE_A_PERSON_APPEARS[record_type]
        value = copy.get(reach.column)
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        if reach.parent is None:
            return value == self._programme_id
        return value in self._ids_of(reach.parent)

    def _ids_of(self, table_name: str) -> frozenset[int]:
        """Ids of the table's rows that belong to the programme, now or before they were
        deleted."""
        if table_name not in self._ids:
            table = _table(table_name)
            current = sa.select(table.c.id).where(_in_programme(table_name, self._programme_id))
            ids = {int(found) for (found,) in self._connection.execute(current)}
            events = _table("audit_event")
            query = sa.select(events.c.record_id, events.c.before, events.c.after).where(
                events.c.record_type == table_name
            )
            for record_id, before, after in self._connection.execute(query):
                if str(record_id).isdigit() and any(
                    self.reaches(table_name, copy) for copy in (_loads(before), _loads(after))
                ):
                    ids.add(int(record_id))
            self._ids[table_name] = frozenset(ids)
        return self._ids[table_name]


def _mentions_in_records(connection: sa.Connection, search: _Search) -> list[Mention]:
    """Every text of the programme's records that names the person (not their own record: an
    erasure clears it whole, and a subject access export shows it whole)."""
    found: list[Mention] = []
    for table_name in WHERE_A_PERSON_APPEARS:
        names = text_columns(table_name)
        if not names:
            continue
        table = _table(table_name)
        query = (
            sa.select(table.c.id, *(table.c[name] for name in names))
            .where(_in_programme(table_name, search.programme_id))
            .order_by(table.c.id)
        )
        if table_name == "stakeholder":
            query = query.where(table.c.id != search.stakeholder_id)
        for row in connection.execute(query).mappings():
            for name in names:
                text = row[name]
                if isinstance(text, str) and text and search.pattern.search(text):
                    found.append(Mention(table_name, str(row["id"]), name, text))
    return found


def _own_events(stakeholder_id: int) -> sa.ColumnElement[bool]:
    events = _table("audit_event")
    return sa.and_(events.c.record_type == "stakeholder", events.c.record_id == str(stakeholder_id))


def _mentions_in_audit(connection: sa.Connection, search: _Search) -> list[Mention]:
    """Every text of an audit copy of the programme's records that names the person (not the
    copies of their own record: an erasure redacts those whole)."""
    events = _table("audit_event")
    scope = _AuditScope(connection, search.programme_id)
    found: list[Mention] = []
    last = 0
    while True:
        batch = connection.execute(
            sa.select(
                events.c.id,
                events.c.record_type,
                events.c.record_id,
                events.c.before,
                events.c.after,
            )
            .where(
                events.c.id > last,
                events.c.record_type.in_(list(WHERE_A_PERSON_APPEARS)),
                sa.not_(_own_events(search.stakeholder_id)),
            )
            .order_by(events.c.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            return found
        for event_id, record_type, record_id, before, after in batch:
            last = event_id
            raw = f"{before or ''}\n{after or ''}".casefold()
            if not any(word in raw for word in search.words):
                continue
            copies = {"before": _loads(before), "after": _loads(after)}
            if not any(scope.reaches(record_type, copy) for copy in copies.values()):
                continue
            kept = _KEPT.get(record_type, frozenset())
            for side, copy in copies.items():
                for name, value in copy.items():
                    if name in kept or not isinstance(value, str) or not value:
                        continue
                    if search.pattern.search(value):
                        found.append(
                            Mention(record_type, str(record_id), name, value, event_id, side)
                        )


def _mentions(connection: sa.Connection, search: _Search) -> list[Mention]:
    """Where the person is named, outside their own record and its audit copies: what an
    erasure rewrites, and what a subject access export lists as passages."""
    return [*_mentions_in_records(connection, search), *_mentions_in_audit(connection, search)]


def require_person_data(session: Session, viewer: Viewer, programme_id: int) -> Programme:
    """The programme if the viewer may export or erase its stakeholders (the permission
    resolver's stakeholder_erase: a manager or administrator of the owning organisation, or of
    a partner under a recorded data-sharing agreement); otherwise PermissionDeniedError."""
    return permissions.require_programme(
        session, viewer, permissions.Action.stakeholder_erase, programme_id
    )


# --- Erasure ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure changed. `name` is the stakeholder's new name (None when their record
    had already been deleted and only audit copies were left); `records_changed` counts the
    rows rewritten per table; `audit_events_redacted` the audit events whose copies were
    redacted, and `audit_record_types` the record types those copies were of; `audit_event_id`
    the one 'erase' event that records it."""

    stakeholder_id: int
    programme_id: int
    name: str | None
    records_changed: dict[str, int] = field(default_factory=dict)
    audit_events_redacted: int = 0
    audit_event_id: int | None = None
    audit_record_types: tuple[str, ...] = ()
    # Set by `erase`: False when SQLite could not truncate its WAL yet (another reader).
    compacted: bool | None = None

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables that held the person (to compact and re-analyse afterwards): those whose
        rows were rewritten, those whose audit copies were redacted (a deleted row may linger
        in their storage), and the audit trail."""
        known = SQLModel.metadata.tables
        held = {*self.records_changed, *self.audit_record_types, "audit_event"}
        return tuple(sorted(name for name in held if name in known))

    def describe(self) -> str:
        changed = sum(self.records_changed.values())
        who = f"now '{self.name}'" if self.name else "their record had been deleted"
        late = (
            " The database file still holds old pages until its next checkpoint."
            if self.compacted is False
            else ""
        )
        return (
            f"Stakeholder {self.stakeholder_id} erased ({who}): {changed} "
            f"{'record' if changed == 1 else 'records'} rewritten, "
            f"{self.audit_events_redacted} audit "
            f"{'event' if self.audit_events_redacted == 1 else 'events'} redacted.{late}"
        )


def _free_erased_name(connection: sa.Connection, programme_id: int) -> str:
    table = _table("stakeholder")
    taken = {
        str(name)
        for (name,) in connection.execute(
            sa.select(table.c.name).where(table.c.programme_id == programme_id)
        )
    }
    number = 1
    while f"Erased stakeholder {number}" in taken:
        number += 1
    return f"Erased stakeholder {number}"


def _scrub_text(value: str, pattern: re.Pattern[str], limit: int | None) -> str:
    scrubbed = pattern.sub(ERASED, value)
    return scrubbed[:limit] if limit is not None else scrubbed


def _erased_value(
    record_type: str, name: str, text: str, pattern: re.Pattern[str], *, in_audit: bool
) -> str:
    """What an erasure writes instead of a text that names the person: every match replaced by
    "[erased]" (cut to the column's length), or, for a column that is cleared, nothing (in an
    audit copy "[erased]")."""
    if name in _CLEARED.get(record_type, frozenset()):
        return ERASED if in_audit else ""
    column = _table(record_type).c.get(name)
    limit = getattr(column.type, "length", None) if column is not None else None
    return _scrub_text(text, pattern, None if in_audit else limit)


def _rewrite_records(
    connection: sa.Connection, mentions: Sequence[Mention], pattern: re.Pattern[str]
) -> Counter[str]:
    """Rewrite the records the mentions are in; bump versions, so a form opened before the
    erasure cannot save the old text back."""
    changes: dict[tuple[str, str], dict[str, Any]] = {}
    for mention in mentions:
        if mention.audit_event_id is not None:
            continue
        value = _erased_value(
            mention.record_type, mention.field, mention.text, pattern, in_audit=False
        )
        changes.setdefault((mention.record_type, mention.record_id), {})[mention.field] = value
    changed: Counter[str] = Counter()
    for (table_name, record_id), values in changes.items():
        table = _table(table_name)
        if "version" in table.c:
            values["version"] = table.c.version + 1
        connection.execute(sa.update(table).where(table.c.id == int(record_id)).values(values))
        changed[table_name] += 1
    return changed


def _redacted_own_copy(text: str | None) -> str | None:
    """An audit copy of the erased person's own record with their personal data replaced by
    "[erased]"."""
    if text is None:
        return None
    values = _loads(text)
    for name in _personal_values(values):
        values[name] = ERASED
    return _dump(values)


def _redacted_copy(
    text: str | None, record_type: str, fields: set[str], pattern: re.Pattern[str]
) -> str | None:
    """An audit copy with the person's name replaced by "[erased]" in `fields`."""
    if text is None or not fields:
        return text
    values = _loads(text)
    for name in fields:
        value = values.get(name)
        if isinstance(value, str):
            values[name] = _erased_value(record_type, name, value, pattern, in_audit=True)
    return _dump(values)


def _redact_audit(
    connection: sa.Connection,
    stakeholder_id: int,
    mentions: Sequence[Mention],
    pattern: re.Pattern[str] | None,
) -> tuple[int, set[str]]:
    """Redact every audit copy of the stakeholder's record, and the audit copies the mentions
    are in. Returns how many events changed, and the record types they were about."""
    events = _table("audit_event")
    wanted: dict[int, dict[str, set[str]]] = {}
    for mention in mentions:
        if mention.audit_event_id is not None and mention.copy is not None:
            sides = wanted.setdefault(mention.audit_event_id, {"before": set(), "after": set()})
            sides[mention.copy].add(mention.field)
    updates: list[dict[str, Any]] = []
    types: set[str] = set()
    own = connection.execute(
        sa.select(events.c.id, events.c.before, events.c.after).where(_own_events(stakeholder_id))
    )
    for event_id, before, after in own:
        new_before, new_after = _redacted_own_copy(before), _redacted_own_copy(after)
        if new_before != before or new_after != after:
            updates.append({"event_id": event_id, "new_before": new_before, "new_after": new_after})
            types.add("stakeholder")
    ids = sorted(wanted)
    for start in range(0, len(ids), _BATCH):
        batch = connection.execute(
            sa.select(events.c.id, events.c.record_type, events.c.before, events.c.after).where(
                events.c.id.in_(ids[start : start + _BATCH])
            )
        )
        for event_id, record_type, before, after in batch:
            assert pattern is not None  # there are mentions only where there is a pattern
            sides = wanted[event_id]
            new_before = _redacted_copy(before, record_type, sides["before"], pattern)
            new_after = _redacted_copy(after, record_type, sides["after"], pattern)
            if new_before != before or new_after != after:
                updates.append(
                    {"event_id": event_id, "new_before": new_before, "new_after": new_after}
                )
                types.add(str(record_type))
    if updates:
        # The one change to an audit event the database allows (migration 0003).
        connection.execute(
            sa.update(events)
            .where(events.c.id == sa.bindparam("event_id"))
            .values(
                before=sa.bindparam("new_before"), after=sa.bindparam("new_after"), redacted=True
            ),
            updates,
        )
    return len(updates), types


def _write_event(
    session: Session,
    *,
    action: AuditAction,
    stakeholder_id: int,
    programme_id: int,
    details: Mapping[str, Any],
) -> int:
    """Write one audit event by hand (an erasure, a subject access export) about a stakeholder,
    by the session's actor; `details` must hold no personal data."""
    events = _table("audit_event")
    values: dict[str, Any] = {
        "at": clock.now(),
        "actor": audit.actor_of(session),
        "action": action,
        "record_type": "stakeholder",
        "record_id": str(stakeholder_id),
        "before": None,
        "after": _dump(details),
        "redacted": False,
    }
    if "programme_id" in events.c:
        # Whose event it is, where the audit trail records that (so an organisation's
        # administrators see it).
        values["programme_id"] = programme_id
    audit.mark_changed(session)
    event_id = (
        session.connection()
        .execute(sa.insert(events).values(values).returning(events.c.id))
        .scalar_one()
    )
    return int(event_id)


def _anonymise(session: Session, stakeholder_id: int) -> ErasureReport | None:
    """Erase one stakeholder in the session's transaction (see the module's docstring); None
    when nothing personal is left to erase. The caller has checked who may do it."""
    session.flush()
    connection = session.connection()
    row = _stakeholder_row(connection, stakeholder_id)
    copies = _record_history(connection, stakeholder_id)
    programme_id = _programme_of(connection, stakeholder_id)
    if programme_id is None:
        raise NotFoundError(None, "That stakeholder does not exist.")
    if not _holds_personal_data(connection, stakeholder_id):
        return None
    search = _search(connection, stakeholder_id, programme_id, [*([row] if row else []), *copies])
    # Found before anything is rewritten, so the search sees what a subject access export sees.
    mentions = _mentions(connection, search) if search is not None else []
    changed: Counter[str] = Counter()
    name: str | None = None
    if row is not None:
        name = row["name"] if is_erased_name(row["name"]) else None
        name = name or _free_erased_name(connection, programme_id)
        table = _table("stakeholder")
        connection.execute(
            sa.update(table)
            .where(table.c.id == stakeholder_id)
            .values(
                name=name, role="", notes="", relationship_owner="", version=table.c.version + 1
            )
        )
        changed["stakeholder"] += 1
    pattern = search.pattern if search is not None else None
    if pattern is not None:
        changed.update(_rewrite_records(connection, mentions, pattern))
    redacted, record_types = _redact_audit(connection, stakeholder_id, mentions, pattern)
    details = {
        "programme_id": programme_id,
        "records_changed": dict(sorted(changed.items())),
        "audit_events_redacted": redacted,
    }
    event_id = _write_event(
        session,
        action=AuditAction.erase,
        stakeholder_id=stakeholder_id,
        programme_id=programme_id,
        details=details,
    )
    # Objects this session loaded earlier hold the old values: read them afresh.
    session.expire_all()
    return ErasureReport(
        stakeholder_id=stakeholder_id,
        programme_id=programme_id,
        name=name,
        records_changed=dict(sorted(changed.items())),
        audit_events_redacted=redacted,
        audit_event_id=event_id,
        audit_record_types=tuple(sorted(record_types)),
    )


def erase_stakeholder(*, session: Session, viewer: Viewer, stakeholder_id: int) -> ErasureReport:
    """Right to erasure (RELIABILITY.md #10, #21), in the session's transaction: anonymise the
    stakeholder, replace their name (whole, and each part), role and notes in the programme's
    data and its audit copies, and record one 'erase' audit event. A stakeholder whose record
    was deleted can still be erased (their audit copies). Only managers and administrators of
    the programme (`require_person_data`). Call `clean_up_storage` after the commit (or use
    `erase`)."""
    if not viewer.can_manage:
        raise PermissionDeniedError(
            None, "Only managers and administrators can erase a stakeholder."
        )
    programme_id = _programme_of(session.connection(), stakeholder_id)
    if programme_id is None:
        raise NotFoundError(None, "That stakeholder does not exist.")
    require_person_data(session, viewer, programme_id)
    report = _anonymise(session, stakeholder_id)
    if report is None:
        raise DomainError(
            None, "This stakeholder has already been erased: nothing about them is left."
        )
    return report


def _reanalyse(engine: Engine, tables: Iterable[str]) -> None:
    """Refresh the planner statistics of `tables`, which keep sample values of each column
    (PostgreSQL's pg_stats: most common values, histogram bounds), so they forget the erased
    values. SQLite's statistics (sqlite_stat1) hold only counts; only a build with STAT4 keeps
    sample values (sqlite_stat4), and then it is re-analysed too."""
    names = [name for name in tables if name in SQLModel.metadata.tables]
    if not names:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if db.is_sqlite(engine):
            stat4 = connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat4'"
            ).first()
            if stat4 is None:
                return
        for name in names:
            connection.exec_driver_sql(f'ANALYZE "{name}"')


def clean_up_storage(engine: Engine, tables: Iterable[str]) -> bool:
    """After an erasure (or a retention run) has committed: rewrite the storage of `tables` so
    it keeps no old copy of the erased values (`tracker.db.compact`: SQLite checkpoints its WAL
    and VACUUMs; PostgreSQL VACUUM FULL), then refresh their planner statistics. Returns False
    when SQLite could not truncate its WAL yet (another connection was reading)."""
    names = tuple(tables)
    compacted = db.compact(engine, names)
    _reanalyse(engine, names)
    return compacted


def erase(engine: Engine, *, viewer: Viewer, stakeholder_id: int) -> ErasureReport:
    """erase_stakeholder in its own transaction by the viewer, then `clean_up_storage`, so
    neither the database files nor the planner statistics keep an old copy."""
    with db.write_session(engine, actor=viewer.email) as session:
        report = erase_stakeholder(session=session, viewer=viewer, stakeholder_id=stakeholder_id)
    return replace(report, compacted=clean_up_storage(engine, report.tables))


# --- Retention ----------------------------------------------------------------------------------


def retention_months(*, session: Session) -> int:
    """The retention period in months (DEFAULT_RETENTION_MONTHS until an administrator sets
    one)."""
    value = setting_value(session, RETENTION_SETTING)
    try:
        return DEFAULT_RETENTION_MONTHS if value is None else int(value)
    except ValueError:
        return DEFAULT_RETENTION_MONTHS


def _check_months(months: int) -> int:
    if isinstance(months, bool) or not isinstance(months, int):
        raise DomainError("months", "must be a whole number of months")
    if not RETENTION_MONTHS_MIN <= months <= RETENTION_MONTHS_MAX:
        raise DomainError(
            "months", f"must be between {RETENTION_MONTHS_MIN} and {RETENTION_MONTHS_MAX}"
        )
    return months


def set_retention_months(*, session: Session, viewer: Viewer, months: int) -> int:
    """Set the retention period; returns it. It applies to every organisation, so only an
    administrator of every organisation may (Action.installation_administer)."""
    permissions.require(
        viewer, permissions.Action.installation_administer, permissions.installation(session)
    )
    store_setting(session, RETENTION_SETTING, str(_check_months(months)))
    return months


def retention_cutoff(today: dt.date, months: int) -> dt.date:
    """The date `months` months before `today` (the last day of the month when shorter):
    programmes closed before it are past retention."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(today.day, last_day))


@dataclass(frozen=True)
class RetentionReport:
    """A retention run: the programmes closed before `cutoff`, the stakeholders anonymised (in a
    dry run: those that would be), and each erasure's report (none in a dry run)."""

    today: dt.date
    months: int
    cutoff: dt.date
    dry_run: bool
    programme_ids: tuple[int, ...]
    stakeholder_ids: tuple[int, ...]
    erasures: tuple[ErasureReport, ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(sorted({table for report in self.erasures for table in report.tables}))

    def describe(self) -> str:
        people = len(self.stakeholder_ids)
        verb = "would be anonymised" if self.dry_run else "anonymised"
        return (
            f"Retention {self.months} months: {len(self.programme_ids)} closed "
            f"{'programme' if len(self.programme_ids) == 1 else 'programmes'} closed before "
            f"{self.cutoff.isoformat()}; {people} "
            f"{'stakeholder' if people == 1 else 'stakeholders'} {verb}"
            f"{' (dry run: nothing written)' if self.dry_run else ''}."
        )


def _stakeholders_of(connection: sa.Connection, programme_ids: Sequence[int]) -> list[int]:
    """The programmes' stakeholders, including deleted ones whose audit copies remain."""
    if not programme_ids:
        return []
    table = _table("stakeholder")
    found = {
        int(stakeholder_id)
        for (stakeholder_id,) in connection.execute(
            sa.select(table.c.id).where(table.c.programme_id.in_(programme_ids))
        )
    }
    events = _table("audit_event")
    wanted = set(programme_ids)
    query = sa.select(events.c.record_id, events.c.before, events.c.after).where(
        events.c.record_type == "stakeholder"
    )
    for record_id, before, after in connection.execute(query):
        if any(copy.get("programme_id") in wanted for copy in (_loads(before), _loads(after))):
            found.add(int(record_id))
    return sorted(found)


def run_retention(
    *, session: Session, today: dt.date, months: int, dry_run: bool
) -> RetentionReport:
    """Anonymise (as erasure does) every stakeholder of programmes closed more than `months`
    months before `today`. Stakeholders already anonymised are skipped, so a second run changes
    nothing; a dry run only reports. Call `clean_up_storage` after the commit."""
    _check_months(months)
    cutoff = retention_cutoff(today, months)
    programme_ids = tuple(
        int(programme_id)
        for programme_id in session.exec(
            select(Programme.id)
            .where(
                col(Programme.status) == ProgrammeStatus.closed,
                col(Programme.closed_on) < cutoff,
            )
            .order_by(col(Programme.id))
        )
        if programme_id is not None
    )
    connection = session.connection()
    due = [
        stakeholder_id
        for stakeholder_id in _stakeholders_of(connection, programme_ids)
        if _holds_personal_data(connection, stakeholder_id)
    ]
    erasures: list[ErasureReport] = []
    if not dry_run:
        for stakeholder_id in due:
            report = _anonymise(session, stakeholder_id)
            if report is not None:
                erasures.append(report)
    return RetentionReport(
        today=today,
        months=months,
        cutoff=cutoff,
        dry_run=dry_run,
        programme_ids=programme_ids,
        stakeholder_ids=tuple(due),
        erasures=tuple(erasures),
    )


def apply_retention(
    engine: Engine,
    *,
    today: dt.date,
    months: int | None = None,
    dry_run: bool = False,
    actor: str = "system",
) -> RetentionReport:
    """run_retention in its own transaction (with the stored retention period unless `months`
    is given), then `clean_up_storage` when anything was anonymised."""
    with db.write_session(engine, actor=actor) as session:
        period = retention_months(session=session) if months is None else months
        report = run_retention(session=session, today=today, months=period, dry_run=dry_run)
    if report.erasures:
        clean_up_storage(engine, report.tables)
    return report


# --- Subject access -----------------------------------------------------------------------------


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _other_names(
    connection: sa.Connection, programme_id: int, stakeholder_id: int, own_name: str
) -> list[str]:
    """Every name another stakeholder of the programme has or had, except one that is part of
    the subject's own name (it would mangle it)."""
    table = _table("stakeholder")
    names = {
        str(name)
        for (name,) in connection.execute(
            sa.select(table.c.name).where(
                table.c.programme_id == programme_id, table.c.id != stakeholder_id
            )
        )
    }
    events = _table("audit_event")
    query = sa.select(events.c.before, events.c.after).where(
        events.c.record_type == "stakeholder", events.c.record_id != str(stakeholder_id)
    )
    for before, after in connection.execute(query):
        for copy in (_loads(before), _loads(after)):
            name = copy.get("name")
            if copy.get("programme_id") == programme_id and isinstance(name, str):
                names.add(name)
    names = {name.strip() for name in names if len(name.strip()) >= 2 and name != ERASED}
    kept = []
    for name in sorted(names):
        pattern = _matcher([name])
        if pattern is not None and pattern.search(own_name) is None:
            kept.append(name)
    return kept


def _anonymised(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """`value` with other stakeholders' names replaced by "another stakeholder", recursively."""
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(ANOTHER_STAKEHOLDER, value)
    if isinstance(value, list):
        return [_anonymised(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _anonymised(item, pattern) for key, item in value.items()}
    return value


def _columns(record: SQLModel, names: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(record, name)) for name in names}


def _audit_about(
    connection: sa.Connection, stakeholder_id: int, engagement_ids: set[int]
) -> list[dict[str, Any]]:
    """The audit events about the stakeholder's records: their own record, their assessments,
    influence links, attendance and milestone dependencies, and the engagements they attended.
    In an influence link's copies the other party's id reads "another stakeholder"."""
    events = _table("audit_event")
    query = (
        sa.select(events)
        .where(
            sa.or_(
                sa.and_(
                    events.c.record_type == "stakeholder",
                    events.c.record_id == str(stakeholder_id),
                ),
                events.c.record_type.in_(_LINKS),
                events.c.record_type == "engagement",
            )
        )
        .order_by(events.c.id)
    )
    found: list[dict[str, Any]] = []
    for event in connection.execute(query).mappings():
        copies = [_loads(event["before"]), _loads(event["after"])]
        record_type = event["record_type"]
        if record_type in ("assessment", "engagement_stakeholder", "milestone_dependency"):
            if not any(copy.get("stakeholder_id") == stakeholder_id for copy in copies):
                continue
            if record_type == "engagement_stakeholder":
                engagement_ids.update(int(copy["engagement_id"]) for copy in copies if copy)
        elif record_type == "influence_link":
            ends = ("from_stakeholder_id", "to_stakeholder_id")
            if not any(copy.get(end) == stakeholder_id for copy in copies for end in ends):
                continue
            for copy in copies:
                for end in ends:
                    if end in copy and copy[end] != stakeholder_id:
                        copy[end] = ANOTHER_STAKEHOLDER
        found.append(
            {
                "at": _plain(event["at"]),
                "actor": event["actor"],
                "action": _plain(event["action"]),
                "record_type": record_type,
                "record_id": event["record_id"],
                "before": copies[0] or None,
                "after": copies[1] or None,
                "redacted": bool(event["redacted"]),
            }
        )
    # Engagements are known only once the attendance events are read: keep theirs.
    return [
        event
        for event in found
        if event["record_type"] != "engagement" or int(event["record_id"]) in engagement_ids
    ]


def _attended(session: Session, stakeholder_id: int) -> list[dict[str, Any]]:
    """The engagements the stakeholder attended, oldest first; other attendees only counted."""
    present = SQLModel.metadata.tables["engagement_stakeholder"].alias("present")
    others = (
        sa.select(sa.func.count())
        .where(
            present.c.engagement_id == col(Engagement.id),
            present.c.stakeholder_id != stakeholder_id,
        )
        .scalar_subquery()
    )
    attended = session.exec(
        select(Engagement, others)
        .join(EngagementStakeholder, col(EngagementStakeholder.engagement_id) == Engagement.id)
        .where(EngagementStakeholder.stakeholder_id == stakeholder_id)
        .order_by(col(Engagement.occurred_on), col(Engagement.id))
    ).all()
    names = ("id", "occurred_on", "kind", "summary", "outcome", "follow_up_on", "follow_up_done")
    return [
        _columns(engagement, names) | {"other_attendees": [ANOTHER_STAKEHOLDER] * int(count)}
        for engagement, count in attended
    ]


def _links(session: Session, stakeholder_id: int) -> list[dict[str, Any]]:
    """Who influences the stakeholder and whom they influence; the other party anonymous."""
    found = session.exec(
        select(InfluenceLink)
        .where(
            sa.or_(
                col(InfluenceLink.from_stakeholder_id) == stakeholder_id,
                col(InfluenceLink.to_stakeholder_id) == stakeholder_id,
            )
        )
        .order_by(col(InfluenceLink.id))
    )
    return [
        {
            "id": link.id,
            "direction": (
                "influences them"
                if link.to_stakeholder_id == stakeholder_id
                else "is influenced by them"
            ),
            "other": ANOTHER_STAKEHOLDER,
            "strength": link.strength,
        }
        for link in found
    ]


def _subject(
    session: Session, viewer: Viewer, stakeholder_id: int
) -> tuple[dict[str, Any], Programme, bool]:
    """The stakeholder's column values (from their record, or once deleted from the audit
    trail's last copy of it), their programme, and whether the record still exists; refused
    unless the viewer manages the programme."""
    if not viewer.can_manage:
        raise PermissionDeniedError(
            None, "Only managers and administrators can export a stakeholder's data."
        )
    stakeholder = session.get(Stakeholder, stakeholder_id)
    if stakeholder is not None:
        values = {name: getattr(stakeholder, name) for name in Stakeholder.model_fields}
    else:
        # Deleted: what is still held about them is the audit trail's copies.
        copies = _record_history(session.connection(), stakeholder_id)
        if not copies:
            raise NotFoundError(None, "That stakeholder does not exist.")
        values = copies[-1]
    programme = require_person_data(session, viewer, int(values["programme_id"]))
    return values, programme, stakeholder is not None


def _passages(text: str, pattern: re.Pattern[str]) -> list[str]:
    """The passages of `text` around each match: up to _CONTEXT characters either side, widened
    to whole words, overlapping ones joined; "…" where the text goes on."""
    windows: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        start, end = max(0, match.start() - _CONTEXT), min(len(text), match.end() + _CONTEXT)
        for _ in range(20):
            if start == 0 or text[start - 1].isspace():
                break
            start -= 1
        for _ in range(20):
            if end == len(text) or text[end].isspace():
                break
            end += 1
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return [
        f"{'…' if start > 0 else ''}{text[start:end].strip()}{'…' if end < len(text) else ''}"
        for start, end in windows
    ]


def _mention_rows(session: Session, stakeholder_id: int, programme_id: int) -> list[dict[str, Any]]:
    """Every passage outside the person's own record that names them: exactly what an erasure
    would rewrite (the same search, `_mentions`), one row per passage."""
    connection = session.connection()
    row = _stakeholder_row(connection, stakeholder_id)
    copies = [*([row] if row else []), *_record_history(connection, stakeholder_id)]
    search = _search(connection, stakeholder_id, programme_id, copies)
    if search is None:
        return []
    return [
        {
            "record_type": mention.record_type,
            "record_id": mention.record_id,
            "field": mention.field,
            "held_in": (
                "the record"
                if mention.audit_event_id is None
                else f"audit event {mention.audit_event_id} ({mention.copy} the change)"
            ),
            "passage": passage,
        }
        for mention in _mentions(connection, search)
        for passage in _passages(mention.text, search.pattern)
    ]


def subject_access_export(
    *, session: Session, viewer: Viewer, stakeholder_id: int
) -> dict[str, Any]:
    """Everything held about one stakeholder (RELIABILITY.md #11, #21), as JSON-ready data:
    their record, every assessment, the engagements they attended (other attendees only
    counted, as "another stakeholder"), their influence links (the other party "another
    stakeholder"), the milestones that depend on them, the programme's title and lawful basis,
    the audit events about their records, and every passage elsewhere in the programme's data
    or its audit copies that names them (`mentions`: what an erasure would rewrite). Other
    stakeholders' names are replaced by "another stakeholder" in every text. A deleted
    stakeholder's export holds what the audit trail still keeps about them. Only managers and
    administrators of the programme (`require_person_data`). Writes nothing: `subject_access_file`
    also records the export in the audit trail."""
    values, programme, current = _subject(session, viewer, stakeholder_id)
    connection = session.connection()
    organisation = session.get(Organisation, programme.organisation_id)
    group_id = values.get("staff_group_id")
    group = session.get(StaffGroup, group_id) if group_id is not None else None
    person = {
        "id": stakeholder_id,
        "record": "current" if current else "deleted (only audit copies are held)",
        **{name: _plain(values.get(name)) for name in ("name", "role", "influence", "interest")},
        "stance": values.get("stance"),
        "stance_label": Stance(int(values.get("stance") or 0)).label,
        "desired_stance": values.get("desired_stance"),
        "desired_stance_label": Stance(int(values.get("desired_stance") or 0)).label,
        "staff_group": group.name if group else None,
        "relationship_owner": values.get("relationship_owner"),
        "notes": values.get("notes"),
    }
    assessments = [
        _columns(
            assessment,
            (
                "id",
                "assessed_on",
                "stance",
                "influence",
                "interest",
                "awareness",
                "desire",
                "knowledge",
                "ability",
                "reinforcement",
                "assessed_by",
            ),
        )
        | {"stance_label": Stance(assessment.stance).label}
        for assessment in session.exec(
            select(Assessment)
            .where(Assessment.stakeholder_id == stakeholder_id)
            .order_by(col(Assessment.assessed_on), col(Assessment.id))
        )
    ]
    attended = _attended(session, stakeholder_id)
    links = _links(session, stakeholder_id)
    milestones = [
        _columns(milestone, ("id", "title", "stage", "due_date", "status"))
        for milestone in session.exec(
            select(Milestone)
            .join(MilestoneDependency, col(MilestoneDependency.milestone_id) == Milestone.id)
            .where(MilestoneDependency.stakeholder_id == stakeholder_id)
            .order_by(col(Milestone.due_date), col(Milestone.id))
        )
    ]
    engagement_ids = {int(engagement["id"]) for engagement in attended}
    export: dict[str, Any] = {
        "export": {
            "kind": "subject access request",
            "generated_on": clock.today().isoformat(),
            "stakeholder_id": stakeholder_id,
            "note": (
                f'Other people are shown as "{ANOTHER_STAKEHOLDER}". Stance runs from -2 '
                "(active resistor) to +2 (champion); influence and interest from 1 to 5."
            ),
        },
        "programme": {
            "code": programme.code,
            "title": programme.title,
            "organisation": organisation.name if organisation else None,
            "lawful_basis": _plain(programme.lawful_basis),
            "lawful_basis_label": _label(str(_plain(programme.lawful_basis))),
        },
        "stakeholder": person,
        "assessments": assessments,
        "engagements": attended,
        "influence_links": links,
        "milestones_depending_on_them": milestones,
        "audit_events": _audit_about(connection, stakeholder_id, engagement_ids),
        "mentions": _mention_rows(session, stakeholder_id, programme.id or 0),
    }
    own_name = str(values.get("name") or "")
    other_names = _other_names(connection, programme.id or 0, stakeholder_id, own_name)
    return dict(_anonymised(export, _matcher(other_names)))


def export_json(export: Mapping[str, Any]) -> bytes:
    """A subject access export as UTF-8 JSON, for download."""
    return json.dumps(export, indent=2, ensure_ascii=False).encode("utf-8")


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        pairs: list[tuple[str, Any]] = []
        for key, item in value.items():
            pairs.extend(_flatten(f"{prefix}.{key}" if prefix else str(key), item))
        return pairs
    if isinstance(value, list):
        if all(not isinstance(item, (dict, list)) for item in value):
            return [(prefix, "; ".join(str(item) for item in value))]
        pairs = []
        for number, item in enumerate(value, start=1):
            pairs.extend(_flatten(f"{prefix}[{number}]", item))
        return pairs
    return [(prefix, "" if value is None else value)]


def _cell(value: Any) -> Any:
    """A CSV cell: text a spreadsheet would run as a formula gets a leading quote
    (`tracker.io.exports.neutralise`, as every other CSV the tracker writes)."""
    return neutralise(value) if isinstance(value, str) else value


def export_csv(export: Mapping[str, Any]) -> bytes:
    """A subject access export as CSV (section, item, field, value: one line per value), UTF-8
    with a byte-order mark so spreadsheet programs read accents correctly; no cell can run as
    a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "item", "field", "value"])
    for section, content in export.items():
        items = content if isinstance(content, list) else [content]
        for number, item in enumerate(items, start=1):
            label = str(number) if isinstance(content, list) else ""
            for name, value in _flatten("", item):
                writer.writerow([_cell(cell) for cell in (section, label, name, value)])
    return buffer.getvalue().encode("utf-8-sig")


def subject_access_filename(stakeholder_id: int, day: dt.date, suffix: str = "json") -> str:
    """e.g. subject-access-stakeholder-12-2026-06-15.json"""
    return f"subject-access-stakeholder-{stakeholder_id}-{day.isoformat()}.{suffix}"


def export_filename(export: Mapping[str, Any], suffix: str = "json") -> str:
    """e.g. subject-access-stakeholder-12-2026-06-15.json"""
    about = export["export"]
    day = dt.date.fromisoformat(about["generated_on"])
    return subject_access_filename(int(about["stakeholder_id"]), day, suffix)


ExportFormat = Literal["json", "csv"]
_MEDIA_TYPES: Mapping[str, str] = MappingProxyType({"json": "application/json", "csv": "text/csv"})


def record_subject_access(
    *, session: Session, viewer: Viewer, stakeholder_id: int, file_format: ExportFormat
) -> int:
    """Record in the audit trail that the session's actor exported everything held about the
    stakeholder (one 'subject_access' event about their record: the programme and the file's
    format, no personal data). Refused unless the viewer manages the stakeholder's programme.
    Returns the event's id."""
    _values, programme, _current = _subject(session, viewer, stakeholder_id)
    return _write_event(
        session,
        action=AuditAction.subject_access,
        stakeholder_id=stakeholder_id,
        programme_id=programme.id or 0,
        details={"programme_id": programme.id, "format": file_format},
    )


@dataclass(frozen=True)
class SubjectAccessFile:
    """A subject access export, ready to hand over: its bytes, file name and media type."""

    data: bytes
    file_name: str
    mime: str
    audit_event_id: int


def subject_access_file(
    engine: Engine, *, viewer: Viewer, stakeholder_id: int, file_format: ExportFormat
) -> SubjectAccessFile:
    """The subject access export as a JSON or CSV file, recorded in the audit trail (by the
    viewer, `record_subject_access`) before it is handed over: the export is read first (no
    write lock held meanwhile), then the event is written; if that fails, no file is made."""
    if file_format not in _MEDIA_TYPES:
        raise DomainError("file_format", "must be json or csv")
    with db.read_session(engine) as session:
        export = subject_access_export(
            session=session, viewer=viewer, stakeholder_id=stakeholder_id
        )
    with db.write_session(engine, actor=viewer.email) as session:
        event_id = record_subject_access(
            session=session, viewer=viewer, stakeholder_id=stakeholder_id, file_format=file_format
        )
    data = export_csv(export) if file_format == "csv" else export_json(export)
    return SubjectAccessFile(
        data=data,
        file_name=export_filename(export, file_format),
        mime=_MEDIA_TYPES[file_format],
        audit_event_id=event_id,
    )
