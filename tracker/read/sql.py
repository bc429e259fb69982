"""Small building blocks shared by the read-only query modules (tracker/read/): run a
Core SELECT into plain rows, shape rows into a DataFrame, conditional sums, month arithmetic."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import Executable
from sqlmodel import Session, SQLModel


def rows(session: Session, statement: Executable) -> list[dict[str, Any]]:
    """Run a Core SELECT in the session's transaction; rows as dicts by column label."""
    result = session.connection().execute(statement)
    names = list(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


def frame(
    records: Sequence[Mapping[str, Any]], columns: Sequence[str], optional: Iterable[str] = ()
) -> pd.DataFrame:
    """A DataFrame with exactly `columns` (even when empty); `optional` columns keep None."""
    keep_none = set(optional)
    return pd.DataFrame(
        {
            name: pd.Series(
                [record[name] for record in records], dtype=object if name in keep_none else None
            )
            for name in columns
        },
        columns=list(columns),
    )


def add_months(first: dt.date, months: int) -> dt.date:
    """The first of the month `months` after (or before, if negative) the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def sum_where(condition: sa.ColumnElement[bool], value: Any) -> sa.ColumnElement[int]:
    """SUM(value) over the rows where `condition` holds; 0, not NULL, when none do."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def ratio(numerator: int | None, denominator: int | None) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    if not denominator:
        return None
    return (numerator or 0) / denominator


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def latest_row(
    session: Session,
    model: type[SQLModel],
    *,
    link: Any,
    parent: Any,
    newest_first: Sequence[Any],
    where: Sequence[sa.ColumnElement[bool]] = (),
    name: str,
) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
    """(FROM item, ON clause) joining each row of the enclosing query to the newest row of
    `model` whose `link` column equals `parent` (a column of the enclosing query) and that meets
    `where`: newest by `newest_first`, each descending, the last one unique (such as the id).
    `link`, `newest_first` and `where` are columns of `model` itself; the joined row's columns
    are the FROM item's `.c`, by column name.

    Join it (inner: parents without such a row drop out; outer: they get NULLs) instead of
    numbering every row with ROW_NUMBER(): each parent then costs one seek in an index on
    `link` and `newest_first`, so the work follows the parents asked about, not the length of
    the history behind them. PostgreSQL takes a LATERAL subquery; SQLite, which has no LATERAL,
    joins the table on its id being the newest row's, found by a correlated scalar subquery."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    newest = (
        sa.select(table)
        .where(link == parent, *where)
        .order_by(*(sa.desc(column) for column in newest_first))
        .limit(1)
        .correlate_except(table)
    )
    if dialect(session) == "postgresql":
        return newest.lateral(name), sa.true()
    row = table.alias(name)
    return row, row.c.id == newest.with_only_columns(table.c.id).scalar_subquery()


def count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """How many rows meet `condition` (0, never NULL, when there are none)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def month_start(session: Session, day: Any) -> sa.ColumnElement[dt.date]:
    """SQL for the first day of `day`'s month, as a date on both databases."""
    if dialect(session) == "postgresql":
        truncated = sa.func.date_trunc("month", sa.cast(day, sa.DateTime))
        return sa.cast(truncated, sa.Date)
    # SQLite keeps dates as ISO text; the Date type parses the result back into a date.
    return sa.type_coerce(sa.func.date(day, "start of month"), sa.Date)


def aggregate_strings(
    session: Session, source: sa.Subquery, *, keys: Sequence[str], value: str, separator: str
) -> sa.Subquery:
    """GROUP BY `keys` over the rows of `source`: (*keys, joined, how_many), where joined is the
    `value` strings sorted and joined by `separator`, and how_many how many there were."""
    if dialect(session) == "postgresql" or sqlite3.sqlite_version_info >= (3, 44):
        joined = sa.func.aggregate_strings(source.c[value], separator).aggregate_order_by(
            source.c[value]
        )
        return (
            sa.select(
                *(source.c[key] for key in keys),
                joined.label("joined"),
                sa.func.count().label("how_many"),
            )
            .group_by(*(source.c[key] for key in keys))
            .subquery("joined_strings")
        )
    # As in _joined_names: older SQLite concatenates in the order an ordered derived table
    # delivers its rows.
    ordered = (
        sa.select(source)
        .order_by(*(source.c[key] for key in keys), source.c[value])
        .subquery("ordered_strings")
    )
    return (
        sa.select(
            *(ordered.c[key] for key in keys),
            sa.func.group_concat(ordered.c[value], separator).label("joined"),
            sa.func.count().label("how_many"),
        )
        .group_by(*(ordered.c[key] for key in keys))
        .subquery("joined_strings")
    )


def difference(now: float | None, then: float | None) -> float | None:
    """now - then, or None when either is not defined."""
    if now is None or then is None:
        return None
    return now - then


def mean(total: float | None, count: int | None) -> float | None:
    """total / count, or None when nothing was counted."""
    if not count:
        return None
    return float(total or 0) / count


def grouped(key: Any, columns: Iterable[Any], *, among: Any, name: str) -> sa.Subquery:
    """SELECT key, columns... WHERE key IN among GROUP BY key, as the subquery `name`: per-parent
    sums (e.g. per programme) to join to the parent."""
    return sa.select(key, *columns).where(key.in_(among)).group_by(key).subquery(name)
