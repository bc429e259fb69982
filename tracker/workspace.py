"""The manager workspace's shared rules: which programmes a manager may keep current, and how a
bulk-edited table becomes service calls that either all succeed or change nothing."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from tracker.access import Viewer, visible_programme_ids
from tracker.errors import DomainError
from tracker.models import Programme


@dataclass(frozen=True)
class ProgrammeChoice:
    """A programme a manager may change, as plain values for a selector."""

    programme_id: int
    code: str
    title: str


def managed_programmes(*, session: Session, viewer: Viewer) -> list[ProgrammeChoice]:
    """The programmes this viewer may change, by title: those owned by or pooled with one of
    their organisations. Empty for roles that cannot manage."""
    if not viewer.can_manage:
        return []
    rows = session.exec(
        select(Programme.id, Programme.code, Programme.title)
        .where(col(Programme.id).in_(visible_programme_ids(viewer)))
        .order_by(col(Programme.title))
    ).all()
    return [ProgrammeChoice(int(pid), code, title) for pid, code, title in rows if pid is not None]


@dataclass(frozen=True)
class RowProblem:
    """One refused row of an edited table. `row` counts from 1 as the table shows it; added rows
    are numbered after the existing ones."""

    row: int
    field: str | None
    reason: str


class TableEditError(DomainError):
    """A bulk edit that was refused as a whole: every problem found, none of it saved."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        count = len(problems)
        super().__init__(
            None,
            f"Nothing was saved: {count} row{'s' if count != 1 else ''} "
            f"{'need' if count != 1 else 'needs'} correcting first.",
        )
        self.problems = list(problems)


@dataclass(frozen=True)
class TableEditCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def describe(self, noun: str) -> str:
        parts = [
            f"{count} {word}"
            for count, word in (
                (self.created, "added"),
                (self.updated, "changed"),
                (self.deleted, "deleted"),
            )
            if count
        ]
        return f"Saved {noun}: {', '.join(parts)}." if parts else "There were no changes to save."


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def clean_cell(value: Any) -> Any:
    """A data-editor cell as a plain value: blanks become None, timestamps become dates."""
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    if isinstance(value, str):
        text = value.strip()
        # The editor reports edited dates as ISO strings, sometimes with a time part.
        if len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit():
            try:
                return dt.date.fromisoformat(text[:10])
            except ValueError:
                return text
        return text
    return value


def apply_table_edits(
    *,
    session: Session,
    snapshot: Sequence[Mapping[str, Any]],
    changes: Mapping[str, Any],
    columns: Sequence[str],
    create: Callable[[dict[str, Any]], object],
    update: Callable[[int, int, dict[str, Any]], object],
    delete: Callable[[int, int], None],
) -> TableEditCounts:
    """Turn a data editor's changes into service calls, all or nothing.

    `snapshot` is the rows the editor was built from (each with "id" and "version": the version
    each row had when the table was opened, so a row someone else saved since is refused).
    `changes` is the editor's state: {"edited_rows": {position: {column: value}}, "added_rows":
    [{column: value}], "deleted_rows": [position]}. Only `columns` are passed to the services.
    Every row is tried (each in a savepoint) so that every problem is reported at once; if any
    row fails, TableEditError lists them and the caller's transaction must be rolled back."""
    problems: list[RowProblem] = []
    counts = {"created": 0, "updated": 0, "deleted": 0}

    def attempt(row: int, kind: str, call: Callable[[], object]) -> None:
        savepoint = session.begin_nested()
        try:
            call()
        except DomainError as error:
            savepoint.rollback()
            problems.append(RowProblem(row, error.field, error.reason))
        else:
            savepoint.commit()
            counts[kind] += 1

    deleted = {int(position) for position in changes.get("deleted_rows", [])}
    for position in sorted(deleted):
        if 0 <= position < len(snapshot):
            record = snapshot[position]
            attempt(
                position + 1,
                "deleted",
                lambda r=record: delete(int(r["id"]), int(r["version"])),  # type: ignore[misc]
            )
    for key, edited in sorted(
        changes.get("edited_rows", {}).items(), key=lambda item: int(item[0])
    ):
        position = int(key)
        if position in deleted or not 0 <= position < len(snapshot):
            continue
        record = snapshot[position]
        values = {name: clean_cell(value) for name, value in edited.items() if name in columns}
        if not values:
            continue
        attempt(
            position + 1,
            "updated",
            lambda r=record, v=values: update(int(r["id"]), int(r["version"]), v),  # type: ignore[misc]
        )
    for offset, added in enumerate(changes.get("added_rows", [])):
        values = {name: clean_cell(added.get(name)) for name in columns}
        if all(value is None for value in values.values()):
            continue  # an empty row the user added and left blank
        values = {name: value for name, value in values.items() if value is not None}
        attempt(len(snapshot) + offset + 1, "created", lambda v=values: create(v))  # type: ignore[misc]
    if problems:
        raise TableEditError(problems)
    return TableEditCounts(**counts)
