"""one permission resolver: whose audit event it is, data-sharing agreements with partners, and
the 'subject_access' audit action

- audit_event.programme_id and audit_event.organisation_id (no foreign keys: an event outlives
  its record), so an administrator reads only the events of their own organisations. Existing
  events are filled in from their before/after copies, following the same map as
  tracker/ownership.py (frozen here as it stands today). The guard triggers are redefined so an
  erasure's redaction cannot change them either.
- programme_partner.data_sharing_agreement: a partner sees a programme's people only with one.
- 'subject_access' in the audit action's CHECK: a subject-access export is recorded.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 21:00:00.000000

"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS_BEFORE = "action IN ('create', 'update', 'delete', 'erase')"
ACTIONS_AFTER = "action IN ('create', 'update', 'delete', 'erase', 'subject_access')"

# Frozen copy of tracker/ownership.PARENT as of this revision.
PARENT = {
    "assessment": ("stakeholder", "stakeholder_id"),
    "engagement_stakeholder": ("engagement", "engagement_id"),
    "exit_criterion": ("stage_record", "stage_record_id"),
    "influence_link": ("stakeholder", "from_stakeholder_id"),
    "metric_reading": ("metric", "metric_id"),
    "milestone_dependency": ("milestone", "milestone_id"),
    "milestone_impact": ("milestone", "milestone_id"),
}

_REDACTION_ONLY = """
    NEW.id = OLD.id
    AND NEW.at {same} OLD.at
    AND NEW.actor {same} OLD.actor
    AND NEW.action {same} OLD.action
    AND NEW.record_type {same} OLD.record_type
    AND NEW.record_id {same} OLD.record_id
    AND NEW.redacted {true}
    AND (NEW."before" IS NULL) = (OLD."before" IS NULL)
    AND (NEW."after" IS NULL) = (OLD."after" IS NULL)
"""
_SCOPE_KEPT = """
    AND NEW.programme_id {same} OLD.programme_id
    AND NEW.organisation_id {same} OLD.organisation_id
"""
_DATABASE_IN_USE = "EXISTS (SELECT 1 FROM organisation) OR EXISTS (SELECT 1 FROM app_user)"
UPDATE_REFUSED = "audit events cannot be changed (only an erasure may redact them)"
DELETE_REFUSED = "audit events cannot be deleted"


def _sqlite_triggers(scope: bool) -> tuple[str, ...]:
    condition = _REDACTION_ONLY + (_SCOPE_KEPT if scope else "")
    return (
        f"""
        CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        WHEN NOT ({condition.format(same="IS", true="= 1")})
        BEGIN
            SELECT RAISE(ABORT, '{UPDATE_REFUSED}');
        END
        """,
        f"""
        CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        WHEN {_DATABASE_IN_USE}
        BEGIN
            SELECT RAISE(ABORT, '{DELETE_REFUSED}');
        END
        """,
    )


def _postgres_function(scope: bool) -> str:
    condition = _REDACTION_ONLY + (_SCOPE_KEPT if scope else "")
    return f"""
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF {condition.format(same="IS NOT DISTINCT FROM", true="IS TRUE")} THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{UPDATE_REFUSED}' USING ERRCODE = 'restrict_violation';
    ELSIF TG_OP = 'DELETE' THEN
        IF {_DATABASE_IN_USE} THEN
            RAISE EXCEPTION '{DELETE_REFUSED}' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events cannot be truncated' USING ERRCODE = 'restrict_violation';
END
$guard$
"""


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _owners(connection: sa.Connection) -> list[dict[str, Any]]:
    """(id, programme_id, organisation_id) for every audit event, from its copies."""
    events = connection.execute(
        sa.text('SELECT id, record_type, record_id, "before", "after" FROM audit_event ORDER BY id')
    ).all()
    known: dict[tuple[str, str], int] = {}
    parsed = []
    for event_id, record_type, record_id, before, after in events:
        values = json.loads(after or before or "{}")
        parsed.append((event_id, record_type, record_id, values))
        if "programme_id" in values and values["programme_id"] is not None:
            known[(record_type, str(record_id))] = int(values["programme_id"])
    for table in {parent for parent, _ in PARENT.values()}:
        for row_id, programme_id in connection.execute(
            sa.text(f"SELECT id, programme_id FROM {table}")
        ):
            known.setdefault((table, str(row_id)), int(programme_id))
    found = []
    for event_id, record_type, record_id, values in parsed:
        programme_id = organisation_id = None
        if record_type == "programme":
            programme_id = int(record_id)
            organisation_id = values.get("organisation_id")
        elif record_type == "organisation":
            organisation_id = int(record_id)
        elif values.get("programme_id") is not None:
            programme_id = values["programme_id"]
        elif record_type in PARENT:
            parent, column = PARENT[record_type]
            if values.get(column) is not None:
                programme_id = known.get((parent, str(values[column])))
        elif values.get("organisation_id") is not None:
            organisation_id = values["organisation_id"]
        if programme_id is not None or organisation_id is not None:
            found.append({"id": event_id, "p": programme_id, "o": organisation_id})
    return found


def upgrade() -> None:
    sqlite = _is_sqlite()
    with op.batch_alter_table('programme_partner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_sharing_agreement', sa.Boolean(), server_default=sa.false(), nullable=False))
    if sqlite:
        # The batch rebuild below drops the table's triggers; they are made again after it.
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    else:
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_guard_rows")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_audit_event_programme', ['programme_id'], unique=False)
        batch_op.create_index('ix_audit_event_organisation', ['organisation_id'], unique=False)
        batch_op.drop_constraint(op.f('ck_audit_event_auditaction'), type_='check')
        batch_op.alter_column('action', existing_type=sa.VARCHAR(length=6), type_=sa.VARCHAR(length=14), existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_audit_event_auditaction'), ACTIONS_AFTER)
    connection = op.get_bind()
    rows = _owners(connection)
    if rows:
        connection.execute(
            sa.text("UPDATE audit_event SET programme_id = :p, organisation_id = :o WHERE id = :id"),
            rows,
        )
    if sqlite:
        for statement in _sqlite_triggers(scope=True):
            op.execute(statement)
    else:
        op.execute(_postgres_function(scope=True))
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_guard_rows")


def downgrade() -> None:
    sqlite = _is_sqlite()
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    else:
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_guard_rows")
    # The old CHECK knows no 'subject_access': such an event was not recorded before.
    op.execute("DELETE FROM audit_event WHERE action = 'subject_access'")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_event_auditaction'), type_='check')
        batch_op.alter_column('action', existing_type=sa.VARCHAR(length=14), type_=sa.VARCHAR(length=6), existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_audit_event_auditaction'), ACTIONS_BEFORE)
        batch_op.drop_index('ix_audit_event_organisation')
        batch_op.drop_index('ix_audit_event_programme')
        batch_op.drop_column('organisation_id')
        batch_op.drop_column('programme_id')
    if sqlite:
        for statement in _sqlite_triggers(scope=False):
            op.execute(statement)
    else:
        op.execute(_postgres_function(scope=False))
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_guard_rows")
    with op.batch_alter_table('programme_partner', schema=None) as batch_op:
        batch_op.drop_column('data_sharing_agreement')
