"""The write path every concept's service shares: validate against the model's rules, check
uniqueness and the version the form was built from, then write. Nothing is written when any
check fails: the caller's write_session rolls back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, SQLModel, select

from tracker.access import Viewer
from tracker.errors import ConflictError, DomainError, NotFoundError, from_validation_error
from tracker.permissions import Action, require_change, require_new

T = TypeVar("T", bound=SQLModel)
B = TypeVar("B", bound=SQLModel)

# What the interface calls each table, for messages.
_LABELS = {
    "stage_record": "stage record",
    "staff_group": "staff group",
    "metric_reading": "metric reading",
    "influence_link": "influence link",
    "exit_criterion": "exit criterion",
    "app_user": "user",
}


def label(table: type[SQLModel]) -> str:
    name = str(table.__tablename__)
    return _LABELS.get(name, name.replace("_", " "))


def validated(base: type[B], data: Mapping[str, Any]) -> B:
    """`data` checked against `base`'s field limits and rules, or a DomainError naming the field."""
    unknown = set(data) - set(base.model_fields)
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError(field, "is not a field that can be set here")
    for field, value in data.items():
        # PostgreSQL cannot store the NUL character in text; SQLite would, inconsistently.
        if isinstance(value, str) and "\x00" in value:
            raise DomainError(field, "contains a character that cannot be stored (NUL)")
    try:
        return base.model_validate(dict(data))
    except ValidationError as error:
        raise from_validation_error(error) from None


def get(session: Session, table: type[T], record_id: Any, *, for_update: bool = False) -> T:
    """The record with this id, or NotFoundError. `for_update` locks the row on PostgreSQL
    (SQLite write sessions already hold the write lock) and re-reads it once locked: a copy the
    session loaded earlier, before the lock, may be older than what another save committed, and
    checking a version against it would let both saves through."""
    record = session.get(
        table, record_id, with_for_update=for_update or None, populate_existing=for_update
    )
    if record is None:
        raise NotFoundError(None, f"That {label(table)} no longer exists. Reload the page.")
    return record


def _check_unique(
    session: Session, table: type[T], values: Mapping[str, Any], self_id: Any
) -> None:
    sa_table = table.__table__  # type: ignore[attr-defined]
    for constraint in sa_table.constraints:
        if not isinstance(constraint, sa.UniqueConstraint):
            continue
        columns = [column.name for column in constraint.columns]
        if any(values.get(name) is None for name in columns):
            continue
        query = select(table).where(*(getattr(table, name) == values[name] for name in columns))
        if self_id is not None:
            query = query.where(table.id != self_id)  # type: ignore[attr-defined]
        if session.exec(query).first() is not None:
            field = columns[-1]
            raise DomainError(
                field, f"another {label(table)} already has this {field.replace('_', ' ')}"
            )


def flush(session: Session, table: type[SQLModel]) -> None:
    """Flush, turning a database rule the checks above missed into a DomainError."""
    try:
        session.flush()
    except sa.exc.IntegrityError as error:
        raise DomainError(
            None,
            f"This {label(table)} breaks a rule of the database "
            f"({str(error.orig).splitlines()[0]}). Nothing was saved.",
        ) from None


def create(session: Session, table: type[T], base: type[B], data: Mapping[str, Any]) -> T:
    """Validate `data` with `base`, check uniqueness, add and flush a new `table` row."""
    clean = validated(base, data).model_dump()
    _check_unique(session, table, clean, None)
    record = table(**clean)
    session.add(record)
    flush(session, table)
    return record


def update(
    session: Session,
    table: type[T],
    base: type[B],
    record_id: Any,
    *,
    expected_version: int,
    changes: Mapping[str, Any],
) -> T:
    """Apply `changes` to the record if it is still at `expected_version` (the version the
    form was built from); the merged record must pass `base`'s rules. Bumps the version."""
    record = get(session, table, record_id, for_update=True)
    current = record.version  # type: ignore[attr-defined]
    if current != expected_version:
        raise ConflictError(
            None,
            f"Someone else saved this {label(table)} after you opened it (your copy was "
            f"version {expected_version}, it is now version {current}). Your changes are "
            "still on screen: reload to see theirs, then apply yours again.",
        )
    merged = {name: getattr(record, name) for name in base.model_fields} | dict(changes)
    unknown = set(changes) - set(base.model_fields)
    if unknown:
        raise DomainError(sorted(unknown)[0], "is not a field that can be changed here")
    clean = validated(base, merged).model_dump()
    _check_unique(session, table, clean, record_id)
    for name, value in clean.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
    if session.is_modified(record):
        record.version = current + 1
    flush(session, table)
    return record


def changes_of(data: SQLModel) -> dict[str, Any]:
    """The fields a caller set on an `XUpdate` input, without its `version`."""
    return {k: v for k, v in data.model_dump(exclude_unset=True).items() if k != "version"}


def update_from(
    session: Session, table: type[T], base: type[B], record_id: Any, data: SQLModel
) -> T:
    """`update` with a typed `XUpdate` input: `data.version` is the version the form was built
    from, and only the fields the caller set change."""
    return update(
        session,
        table,
        base,
        record_id,
        expected_version=int(getattr(data, "version")),  # noqa: B009
        changes=changes_of(data),
    )


def set_links(
    session: Session,
    table: type[SQLModel],
    *,
    owner: str,
    owner_id: int,
    member: str,
    wanted: Iterable[int],
) -> None:
    """Make the rows of the link table `table` whose `owner` column is `owner_id` exactly those
    whose `member` column is in `wanted`: the others are deleted, the missing ones added."""
    keep = set(wanted)
    existing = session.exec(select(table).where(getattr(table, owner) == owner_id)).all()
    for row in existing:
        if getattr(row, member) not in keep:
            session.delete(row)
    have = {getattr(row, member) for row in existing}
    for member_id in sorted(keep - have):
        session.add(table(**{owner: owner_id, member: member_id}))
    flush(session, table)


def delete(session: Session, table: type[T], record_id: Any, *, expected_version: int) -> None:
    """Delete the record if it is still at `expected_version`."""
    record = get(session, table, record_id, for_update=True)
    if record.version != expected_version:  # type: ignore[attr-defined]
        raise ConflictError(
            None,
            f"Someone else changed this {label(table)} after you opened it. "
            "Reload before deleting it.",
        )
    session.delete(record)
    flush(session, table)


# --- The skeleton every concept's service shares: ask the resolver, then write --------------


def create_checked(
    session: Session, viewer: Viewer, action: Action, table: type[T], base: type[B], data: B
) -> T:
    """A new `table` row from a typed `XCreate` input, once the viewer may take `action` on the
    programme it would belong to."""
    values = changes_of(data)
    require_new(session, viewer, action, table, values)
    return create(session, table, base, values)


def update_checked(
    session: Session,
    viewer: Viewer,
    action: Action,
    table: type[T],
    base: type[B],
    record_id: Any,
    data: SQLModel,
) -> T:
    """`update_from`, once the viewer may take `action` on the record's programme (and on the
    programme the changes would move it to)."""
    require_change(session, viewer, action, table, record_id, changes_of(data))
    return update_from(session, table, base, record_id, data)


def delete_checked(
    session: Session,
    viewer: Viewer,
    action: Action,
    table: type[SQLModel],
    record_id: Any,
    *,
    expected_version: int,
) -> None:
    """`delete`, once the viewer may take `action` on the record's programme."""
    require_change(session, viewer, action, table, record_id)
    delete(session, table, record_id, expected_version=expected_version)
