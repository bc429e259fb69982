"""The one error type services raise: it names the field and a reason a person can act on."""

from __future__ import annotations

from collections.abc import Sequence

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


def _reason(message: str) -> str:
    # Pydantic prefixes messages from our validators with "Value error, ".
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
        reason = _reason(str(item.get("msg", "is not valid")))
        field: str | None = location[0] if location else None
        if field is None and ": " in reason:
            head, _, tail = reason.partition(": ")
            if head.isidentifier():
                field, reason = head, tail
        problems.append((field, reason))
    return problems
