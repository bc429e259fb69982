"""The three cross-organisation holes found by trying, on the demo installation, what an
administrator of one organisation could do to another's (RELIABILITY.md #18). Each test drives
only the page or the command line, as the attacker did, so it ran unchanged against the code
before the permission resolver, and failed there."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.conftest import sign_in
from tests.screen import shown_all
from tracker import clock, db, read
from tracker.access import load_viewer
from tracker.cli import main
from tracker.io import packs
from tracker.models import (
    Barrier,
    ConfidenceOverride,
    Milestone,
    Narrative,
    Organisation,
    Programme,
    Role,
    Stakeholder,
)

ROOT = Path(__file__).resolve().parents[1]
ADA = "ada.admin@demo.example"  # administrator of all three demo organisations
EASTBROOK_ADMIN = "eve.eastbrook@demo.example"
CARE_BOARD_ADMIN = "ian.icb@demo.example"


def _admin_of(email: str, org: str) -> None:
    """An administrator of one organisation only, added as the report says."""
    argv = ["users", "add", email, "--name", "One-council Admin", "--role", "admin", "--org", org]
    assert main(argv) == 0


def _page(page: str, email: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    sign_in(at, email)
    at.run()
    assert not at.exception, at.exception
    return at


def test_an_admin_of_one_council_cannot_take_over_an_admin_of_several(demo_engine: Engine) -> None:
    _admin_of(EASTBROOK_ADMIN, "EDC")
    at = _page("pages/admin_users.py", EASTBROOK_ADMIN)

    # Ada is listed (she works at Eastbrook too) but cannot be chosen to change.
    listed = " ".join(str(value) for frame in at.dataframe for value in frame.value["email"])
    assert ADA in listed
    choices = [str(option) for option in at.selectbox(key="users_choice").options]
    assert choices and not any(ADA in option for option in choices)
    assert any(
        "only an administrator of all their organisations" in text for text in shown_all(at.caption)
    )


def test_an_admin_of_one_council_reads_only_its_audit_trail(demo_engine: Engine) -> None:
    _admin_of(EASTBROOK_ADMIN, "EDC")
    with db.read_session(demo_engine) as session:
        county = session.exec(select(Programme).where(Programme.code == "NCC-ASC-ONLINE")).one()
        person = session.exec(
            select(Stakeholder).where(Stakeholder.programme_id == county.id)
        ).first()
    assert person is not None
    at = _page("pages/admin_audit.py", EASTBROOK_ADMIN)
    # Nobody who changed only Northmoor's records is offered as a person to filter by.
    assert "maya.manager@demo.example" not in at.selectbox(key="audit_actor").options
    at.text_input(key="audit_record_id").set_value(str(person.id))
    at.run()

    counts = [
        int(found.group(1))
        for text in shown_all(at.markdown)
        if (found := re.search(r"\*\*(\d+) events? match", text))
    ]
    assert counts
    shown = " ".join(str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel())
    assert person.name not in shown
    # The same record id may name an Eastbrook record; none of Northmoor's is among them.
    at_ada = _page("pages/admin_audit.py", ADA)
    at_ada.text_input(key="audit_record_id").set_value(str(person.id))
    at_ada.run()
    everything = " ".join(
        str(v) for frame in at_ada.dataframe for v in frame.value.to_numpy().ravel()
    )
    assert person.name in everything  # Ada administers Northmoor: she sees it


def test_an_import_cannot_put_a_programme_into_another_councils_portfolio(
    demo_engine: Engine, tmp_path: Path
) -> None:
    _admin_of(CARE_BOARD_ADMIN, "NICB")
    exported = tmp_path / "x.json"
    argv = ["export", "EDC-SHARED-PLAT", "--format", "exchange", "--as", ADA]
    assert main([*argv, "--out", str(exported)]) == 0
    document = json.loads(exported.read_text(encoding="utf-8"))
    document["programme"]["code"] = "EDC-FORGED"
    document["narratives"][0]["status"] = "published"
    document["confidence_overrides"] = [
        {
            "rating": "red",
            "reason": "The board has lost confidence in this programme.",
            "set_by": "chief.executive@eastbrook.example",
            "set_at": "2026-11-30T09:00:00+00:00",
        }
    ]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document), encoding="utf-8")
    before = _counts(demo_engine)

    assert main(["exchange-import", str(forged), "--as", CARE_BOARD_ADMIN]) == 1

    assert _counts(demo_engine) == before
    with db.read_session(demo_engine) as session:
        assert session.exec(select(Programme).where(Programme.code == "EDC-FORGED")).first() is None


def _counts(engine: Engine) -> tuple[int, ...]:
    """Programmes, narratives and overrides: the forged import must add none."""
    with db.read_session(engine) as session:
        return tuple(
            int(session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
            for table in (Programme, Narrative, ConfidenceOverride)
        )


def test_a_partner_without_a_data_sharing_agreement_sees_no_names_of_the_owners_people(
    demo_engine: Engine,
) -> None:
    # The care board pools NCC-CARE-RECORD with the county but has no data-sharing agreement.
    with db.read_session(demo_engine) as session:
        board = session.exec(select(Organisation).where(Organisation.short_name == "NICB")).one()
        programme = session.exec(select(Programme).where(Programme.code == "NCC-CARE-RECORD")).one()
        people = session.exec(
            select(Stakeholder).where(Stakeholder.programme_id == programme.id)
        ).all()
    # The sponsor and the owners of milestones and barriers are named by the plan itself; the
    # others only in the stakeholder register.
    plan = {programme.sponsor.split(",")[0], programme.manager}
    with db.read_session(demo_engine) as session:
        for owner in (Milestone.owner, Barrier.owner):
            table = owner.class_  # type: ignore[attr-defined]
            plan |= set(session.exec(select(owner).where(table.programme_id == programme.id)))
    names = [person.name for person in people if person.name not in plan]
    assert len(names) > 3
    email = "lee.board@demo.example"
    factories.user(demo_engine, [board.id or 0], role=Role.leadership, email=email)

    at = AppTest.from_file(str(ROOT / "pages/programme.py"), default_timeout=60)
    sign_in(at, email)
    at.query_params["programme"] = "NCC-CARE-RECORD"
    at.query_params["view"] = "People"
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(
        [*shown_all(at.markdown), *shown_all(at.caption), *shown_all(at.warning)]
        + [str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel()]
    )
    assert "no data-sharing agreement" in shown
    assert not [name for name in names if name in shown]

    with db.read_session(demo_engine) as session:
        viewer = load_viewer(session, email=email)
        assert viewer is not None
        pdf = packs.programme_pack(
            session=session, programme_id=programme.id or 0, today=clock.today(), viewer=viewer
        )
        decisions = read.portfolio.needs_decision(
            session=session, viewer=viewer, today=clock.today()
        )
    hotspots = decisions[
        (decisions["kind"] == read.portfolio.DECISION_HOTSPOT)
        & (decisions["programme_code"] == "NCC-CARE-RECORD")
    ]
    assert list(hotspots["item"]) and set(hotspots["item"]) == {read.portfolio.UNNAMED_HOTSPOT}
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "no data-sharing agreement" in " ".join(text.split())
    assert not [name for name in names if name in text]
