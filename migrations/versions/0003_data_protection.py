"""data protection: an audit trail the app cannot edit, the 'erase' audit action, settings

The audit trail (RELIABILITY.md #9) gets database triggers that refuse any UPDATE or DELETE of
an audit event, with two exceptions:

- the redaction an erasure makes (#10): an UPDATE that keeps id, at, actor, action, record_type
  and record_id, sets `redacted` to true, and only replaces `before`/`after` (a copy that was
  empty stays empty). Redacting an already redacted event again is allowed, so erasing a second
  person named in the same record can scrub them too; `redacted` never goes back to false.
- deleting audit events of a database that holds no organisation and no user any more: the
  complete wipe `tracker demo --reset` makes (it deletes every other table first, in the same
  transaction). While any organisation or user exists, no audit event can be deleted.

SQLite: BEFORE UPDATE / BEFORE DELETE triggers that RAISE(ABORT) (sqlite3.IntegrityError).
PostgreSQL: the same rules in the plpgsql trigger function audit_event_guard() (SQLSTATE 23001,
restrict_violation), TRUNCATE refused outright, and UPDATE, DELETE, TRUNCATE revoked from PUBLIC.
A deployment's application role should hold only
    GRANT SELECT, INSERT ON audit_event TO app_role;
    GRANT UPDATE (before, after, redacted) ON audit_event TO app_role;
    GRANT USAGE ON SEQUENCE audit_event_id_seq TO app_role;
and must not own the table (an owner can drop the triggers).

Also: the `redacted` column, 'erase' in the audit action's CHECK, and the `setting` table
(key/value; the retention period lives there, 24 months when unset).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 17:50:07.493860

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS_BEFORE = "action IN ('create', 'update', 'delete')"
ACTIONS_AFTER = "action IN ('create', 'update', 'delete', 'erase')"

# An UPDATE is the erasure's redaction, or it is refused. Shared by both dialects: only the
# NULL-safe comparison is spelled differently (IS / IS NOT DISTINCT FROM).
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
# A delete is allowed only once nothing else is left (the demo's complete wipe).
_DATABASE_IN_USE = "EXISTS (SELECT 1 FROM organisation) OR EXISTS (SELECT 1 FROM app_user)"

UPDATE_REFUSED = "audit events cannot be changed (only an erasure may redact them)"
DELETE_REFUSED = "audit events cannot be deleted"

SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    WHEN NOT ({_REDACTION_ONLY.format(same="IS", true="= 1")})
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

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF {_REDACTION_ONLY.format(same="IS NOT DISTINCT FROM", true="IS TRUE")} THEN
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
POSTGRES_TRIGGERS = (
    "CREATE TRIGGER audit_event_guard_rows BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_guard()",
    "CREATE TRIGGER audit_event_guard_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_guard()",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM PUBLIC",
)


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table('setting',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.CheckConstraint('length(key) >= 2 AND length(key) <= 60', name=op.f('ck_setting_key_length')),
    sa.CheckConstraint('length(value) <= 200', name=op.f('ck_setting_value_length')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting'))
    )
    # On SQLite this rebuilds the table, so the triggers come after it.
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint(op.f('ck_audit_event_auditaction'), type_='check')
        batch_op.create_check_constraint(op.f('ck_audit_event_auditaction'), ACTIONS_AFTER)

    statements = (SQLITE_TRIGGERS if _is_sqlite() else (POSTGRES_FUNCTION, *POSTGRES_TRIGGERS))
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if _is_sqlite():
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_guard_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_guard_rows ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_guard()")
        # PUBLIC never held UPDATE, DELETE or TRUNCATE on the table: nothing to grant back.
    # The old CHECK knows no 'erase': an erasure was, in the old vocabulary, an update.
    op.execute("UPDATE audit_event SET action = 'update' WHERE action = 'erase'")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_event_auditaction'), type_='check')
        batch_op.create_check_constraint(op.f('ck_audit_event_auditaction'), ACTIONS_BEFORE)
        batch_op.drop_column('redacted')

    op.drop_table('setting')
