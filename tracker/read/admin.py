"""What the administrator's pages read: the users and organisations an administrator manages
(their own organisations only), the audit trail and the sign-in attempts filtered and counted in
the database, readable summaries of each event's before/after copies, and what a retention run
would anonymise; and, for the `tracker` command, the installation's organisations and user
accounts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from tracker import audit, words
from tracker.access import Viewer, people_programme_ids, visible_programme_ids
from tracker.errors import DomainError, NotFoundError
from tracker.models import (
    AuditAction,
    AuditEvent,
    MilestoneImpact,
    Organisation,
    Programme,
    Role,
    SignInAttempt,
    SignInMethod,
    SignInOutcome,
    StaffGroup,
    Stakeholder,
    User,
    UserOrganisation,
)
from tracker.ownership import PEOPLE_TABLES
from tracker.permissions import Action, allowed, organisations, require
from tracker.read.sql import rows

# --- Users and organisations --------------------------------------------------------------------


def organisation_names(*, session: Session, viewer: Viewer) -> dict[int, str]:
    """The organisations the viewer administers, id -> name, by name."""
    statement = (
        sa.select(col(Organisation.id), col(Organisation.name))
        .where(col(Organisation.id).in_(list(viewer.organisation_ids)))
        .order_by(col(Organisation.name))
    )
    return {int(row["id"]): row["name"] for row in rows(session, statement)}


def staff_group_names(*, session: Session, viewer: Viewer) -> dict[int, str]:
    """The staff groups of the viewer's organisations, id -> "NCC: Customer services"."""
    statement = (
        sa.select(col(StaffGroup.id), col(StaffGroup.name), col(Organisation.short_name))
        .join(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .where(col(StaffGroup.organisation_id).in_(list(viewer.organisation_ids)))
        .order_by(col(Organisation.short_name), col(StaffGroup.name))
    )
    return {int(r["id"]): f"{r['short_name']}: {r['name']}" for r in rows(session, statement)}


@dataclass(frozen=True)
class AdminUser:
    """A user as Admin → Users shows them. `organisations` names the viewer's organisations they
    belong to (and how many others), `organisation_ids` lists those of the viewer's;
    `local_password` says whether a password is set (never the hash); `administrable` whether
    the viewer may change them (every organisation of theirs is the viewer's). In words:
    `role_label`, `staff_group` ("NCC: Customer services", "" without one), `account` ("Active"
    or "Deactivated") and `password_set` ("Yes" or "No")."""

    id: int
    version: int
    email: str
    name: str
    role: str
    role_label: str
    organisations: str
    organisation_ids: tuple[int, ...]
    staff_group: str
    staff_group_id: int | None
    active: bool
    account: str
    local_password: bool
    password_set: str
    administrable: bool


def _user_columns() -> list[Any]:
    """A user's columns both user reads show: id, version, e-mail, name, role, staff group id,
    whether active, and `local_password` (whether a password is set, never the hash)."""
    return [
        col(User.id),
        col(User.version),
        col(User.email),
        col(User.name),
        col(User.role),
        col(User.staff_group_id),
        col(User.active),
        col(User.password_hash).is_not(None).label("local_password"),
    ]


def user_table(*, session: Session, viewer: Viewer) -> tuple[AdminUser, ...]:
    """The users in at least one of the viewer's organisations, by name (see AdminUser)."""
    in_scope = sa.select(col(UserOrganisation.user_id)).where(
        col(UserOrganisation.organisation_id).in_(list(viewer.organisation_ids))
    )
    group = sa.func.coalesce(col(Organisation.short_name) + ": " + col(StaffGroup.name), "")
    users = rows(
        session,
        sa.select(*_user_columns(), group.label("staff_group"))
        .outerjoin(StaffGroup, col(StaffGroup.id) == col(User.staff_group_id))
        .outerjoin(Organisation, col(Organisation.id) == col(StaffGroup.organisation_id))
        .where(col(User.id).in_(in_scope))
        .order_by(sa.func.lower(col(User.name)), col(User.id)),
    )
    links = rows(
        session,
        sa.select(col(UserOrganisation.user_id), col(Organisation.id), col(Organisation.name))
        .join(Organisation, col(Organisation.id) == col(UserOrganisation.organisation_id))
        .where(col(UserOrganisation.user_id).in_(in_scope))
        .order_by(col(Organisation.name)),
    )
    found = []
    for user in users:
        mine = [link for link in links if link["user_id"] == user["id"]]
        own = [link for link in mine if link["id"] in viewer.organisation_ids]
        others = len(mine) - len(own)
        names = ", ".join(link["name"] for link in own)
        role = Role(user["role"])
        active, password = bool(user["active"]), bool(user["local_password"])
        found.append(
            AdminUser(
                id=int(user["id"]),
                version=int(user["version"]),
                email=user["email"],
                name=user["name"],
                role=role.value,
                role_label=role.label,
                organisations=names + (f" (and {others} other)" if others else ""),
                organisation_ids=tuple(int(link["id"]) for link in own),
                staff_group=user["staff_group"] or "",
                staff_group_id=user["staff_group_id"],
                active=active,
                account="Active" if active else "Deactivated",
                local_password=password,
                password_set="Yes" if password else "No",
                # tracker.permissions: only an administrator of every one of their organisations.
                administrable=allowed(
                    viewer, Action.user_administer, organisations(link["id"] for link in mine)
                ),
            )
        )
    return tuple(found)


def _count(table: type[Any], column: Any, key: Any) -> sa.ScalarSelect[int]:
    return sa.select(sa.func.count()).select_from(table).where(column == key).scalar_subquery()


@dataclass(frozen=True)
class OrganisationUse:
    """An organisation the viewer administers, with how many staff groups, users and programmes
    (owned) it has."""

    id: int
    version: int
    name: str
    short_name: str
    staff_groups: int
    users: int
    programmes: int


@dataclass(frozen=True)
class StaffGroupUse:
    """A staff group with what uses it: users, stakeholders and milestone impacts (what deleting
    the group would change)."""

    id: int
    version: int
    name: str
    users: int
    stakeholders: int
    milestone_impacts: int

    @property
    def deletion_words(self) -> str:
        """What deleting the group changes, in a sentence for the confirmation."""
        return (
            f"{self.users} user(s) lose their staff group (a staff user then needs a new one "
            f"before their account can be saved); {self.stakeholders} stakeholder(s) keep their "
            f"record without a group; {self.milestone_impacts} milestone impact(s) on it are "
            "deleted, so it drops out of change load."
        )


def _with_counts(table: type[Organisation] | type[StaffGroup], *columns: Any) -> Any:
    """SELECT a record's id, version and name, then `columns` (what uses it, counted)."""
    return sa.select(col(table.id), col(table.version), col(table.name), *columns)


def _organisation_uses() -> Any:
    """SELECT each organisation with what it has (the columns of OrganisationUse)."""
    return _with_counts(
        Organisation,
        col(Organisation.short_name),
        _count(StaffGroup, StaffGroup.organisation_id, Organisation.id).label("staff_groups"),
        _count(UserOrganisation, UserOrganisation.organisation_id, Organisation.id).label("users"),
        _count(Programme, Programme.organisation_id, Organisation.id).label("programmes"),
    )


def organisation_table(*, session: Session, viewer: Viewer) -> tuple[OrganisationUse, ...]:
    """The viewer's organisations, by name, with what each has (OrganisationUse)."""
    statement = (
        _organisation_uses()
        .where(col(Organisation.id).in_(list(viewer.organisation_ids)))
        .order_by(col(Organisation.name))
    )
    return tuple(OrganisationUse(**row) for row in rows(session, statement))


def installation_organisations(*, session: Session) -> tuple[OrganisationUse, ...]:
    """Every organisation of the installation, by short name, with what each has (for whoever
    runs the `tracker` command on the server, who can read the whole database anyway)."""
    statement = _organisation_uses().order_by(col(Organisation.short_name))
    return tuple(OrganisationUse(**row) for row in rows(session, statement))


def staff_group_table(*, session: Session, organisation_id: int) -> tuple[StaffGroupUse, ...]:
    """One organisation's staff groups, by name, with what uses each (StaffGroupUse)."""
    statement = (
        _with_counts(
            StaffGroup,
            _count(User, User.staff_group_id, StaffGroup.id).label("users"),
            _count(Stakeholder, Stakeholder.staff_group_id, StaffGroup.id).label("stakeholders"),
            _count(MilestoneImpact, MilestoneImpact.staff_group_id, StaffGroup.id).label(
                "milestone_impacts"
            ),
        )
        .where(col(StaffGroup.organisation_id) == organisation_id)
        .order_by(col(StaffGroup.name))
    )
    return tuple(StaffGroupUse(**row) for row in rows(session, statement))


# --- The installation's accounts, for the `tracker` command -------------------------------------


@dataclass(frozen=True)
class OrganisationName:
    """An organisation's id, name and short name."""

    id: int
    name: str
    short_name: str


@dataclass(frozen=True)
class StaffGroupName:
    """A staff group's id, name and organisation."""

    id: int
    name: str
    organisation_id: int


@dataclass(frozen=True)
class UserAccount:
    """A user account as the installation holds it: every organisation the user belongs to (by
    short name), and whether a local password is set (never the hash)."""

    id: int
    version: int
    email: str
    name: str
    role: Role
    staff_group_id: int | None
    active: bool
    local_password: bool
    organisations: tuple[OrganisationName, ...]


def _user_accounts(
    session: Session, *conditions: sa.ColumnElement[bool]
) -> tuple[UserAccount, ...]:
    """The users that meet `conditions`, by e-mail (in any case)."""
    users = rows(
        session,
        sa.select(*_user_columns())
        .where(*conditions)
        .order_by(sa.func.lower(col(User.email)), col(User.id)),
    )
    links = rows(
        session,
        sa.select(
            col(UserOrganisation.user_id),
            col(Organisation.id),
            col(Organisation.name),
            col(Organisation.short_name),
        )
        .join(Organisation, col(Organisation.id) == col(UserOrganisation.organisation_id))
        .where(col(UserOrganisation.user_id).in_(sa.select(col(User.id)).where(*conditions))),
    )
    memberships: dict[int, list[OrganisationName]] = {}
    for link in links:
        memberships.setdefault(int(link["user_id"]), []).append(
            OrganisationName(id=int(link["id"]), name=link["name"], short_name=link["short_name"])
        )
    return tuple(
        UserAccount(
            id=int(user["id"]),
            version=int(user["version"]),
            email=user["email"],
            name=user["name"],
            role=Role(user["role"]),
            staff_group_id=user["staff_group_id"],
            active=bool(user["active"]),
            local_password=bool(user["local_password"]),
            organisations=tuple(
                sorted(memberships.get(int(user["id"]), []), key=lambda o: o.short_name)
            ),
        )
        for user in users
    )


def user_accounts(*, session: Session) -> tuple[UserAccount, ...]:
    """Every user of the installation, by e-mail (in any case)."""
    return _user_accounts(session)


def user_account(*, session: Session, email: str) -> UserAccount:
    """The user with this e-mail (in any case, spaces around it ignored), or NotFoundError."""
    address = email.strip().lower()
    found = _user_accounts(session, sa.func.lower(col(User.email)) == address)
    if not found:
        raise NotFoundError("email", f"no user has the e-mail {address}")
    return found[0]


def organisations_with_short_names(
    *, session: Session, short_names: Sequence[str]
) -> tuple[OrganisationName, ...]:
    """The organisations with these short names (in any case, spaces around them ignored), each
    once, in the order given; NotFoundError naming the first that no organisation has."""
    wanted = [short_name.strip() for short_name in short_names]
    statement = sa.select(
        col(Organisation.id), col(Organisation.name), col(Organisation.short_name)
    ).where(sa.func.upper(col(Organisation.short_name)).in_([w.upper() for w in wanted]))
    by_short_name: dict[str, OrganisationName] = {}
    for row in rows(session, statement):
        by_short_name.setdefault(row["short_name"].upper(), OrganisationName(**row))
    found: dict[int, OrganisationName] = {}
    for short_name in wanted:
        organisation = by_short_name.get(short_name.upper())
        if organisation is None:
            raise NotFoundError("org", f"no organisation has the short name {short_name}")
        found.setdefault(organisation.id, organisation)
    return tuple(found.values())


def staff_groups_called(
    *, session: Session, name: str, organisation_ids: Iterable[int]
) -> tuple[StaffGroupName, ...]:
    """The staff groups called `name` (in any case) in these organisations."""
    statement = sa.select(
        col(StaffGroup.id), col(StaffGroup.name), col(StaffGroup.organisation_id)
    ).where(
        col(StaffGroup.organisation_id).in_(list(organisation_ids)),
        sa.func.lower(col(StaffGroup.name)) == name.lower(),
    )
    return tuple(StaffGroupName(**row) for row in rows(session, statement))


# --- The audit trail ----------------------------------------------------------------------------

# Fields that say nothing to a reader (the record id has its own column; the version changes
# with every save), and fields never shown, only said to have been set or changed.
_QUIET = frozenset({"id", "version"})
_SECRET = frozenset({"password_hash"})
_VALUE_CHARS = 80
_SUMMARY_CHARS = 600
ERASED_NOTE = " [personal data erased]"


@dataclass(frozen=True)
class AuditEntry:
    """One audit event as the audit trail shows it: `when` (UTC, in words), the action and the
    record type in words, and `changes`, a readable summary of the before/after copies
    (changes_text) that says so when an erasure has rewritten the event's personal data."""

    id: int
    at: dt.datetime
    when: str
    actor: str
    action: str
    record_type: str
    record_id: str
    changes: str
    redacted: bool


@dataclass(frozen=True)
class SignInEntry:
    """One attempt to sign in as the sign-in log shows it: `when` (UTC, in words), the method
    and the outcome in words."""

    id: int
    at: dt.datetime
    when: str
    email: str
    method: str
    outcome: str


def _between(
    column: Mapped[dt.datetime], since: dt.date, until: dt.date
) -> list[sa.ColumnElement[bool]]:
    """From the start of `since` to the end of `until` (UTC days)."""
    if until < since:
        raise DomainError("until", "the end of the date range must not be before its start")
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return [column >= start, column < end]


@dataclass(frozen=True)
class AuditFilter:
    """Which audit events to show: those at or after the start of `since` and before the end of
    `until` (UTC days), and, when given, by one person, of one record type, about one record."""

    since: dt.date
    until: dt.date
    actor: str | None = None
    record_type: str | None = None
    record_id: str | None = None

    def conditions(self, viewer: Viewer) -> list[sa.ColumnElement[bool]]:
        found = _between(col(AuditEvent.at), self.since, self.until)
        found.append(audit_scope(viewer))
        if self.actor:
            found.append(col(AuditEvent.actor) == self.actor)
        if self.record_type:
            found.append(col(AuditEvent.record_type) == self.record_type)
        if self.record_id and self.record_id.strip():
            found.append(col(AuditEvent.record_id) == self.record_id.strip())
        return found


def audit_scope(viewer: Viewer) -> sa.ColumnElement[bool]:
    """The audit events an administrator may read: those about records of their organisations'
    programmes (about people only where they may see the programme's people), about their
    organisations, and about users of their organisations; events that concern the whole
    installation (settings, generated data) only when they administer every organisation."""
    if viewer.system:
        return sa.true()
    orgs = sorted(viewer.organisation_ids)
    people = sorted(PEOPLE_TABLES)
    record_type = col(AuditEvent.record_type)
    programme_id = col(AuditEvent.programme_id)
    organisation_id = col(AuditEvent.organisation_id)
    my_users = sa.select(sa.cast(col(UserOrganisation.user_id), sa.String)).where(
        col(UserOrganisation.organisation_id).in_(orgs)
    )
    every_organisation = ~sa.exists(
        sa.select(col(Organisation.id)).where(col(Organisation.id).not_in(orgs))
    )
    return sa.or_(
        sa.and_(record_type.in_(people), programme_id.in_(people_programme_ids(viewer))),
        sa.and_(record_type.not_in(people), programme_id.in_(visible_programme_ids(viewer))),
        organisation_id.in_(orgs),
        sa.and_(record_type == "app_user", col(AuditEvent.record_id).in_(my_users)),
        sa.and_(
            programme_id.is_(None),
            organisation_id.is_(None),
            record_type != "app_user",
            every_organisation,
        ),
    )


def audit_actors(*, session: Session, viewer: Viewer) -> list[str]:
    """Everyone (and 'system') who has changed anything the viewer may read about,
    alphabetically."""
    require(viewer, Action.audit_read)
    statement = (
        sa.select(col(AuditEvent.actor))
        .where(audit_scope(viewer))
        .distinct()
        .order_by(col(AuditEvent.actor))
    )
    return [str(row["actor"]) for row in rows(session, statement)]


def audit_record_types(*, session: Session, viewer: Viewer) -> list[str]:
    """The record types that appear in the viewer's audit trail, alphabetically."""
    require(viewer, Action.audit_read)
    statement = (
        sa.select(col(AuditEvent.record_type))
        .where(audit_scope(viewer))
        .distinct()
        .order_by("record_type")
    )
    return [str(row["record_type"]) for row in rows(session, statement)]


def _count_where(session: Session, table: type[Any], conditions: list[Any]) -> int:
    statement = sa.select(sa.func.count()).select_from(table).where(*conditions)
    return int(session.connection().execute(statement).scalar_one())


# A log the admin pages read newest first.
Logged = TypeVar("Logged", AuditEvent, SignInAttempt)


def _newest(
    session: Session,
    table: type[Logged],
    conditions: list[sa.ColumnElement[bool]],
    limit: int | None,
    offset: int = 0,
) -> list[Logged]:
    """The rows of a log (the audit trail or the sign-in attempts) that meet `conditions`,
    newest first, `limit` of them from `offset`."""
    statement = (
        select(table)
        .where(*conditions)
        .order_by(col(table.at).desc(), col(table.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(statement))


def _logged(row: AuditEvent | SignInAttempt) -> dict[str, Any]:
    """A log row's id and time, with the time in words: the fields every log entry starts with."""
    return {"id": int(row.id or 0), "at": row.at, "when": words.time_text(row.at)}


def audit_count(*, session: Session, viewer: Viewer, where: AuditFilter) -> int:
    """How many events match `where` among those the viewer may read."""
    require(viewer, Action.audit_read)
    return _count_where(session, AuditEvent, where.conditions(viewer))


def audit_events(
    *,
    session: Session,
    viewer: Viewer,
    where: AuditFilter,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[AuditEntry, ...]:
    """The matching events the viewer may read (audit_scope), newest first, `limit` of them
    from `offset`, as the audit trail shows them (AuditEntry)."""
    require(viewer, Action.audit_read)
    return tuple(
        AuditEntry(
            **_logged(event),
            actor=event.actor,
            action=AuditAction(event.action).label,
            record_type=event.record_type.replace("_", " "),
            record_id=event.record_id,
            changes=changes_text(event.action, event.before, event.after)
            + (ERASED_NOTE if event.redacted else ""),
            redacted=bool(event.redacted),
        )
        for event in _newest(session, AuditEvent, where.conditions(viewer), limit, offset)
    )


def _value(value: Any, name: str = "") -> str:
    if name in _SECRET:
        return "(set)" if value else "(none)"
    text = "(empty)" if value is None or value == "" else str(value)
    text = " ".join(text.split())
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def _field(name: str) -> str:
    return "password" if name in _SECRET else name.replace("_", " ")


def changes_text(action: str, before: str | None, after: str | None) -> str:
    """One event's before/after copies as plain text a person can read: an update lists each
    changed field ("title: Old → New"), a create or delete the record's filled-in fields, an
    erasure only what it changed (its event holds no personal data). A password hash is never
    shown: only whether one is set."""
    old = audit.load_copy(before)
    new = audit.load_copy(after)
    if action == AuditAction.erase:
        changed = sum(int(n) for n in (new.get("records_changed") or {}).values())
        redacted = int(new.get("audit_events_redacted") or 0)
        return (
            f"Stakeholder erased (right to erasure): {changed} records rewritten, "
            f"{redacted} audit events redacted"
        )
    if action == AuditAction.subject_access:
        file_format = str(new.get("format") or "a file").upper()
        return f"Everything held about the stakeholder exported ({file_format}, subject access)"
    if action == AuditAction.update:
        parts = [
            f"{_field(name)}: replaced"
            if name in _SECRET and old.get(name) and new.get(name)
            else f"{_field(name)}: {_value(old.get(name), name)} → {_value(new.get(name), name)}"
            for name in sorted(set(old) | set(new))
            if name not in _QUIET and old.get(name) != new.get(name)
        ]
        text = "; ".join(parts) or "no visible change"
    else:
        values = new if action == AuditAction.create else old
        text = "; ".join(
            f"{_field(name)}: {_value(value, name)}"
            for name, value in sorted(values.items())
            if name not in _QUIET and value not in (None, "")
        )
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"


# --- Sign-in attempts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInFilter:
    """Which sign-in attempts to show: within the UTC days `since` to `until`, and, when given,
    for one e-mail address (as typed, any case) or with one outcome."""

    since: dt.date
    until: dt.date
    email: str | None = None
    outcome: SignInOutcome | None = None

    def conditions(self, viewer: Viewer) -> list[sa.ColumnElement[bool]]:
        found = _between(col(SignInAttempt.at), self.since, self.until)
        # Attempts for people who are all outside the viewer's organisations are not theirs to
        # see; attempts for addresses with no account (someone guessing) are.
        theirs = sa.select(col(UserOrganisation.user_id)).where(
            col(UserOrganisation.organisation_id).in_(list(viewer.organisation_ids))
        )
        others = sa.select(sa.func.lower(col(User.email))).where(col(User.id).not_in(theirs))
        found.append(col(SignInAttempt.email).not_in(others))
        if self.email and self.email.strip():
            found.append(col(SignInAttempt.email) == self.email.strip().lower())
        if self.outcome is not None:
            found.append(col(SignInAttempt.outcome) == self.outcome)
        return found


def sign_in_count(*, session: Session, viewer: Viewer, where: SignInFilter) -> int:
    """How many attempts match `where` among those the viewer may see."""
    return _count_where(session, SignInAttempt, where.conditions(viewer))


def sign_in_attempts(
    *, session: Session, viewer: Viewer, where: SignInFilter, limit: int | None = None
) -> tuple[SignInEntry, ...]:
    """The matching attempts, newest first, `limit` of them, as the sign-in log shows them."""
    return tuple(
        SignInEntry(
            **_logged(attempt),
            email=attempt.email,
            method=SignInMethod(attempt.method).label,
            outcome=SignInOutcome(attempt.outcome).label,
        )
        for attempt in _newest(session, SignInAttempt, where.conditions(viewer), limit)
    )
