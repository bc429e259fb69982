"""`tracker organisations`: the first steps on a new installation (an organisation, then its first
administrator), on a real migrated SQLite database: what they print, exit codes, the audit
actor, and refusals that change nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from tracker import db
from tracker.cli import main
from tracker.models import AuditEvent, Organisation, StaffGroup, User


@pytest.fixture
def engine(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """DATABASE_URL set to a migrated, empty SQLite copy: a new installation."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    engine = db.make_engine(sqlite_url)
    yield engine
    engine.dispose()


def _all(engine: Engine, table: type) -> list:  # type: ignore[type-arg]
    with db.read_session(engine) as session:
        return list(session.exec(select(table)).all())


def test_a_new_installation_gets_its_first_organisation_then_its_first_administrator(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["organisations", "list"]) == 0
    assert "No organisations yet" in capsys.readouterr().out

    code = main(
        [
            "organisations",
            "add",
            "Northmoor County Council",
            "--short-name",
            "NCC",
            "--staff-group",
            "Adult social care",
            "--staff-group",
            "Customer services",
            "--as",
            "installer@ncc.example",
        ]
    )
    assert code == 0
    assert "Added Northmoor County Council (NCC) with 2 staff groups." in capsys.readouterr().out
    [organisation] = _all(engine, Organisation)
    assert (organisation.name, organisation.short_name) == ("Northmoor County Council", "NCC")
    assert sorted(group.name for group in _all(engine, StaffGroup)) == [
        "Adult social care",
        "Customer services",
    ]
    assert {event.actor for event in _all(engine, AuditEvent)} == {"installer@ncc.example"}

    assert (
        main(
            [
                "users",
                "add",
                "it@ncc.example",
                "--name",
                "IT Admin",
                "--role",
                "admin",
                "--org",
                "NCC",
            ]
        )
        == 0
    )
    [admin] = _all(engine, User)
    assert (admin.email, admin.role.value) == ("it@ncc.example", "admin")
    capsys.readouterr()
    assert main(["organisations", "list"]) == 0
    listed = capsys.readouterr().out
    assert "NCC" in listed and "Northmoor County Council" in listed and "1 users" in listed


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["Northmoor County Council", "--short-name", "NC2"], "already has this name"),
        (["Another Council", "--short-name", "NCC"], "already has this short name"),
        (["Tiny Council", "--short-name", "T"], "at least 2 characters"),
    ],
)
def test_a_refused_organisation_exits_1_with_the_reason_and_adds_nothing(
    engine: Engine, capsys: pytest.CaptureFixture[str], args: list[str], reason: str
) -> None:
    assert main(["organisations", "add", "Northmoor County Council", "--short-name", "NCC"]) == 0
    events = len(_all(engine, AuditEvent))
    capsys.readouterr()

    assert main(["organisations", "add", *args]) == 1

    assert reason in capsys.readouterr().err
    assert len(_all(engine, Organisation)) == 1
    assert len(_all(engine, AuditEvent)) == events
