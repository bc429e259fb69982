"""The audit trail's writer: every flushed change to a record becomes an audit event in the
same transaction (RELIABILITY.md #9). Services never write audit rows by hand."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy import inspect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction

from tracker import clock
from tracker.ownership import owner_of

_ACTOR_KEY = "tracker_actor"
_CASCADED_KEY = "tracker_cascaded"
_CHANGED_KEY = "tracker_changed"


class MissingActorError(RuntimeError):
    """A write was attempted outside db.write_session, so nobody would be accountable for it."""


def mark_changed(session: OrmSession) -> None:
    """Note that this transaction changed data, so db.write_session raises the data version
    when it commits (done for every audited flush; call it after writing audit rows by hand)."""
    session.info[_CHANGED_KEY] = True


def take_changed(session: OrmSession) -> bool:
    """Whether the transaction changed data since the last call (and forget it)."""
    return bool(session.info.pop(_CHANGED_KEY, False))


def set_actor(session: OrmSession, actor: str) -> None:
    if not actor or not actor.strip():
        raise MissingActorError("every change needs the person (or 'system') making it")
    session.info[_ACTOR_KEY] = actor.strip()


def actor_of(session: OrmSession) -> str:
    """The person (or 'system') the session's changes are made by; MissingActorError outside
    db.write_session."""
    actor = session.info.get(_ACTOR_KEY)
    if not actor:
        raise MissingActorError("every change needs the person (or 'system') making it")
    return str(actor)


# --- The audit JSON form: how a record's column values are written in an event's before/after --


def json_value(value: Any) -> Any:
    """A column value as the audit trail writes it in JSON: enums by value, dates and times in
    ISO form, decimals as text, everything else as it is."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@overload
def dump_copy(values: None) -> None: ...
@overload
def dump_copy(values: Mapping[str, Any]) -> str: ...
def dump_copy(values: Mapping[str, Any] | None) -> str | None:
    """An event's before or after copy as the JSON text stored (keys sorted, any alphabet kept
    as it is), so the same values always give the same text; None stays None."""
    return None if values is None else json.dumps(values, sort_keys=True, ensure_ascii=False)


def load_copy(text: str | None) -> dict[str, Any]:
    """An event's stored before or after copy as values ({} when there is none)."""
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


# Columns whose values never go into the audit trail: it records that they changed, not to what.
SECRET_COLUMNS = frozenset({"password_hash"})
HIDDEN = "[hidden]"


def _hide(name: str, value: Any) -> Any:
    return HIDDEN if name in SECRET_COLUMNS and value is not None else value


def snapshot(obj: Any) -> dict[str, Any]:
    """The record's column values as JSON-ready data, keyed by attribute name (secrets such as
    password hashes shown only as "[hidden]")."""
    mapper = inspect(obj).mapper
    return {
        attr.key: _hide(attr.key, json_value(getattr(obj, attr.key)))
        for attr in mapper.column_attrs
    }


def _before(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    values = snapshot(obj)
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.deleted:
            values[attr.key] = _hide(attr.key, json_value(history.deleted[0]))
    return values


def _record_id(obj: Any) -> str:
    identity = inspect(obj).mapper.primary_key_from_instance(obj)
    return "/".join(str(part) for part in identity)


# (action, record_type, record_id, before, after)
_Change = tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None]


def _referrers(table: sa.Table) -> list[tuple[sa.Table, sa.Column[Any], sa.Column[Any], str]]:
    """(child table, its foreign key column, the referenced column, "CASCADE" or "SET NULL")
    for every foreign key whose ON DELETE changes rows of another table when a `table` row goes."""
    found = []
    for child in table.metadata.sorted_tables:
        for key in child.foreign_keys:
            rule = (key.ondelete or "").upper()
            if key.column.table is table and rule in ("CASCADE", "SET NULL"):
                found.append((child, key.parent, key.column, rule))
    return found


def _row_id(table: sa.Table, row: Mapping[Any, Any]) -> str:
    return "/".join(str(row[column.name]) for column in table.primary_key.columns)


def _database_cascades(
    connection: sa.Connection,
    table: sa.Table,
    row: Mapping[Any, Any],
    seen: set[tuple[str, str]],
) -> list[_Change]:
    """The rows the database itself deletes (ON DELETE CASCADE, recursively) or updates (ON
    DELETE SET NULL) when `row` of `table` is deleted: the ORM never sees them, so the audit
    would miss them and replaying it would not give the tables' contents."""
    changes: list[_Change] = []
    for child, column, referenced, rule in _referrers(table):
        value = row.get(referenced.name)
        if value is None:
            continue
        for found in connection.execute(sa.select(child).where(column == value)).mappings():
            key = (child.name, _row_id(child, found))
            values = {name: _hide(name, json_value(v)) for name, v in found.items()}
            if rule == "CASCADE":
                if key not in seen:
                    seen.add(key)
                    changes.append(("delete", child.name, key[1], values, None))
                    changes.extend(_database_cascades(connection, child, found, seen))
            elif key not in seen:
                changes.append(("update", child.name, key[1], values, values | {column.name: None}))
    return changes


@sa.event.listens_for(OrmSession, "before_flush")
def _note_database_cascades(session: OrmSession, _flush: UOWTransaction, _objects: Any) -> None:
    # Read before the flush, while the rows the database will cascade to still exist.
    session.info[_CASCADED_KEY] = []
    if not session.deleted:
        return
    deleted = list(session.deleted)
    seen = {(inspect(obj).mapper.local_table.name, _record_id(obj)) for obj in deleted}
    connection = session.connection()
    changes: list[_Change] = []
    for obj in deleted:
        table = inspect(obj).mapper.local_table
        row = {column.name: getattr(obj, column.key) for column in table.columns}
        changes.extend(_database_cascades(connection, table, row, seen))
    session.info[_CASCADED_KEY] = changes


@sa.event.listens_for(OrmSession, "after_flush")
def _record_changes(session: OrmSession, _flush: UOWTransaction) -> None:
    from tracker.models import AuditEvent

    changes: list[_Change] = []
    for obj in session.new:
        if not isinstance(obj, AuditEvent):
            changes.append(("create", _table_of(obj), _record_id(obj), None, snapshot(obj)))
    for obj in session.dirty:
        if not isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False):
            changes.append(("update", _table_of(obj), _record_id(obj), _before(obj), snapshot(obj)))
    for obj in session.deleted:
        if not isinstance(obj, AuditEvent):
            changes.append(("delete", _table_of(obj), _record_id(obj), snapshot(obj), None))
    # Rows the ORM itself deleted in this flush (found by a cascade while flushing) are
    # audited above already.
    orm_deleted = {(change[1], change[2]) for change in changes if change[0] == "delete"}
    cascaded = session.info.pop(_CASCADED_KEY, None) or []
    changes.extend(c for c in cascaded if c[0] != "delete" or (c[1], c[2]) not in orm_deleted)
    if not changes:
        return
    actor = actor_of(session)
    at = clock.now()
    connection = session.connection()
    known: dict[tuple[str, str], int] = {}
    rows = []
    for action, record_type, record_id, before, after in changes:
        owner = owner_of(connection, record_type, after or before or {}, known)
        rows.append(
            {
                "at": at,
                "actor": actor,
                "action": action,
                "record_type": record_type,
                "record_id": record_id,
                "before": dump_copy(before),
                "after": dump_copy(after),
                "programme_id": owner.programme_id,
                "organisation_id": owner.organisation_id,
            }
        )
    connection.execute(sa.insert(AuditEvent), rows)
    mark_changed(session)


def _table_of(obj: Any) -> str:
    return str(inspect(obj).mapper.local_table.name)
