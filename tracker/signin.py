"""Signing in and staying signed in: local accounts with Argon2id passwords, single sign-on
e-mails matched to users, every attempt recorded, repeated failures slowed down, and sessions
that end after a time idle or a fixed time in all.

Sessions live in the database (user_session), so every app process sees the same ones; the
browser's session state holds only the random token. The bookkeeping is written with plain SQL
outside the audit trail: it is a security log, not programme data."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker import db, passwords
from tracker.access import Viewer, viewer_for
from tracker.errors import DomainError
from tracker.models import User
from tracker.models.signin import SignInAttempt, SignInMethod, SignInOutcome, UserSession

# Failures for one address within this window count towards slowing it down.
FAILURE_WINDOW = dt.timedelta(minutes=15)
# The first failures are free (typos); after that each one doubles the wait, up to the cap.
FREE_FAILURES = 3
FIRST_WAIT_SECONDS = 10
MAX_WAIT_SECONDS = 15 * 60
# Who check_password's own write sessions are by (its plain SQL is not audited in any case).
ACTOR = "sign-in"
# Seen-at is written at most this often, so a busy page does not write on every rerun.
TOUCH_EVERY = dt.timedelta(seconds=60)

REFUSED = "That e-mail address and password do not match an active account."
NO_ACCOUNT = (
    "You signed in as {email}, but there is no active Change Tracker account for that address. "
    "Ask your administrator for access."
)


class SignInRefused(DomainError):
    """A sign-in that did not succeed; the reason says what the person can do."""


class SessionEnded(DomainError):
    """The session is over (timed out, signed out, or the account was deactivated)."""


@dataclass(frozen=True)
class Timeouts:
    """How long a session may sit idle, and how long it may last in all."""

    idle: dt.timedelta
    absolute: dt.timedelta

    @classmethod
    def from_environment(cls) -> Timeouts:
        """TRACKER_IDLE_MINUTES (default 30) and TRACKER_SESSION_HOURS (default 12)."""
        idle = _setting("TRACKER_IDLE_MINUTES", 30)
        absolute = _setting("TRACKER_SESSION_HOURS", 12)
        return cls(dt.timedelta(minutes=idle), dt.timedelta(hours=absolute))


def _setting(name: str, default: float) -> float:
    """A positive number from the environment; the default when unset or not a number (a
    typo must not stop every page, nor switch the time-out off)."""
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if value > 0 else default


def wait_before_next_attempt(failures: int) -> dt.timedelta:
    """How long an address must wait after its latest failure, given its recent failures."""
    if failures < FREE_FAILURES:
        return dt.timedelta(0)
    seconds = FIRST_WAIT_SECONDS * 2 ** (failures - FREE_FAILURES)
    return dt.timedelta(seconds=min(seconds, MAX_WAIT_SECONDS))


def _record(
    session: Session, *, email: str, method: SignInMethod, outcome: SignInOutcome, now: dt.datetime
) -> int:
    inserted = session.execute(
        sa.insert(SignInAttempt)
        .values(at=now, email=email[:254], method=method.value, outcome=outcome.value)
        .returning(col(SignInAttempt.id))
    )
    return int(inserted.scalar_one())


def _recent_failures(session: Session, email: str, now: dt.datetime) -> tuple[int, dt.datetime]:
    # Refusals while waiting do not count: only real attempts that failed extend the wait. An
    # attempt whose password is still being checked is written as a failure first, so it counts.
    failed = col(SignInAttempt.outcome).not_in(
        [SignInOutcome.ok.value, SignInOutcome.throttled.value]
    )
    row = session.execute(
        sa.select(sa.func.count(), sa.func.max(SignInAttempt.at)).where(
            col(SignInAttempt.email) == email, failed, col(SignInAttempt.at) > now - FAILURE_WINDOW
        )
    ).one()
    latest = row[1] or now
    if latest.tzinfo is None:  # SQLite hands back naive datetimes from an aggregate
        latest = latest.replace(tzinfo=dt.UTC)
    return int(row[0]), latest


def _active_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(sa.func.lower(User.email) == email)).first()


def _lock_address(session: Session, email: str) -> None:
    """Attempts at one address take turns until the end of the transaction, so counting its
    failures and recording this attempt is one step. SQLite's write session already holds the
    database's write lock (BEGIN IMMEDIATE); PostgreSQL takes an advisory lock on the address."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:email, 0))"), {"email": email}
        )


@dataclass(frozen=True)
class _Admitted:
    """An attempt allowed to check its password: its row (recorded as a failure until
    settled) and what the check needs."""

    attempt_id: int
    user_id: int | None
    password_hash: str | None


def _admit(engine: Engine, address: str, now: dt.datetime) -> _Admitted:
    """One short transaction: refuse (recorded as throttled) when the address must wait, or
    record the attempt as a failure for now, so attempts at the same address arriving while
    its password is checked count it."""
    with db.write_session(engine, actor=ACTOR) as session:
        _lock_address(session, address)
        failures, latest = _recent_failures(session, address, now)
        wait = wait_before_next_attempt(failures)
        throttled = bool(wait) and now < latest + wait
        user = None if throttled else _active_user(session, address)
        if throttled:
            outcome = SignInOutcome.throttled
        elif user is None:
            outcome = SignInOutcome.unknown_email
        else:
            outcome = SignInOutcome.wrong_password
        attempt_id = _record(
            session, email=address, method=SignInMethod.local, outcome=outcome, now=now
        )
        # Committed before refusing, so the refusal stays recorded.
    if throttled:
        seconds = int((latest + wait - now).total_seconds()) + 1
        raise SignInRefused(
            None,
            f"Too many failed sign-ins for this address. Wait {seconds} seconds, then try again.",
        )
    return _Admitted(attempt_id, user.id if user else None, user.password_hash if user else None)


def check_password(engine: Engine, *, email: str, password: str, now: dt.datetime) -> Viewer:
    """The viewer for a local account whose password matches; otherwise SignInRefused with the
    same message whatever was wrong. Every attempt is recorded; after three failures in 15
    minutes an address must wait, doubling each time, before it may try again.

    It runs its own transactions, so call it with no write session open: a short one records
    the attempt as a failure (or refuses it while the address must wait); the password is then
    checked with no transaction open (Argon2 is slow, and SQLite would keep every other writer
    waiting); a second short one settles the attempt's outcome. Attempts at one address
    arriving together therefore check at most FREE_FAILURES passwords before the wait applies,
    and an attempt cut short between the two stays recorded as a failure."""
    address = email.strip().lower()
    admitted = _admit(engine, address, now)
    matched = passwords.password_matches(admitted.password_hash, password)
    if admitted.user_id is None or not matched:
        # Already recorded as unknown_email or wrong_password: nothing to settle.
        raise SignInRefused(None, REFUSED)
    with db.write_session(engine, actor=ACTOR) as session:
        # Read again: the account may have been deactivated while the password was checked.
        user = session.get(User, admitted.user_id)
        active = user is not None and user.active
        outcome = SignInOutcome.ok if active else SignInOutcome.deactivated
        session.execute(
            sa.update(SignInAttempt)
            .where(col(SignInAttempt.id) == admitted.attempt_id)
            .values(outcome=outcome.value)
        )
        viewer = viewer_for(user) if user is not None and active else None
    if viewer is None:
        raise SignInRefused(None, REFUSED)
    return viewer


def check_identity(
    *, session: Session, email: str, method: SignInMethod, now: dt.datetime
) -> Viewer:
    """The viewer for an address that single sign-on (or demo mode) vouched for; SignInRefused
    when no active user has it. The attempt is recorded either way."""
    address = email.strip().lower()
    user = _active_user(session, address)
    if user is None or not user.active:
        outcome = SignInOutcome.unknown_email if user is None else SignInOutcome.deactivated
        _record(session, email=address, method=method, outcome=outcome, now=now)
        raise SignInRefused(None, NO_ACCOUNT.format(email=address))
    _record(session, email=address, method=method, outcome=SignInOutcome.ok, now=now)
    return viewer_for(user)


def start_session(
    *,
    session: Session,
    viewer: Viewer,
    method: SignInMethod,
    now: dt.datetime,
    started_at: dt.datetime | None = None,
) -> str:
    """A new session for the viewer; returns its token. `started_at` may be earlier than now
    (single sign-on's own sign-in time), so the absolute time-out counts from there."""
    token = secrets.token_urlsafe(32)
    session.execute(
        sa.insert(UserSession).values(
            id=token,
            email=viewer.email.lower(),
            method=method.value,
            started_at=started_at or now,
            last_seen_at=now,
        )
    )
    return token


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class SessionCheck:
    """What checking a session found: its viewer, or why it ends (`ending` is the reason to
    record, None when it was already over); and whether its seen-at time is due a move."""

    viewer: Viewer | None
    message: str = ""
    ending: str | None = None
    touch: bool = False


def check_session(
    *, session: Session, token: str, now: dt.datetime, timeouts: Timeouts
) -> SessionCheck:
    """Read-only: whether the session is live (not idle or open too long, not signed out, the
    account still active), with its user's role and organisations read afresh."""
    row = session.get(UserSession, token)
    if row is None:
        return SessionCheck(None, "Your session is not recognised. Please sign in again.")
    if row.ended_at is not None:
        return SessionCheck(None, "You have signed out. Sign in again to continue.")
    if now - _aware(row.started_at) > timeouts.absolute:
        return SessionCheck(
            None,
            "Your session has reached its time limit. Please sign in again.",
            ending="absolute_timeout",
        )
    if now - _aware(row.last_seen_at) > timeouts.idle:
        return SessionCheck(
            None,
            "You were signed out after a period of inactivity. Please sign in again.",
            ending="idle_timeout",
        )
    user = _active_user(session, row.email)
    if user is None or not user.active:
        return SessionCheck(
            None,
            "Your account is no longer active. Ask your administrator for access.",
            ending="deactivated",
        )
    return SessionCheck(viewer_for(user), touch=now - _aware(row.last_seen_at) >= TOUCH_EVERY)


def record_check(*, session: Session, token: str, now: dt.datetime, check: SessionCheck) -> None:
    """Write what check_session found: the session's end, or its new seen-at time."""
    if check.ending is not None:
        end_session(session=session, token=token, now=now, reason=check.ending)
    elif check.touch:
        session.execute(
            sa.update(UserSession).where(col(UserSession.id) == token).values(last_seen_at=now)
        )


def resume_session(*, session: Session, token: str, now: dt.datetime, timeouts: Timeouts) -> Viewer:
    """check_session and record_check in one write session: the viewer of a live session, or
    SessionEnded (and the session closed) when it is over."""
    check = check_session(session=session, token=token, now=now, timeouts=timeouts)
    record_check(session=session, token=token, now=now, check=check)
    if check.viewer is None:
        raise SessionEnded(None, check.message)
    return check.viewer


def end_session(*, session: Session, token: str, now: dt.datetime, reason: str) -> None:
    """Close a session (signed out, timed out, deactivated); later resumes are refused."""
    session.execute(
        sa.update(UserSession)
        .where(col(UserSession.id) == token, col(UserSession.ended_at).is_(None))
        .values(ended_at=now, end_reason=reason[:60])
    )
