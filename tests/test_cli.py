"""The `tracker` command: subcommands, what they print, and their exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests import factories
from tracker import db
from tracker.cli import main
from tracker.models import Organisation, Programme, Role, Stakeholder
from tracker.seed.demo import DEMO_USERS


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL pointed at a new, empty SQLite file."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_migrate_upgrades_an_empty_database_to_head(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    engine = db.make_engine(database_url)
    revision = db.current_revision(engine)
    engine.dispose()
    assert revision is not None
    assert f"is at revision {revision} (head)" in capsys.readouterr().out


def test_demo_seeds_once_then_reports_it_is_already_present(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("Demo portfolio seeded: 5 programmes, ")
    assert all(user.email in first for user in DEMO_USERS)

    assert main(["demo"]) == 0
    assert capsys.readouterr().out == "Demo portfolio already present: nothing changed\n"


def test_a_domain_error_exits_1_with_the_field_and_reason_and_no_traceback(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = db.make_engine(database_url)
    db.migrate(engine)
    factories.organisation(engine, name="Northmoor County Council", short_name="NMCC")
    engine.dispose()

    assert main(["demo"]) == 1
    captured = capsys.readouterr()
    assert "tracker: name: another organisation already has this name" in captured.err
    assert "Traceback" not in captured.err
    assert "seeded" not in captured.out


@pytest.mark.parametrize("argv", [["bogus"], [], ["demo", "--wipe"]])
def test_bad_usage_exits_2_with_the_usage(
    argv: list[str], database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert "usage: tracker" in capsys.readouterr().err
    assert not Path(database_url.removeprefix("sqlite:///")).exists()


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--help"]) == 0
    assert "--reset" in capsys.readouterr().out


def test_erase_refuses_a_partner_without_a_data_sharing_agreement_before_naming_the_person(
    demo_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    # The care board pools NCC-CARE-RECORD with the county but has no data-sharing agreement:
    # its manager may not erase the county's people, so is not asked, nor told their name.
    with db.read_session(demo_engine) as session:
        board = session.exec(select(Organisation).where(Organisation.short_name == "NICB")).one()
        programme = session.exec(select(Programme).where(Programme.code == "NCC-CARE-RECORD")).one()
        person = session.exec(
            select(Stakeholder).where(Stakeholder.programme_id == programme.id)
        ).first()
    assert person is not None and person.id is not None
    email = "max.board@demo.example"
    factories.user(demo_engine, [board.id or 0], role=Role.manager, email=email)

    assert main(["erase", str(person.id), "--as", email]) == 1
    captured = capsys.readouterr()
    assert "no data-sharing agreement" in captured.err
    assert "Not run" not in captured.err
    assert person.name not in captured.out + captured.err
