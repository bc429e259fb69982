"""Data protection's rules (DOMAIN.md "Data protection"): erasure of a stakeholder in one action,
audit copies included (RELIABILITY.md #10, #21); retention: stakeholders of programmes closed for
longer than the retention period are anonymised (#12); and the audit trail's record of a subject
access export. What they rewrite is found on the read side (`tracker.read.privacy`: where a
person appears, and the one finder that a subject access export uses too); the subject access
file is `tracker.io.subject_access`. docs/data-protection.md says what is kept where.

Erasure anonymises rather than deletes: the stakeholder keeps their id, numbers (stance,
influence, interest, desired stance, staff group) and assessments, so counts, the stance index
and stance trends stay as they were; their name becomes "Erased stakeholder <n>" and role, notes
and relationship owner are cleared. What the finder found is replaced by "[erased]", and every
audit copy of their own record is redacted; audit events are changed only by the one redaction
the database allows (migration 0003). The writes use Core statements rather than the ORM, so the
audit listener does not copy the personal data being removed into new events: the log records
only that an erasure happened (one 'erase' event, with no personal data). After the transaction
commits, `clean_up_storage` rewrites the storage of the tables that held the person
(`tracker.db.compact`) and refreshes their planner statistics, so neither keeps an old copy
(`erase` and `apply_retention` do both). A subject access file is recorded in the audit trail as
one 'subject_access' event (who, about which stakeholder; no personal data).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from tracker import audit, clock, db, permissions
from tracker.access import Viewer
from tracker.errors import DomainError, NotFoundError, PermissionDeniedError
from tracker.models import AuditAction, Programme, ProgrammeStatus, Role
from tracker.read.privacy import (
    BATCH,
    ERASED,
    Mention,
    find_mentions,
    holds_personal_data,
    is_erased_name,
    own_events,
    personal_values,
    programme_of,
    programmes_past_retention,
    record_history,
    require_person_data,
    search_for,
    stakeholder_row,
    subject_of,
)
from tracker.read.settings import setting_value
from tracker.read.sql import frame
from tracker.services.settings import store_setting

RETENTION_SETTING = "retention_months"
DEFAULT_RETENTION_MONTHS = 24
RETENTION_MONTHS_MIN = 1
RETENTION_MONTHS_MAX = 240
# Columns emptied rather than partly replaced when they name the erased person.
_CLEARED = {"assessment": frozenset({"assessed_by"})}
# The formats a subject access export is handed out in (tracker.io.subject_access).
ExportFormat = Literal["json", "csv"]


def _table(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


# --- Erasure ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure changed. `name` is the stakeholder's new name (None when their record
    had already been deleted and only audit copies were left); `records_changed` counts the
    rows rewritten per table; `audit_events_redacted` the audit events whose copies were
    redacted, and `audit_record_types` the record types those copies were of; `audit_event_id`
    the one 'erase' event that records it."""

    stakeholder_id: int
    programme_id: int
    name: str | None
    records_changed: dict[str, int] = field(default_factory=dict)
    audit_events_redacted: int = 0
    audit_event_id: int | None = None
    audit_record_types: tuple[str, ...] = ()
    # Set by `erase`: False when SQLite could not truncate its WAL yet (another reader).
    compacted: bool | None = None

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables that held the person (to compact and re-analyse afterwards): those whose
        rows were rewritten, those whose audit copies were redacted (a deleted row may linger
        in their storage), and the audit trail."""
        known = SQLModel.metadata.tables
        held = {*self.records_changed, *self.audit_record_types, "audit_event"}
        return tuple(sorted(name for name in held if name in known))

    def describe(self) -> str:
        changed = sum(self.records_changed.values())
        who = f"now '{self.name}'" if self.name else "their record had been deleted"
        late = (
            " The database file still holds old pages until its next checkpoint."
            if self.compacted is False
            else ""
        )
        return (
            f"Stakeholder {self.stakeholder_id} erased ({who}): {changed} "
            f"{'record' if changed == 1 else 'records'} rewritten, "
            f"{self.audit_events_redacted} audit "
            f"{'event' if self.audit_events_redacted == 1 else 'events'} redacted.{late}"
        )


def _free_erased_name(connection: sa.Connection, programme_id: int) -> str:
    table = _table("stakeholder")
    taken = {
        str(name)
        for (name,) in connection.execute(
            sa.select(table.c.name).where(table.c.programme_id == programme_id)
        )
    }
    number = 1
    while f"Erased stakeholder {number}" in taken:
        number += 1
    return f"Erased stakeholder {number}"


def _scrub_text(value: str, pattern: re.Pattern[str], limit: int | None) -> str:
    scrubbed = pattern.sub(ERASED, value)
    return scrubbed[:limit] if limit is not None else scrubbed


def _erased_value(
    record_type: str, name: str, text: str, pattern: re.Pattern[str], *, in_audit: bool
) -> str:
    """What an erasure writes instead of a text that names the person: every match replaced by
    "[erased]" (cut to the column's length), or, for a column that is cleared, nothing (in an
    audit copy "[erased]")."""
    if name in _CLEARED.get(record_type, frozenset()):
        return ERASED if in_audit else ""
    column = _table(record_type).c.get(name)
    limit = getattr(column.type, "length", None) if column is not None else None
    return _scrub_text(text, pattern, None if in_audit else limit)


def _rewrite_records(
    connection: sa.Connection, mentions: Sequence[Mention], pattern: re.Pattern[str]
) -> Counter[str]:
    """Rewrite the records the mentions are in; bump versions, so a form opened before the
    erasure cannot save the old text back."""
    changes: dict[tuple[str, str], dict[str, Any]] = {}
    for mention in mentions:
        if mention.audit_event_id is not None:
            continue
        value = _erased_value(
            mention.record_type, mention.field, mention.text, pattern, in_audit=False
        )
        changes.setdefault((mention.record_type, mention.record_id), {})[mention.field] = value
    changed: Counter[str] = Counter()
    for (table_name, record_id), values in changes.items():
        table = _table(table_name)
        if "version" in table.c:
            values["version"] = table.c.version + 1
        connection.execute(sa.update(table).where(table.c.id == int(record_id)).values(values))
        changed[table_name] += 1
    return changed


def _redacted_own_copy(text: str | None) -> str | None:
    """An audit copy of the erased person's own record with their personal data replaced by
    "[erased]"."""
    if text is None:
        return None
    values = audit.load_copy(text)
    for name in personal_values(values):
        values[name] = ERASED
    return audit.dump_copy(values)


def _redacted_copy(
    text: str | None, record_type: str, fields: set[str], pattern: re.Pattern[str]
) -> str | None:
    """An audit copy with the person's name replaced by "[erased]" in `fields`."""
    if text is None or not fields:
        return text
    values = audit.load_copy(text)
    for name in fields:
        value = values.get(name)
        if isinstance(value, str):
            values[name] = _erased_value(record_type, name, value, pattern, in_audit=True)
    return audit.dump_copy(values)


def _redact_audit(
    connection: sa.Connection,
    stakeholder_id: int,
    mentions: Sequence[Mention],
    pattern: re.Pattern[str] | None,
) -> tuple[int, set[str]]:
    """Redact every audit copy of the stakeholder's record, and the audit copies the mentions
    are in. Returns how many events changed, and the record types they were about."""
    events = _table("audit_event")
    wanted: dict[int, dict[str, set[str]]] = {}
    for mention in mentions:
        if mention.audit_event_id is not None and mention.copy is not None:
            sides = wanted.setdefault(mention.audit_event_id, {"before": set(), "after": set()})
            sides[mention.copy].add(mention.field)
    updates: list[dict[str, Any]] = []
    types: set[str] = set()
    own = connection.execute(
        sa.select(events.c.id, events.c.before, events.c.after).where(own_events(stakeholder_id))
    )
    for event_id, before, after in own:
        new_before, new_after = _redacted_own_copy(before), _redacted_own_copy(after)
        if new_before != before or new_after != after:
            updates.append({"event_id": event_id, "new_before": new_before, "new_after": new_after})
            types.add("stakeholder")
    ids = sorted(wanted)
    for start in range(0, len(ids), BATCH):
        batch = connection.execute(
            sa.select(events.c.id, events.c.record_type, events.c.before, events.c.after).where(
                events.c.id.in_(ids[start : start + BATCH])
            )
        )
        for event_id, record_type, before, after in batch:
            assert pattern is not None  # there are mentions only where there is a pattern
            sides = wanted[event_id]
            new_before = _redacted_copy(before, record_type, sides["before"], pattern)
            new_after = _redacted_copy(after, record_type, sides["after"], pattern)
            if new_before != before or new_after != after:
                updates.append(
                    {"event_id": event_id, "new_before": new_before, "new_after": new_after}
                )
                types.add(str(record_type))
    if updates:
        # The one change to an audit event the database allows (migration 0003).
        connection.execute(
            sa.update(events)
            .where(events.c.id == sa.bindparam("event_id"))
            .values(
                before=sa.bindparam("new_before"), after=sa.bindparam("new_after"), redacted=True
            ),
            updates,
        )
    return len(updates), types


def _write_event(
    session: Session, action: AuditAction, stakeholder_id: int, details: Mapping[str, Any]
) -> int:
    """Write one audit event by hand (an erasure, a subject access export) about a stakeholder,
    by the session's actor, belonging to the programme `details["programme_id"]`; `details`
    must hold no personal data."""
    events = _table("audit_event")
    values: dict[str, Any] = {
        "at": clock.now(),
        "actor": audit.actor_of(session),
        "action": action,
        "record_type": "stakeholder",
        "record_id": str(stakeholder_id),
        "before": None,
        "after": audit.dump_copy(details),
        "redacted": False,
    }
    if "programme_id" in events.c:
        # Whose event it is, where the audit trail records that (so an organisation's
        # administrators see it).
        values["programme_id"] = details["programme_id"]
    audit.mark_changed(session)
    event_id = (
        session.connection()
        .execute(sa.insert(events).values(values).returning(events.c.id))
        .scalar_one()
    )
    return int(event_id)


def _anonymise(session: Session, stakeholder_id: int) -> ErasureReport | None:
    """Erase one stakeholder in the session's transaction (see the module's docstring); None
    when nothing personal is left to erase. The caller has checked who may do it."""
    session.flush()
    connection = session.connection()
    row = stakeholder_row(connection, stakeholder_id)
    copies = record_history(connection, stakeholder_id)
    programme_id = programme_of(connection, stakeholder_id)
    if programme_id is None:
        raise NotFoundError(None, "That stakeholder does not exist.")
    if not holds_personal_data(connection, stakeholder_id):
        return None
    search = search_for(
        connection, stakeholder_id, programme_id, [*([row] if row else []), *copies]
    )
    # Found before anything is rewritten, so the search sees what a subject access export sees.
    mentions = find_mentions(connection, search) if search is not None else []
    changed: Counter[str] = Counter()
    name: str | None = None
    if row is not None:
        name = row["name"] if is_erased_name(row["name"]) else None
        name = name or _free_erased_name(connection, programme_id)
        table = _table("stakeholder")
        connection.execute(
            sa.update(table)
            .where(table.c.id == stakeholder_id)
            .values(
                name=name, role="", notes="", relationship_owner="", version=table.c.version + 1
            )
        )
        changed["stakeholder"] += 1
    pattern = search.pattern if search is not None else None
    if pattern is not None:
        changed.update(_rewrite_records(connection, mentions, pattern))
    redacted, record_types = _redact_audit(connection, stakeholder_id, mentions, pattern)
    details = {
        "programme_id": programme_id,
        "records_changed": dict(sorted(changed.items())),
        "audit_events_redacted": redacted,
    }
    event_id = _write_event(session, AuditAction.erase, stakeholder_id, details)
    # Objects this session loaded earlier hold the old values: read them afresh.
    session.expire_all()
    return ErasureReport(
        stakeholder_id=stakeholder_id,
        programme_id=programme_id,
        name=name,
        records_changed=dict(sorted(changed.items())),
        audit_events_redacted=redacted,
        audit_event_id=event_id,
        audit_record_types=tuple(sorted(record_types)),
    )


def erase_stakeholder(*, session: Session, viewer: Viewer, stakeholder_id: int) -> ErasureReport:
    """Right to erasure (RELIABILITY.md #10, #21), in the session's transaction: anonymise the
    stakeholder, replace their name (whole, and each part), role and notes in the programme's
    data and its audit copies, and record one 'erase' audit event. A stakeholder whose record
    was deleted can still be erased (their audit copies). Only managers and administrators of
    the programme (`require_person_data`). Call `clean_up_storage` after the commit (or use
    `erase`)."""
    if not viewer.can_manage:
        raise PermissionDeniedError(
            None, "Only managers and administrators can erase a stakeholder."
        )
    programme_id = programme_of(session.connection(), stakeholder_id)
    if programme_id is None:
        raise NotFoundError(None, "That stakeholder does not exist.")
    require_person_data(session, viewer, programme_id)
    report = _anonymise(session, stakeholder_id)
    if report is None:
        raise DomainError(
            None, "This stakeholder has already been erased: nothing about them is left."
        )
    return report


def _reanalyse(engine: Engine, tables: Iterable[str]) -> None:
    """Refresh the planner statistics of `tables`, which keep sample values of each column
    (PostgreSQL's pg_stats: most common values, histogram bounds), so they forget the erased
    values. SQLite's statistics (sqlite_stat1) hold only counts; only a build with STAT4 keeps
    sample values (sqlite_stat4), and then it is re-analysed too."""
    names = [name for name in tables if name in SQLModel.metadata.tables]
    if not names:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if db.is_sqlite(engine):
            stat4 = connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat4'"
            ).first()
            if stat4 is None:
                return
        for name in names:
            connection.exec_driver_sql(f'ANALYZE "{name}"')


def clean_up_storage(engine: Engine, tables: Iterable[str]) -> bool:
    """After an erasure (or a retention run) has committed: rewrite the storage of `tables` so
    it keeps no old copy of the erased values (`tracker.db.compact`: SQLite checkpoints its WAL
    and VACUUMs; PostgreSQL VACUUM FULL), then refresh their planner statistics. Returns False
    when SQLite could not truncate its WAL yet (another connection was reading)."""
    names = tuple(tables)
    compacted = db.compact(engine, names)
    _reanalyse(engine, names)
    return compacted


def erase(engine: Engine, *, viewer: Viewer, stakeholder_id: int) -> ErasureReport:
    """erase_stakeholder in its own transaction by the viewer, then `clean_up_storage`, so
    neither the database files nor the planner statistics keep an old copy."""
    with db.write_session(engine, actor=viewer.email) as session:
        report = erase_stakeholder(session=session, viewer=viewer, stakeholder_id=stakeholder_id)
    return replace(report, compacted=clean_up_storage(engine, report.tables))


# --- Retention ----------------------------------------------------------------------------------


def retention_months(*, session: Session) -> int:
    """The retention period in months (DEFAULT_RETENTION_MONTHS until an administrator sets
    one)."""
    value = setting_value(session, RETENTION_SETTING)
    try:
        return DEFAULT_RETENTION_MONTHS if value is None else int(value)
    except ValueError:
        return DEFAULT_RETENTION_MONTHS


def _check_months(months: int) -> int:
    if isinstance(months, bool) or not isinstance(months, int):
        raise DomainError("months", "must be a whole number of months")
    if not RETENTION_MONTHS_MIN <= months <= RETENTION_MONTHS_MAX:
        raise DomainError(
            "months", f"must be between {RETENTION_MONTHS_MIN} and {RETENTION_MONTHS_MAX}"
        )
    return months


def set_retention_months(*, session: Session, viewer: Viewer, months: int) -> int:
    """Set the retention period; returns it. It applies to every organisation, so only an
    administrator of every organisation may (Action.installation_administer)."""
    permissions.require(
        viewer, permissions.Action.installation_administer, permissions.installation(session)
    )
    store_setting(session, RETENTION_SETTING, str(_check_months(months)))
    return months


def retention_cutoff(today: dt.date, months: int) -> dt.date:
    """The date `months` months before `today` (the last day of the month when shorter):
    programmes closed before it are past retention."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(today.day, last_day))


@dataclass(frozen=True)
class RetentionReport:
    """A retention run: the programmes closed before `cutoff`, the stakeholders anonymised (in a
    dry run: those that would be), and each erasure's report (none in a dry run)."""

    today: dt.date
    months: int
    cutoff: dt.date
    dry_run: bool
    programme_ids: tuple[int, ...]
    stakeholder_ids: tuple[int, ...]
    erasures: tuple[ErasureReport, ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(sorted({table for report in self.erasures for table in report.tables}))

    def describe(self) -> str:
        people = len(self.stakeholder_ids)
        verb = "would be anonymised" if self.dry_run else "anonymised"
        return (
            f"Retention {self.months} months: {len(self.programme_ids)} closed "
            f"{'programme' if len(self.programme_ids) == 1 else 'programmes'} closed before "
            f"{self.cutoff.isoformat()}; {people} "
            f"{'stakeholder' if people == 1 else 'stakeholders'} {verb}"
            f"{' (dry run: nothing written)' if self.dry_run else ''}."
        )


def _stakeholders_of(connection: sa.Connection, programme_ids: Sequence[int]) -> list[int]:
    """The programmes' stakeholders, including deleted ones whose audit copies remain."""
    if not programme_ids:
        return []
    table = _table("stakeholder")
    found = {
        int(stakeholder_id)
        for (stakeholder_id,) in connection.execute(
            sa.select(table.c.id).where(table.c.programme_id.in_(programme_ids))
        )
    }
    events = _table("audit_event")
    wanted = set(programme_ids)
    query = sa.select(events.c.record_id, events.c.before, events.c.after).where(
        events.c.record_type == "stakeholder"
    )
    for record_id, before, after in connection.execute(query):
        if any(
            copy.get("programme_id") in wanted
            for copy in (audit.load_copy(before), audit.load_copy(after))
        ):
            found.add(int(record_id))
    return sorted(found)


def run_retention(
    *, session: Session, today: dt.date, months: int, dry_run: bool
) -> RetentionReport:
    """Anonymise (as erasure does) every stakeholder of programmes closed more than `months`
    months before `today`. Stakeholders already anonymised are skipped, so a second run changes
    nothing; a dry run only reports. Call `clean_up_storage` after the commit."""
    _check_months(months)
    cutoff = retention_cutoff(today, months)
    programme_ids = tuple(
        int(programme_id)
        for programme_id in session.exec(
            select(Programme.id)
            .where(
                col(Programme.status) == ProgrammeStatus.closed,
                col(Programme.closed_on) < cutoff,
            )
            .order_by(col(Programme.id))
        )
        if programme_id is not None
    )
    connection = session.connection()
    due = [
        stakeholder_id
        for stakeholder_id in _stakeholders_of(connection, programme_ids)
        if holds_personal_data(connection, stakeholder_id)
    ]
    erasures: list[ErasureReport] = []
    if not dry_run:
        for stakeholder_id in due:
            report = _anonymise(session, stakeholder_id)
            if report is not None:
                erasures.append(report)
    return RetentionReport(
        today=today,
        months=months,
        cutoff=cutoff,
        dry_run=dry_run,
        programme_ids=programme_ids,
        stakeholder_ids=tuple(due),
        erasures=tuple(erasures),
    )


@dataclass(frozen=True)
class RetentionPreview:
    """A dry run of retention: `programmes` lists the programmes past retention (code, title,
    organisation, closed_on, stakeholders to anonymise); `outside` the codes of those owned by
    organisations the viewer does not administer; `deleted` counts stakeholders whose record
    was deleted but whose audit copies still hold personal data."""

    report: RetentionReport
    programmes: pd.DataFrame
    outside: tuple[str, ...]
    deleted: int


def retention_preview(*, session: Session, viewer: Viewer, today: dt.date) -> RetentionPreview:
    """What a retention run today would anonymise, with the stored retention period; writes
    nothing."""
    months = retention_months(session=session)
    report = run_retention(session=session, today=today, months=months, dry_run=True)
    found = programmes_past_retention(
        session=session,
        programme_ids=report.programme_ids,
        stakeholder_ids=report.stakeholder_ids,
    )
    outside = tuple(r["code"] for r in found if r["organisation_id"] not in viewer.organisation_ids)
    columns = ["code", "title", "organisation", "closed_on", "stakeholders"]
    held = sum(int(r["stakeholders"]) for r in found)
    return RetentionPreview(
        report, frame(found, columns), outside, len(report.stakeholder_ids) - held
    )


def apply_retention(
    engine: Engine,
    *,
    today: dt.date,
    months: int | None = None,
    dry_run: bool = False,
    viewer: Viewer | None = None,
) -> RetentionReport:
    """run_retention in its own transaction (with the stored retention period unless `months`
    is given), then `clean_up_storage` when anything was anonymised.

    Without a viewer it runs as the installation (`tracker retention`). With one, it runs as that
    administrator and is refused unless they administer every organisation with a programme past
    retention: retention covers every organisation, so an administrator of all of them has to
    run it."""
    if viewer is not None and viewer.role is not Role.admin:
        raise PermissionDeniedError(None, "Only administrators can run retention.")
    with db.write_session(engine, actor=viewer.email if viewer else "system") as session:
        period = retention_months(session=session) if months is None else months
        if viewer is not None:
            outside = retention_preview(session=session, viewer=viewer, today=today).outside
            if outside:
                raise PermissionDeniedError(
                    None,
                    "Retention covers every organisation, and these programmes past retention "
                    f"belong to organisations you do not administer: {', '.join(outside)}. "
                    "Ask an administrator of those organisations to run it.",
                )
        report = run_retention(session=session, today=today, months=period, dry_run=dry_run)
    if report.erasures:
        clean_up_storage(engine, report.tables)
    return report


# --- Subject access -----------------------------------------------------------------------------


def record_subject_access(
    *, session: Session, viewer: Viewer, stakeholder_id: int, file_format: ExportFormat
) -> int:
    """Record in the audit trail that the session's actor exported everything held about the
    stakeholder (one 'subject_access' event about their record: the programme and the file's
    format, no personal data). Refused unless the viewer manages the stakeholder's programme.
    Returns the event's id."""
    _values, programme, _current = subject_of(session, viewer, stakeholder_id)
    details = {"programme_id": programme.id, "format": file_format}
    return _write_event(session, AuditAction.subject_access, stakeholder_id, details)


def erasure_summary(report: ErasureReport) -> list[Mapping[str, Any]]:
    """An erasure's rewritten records per table, as rows for a table on screen."""
    return [
        {"Record type": table.replace("_", " "), "Records rewritten": count}
        for table, count in report.records_changed.items()
    ]
