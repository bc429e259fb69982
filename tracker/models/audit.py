"""The audit trail: who changed what, when, with the record before and after."""

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracker.models.base import enum_type
from tracker.vocabulary import AuditAction


# One change to one record, written in the same transaction as the change.
class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_record", "record_type", "record_id"),
        sa.Index("ix_audit_event_at", "at"),
        sa.Index("ix_audit_event_programme", "programme_id"),
        sa.Index("ix_audit_event_organisation", "organisation_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime
    actor: str = Field(max_length=254, index=True)
    action: AuditAction = Field(sa_type=enum_type(AuditAction))
    record_type: str = Field(max_length=40)
    # The primary key as text: composite keys of link rows read "12/7".
    record_id: str = Field(max_length=60)
    # JSON of the record's columns; None before a create and after a delete.
    before: str | None = Field(default=None, sa_type=sa.Text)
    after: str | None = Field(default=None, sa_type=sa.Text)
    # True once an erasure replaced personal data in before/after with "[erased]". The database
    # refuses every other change to an audit event (migration 0003's triggers).
    redacted: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Whose event it is, so an administrator reads only their organisations' events: the
    # programme the record belongs to, or the organisation (for organisations, staff groups and
    # memberships). No foreign keys: the event outlives the record.
    programme_id: int | None = Field(default=None)
    organisation_id: int | None = Field(default=None)
