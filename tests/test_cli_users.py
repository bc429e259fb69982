"""`tracker users`: add, list, set-role, deactivate and reactivate user accounts from the command
line, on a real migrated SQLite database; what they print, their exit codes, the audit actor, and
that a deactivated user can no longer sign in by password or single sign-on."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests import factories
from tracker import db, passwords, signin
from tracker.cli import main
from tracker.models import AuditEvent, Role, SignInAttempt, SignInMethod, StaffGroup, User

PASSWORD = "correct horse battery"
NOW = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)
TIMEOUTS = signin.Timeouts(idle=dt.timedelta(minutes=30), absolute=dt.timedelta(hours=12))


@pytest.fixture
def engine(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """DATABASE_URL (what the command uses) set to a migrated SQLite copy holding two
    organisations, NCC and EDC, which both have a "Customer services" staff group."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    engine = db.make_engine(sqlite_url)
    ncc = factories.organisation(engine, name="Northmoor County Council", short_name="NCC")
    edc = factories.organisation(engine, name="Eastbrook District Council", short_name="EDC")
    factories.staff_group(engine, ncc, name="Customer services")
    factories.staff_group(engine, ncc, name="Libraries")
    factories.staff_group(engine, edc, name="Customer services")
    yield engine
    engine.dispose()


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Standard input as a pipe (not a terminal) holding `text`."""
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


class Terminal(io.StringIO):
    """Standard input as a terminal: nothing may be read from it but through getpass."""

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        raise AssertionError("a password at a terminal is read with getpass, unseen")


def user(engine: Engine, email: str) -> User | None:
    with db.read_session(engine) as session:
        found = session.exec(select(User).where(User.email == email)).first()
        if found is not None:
            session.expunge(found)
        return found


def group_of(engine: Engine, email: str) -> str:
    """The user's staff group as "SHORT_NAME: name"."""
    with db.read_session(engine) as session:
        found = session.exec(select(User).where(User.email == email)).one()
        group = session.get(StaffGroup, found.staff_group_id)
        assert group is not None
        return f"{group.organisation.short_name}: {group.name}"


def organisations_of(engine: Engine, email: str) -> list[str]:
    with db.read_session(engine) as session:
        found = session.exec(select(User).where(User.email == email)).one()
        return sorted(o.short_name for o in found.organisations)


def user_actors(engine: Engine) -> list[tuple[str, str]]:
    """(actor, action) of every audit event on a user, oldest first."""
    with db.read_session(engine) as session:
        rows = session.execute(
            sa.select(AuditEvent.actor, AuditEvent.action)
            .where(AuditEvent.record_type == "app_user")
            .order_by(AuditEvent.id)
        ).all()
        return [(actor, str(action)) for actor, action in rows]


def add_local_manager(monkeypatch: pytest.MonkeyPatch, email: str = "pat.local@example.org") -> str:
    stdin(monkeypatch, f"{PASSWORD}\n")
    argv = ["users", "add", email, "--name", "Pat Local", "--role", "manager", "--org", "NCC"]
    assert main([*argv, "--password-stdin"]) == 0
    return email


def test_add_with_a_password_from_stdin_stores_only_an_argon2id_hash(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, f"{PASSWORD}\nthe second line is not read\n")
    argv = ["users", "add", " Pat.Local@Example.org ", "--name", "Pat Local", "--role", "manager"]
    assert main([*argv, "--org", "ncc", "--org", "EDC", "--password-stdin"]) == 0

    added_line = (
        "Added pat.local@example.org (Pat Local, manager) to NCC, EDC, with a local password."
    )
    assert capsys.readouterr().out == added_line + "\n"
    added = user(engine, "pat.local@example.org")
    assert added is not None and added.password_hash is not None
    assert added.password_hash.startswith("$argon2id$") and PASSWORD not in added.password_hash
    assert (added.role, added.active, added.staff_group_id) == (Role.manager, True, None)
    assert organisations_of(engine, "pat.local@example.org") == ["EDC", "NCC"]
    viewer = signin.check_password(
        engine, email="pat.local@example.org", password=PASSWORD, now=NOW
    )
    assert viewer.name == "Pat Local"
    # Created, then given its password, in one transaction; "cli" unless --as says who.
    assert user_actors(engine) == [("cli", "create"), ("cli", "update")]


def test_add_without_a_password_makes_a_single_sign_on_account_recorded_as_the_as_user(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["users", "add", "sam@example.org", "--name", "Sam Staff", "--role", "staff"]
    argv += ["--org", "NCC", "--staff-group", "customer SERVICES", "--as", "ada@example.org"]
    assert main(argv) == 0

    assert "with no local password (they sign in by single sign-on)" in capsys.readouterr().out
    added = user(engine, "sam@example.org")
    assert added is not None and added.password_hash is None and added.staff_group_id is not None
    assert user_actors(engine) == [("ada@example.org", "create")]
    with db.write_session(engine, actor="sign-in") as session:
        viewer = signin.check_identity(
            session=session, email="sam@example.org", method=SignInMethod.sso, now=NOW
        )
    assert viewer.role is Role.staff


def test_a_staff_group_in_two_of_the_organisations_must_name_its_organisation(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["users", "add", "sam@example.org", "--name", "Sam Staff", "--role", "staff"]
    argv += ["--org", "NCC", "--org", "EDC"]
    assert main([*argv, "--staff-group", "Customer services"]) == 1
    assert capsys.readouterr().err == (
        "tracker: staff-group: EDC, NCC each have a staff group called Customer services: "
        "write it as EDC:Customer services\n"
    )
    assert user(engine, "sam@example.org") is None

    assert main([*argv, "--staff-group", "edc:Customer services"]) == 0
    assert group_of(engine, "sam@example.org") == "EDC: Customer services"
    # A name only one of them has needs no prefix.
    other = ["users", "add", "lee@example.org", "--name", "Lee", "--role", "staff"]
    assert main([*other, "--org", "EDC", "--org", "NCC", "--staff-group", "libraries"]) == 0
    assert group_of(engine, "lee@example.org") == "NCC: Libraries"


@pytest.mark.parametrize(
    ("extra", "password", "message"),
    [
        (["--org", "XYZ"], None, "tracker: org: no organisation has the short name XYZ"),
        (
            ["--org", "NCC", "--password-stdin"],
            "too short\n",
            "tracker: password: must be at least 12 characters (a short phrase works)",
        ),
        (["--org", "NCC", "--password-stdin"], "", "tracker: password: must be at least 12"),
        (
            ["--org", "NCC", "--role", "staff"],
            None,
            "tracker: staff-group: a staff user needs a staff group: give --staff-group",
        ),
        (
            ["--org", "EDC", "--role", "staff", "--staff-group", "Libraries"],
            None,
            "tracker: staff-group: no staff group called Libraries in EDC",
        ),
    ],
)
def test_add_refusals_exit_1_with_the_reason_and_save_nothing(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    password: str | None,
    message: str,
) -> None:
    if password is not None:
        stdin(monkeypatch, password)
    argv = ["users", "add", "new@example.org", "--name", "New Person", "--role", "manager"]
    code = main([*argv, *extra])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(message) and "Traceback" not in err
    assert user(engine, "new@example.org") is None
    assert user_actors(engine) == []


def test_add_refuses_a_second_account_for_an_address_and_a_malformed_address(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_local_manager(monkeypatch)
    capsys.readouterr()
    again = ["users", "add", "PAT.LOCAL@example.org", "--name", "Pat Again", "--role", "leadership"]
    assert main([*again, "--org", "EDC"]) == 1
    assert capsys.readouterr().err == "tracker: email: another user already has this email\n"
    bad = ["users", "add", "not an address", "--name", "X", "--role", "manager", "--org", "NCC"]
    assert main(bad) == 1
    assert capsys.readouterr().err.startswith("tracker: email: must be an e-mail address")


ADD = ["users", "add", "a@example.org", "--name", "A"]


@pytest.mark.parametrize(
    "argv",
    [
        # On the command line a password would show in `ps` and the shell's history: no option
        # takes one.
        [*ADD, "--role", "admin", "--org", "NCC", "--password", PASSWORD],
        [*ADD, "--role", "admin"],  # no --org
        [*ADD, "--role", "boss", "--org", "NCC"],
        ["users", "set-role", "a@example.org"],
        ["users"],
        ["users", "list", "--as", "someone@example.org"],
    ],
)
def test_bad_usage_exits_2_and_changes_nothing(
    engine: Engine, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert "usage: tracker" in capsys.readouterr().err
    assert user_actors(engine) == []


def test_at_a_terminal_the_password_is_typed_twice_unseen(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed = iter([PASSWORD, PASSWORD + "x", PASSWORD, PASSWORD])
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    argv = ["users", "add", "t@example.org", "--name", "T", "--role", "manager", "--org", "NCC"]
    assert main([*argv, "--password-stdin"]) == 1
    assert "the two passwords typed differ" in capsys.readouterr().err
    assert user(engine, "t@example.org") is None
    assert main([*argv, "--password-stdin"]) == 0
    added = user(engine, "t@example.org")
    assert added is not None and passwords.password_matches(added.password_hash, PASSWORD)


def test_list_shows_every_user_and_whether_they_have_a_password_never_the_hash(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "list"]) == 0
    assert capsys.readouterr().out == "No users yet: add one with 'tracker users add'.\n"

    add_local_manager(monkeypatch)
    sso = ["users", "add", "Zoe@example.org", "--name", "Zoë \x1b[31mRed", "--role", "leadership"]
    assert main([*sso, "--org", "EDC", "--org", "NCC"]) == 0
    assert main(["users", "deactivate", "zoe@example.org"]) == 0
    capsys.readouterr()

    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "E-MAIL                 NAME          ROLE        ORGANISATIONS  ACTIVE  LOCAL PASSWORD",
        "pat.local@example.org  Pat Local     manager     NCC            yes     yes",
        # Control characters in stored text cannot drive the terminal.
        "zoe@example.org        Zoë ?[31mRed  leadership  EDC, NCC       no      no",
        "2 users.",
    ]
    assert "$argon2" not in out


def test_set_role_changes_the_role_as_the_as_user_and_refuses_staff_without_a_group(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    email = add_local_manager(monkeypatch)
    capsys.readouterr()

    assert main(["users", "set-role", email.upper(), "leadership", "--as", "ada@example.org"]) == 0
    assert capsys.readouterr().out == (
        f"Changed {email} from manager to leadership; it applies from their next page load.\n"
    )
    assert main(["users", "set-role", email, "leadership"]) == 0
    assert capsys.readouterr().out == f"{email} is already leadership: nothing changed.\n"

    assert main(["users", "set-role", email, "staff"]) == 1
    assert capsys.readouterr().err == (
        "tracker: staff-group: a staff user needs a staff group: give --staff-group\n"
    )
    # The staff group must be in one of the user's own organisations (NCC only here).
    assert (
        main(["users", "set-role", email, "staff", "--staff-group", "EDC:Customer services"]) == 1
    )
    assert "no staff group called EDC:Customer services in NCC" in capsys.readouterr().err
    assert main(["users", "set-role", email, "staff", "--staff-group", "Customer services"]) == 0

    changed = user(engine, email)
    assert changed is not None and changed.role is Role.staff and changed.staff_group_id
    assert user_actors(engine)[2:] == [("ada@example.org", "update"), ("cli", "update")]

    assert main(["users", "set-role", "nobody@example.org", "admin"]) == 1
    assert capsys.readouterr().err == "tracker: email: no user has the e-mail nobody@example.org\n"


def test_a_deactivated_user_cannot_sign_in_or_keep_a_session_until_reactivated(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    email = add_local_manager(monkeypatch)
    with db.write_session(engine, actor="sign-in") as session:
        viewer = signin.check_password(engine, email=email, password=PASSWORD, now=NOW)
        token = signin.start_session(
            session=session, viewer=viewer, method=SignInMethod.local, now=NOW
        )
    capsys.readouterr()

    assert main(["users", "deactivate", email]) == 0
    assert capsys.readouterr().out == (
        f"Deactivated {email}: they can no longer sign in, and a session they have open ends "
        "at its next page load.\n"
    )
    assert main(["users", "deactivate", email]) == 0
    assert capsys.readouterr().out == f"{email} is already deactivated: nothing changed.\n"

    later = NOW + dt.timedelta(minutes=1)
    with db.write_session(engine, actor="sign-in") as session:
        with pytest.raises(signin.SignInRefused) as refused:
            signin.check_password(engine, email=email, password=PASSWORD, now=later)
        assert refused.value.reason == signin.REFUSED
        with pytest.raises(signin.SignInRefused) as refused:
            signin.check_identity(session=session, email=email, method=SignInMethod.sso, now=later)
        assert refused.value.reason == signin.NO_ACCOUNT.format(email=email)
        with pytest.raises(signin.SessionEnded, match="no longer active"):
            signin.resume_session(session=session, token=token, now=later, timeouts=TIMEOUTS)
    with db.read_session(engine) as session:
        outcomes = session.execute(
            sa.select(SignInAttempt.method, SignInAttempt.outcome).order_by(SignInAttempt.id)
        ).all()
    assert [(str(m), str(o)) for m, o in outcomes] == [
        ("local", "ok"),
        ("local", "deactivated"),
        ("sso", "deactivated"),
    ]

    assert main(["users", "reactivate", email, "--as", "ada@example.org"]) == 0
    assert capsys.readouterr().out == f"Reactivated {email}: they can sign in again.\n"
    signin.check_password(engine, email=email, password=PASSWORD, now=later)
    assert user_actors(engine)[2:] == [("cli", "update"), ("ada@example.org", "update")]


def test_an_unmigrated_database_is_refused_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    assert main(["users", "list"]) == 1
    assert capsys.readouterr().err.startswith("tracker: the database could not be used: ")
