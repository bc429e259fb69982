"""Data protection (DOMAIN.md "Data protection"): everything held about one stakeholder, exported
for a subject access request (RELIABILITY.md #11); erasure of a stakeholder in one action, audit
copies included (#10); and retention: stakeholders of programmes closed for longer than the
retention period are anonymised (#12).

Erasure anonymises rather than deletes: the stakeholder keeps their id, numbers (stance,
influence, interest, desired stance, staff group) and assessments, so counts, the stance index
and stance trends stay as they were; their name becomes "Erased stakeholder <n>" and role, notes
and relationship owner are cleared. Their name, role and notes are then scrubbed from every
other text of programme data (an engagement summary that named them, another stakeholder's
notes) and from every audit event's before/after copy; audit events are changed only by the
one redaction the database allows (migration 0003). The writes use Core statements rather than
the ORM, so the audit listener does not copy the personal data being removed into new events:
the log records only that an erasure happened (one 'erase' event, with no personal data).
After the transaction commits, `tracker.db.compact` rewrites storage so the database file keeps
no old copy (`erase` and `apply_retention` do both).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from tracker import access, audit, clock, db
from tracker.access import Viewer
from tracker.errors import DomainError, NotFoundError, PermissionDeniedError
from tracker.models import (
    Assessment,
    AuditAction,
    Engagement,
    EngagementStakeholder,
    InfluenceLink,
    Milestone,
    MilestoneDependency,
    Organisation,
    Programme,
    ProgrammeStatus,
    Role,
    Setting,
    SettingBase,
    StaffGroup,
    Stakeholder,
    Stance,
)
from tracker.services import records

ERASED = "[erased]"
ANOTHER_STAKEHOLDER = "another stakeholder"
# The stakeholder's fields that are about the person; everything else is numbers and keys.
PERSONAL_FIELDS = ("name", "role", "notes", "relationship_owner")
_ERASED_NAME = re.compile(r"Erased stakeholder \d+")

RETENTION_SETTING = "retention_months"
DEFAULT_RETENTION_MONTHS = 24
RETENTION_MONTHS_MIN = 1
RETENTION_MONTHS_MAX = 240

# Tables whose text is not programme data (people who sign in, organisations and their groups,
# settings): an erasure of a stakeholder does not rewrite them or their audit copies.
_NOT_PROGRAMME_DATA = frozenset(
    {
        "app_user",
        "organisation",
        "staff_group",
        "user_organisation",
        "import_mapping",
        "setting",
        "audit_event",
    }
)
# Columns never rewritten when the erased person's name occurs in them: another stakeholder's
# own name and role are that person's identity, and a programme code is a key.
_KEPT = {"stakeholder": frozenset({"name", "role"}), "programme": frozenset({"code"})}
# Columns emptied rather than partly replaced when they name the erased person.
_CLEARED = {"assessment": frozenset({"assessed_by"})}
# Audit events of these record types can be about one stakeholder (besides their own record).
_LINKS = ("assessment", "influence_link", "engagement_stakeholder", "milestone_dependency")
_BATCH = 1000


def _table(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


def _plain(value: Any) -> Any:
    """A JSON-ready value: enums by value, dates in ISO form, decimals as text."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _dump(values: Mapping[str, Any]) -> str:
    # The same form tracker.audit writes, so an unchanged copy dumps to the same text.
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def _loads(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def is_erased_name(name: str) -> bool:
    """True for the name an erasure gives a stakeholder ("Erased stakeholder 3")."""
    return _ERASED_NAME.fullmatch(name) is not None


def _personal_values(values: Mapping[str, Any]) -> dict[str, str]:
    """The personal fields of a stakeholder's column values that still hold something."""
    found: dict[str, str] = {}
    for name in PERSONAL_FIELDS:
        value = values.get(name)
        if not isinstance(value, str) or not value.strip() or value == ERASED:
            continue
        if name == "name" and is_erased_name(value):
            continue
        found[name] = value
    return found


def _matcher(needles: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for all needles, longest first, each matched as whole words
    (so a short name does not eat into longer words)."""
    parts = []
    for needle in sorted(set(needles), key=lambda n: (-len(n), n)):
        left = r"(?<!\w)" if re.match(r"\w", needle[0]) else ""
        right = r"(?!\w)" if re.match(r"\w", needle[-1]) else ""
        parts.append(f"{left}{re.escape(needle)}{right}")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


# --- What is held about a stakeholder -----------------------------------------------------------


def _stakeholder_row(connection: sa.Connection, stakeholder_id: int) -> dict[str, Any] | None:
    table = _table("stakeholder")
    row = connection.execute(sa.select(table).where(table.c.id == stakeholder_id)).mappings()
    found = row.first()
    return dict(found) if found is not None else None


def _record_history(connection: sa.Connection, stakeholder_id: int) -> list[dict[str, Any]]:
    """Every before/after copy of the stakeholder's own record in the audit trail, oldest first."""
    events = _table("audit_event")
    copies: list[dict[str, Any]] = []
    query = (
        sa.select(events.c.before, events.c.after)
        .where(events.c.record_type == "stakeholder", events.c.record_id == str(stakeholder_id))
        .order_by(events.c.id)
    )
    for before, after in connection.execute(query):
        copies.extend(copy for copy in (_loads(before), _loads(after)) if copy)
    return copies


def _programme_of(connection: sa.Connection, stakeholder_id: int) -> int | None:
    """The stakeholder's programme: from their record, or (once deleted) its last audit copy."""
    row = _stakeholder_row(connection, stakeholder_id)
    if row is not None:
        return int(row["programme_id"])
    for copy in reversed(_record_history(connection, stakeholder_id)):
        if isinstance(copy.get("programme_id"), int):
            return int(copy["programme_id"])
    return None


def _holds_personal_data(connection: sa.Connection, stakeholder_id: int) -> bool:
    """True while the stakeholder's record, or any audit copy of it, still holds a name, role,
    notes or relationship owner (False once erased, unless someone wrote them in again)."""
    row = _stakeholder_row(connection, stakeholder_id)
    if row is not None and _personal_values(row):
        return True
    return any(_personal_values(copy) for copy in _record_history(connection, stakeholder_id))


def _needles(
    connection: sa.Connection, stakeholder_id: int, copies: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The texts to scrub everywhere: every name, notes and role the stakeholder has had. A role
    another stakeholder also holds ("Head of service") does not identify them and is kept."""
    names: set[str] = set()
    roles: set[str] = set()
    notes: set[str] = set()
    for copy in copies:
        values = _personal_values(copy)
        if len(values.get("name", "").strip()) >= 2:
            names.add(values["name"].strip())
        if len(values.get("role", "").strip()) >= 3:
            roles.add(values["role"].strip())
        if len(values.get("notes", "").strip()) >= 3:
            notes.add(values["notes"].strip())
    table = _table("stakeholder")
    shared = {
        str(role).casefold()
        for (role,) in connection.execute(
            sa.select(table.c.role).where(table.c.id != stakeholder_id).distinct()
        )
    }
    roles = {role for role in roles if role.casefold() not in shared}
    return sorted(names | roles | notes)


# --- Erasure ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure changed. `name` is the stakeholder's new name (None when their record
    had already been deleted and only audit copies were left); `records_changed` counts the
    rows rewritten per table; `audit_events_redacted` the audit events whose copies were
    redacted; `audit_event_id` the one 'erase' event that records it."""

    stakeholder_id: int
    programme_id: int
    name: str | None
    records_changed: dict[str, int] = field(default_factory=dict)
    audit_events_redacted: int = 0
    audit_event_id: int | None = None
    # Set by `erase`: False when SQLite could not truncate its WAL yet (another reader).
    compacted: bool | None = None

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables this erasure rewrote (to compact afterwards)."""
        return tuple(sorted({*self.records_changed, "audit_event"}))

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


def _is_text(column: sa.Column[Any]) -> bool:
    """A column of free text (not an enum's value)."""
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, sa.String) and not isinstance(kind, sa.Enum)


def _scrub_tables(connection: sa.Connection, pattern: re.Pattern[str]) -> Counter[str]:
    """Replace the needles in every text column of programme data; bump versions, so a form
    opened before the erasure cannot save the old text back."""
    changed: Counter[str] = Counter()
    for table in SQLModel.metadata.sorted_tables:
        if table.name in _NOT_PROGRAMME_DATA:
            continue
        kept = _KEPT.get(table.name, frozenset())
        columns = [
            column for column in table.columns if _is_text(column) and column.name not in kept
        ]
        if not columns:
            continue
        keys = list(table.primary_key.columns)
        found = connection.execute(sa.select(*keys, *columns)).mappings().all()
        for row in found:
            values: dict[str, Any] = {}
            for column in columns:
                text = row[column.name]
                if not text:
                    continue
                limit = getattr(column.type, "length", None)
                scrubbed = _scrub_text(text, pattern, limit)
                if scrubbed != text:
                    cleared = column.name in _CLEARED.get(table.name, frozenset())
                    values[column.name] = "" if cleared else scrubbed
            if not values:
                continue
            if "version" in table.c:
                values["version"] = table.c.version + 1
            connection.execute(
                sa.update(table).where(*(key == row[key.name] for key in keys)).values(values)
            )
            changed[table.name] += 1
    return changed


def _redacted_copy(
    text: str | None,
    *,
    own: bool,
    record_type: str,
    pattern: re.Pattern[str] | None,
) -> str | None:
    """The audit copy with the erased person's data replaced by "[erased]"."""
    if text is None:
        return None
    values = _loads(text)
    kept = frozenset() if own else _KEPT.get(record_type, frozenset())
    personal = _personal_values(values) if own else {}
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            continue
        if name in personal:
            values[name] = ERASED
        elif pattern is not None and name not in kept:
            scrubbed = pattern.sub(ERASED, value)
            if scrubbed != value:
                cleared = name in _CLEARED.get(record_type, frozenset())
                values[name] = ERASED if cleared else scrubbed
    return _dump(values)


def _redact_audit(connection: sa.Connection, stakeholder_id: int, needles: Sequence[str]) -> int:
    """Redact every audit copy of the stakeholder's record, and every other copy of programme
    data that contains one of the needles. Returns how many events changed."""
    events = _table("audit_event")
    pattern = _matcher(needles)
    # Copies are stored as JSON text: look for each needle as JSON would write it.
    folded = [json.dumps(n, ensure_ascii=False)[1:-1].casefold() for n in needles]
    own_id = str(stakeholder_id)
    redacted = 0
    last = 0
    while True:
        batch = connection.execute(
            sa.select(
                events.c.id,
                events.c.record_type,
                events.c.record_id,
                events.c.before,
                events.c.after,
            )
            .where(events.c.id > last)
            .order_by(events.c.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            return redacted
        updates = []
        for event_id, record_type, record_id, before, after in batch:
            last = event_id
            if record_type in _NOT_PROGRAMME_DATA:
                continue
            own = record_type == "stakeholder" and record_id == own_id
            text = f"{before or ''}\n{after or ''}".casefold()
            if not own and not any(needle in text for needle in folded):
                continue
            new_before = _redacted_copy(before, own=own, record_type=record_type, pattern=pattern)
            new_after = _redacted_copy(after, own=own, record_type=record_type, pattern=pattern)
            if new_before != before or new_after != after:
                updates.append(
                    {"event_id": event_id, "new_before": new_before, "new_after": new_after}
                )
        if updates:
            # The one change to an audit event the database allows (migration 0003).
            connection.execute(
                sa.update(events)
                .where(events.c.id == sa.bindparam("event_id"))
                .values(
                    before=sa.bindparam("new_before"),
                    after=sa.bindparam("new_after"),
                    redacted=True,
                ),
                updates,
            )
            redacted += len(updates)


def _anonymise(session: Session, stakeholder_id: int) -> ErasureReport | None:
    """Erase one stakeholder in the session's transaction (see the module's docstring); None
    when nothing personal is left to erase. The caller has checked who may do it."""
    session.flush()
    connection = session.connection()
    row = _stakeholder_row(connection, stakeholder_id)
    copies = _record_history(connection, stakeholder_id)
    programme_id = _programme_of(connection, stakeholder_id)
    if programme_id is None:
        raise NotFoundError(None, "That stakeholder does not exist.")
    if not _holds_personal_data(connection, stakeholder_id):
        return None
    needles = _needles(connection, stakeholder_id, [*([row] if row else []), *copies])
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
    pattern = _matcher(needles)
    if pattern is not None:
        changed.update(_scrub_tables(connection, pattern))
    redacted = _redact_audit(connection, stakeholder_id, needles)
    details = {
        "programme_id": programme_id,
        "records_changed": dict(sorted(changed.items())),
        "audit_events_redacted": redacted,
    }
    events = _table("audit_event")
    audit.mark_changed(session)
    event_id = connection.execute(
        sa.insert(events)
        .values(
            at=clock.now(),
            actor=audit.actor_of(session),
            action=AuditAction.erase,
            record_type="stakeholder",
            record_id=str(stakeholder_id),
            before=None,
            after=_dump(details),
            redacted=False,
        )
        .returning(events.c.id)
    ).scalar_one()
    # Objects this session loaded earlier hold the old values: read them afresh.
    session.expire_all()
    return ErasureReport(
        stakeholder_id=stakeholder_id,
        programme_id=programme_id,
        name=name,
        records_changed=dict(sorted(changed.items())),
        audit_events_redacted=redacted,
        audit_event_id=int(event_id),
    )


def erase_stakeholder(*, session: Session, viewer: Viewer, stakeholder_id: int) -> ErasureReport:
    """Right to erasure (RELIABILITY.md #10), in the session's transaction: anonymise the
    stakeholder, scrub their name, role and notes from programme data and audit copies, and
    record one 'erase' audit event. A stakeholder whose record was deleted can still be erased
    (their audit copies). Only managers and administrators of the programme's organisations.
    Call `tracker.db.compact` after the commit (or use `erase`)."""
    if not viewer.can_manage:
        raise PermissionDeniedError(
            None, "Only managers and administrators can erase a stakeholder."
        )
    programme_id = _programme_of(session.connection(), stakeholder_id)
    if programme_id is None:
        raise NotFoundError(None, "That stakeholder does not exist.")
    access.require_manager(session, viewer, programme_id)
    report = _anonymise(session, stakeholder_id)
    if report is None:
        raise DomainError(
            None, "This stakeholder has already been erased: nothing about them is left."
        )
    return report


def erase(engine: Engine, *, viewer: Viewer, stakeholder_id: int) -> ErasureReport:
    """erase_stakeholder in its own transaction by the viewer, then compact the storage so the
    database file keeps no old copy."""
    with db.write_session(engine, actor=viewer.email) as session:
        report = erase_stakeholder(session=session, viewer=viewer, stakeholder_id=stakeholder_id)
    return replace(report, compacted=db.compact(engine, report.tables))


# --- Retention ----------------------------------------------------------------------------------


def retention_months(*, session: Session) -> int:
    """The retention period in months (DEFAULT_RETENTION_MONTHS until an administrator sets
    one)."""
    setting = session.get(Setting, RETENTION_SETTING)
    if setting is None:
        return DEFAULT_RETENTION_MONTHS
    try:
        return int(setting.value)
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
    """Set the retention period (administrators only); returns it."""
    if viewer.role is not Role.admin:
        raise PermissionDeniedError(None, "Only administrators can change the retention period.")
    value = str(_check_months(months))
    setting = session.get(Setting, RETENTION_SETTING)
    if setting is None:
        records.create(session, Setting, SettingBase, {"key": RETENTION_SETTING, "value": value})
    elif setting.value != value:
        records.update(
            session,
            Setting,
            SettingBase,
            RETENTION_SETTING,
            expected_version=setting.version,
            changes={"value": value},
        )
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
        if any(copy.get("programme_id") in wanted for copy in (_loads(before), _loads(after))):
            found.add(int(record_id))
    return sorted(found)


def run_retention(
    *, session: Session, today: dt.date, months: int, dry_run: bool
) -> RetentionReport:
    """Anonymise (as erasure does) every stakeholder of programmes closed more than `months`
    months before `today`. Stakeholders already anonymised are skipped, so a second run changes
    nothing; a dry run only reports. Call `tracker.db.compact` after the commit."""
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
        if _holds_personal_data(connection, stakeholder_id)
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


def apply_retention(
    engine: Engine,
    *,
    today: dt.date,
    months: int | None = None,
    dry_run: bool = False,
    actor: str = "system",
) -> RetentionReport:
    """run_retention in its own transaction (with the stored retention period unless `months`
    is given), then compact the storage when anything was anonymised."""
    with db.write_session(engine, actor=actor) as session:
        period = retention_months(session=session) if months is None else months
        report = run_retention(session=session, today=today, months=period, dry_run=dry_run)
    if report.erasures:
        db.compact(engine, report.tables)
    return report


# --- Subject access -----------------------------------------------------------------------------


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _other_names(
    connection: sa.Connection, programme_id: int, stakeholder_id: int, own_name: str
) -> list[str]:
    """Every name another stakeholder of the programme has or had, except one that is part of
    the subject's own name (it would mangle it)."""
    table = _table("stakeholder")
    names = {
        str(name)
        for (name,) in connection.execute(
            sa.select(table.c.name).where(
                table.c.programme_id == programme_id, table.c.id != stakeholder_id
            )
        )
    }
    events = _table("audit_event")
    query = sa.select(events.c.before, events.c.after).where(
        events.c.record_type == "stakeholder", events.c.record_id != str(stakeholder_id)
    )
    for before, after in connection.execute(query):
        for copy in (_loads(before), _loads(after)):
            name = copy.get("name")
            if copy.get("programme_id") == programme_id and isinstance(name, str):
                names.add(name)
    names = {name.strip() for name in names if len(name.strip()) >= 2 and name != ERASED}
    kept = []
    for name in sorted(names):
        pattern = _matcher([name])
        if pattern is not None and pattern.search(own_name) is None:
            kept.append(name)
    return kept


def _anonymised(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """`value` with other stakeholders' names replaced by "another stakeholder", recursively."""
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(ANOTHER_STAKEHOLDER, value)
    if isinstance(value, list):
        return [_anonymised(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _anonymised(item, pattern) for key, item in value.items()}
    return value


def _columns(record: SQLModel, names: Iterable[str]) -> dict[str, Any]:
    return {name: _plain(getattr(record, name)) for name in names}


def _audit_about(
    connection: sa.Connection, stakeholder_id: int, engagement_ids: set[int]
) -> list[dict[str, Any]]:
    """The audit events about the stakeholder's records: their own record, their assessments,
    influence links, attendance and milestone dependencies, and the engagements they attended.
    In an influence link's copies the other party's id reads "another stakeholder"."""
    events = _table("audit_event")
    query = (
        sa.select(events)
        .where(
            sa.or_(
                sa.and_(
                    events.c.record_type == "stakeholder",
                    events.c.record_id == str(stakeholder_id),
                ),
                events.c.record_type.in_(_LINKS),
                events.c.record_type == "engagement",
            )
        )
        .order_by(events.c.id)
    )
    found: list[dict[str, Any]] = []
    for event in connection.execute(query).mappings():
        copies = [_loads(event["before"]), _loads(event["after"])]
        record_type = event["record_type"]
        if record_type in ("assessment", "engagement_stakeholder", "milestone_dependency"):
            if not any(copy.get("stakeholder_id") == stakeholder_id for copy in copies):
                continue
            if record_type == "engagement_stakeholder":
                engagement_ids.update(int(copy["engagement_id"]) for copy in copies if copy)
        elif record_type == "influence_link":
            ends = ("from_stakeholder_id", "to_stakeholder_id")
            if not any(copy.get(end) == stakeholder_id for copy in copies for end in ends):
                continue
            for copy in copies:
                for end in ends:
                    if end in copy and copy[end] != stakeholder_id:
                        copy[end] = ANOTHER_STAKEHOLDER
        found.append(
            {
                "at": _plain(event["at"]),
                "actor": event["actor"],
                "action": _plain(event["action"]),
                "record_type": record_type,
                "record_id": event["record_id"],
                "before": copies[0] or None,
                "after": copies[1] or None,
                "redacted": bool(event["redacted"]),
            }
        )
    # Engagements are known only once the attendance events are read: keep theirs.
    return [
        event
        for event in found
        if event["record_type"] != "engagement" or int(event["record_id"]) in engagement_ids
    ]


def _attended(session: Session, stakeholder_id: int) -> list[dict[str, Any]]:
    """The engagements the stakeholder attended, oldest first; other attendees only counted."""
    present = SQLModel.metadata.tables["engagement_stakeholder"].alias("present")
    others = (
        sa.select(sa.func.count())
        .where(
            present.c.engagement_id == col(Engagement.id),
            present.c.stakeholder_id != stakeholder_id,
        )
        .scalar_subquery()
    )
    attended = session.exec(
        select(Engagement, others)
        .join(EngagementStakeholder, col(EngagementStakeholder.engagement_id) == Engagement.id)
        .where(EngagementStakeholder.stakeholder_id == stakeholder_id)
        .order_by(col(Engagement.occurred_on), col(Engagement.id))
    ).all()
    names = ("id", "occurred_on", "kind", "summary", "outcome", "follow_up_on", "follow_up_done")
    return [
        _columns(engagement, names) | {"other_attendees": [ANOTHER_STAKEHOLDER] * int(count)}
        for engagement, count in attended
    ]


def _links(session: Session, stakeholder_id: int) -> list[dict[str, Any]]:
    """Who influences the stakeholder and whom they influence; the other party anonymous."""
    found = session.exec(
        select(InfluenceLink)
        .where(
            sa.or_(
                col(InfluenceLink.from_stakeholder_id) == stakeholder_id,
                col(InfluenceLink.to_stakeholder_id) == stakeholder_id,
            )
        )
        .order_by(col(InfluenceLink.id))
    )
    return [
        {
            "id": link.id,
            "direction": (
                "influences them"
                if link.to_stakeholder_id == stakeholder_id
                else "is influenced by them"
            ),
            "other": ANOTHER_STAKEHOLDER,
            "strength": link.strength,
        }
        for link in found
    ]


def subject_access_export(
    *, session: Session, viewer: Viewer, stakeholder_id: int
) -> dict[str, Any]:
    """Everything held about one stakeholder (RELIABILITY.md #11), as JSON-ready data: their
    record, every assessment, the engagements they attended (other attendees only counted, as
    "another stakeholder"), their influence links (the other party "another stakeholder"), the
    milestones that depend on them, the programme's title and lawful basis, and the audit events
    about their records. Other stakeholders' names are replaced by "another stakeholder" in
    every text. A deleted stakeholder's export holds what the audit trail still keeps about
    them. Only managers and administrators of the programme's organisations."""
    if not viewer.can_manage:
        raise PermissionDeniedError(
            None, "Only managers and administrators can export a stakeholder's data."
        )
    connection = session.connection()
    stakeholder = session.get(Stakeholder, stakeholder_id)
    if stakeholder is not None:
        values = {name: getattr(stakeholder, name) for name in Stakeholder.model_fields}
    else:
        # Deleted: what is still held about them is the audit trail's copies.
        copies = _record_history(connection, stakeholder_id)
        if not copies:
            raise NotFoundError(None, "That stakeholder does not exist.")
        values = copies[-1]
    programme = access.require_manager(session, viewer, int(values["programme_id"]))
    organisation = session.get(Organisation, programme.organisation_id)
    group_id = values.get("staff_group_id")
    group = session.get(StaffGroup, group_id) if group_id is not None else None
    person = {
        "id": stakeholder_id,
        "record": "current" if stakeholder else "deleted (only audit copies are held)",
        **{name: _plain(values.get(name)) for name in ("name", "role", "influence", "interest")},
        "stance": values.get("stance"),
        "stance_label": Stance(int(values.get("stance") or 0)).label,
        "desired_stance": values.get("desired_stance"),
        "desired_stance_label": Stance(int(values.get("desired_stance") or 0)).label,
        "staff_group": group.name if group else None,
        "relationship_owner": values.get("relationship_owner"),
        "notes": values.get("notes"),
    }
    assessments = [
        _columns(
            assessment,
            (
                "id",
                "assessed_on",
                "stance",
                "influence",
                "interest",
                "awareness",
                "desire",
                "knowledge",
                "ability",
                "reinforcement",
                "assessed_by",
            ),
        )
        | {"stance_label": Stance(assessment.stance).label}
        for assessment in session.exec(
            select(Assessment)
            .where(Assessment.stakeholder_id == stakeholder_id)
            .order_by(col(Assessment.assessed_on), col(Assessment.id))
        )
    ]
    attended = _attended(session, stakeholder_id)
    links = _links(session, stakeholder_id)
    milestones = [
        _columns(milestone, ("id", "title", "stage", "due_date", "status"))
        for milestone in session.exec(
            select(Milestone)
            .join(MilestoneDependency, col(MilestoneDependency.milestone_id) == Milestone.id)
            .where(MilestoneDependency.stakeholder_id == stakeholder_id)
            .order_by(col(Milestone.due_date), col(Milestone.id))
        )
    ]
    engagement_ids = {int(engagement["id"]) for engagement in attended}
    export: dict[str, Any] = {
        "export": {
            "kind": "subject access request",
            "generated_on": clock.today().isoformat(),
            "stakeholder_id": stakeholder_id,
            "note": (
                f'Other people are shown as "{ANOTHER_STAKEHOLDER}". Stance runs from -2 '
                "(active resistor) to +2 (champion); influence and interest from 1 to 5."
            ),
        },
        "programme": {
            "code": programme.code,
            "title": programme.title,
            "organisation": organisation.name if organisation else None,
            "lawful_basis": _plain(programme.lawful_basis),
            "lawful_basis_label": _label(str(_plain(programme.lawful_basis))),
        },
        "stakeholder": person,
        "assessments": assessments,
        "engagements": attended,
        "influence_links": links,
        "milestones_depending_on_them": milestones,
        "audit_events": _audit_about(connection, stakeholder_id, engagement_ids),
    }
    own_name = str(values.get("name") or "")
    other_names = _other_names(connection, programme.id or 0, stakeholder_id, own_name)
    return dict(_anonymised(export, _matcher(other_names)))


def export_json(export: Mapping[str, Any]) -> bytes:
    """A subject access export as UTF-8 JSON, for download."""
    return json.dumps(export, indent=2, ensure_ascii=False).encode("utf-8")


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        pairs: list[tuple[str, Any]] = []
        for key, item in value.items():
            pairs.extend(_flatten(f"{prefix}.{key}" if prefix else str(key), item))
        return pairs
    if isinstance(value, list):
        if all(not isinstance(item, (dict, list)) for item in value):
            return [(prefix, "; ".join(str(item) for item in value))]
        pairs = []
        for number, item in enumerate(value, start=1):
            pairs.extend(_flatten(f"{prefix}[{number}]", item))
        return pairs
    return [(prefix, "" if value is None else value)]


def export_csv(export: Mapping[str, Any]) -> bytes:
    """A subject access export as CSV (section, item, field, value: one line per value), UTF-8
    with a byte-order mark so spreadsheet programs read accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "item", "field", "value"])
    for section, content in export.items():
        items = content if isinstance(content, list) else [content]
        for number, item in enumerate(items, start=1):
            label = str(number) if isinstance(content, list) else ""
            for name, value in _flatten("", item):
                writer.writerow([section, label, name, value])
    return buffer.getvalue().encode("utf-8-sig")


def export_filename(export: Mapping[str, Any], suffix: str = "json") -> str:
    """e.g. subject-access-stakeholder-12-2026-06-15.json"""
    about = export["export"]
    return f"subject-access-stakeholder-{about['stakeholder_id']}-{about['generated_on']}.{suffix}"
