"""The audit trail's writer: every flushed change to a record becomes an audit event in the
same transaction (RELIABILITY.md #9). Services never write audit rows by hand."""

from __future__ import annotations

import datetime as dt
import enum
import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import inspect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction

from tracker import clock

_ACTOR_KEY = "tracker_actor"


class MissingActorError(RuntimeError):
    """A write was attempted outside db.write_session, so nobody would be accountable for it."""


def set_actor(session: OrmSession, actor: str) -> None:
    if not actor or not actor.strip():
        raise MissingActorError("every change needs the person (or 'system') making it")
    session.info[_ACTOR_KEY] = actor.strip()


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """The record's column values as JSON-ready data, keyed by attribute name."""
    mapper = inspect(obj).mapper
    return {attr.key: _json_value(getattr(obj, attr.key)) for attr in mapper.column_attrs}


def _before(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    values = snapshot(obj)
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.deleted:
            values[attr.key] = _json_value(history.deleted[0])
    return values


def _record_id(obj: Any) -> str:
    identity = inspect(obj).mapper.primary_key_from_instance(obj)
    return "/".join(str(part) for part in identity)


def _dump(values: dict[str, Any] | None) -> str | None:
    return None if values is None else json.dumps(values, sort_keys=True, ensure_ascii=False)


@sa.event.listens_for(OrmSession, "after_flush")
def _record_changes(session: OrmSession, _flush: UOWTransaction) -> None:
    from tracker.models import AuditEvent

    changes: list[tuple[str, Any, dict[str, Any] | None, dict[str, Any] | None]] = []
    for obj in session.new:
        changes.append(("create", obj, None, snapshot(obj)))
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            changes.append(("update", obj, _before(obj), snapshot(obj)))
    for obj in session.deleted:
        changes.append(("delete", obj, snapshot(obj), None))
    changes = [c for c in changes if not isinstance(c[1], AuditEvent)]
    if not changes:
        return
    actor = session.info.get(_ACTOR_KEY)
    if not actor:
        raise MissingActorError("every change needs the person (or 'system') making it")
    at = clock.now()
    rows = [
        {
            "at": at,
            "actor": actor,
            "action": action,
            "record_type": inspect(obj).mapper.local_table.name,
            "record_id": _record_id(obj),
            "before": _dump(before),
            "after": _dump(after),
        }
        for action, obj, before, after in changes
    ]
    session.connection().execute(sa.insert(AuditEvent), rows)
