"""Signing in: local passwords, single sign-on e-mails, every attempt recorded, failures slowed
down, and sessions that end when idle, too old, signed out or deactivated."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests import factories
from tracker import db, passwords, signin
from tracker.models import AuditEvent, Role, SignInAttempt, SignInMethod, User, UserSession
from tracker.models.organisation import UserUpdate
from tracker.services import organisations, records

NOW = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
TIMEOUTS = signin.Timeouts(idle=dt.timedelta(minutes=30), absolute=dt.timedelta(hours=12))


@pytest.fixture
def account(engine: Engine) -> str:
    org = factories.organisation(engine)
    email = "local.user@example.org"
    factories.user(
        engine,
        [org],
        Role.manager,
        email=email,
    )
    with db.write_session(engine, actor=factories.ACTOR) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        organisations.set_password(
            session=session, viewer=factories.SYSTEM, user_id=user.id or 0, password=PASSWORD
        )
    return email


def _try(engine: Engine, email: str, password: str, now: dt.datetime = NOW) -> str:
    """'ok' or the refusal's reason; the attempt is recorded either way, as the page does."""
    try:
        signin.check_password(engine, email=email, password=password, now=now)
    except signin.SignInRefused as error:
        return error.reason
    return "ok"


def _outcomes(engine: Engine) -> list[str]:
    with db.read_session(engine) as session:
        rows = session.exec(select(SignInAttempt).order_by(SignInAttempt.id)).all()
        return [str(row.outcome) for row in rows]


def test_passwords_are_stored_as_argon2id_hashes_and_short_ones_refused() -> None:
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(signin.DomainError, match="at least 12 characters"):
        passwords.hash_password("short")
    assert passwords.password_matches(stored, PASSWORD)
    assert not passwords.password_matches(stored, PASSWORD + "!")
    assert not passwords.password_matches(None, PASSWORD)


def test_the_right_password_signs_in_and_every_attempt_is_recorded(
    engine: Engine, account: str
) -> None:
    assert _try(engine, account.upper(), PASSWORD) == "ok"
    assert _try(engine, account, "wrong password!!") == signin.REFUSED
    assert _try(engine, "nobody@example.org", PASSWORD) == signin.REFUSED
    assert _outcomes(engine) == ["ok", "wrong_password", "unknown_email"]


def test_a_deactivated_account_cannot_sign_in_with_the_same_message(
    engine: Engine, account: str
) -> None:
    with db.write_session(engine, actor=factories.ACTOR) as session:
        user = session.exec(select(User).where(User.email == account)).one()
        organisations.update_user(
            session=session,
            viewer=factories.SYSTEM,
            user_id=user.id or 0,
            data=records.validated(UserUpdate, {"version": user.version, "active": False}),
        )
    assert _try(engine, account, PASSWORD) == signin.REFUSED
    assert _outcomes(engine) == ["deactivated"]


@pytest.mark.parametrize(
    ("failures", "wait_seconds"), [(0, 0), (2, 0), (3, 10), (4, 20), (6, 80), (20, 900)]
)
def test_repeated_failures_double_the_wait_up_to_fifteen_minutes(
    failures: int, wait_seconds: int
) -> None:
    assert signin.wait_before_next_attempt(failures) == dt.timedelta(seconds=wait_seconds)


def test_after_three_failures_even_the_right_password_must_wait(
    engine: Engine, account: str
) -> None:
    for second in range(3):
        _try(engine, account, "wrong password!!", NOW + dt.timedelta(seconds=second))
    refused = _try(engine, account, PASSWORD, NOW + dt.timedelta(seconds=5))
    assert refused.startswith("Too many failed sign-ins for this address. Wait")
    assert _try(engine, account, PASSWORD, NOW + dt.timedelta(seconds=13)) == "ok"
    assert _outcomes(engine)[-2:] == ["throttled", "ok"]


def test_single_sign_on_needs_an_active_user_with_that_address(
    engine: Engine, account: str
) -> None:
    with db.write_session(engine, actor="sign-in") as session:
        viewer = signin.check_identity(
            session=session, email=account, method=SignInMethod.sso, now=NOW
        )
        assert viewer.email == account
        with pytest.raises(signin.SignInRefused, match="no active Change Tracker account"):
            signin.check_identity(
                session=session, email="stranger@example.org", method=SignInMethod.sso, now=NOW
            )
    assert _outcomes(engine) == ["ok", "unknown_email"]


THROTTLED = "Too many failed sign-ins for this address. Wait"


def _count_password_checks(
    monkeypatch: pytest.MonkeyPatch, before_check: Callable[[], None] = lambda: None
) -> list[int]:
    """Wrap the Argon2 check: each call is counted (the list grows by one), runs
    `before_check` first, then the real check."""
    real = passwords.password_matches
    calls: list[int] = []
    lock = threading.Lock()

    def counting(stored: str | None, password: str) -> bool:
        with lock:
            calls.append(1)
        before_check()
        return real(stored, password)

    monkeypatch.setattr(passwords, "password_matches", counting)
    return calls


def test_simultaneous_attempts_at_one_address_check_at_most_the_free_passwords(
    engine: Engine, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = 20
    finished = 0
    in_check = 0
    turn = threading.Condition()

    def hold_until_every_other_attempt_is_answered() -> None:
        # The worst case, made certain: every attempt arrives while the admitted ones are
        # still checking their passwords (a real Argon2 check takes tens of milliseconds).
        nonlocal in_check
        with turn:
            in_check += 1
            turn.notify_all()
            turn.wait_for(lambda: finished + in_check >= attempts, timeout=15)

    checks = _count_password_checks(monkeypatch, hold_until_every_other_attempt_is_answered)
    barrier = threading.Barrier(attempts)
    results: list[str] = []

    def attempt() -> None:
        nonlocal finished
        try:
            barrier.wait()
            results.append(_try(engine, account, PASSWORD))
        except Exception as error:  # e.g. "database is locked": reported by the asserts
            results.append(repr(error))
        finally:
            with turn:
                finished += 1
                turn.notify_all()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(checks) == signin.FREE_FAILURES
    summary = Counter(
        "ok" if r == "ok" else "throttled" if r.startswith(THROTTLED) else r for r in results
    )
    assert summary == {"ok": signin.FREE_FAILURES, "throttled": attempts - signin.FREE_FAILURES}
    # The admitted attempts were settled to their real outcome.
    assert Counter(_outcomes(engine)) == summary


def test_the_password_is_checked_with_no_transaction_open(
    engine: Engine, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checking = threading.Event()
    release = threading.Event()

    def hold() -> None:
        checking.set()
        release.wait(timeout=30)

    _count_password_checks(monkeypatch, hold)
    result: list[str] = []
    signing_in = threading.Thread(target=lambda: result.append(_try(engine, account, PASSWORD)))
    signing_in.start()
    try:
        assert checking.wait(timeout=10)
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                open_transactions = connection.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND pid <> pg_backend_pid() "
                        "AND state LIKE 'idle in transaction%'"
                    )
                ).scalar()
            assert open_transactions == 0
        # Another writer (a single sign-on here) commits at once: on SQLite it would otherwise
        # wait for the write lock and give up with "database is locked".
        started = time.monotonic()
        with db.write_session(engine, actor="sign-in") as session:
            signin.check_identity(session=session, email=account, method=SignInMethod.sso, now=NOW)
        assert time.monotonic() - started < 2
    finally:
        release.set()
        signing_in.join(timeout=30)
    assert result == ["ok"]
    assert _outcomes(engine) == ["ok", "ok"]


def test_an_address_locked_out_by_failures_can_still_sign_in_with_single_sign_on(
    engine: Engine, account: str
) -> None:
    # Anyone who knows the address can fail its password on purpose, each time the wait ends...
    now = NOW
    for failures in range(1, 9):
        assert _try(engine, account, "wrong password!!", now) == signin.REFUSED
        now += signin.wait_before_next_attempt(failures) + dt.timedelta(seconds=1)
    later = now - dt.timedelta(seconds=2)  # five minutes on, and still locked out
    assert _try(engine, account, PASSWORD, later).startswith(THROTTLED)
    # ...but the owner signing in through their organisation is not held up by it.
    with db.write_session(engine, actor="sign-in") as session:
        viewer = signin.check_identity(
            session=session, email=account, method=SignInMethod.sso, now=later
        )
        signin.start_session(session=session, viewer=viewer, method=SignInMethod.sso, now=later)
    assert viewer.email == account
    assert _outcomes(engine)[-2:] == ["throttled", "ok"]


def _session_for(engine: Engine, email: str, started: dt.datetime = NOW) -> str:
    with db.write_session(engine, actor="sign-in") as session:
        viewer = signin.check_identity(
            session=session, email=email, method=SignInMethod.sso, now=started
        )
        return signin.start_session(
            session=session, viewer=viewer, method=SignInMethod.sso, now=started
        )


def _resume(engine: Engine, token: str, now: dt.datetime) -> str:
    with db.write_session(engine, actor="sign-in") as session:
        try:
            return signin.resume_session(
                session=session, token=token, now=now, timeouts=TIMEOUTS
            ).email
        except signin.SessionEnded as error:
            return error.reason


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # Active every 20 minutes for 11 hours: still signed in.
        ([20] * 33, "local.user@example.org"),
        # 31 minutes without a rerun: idle time-out.
        ([31], "You were signed out after a period of inactivity. Please sign in again."),
        # Active every 25 minutes, but past 12 hours in all: absolute time-out.
        ([25] * 29, "Your session has reached its time limit. Please sign in again."),
    ],
)
def test_sessions_end_when_idle_or_too_old(
    engine: Engine, account: str, steps: list[int], expected: str
) -> None:
    token = _session_for(engine, account)
    now = NOW
    result = ""
    for minutes in steps:
        now += dt.timedelta(minutes=minutes)
        result = _resume(engine, token, now)
    assert result == expected


def test_an_ended_session_stays_ended_and_records_why(engine: Engine, account: str) -> None:
    token = _session_for(engine, account)
    assert _resume(engine, token, NOW + dt.timedelta(minutes=45)).startswith("You were signed out")
    assert _resume(engine, token, NOW + dt.timedelta(minutes=46)).startswith("You have signed out")
    with db.read_session(engine) as session:
        row = session.get(UserSession, token)
        assert row is not None and row.end_reason == "idle_timeout"


def test_a_deactivated_account_loses_its_session_on_the_next_rerun(
    engine: Engine, account: str
) -> None:
    token = _session_for(engine, account)
    with db.write_session(engine, actor=factories.ACTOR) as session:
        user = session.exec(select(User).where(User.email == account)).one()
        organisations.update_user(
            session=session,
            viewer=factories.SYSTEM,
            user_id=user.id or 0,
            data=records.validated(UserUpdate, {"version": user.version, "active": False}),
        )
    assert _resume(engine, token, NOW + dt.timedelta(minutes=1)).startswith(
        "Your account is no longer active"
    )


def test_a_tampered_token_is_not_recognised(engine: Engine, account: str) -> None:
    token = _session_for(engine, account)
    assert _resume(engine, token[:-1] + "x", NOW).startswith("Your session is not recognised")


def test_sign_in_bookkeeping_does_not_touch_the_audit_trail_or_the_data_version(
    engine: Engine, account: str
) -> None:
    with db.read_session(engine) as session:
        before = db.data_version(session)
    token = _session_for(engine, account)
    _resume(engine, token, NOW + dt.timedelta(minutes=5))
    _try(engine, account, "wrong password!!")
    with db.read_session(engine) as session:
        assert db.data_version(session) == before
        assert session.execute(sa.select(sa.func.count()).select_from(UserSession)).scalar() == 1


def test_the_audit_trail_records_a_password_change_but_never_the_hash(
    engine: Engine, account: str
) -> None:
    with db.read_session(engine) as session:
        rows = session.execute(
            sa.select(AuditEvent.before, AuditEvent.after).where(
                AuditEvent.record_type == "app_user"
            )
        ).all()
    texts = " ".join(f"{before} {after}" for before, after in rows)
    assert '"password_hash": "[hidden]"' in texts
    assert "$argon2" not in texts
