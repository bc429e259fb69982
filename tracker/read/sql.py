"""Small building blocks shared by the read-only query modules (queries, staff_view): run a
Core SELECT into plain rows, shape rows into a DataFrame, conditional sums, month arithmetic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql import Executable
from sqlmodel import Session


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
