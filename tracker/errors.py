"""The one error type services raise: it names the field and a reason a person can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError


class DomainError(Exception):
    """A change that the domain refuses. `field` is the attribute name (None for the record as a
    whole); `reason` is a sentence for the person who made the change."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class NotFoundError(DomainError):
    """The record does not exist, or is outside what this person may see."""


class ConflictError(DomainError):
    """Somebody else saved the record after this form was opened (optimistic locking)."""


class PermissionDeniedError(DomainError):
    """The signed-in person's role or organisations do not allow this."""


def _reason(item: Mapping[str, Any]) -> str:
    """Pydantic's message for one problem, in the words of the interface."""
    kind = str(item.get("type", ""))
    ctx = item.get("ctx") or {}
    message = str(item.get("msg", "is not valid"))
    plain = {
        "missing": "is required",
        "less_than_equal": f"must be {ctx.get('le')} or less",
        "greater_than_equal": f"must be {ctx.get('ge')} or more",
        "less_than": f"must be less than {ctx.get('lt')}",
        "greater_than": f"must be more than {ctx.get('gt')}",
        "string_too_long": f"must be at most {ctx.get('max_length')} characters",
        "string_too_short": f"must be at least {ctx.get('min_length')} characters",
        "string_pattern_mismatch": "may use only capital letters, digits and hyphens",
        "enum": f"must be one of {ctx.get('expected')}",
        "date_from_datetime_parsing": "must be a date, such as 2026-03-31",
        "date_parsing": "must be a date, such as 2026-03-31",
        "date_type": "must be a date, such as 2026-03-31",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "int_type": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "decimal_parsing": "must be a number",
        "decimal_max_places": f"must have at most {ctx.get('decimal_places')} decimal places",
        "bool_parsing": "must be yes or no",
        "bool_type": "must be yes or no",
        "string_type": "must be text",
        "date_from_datetime_inexact": "must be a date without a time",
        "finite_number": "must be a number",
    }
    if kind in plain:
        return plain[kind]
    # Our own validators raise ValueError("field: reason"); pydantic prefixes "Value error, ".
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def from_validation_error(error: ValidationError) -> DomainError:
    """The first problem of a pydantic ValidationError, as a DomainError."""
    problems = problems_of(error)
    field, reason = problems[0]
    return DomainError(field, reason)


def problems_of(error: ValidationError) -> Sequence[tuple[str | None, str]]:
    """Every problem of a pydantic ValidationError as (field, reason) pairs.

    Model-level validators raise "field: reason", which is split back into its field."""
    problems: list[tuple[str | None, str]] = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        reason = _reason(item)
        field: str | None = location[0] if location else None
        if field is None and ": " in reason:
            head, _, tail = reason.partition(": ")
            if head.isidentifier():
                field, reason = head, tail
        problems.append((field, reason))
    return problems
