"""Shared building blocks for the tables: naming convention, enum columns, and database checks
derived from the same field limits that the models validate, so the two never drift apart."""

from __future__ import annotations

import enum
from typing import Any

import annotated_types
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Named constraints let Alembic's batch mode on SQLite rebuild tables reliably.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """A portable enum column: VARCHAR plus a CHECK of the allowed values (no native PG type)."""
    return sa.Enum(
        enum_cls,
        name=enum_cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=max(len(str(m.value)) for m in enum_cls),
        values_callable=lambda e: [str(m.value) for m in e],
        validate_strings=True,
    )


def int_enum_field(enum_cls: type[enum.IntEnum], **kwargs: Any) -> Any:
    """An integer column whose range the database checks (see checks_for)."""
    values = [int(m) for m in enum_cls]
    return Field(ge=min(values), le=max(values), **kwargs)


class Versioned(SQLModel):
    # Optimistic locking: a save names the version its form was built from (RELIABILITY.md #8).
    version: int = Field(default=1, ge=1)


def max_length(model: type[SQLModel], field: str) -> int:
    """The model's max_length for a text field, so an input's limit matches the database's."""
    for meta in model.model_fields[field].metadata:
        if isinstance(meta, annotated_types.MaxLen):
            return int(meta.max_length)
    raise ValueError(f"{model.__name__}.{field} has no max_length")


def checks_for(
    model: type[SQLModel], *, skip: tuple[str, ...] = ()
) -> tuple[sa.CheckConstraint, ...]:
    """CHECK constraints for every max_length, ge and le declared on `model`'s fields.

    SQLite does not enforce VARCHAR lengths, so lengths become `length(col) <= n` checks.
    """
    checks: list[sa.CheckConstraint] = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        lo = hi = min_len = max_len = None
        for meta in info.metadata:
            if isinstance(meta, annotated_types.MinLen):
                min_len = meta.min_length
            elif isinstance(meta, annotated_types.MaxLen):
                max_len = meta.max_length
            elif isinstance(meta, annotated_types.Ge):
                lo = meta.ge
            elif isinstance(meta, annotated_types.Le):
                hi = meta.le
        if max_len is not None:
            low = f"length({name}) >= {min_len} AND " if min_len else ""
            checks.append(
                sa.CheckConstraint(f"{low}length({name}) <= {max_len}", name=f"{name}_length")
            )
        if lo is not None and hi is not None:
            checks.append(sa.CheckConstraint(f"{name} BETWEEN {lo} AND {hi}", name=f"{name}_range"))
        elif lo is not None:
            checks.append(sa.CheckConstraint(f"{name} >= {lo}", name=f"{name}_min"))
        elif hi is not None:
            checks.append(sa.CheckConstraint(f"{name} <= {hi}", name=f"{name}_max"))
    return tuple(checks)


def dates_in_order(start: str, end: str) -> sa.CheckConstraint:
    """The end date, when both are set, is not before the start date."""
    return sa.CheckConstraint(
        f"{start} IS NULL OR {end} IS NULL OR {end} >= {start}", name=f"{end}_after_{start}"
    )
