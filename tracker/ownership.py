"""Which programme or organisation a record belongs to, from its column values: the one map that
both the permission resolver (may this person change this record?) and the audit trail (whose
event is this?) follow. Plain SQL on a connection, so it works inside a flush too."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

# Records that reach their programme through a parent: table -> (parent table, the column that
# points at the parent). Every parent has a programme_id column of its own.
PARENT: dict[str, tuple[str, str]] = {
    "assessment": ("stakeholder", "stakeholder_id"),
    "engagement_stakeholder": ("engagement", "engagement_id"),
    "exit_criterion": ("stage_record", "stage_record_id"),
    "influence_link": ("stakeholder", "from_stakeholder_id"),
    "metric_reading": ("metric", "metric_id"),
    "milestone_dependency": ("milestone", "milestone_id"),
    "milestone_impact": ("milestone", "milestone_id"),
}
# Records about people: they and their audit copies are personal data (stance, notes, what was
# said in a meeting), readable only where the programme's people are.
PEOPLE_TABLES = frozenset(
    {
        "stakeholder",
        "assessment",
        "engagement",
        "engagement_stakeholder",
        "influence_link",
        "milestone_dependency",
    }
)


@dataclass(frozen=True)
class Owner:
    """Whose record it is: a programme's, an organisation's, or neither (installation-wide
    settings and user accounts, which belong to their memberships)."""

    programme_id: int | None = None
    organisation_id: int | None = None


# (table, id) -> programme id, for parents seen earlier in the same pass (a parent deleted in
# the same flush is no longer in its table).
Known = MutableMapping[tuple[str, str], int]


def owner_of(
    connection: sa.Connection,
    table: str,
    values: Mapping[str, Any],
    known: Known | None = None,
) -> Owner:
    """The owner of a row of `table` with these column values."""
    known = {} if known is None else known
    if table == "programme":
        return Owner(_int(values.get("id")), _int(values.get("organisation_id")))
    if table == "organisation":
        return Owner(None, _int(values.get("id")))
    if "programme_id" in values:
        programme_id = _int(values.get("programme_id"))
        if programme_id is not None and "id" in values:
            known[(table, str(values["id"]))] = programme_id
        return Owner(programme_id, None)
    if table in PARENT:
        parent, column = PARENT[table]
        parent_id = values.get(column)
        if parent_id is None:
            return Owner()
        found = known.get((parent, str(parent_id)))
        if found is None:
            found = _int(
                connection.execute(
                    sa.select(sa.column("programme_id"))
                    .select_from(sa.table(parent))
                    .where(sa.column("id") == parent_id)
                ).scalar()
            )
            if found is not None:
                known[(parent, str(parent_id))] = found
        return Owner(found, None)
    if "organisation_id" in values:
        return Owner(None, _int(values.get("organisation_id")))
    return Owner()


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
