"""Board packs: the programme and portfolio PDFs, read back with pdftotext on the demo portfolio.

The demo is seeded once per session (conftest's demo_template); this module copies it and makes
each pack once. pdftotext (poppler-utils) reads the text back; without it these tests skip,
except in CI (TRACKER_REQUIRE_BROWSER=1), where they fail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests.factories import SYSTEM
from tracker import charts, clock, db, read
from tracker.access import load_viewer
from tracker.cli import main
from tracker.io import packs
from tracker.models import Programme, ProgrammeUpdate, Stakeholder
from tracker.services import programmes, records
from tracker.words import date_words

PDFTOTEXT = shutil.which("pdftotext")
PDFIMAGES = shutil.which("pdfimages")
HOSTILE_TITLE = "Shared platform <script>alert(1)</script> & <b>not bold</b>"
SECTIONS = (
    "Delivery confidence",
    "Why: every rule, its evidence and its threshold",
    "The six-stage journey",
    "Milestones",
    "Overdue (",
    "Next due (up to 8 not done, soonest first)",
    "Stakeholders",
    "Named hotspots",
    "Metrics",
    "Barriers",
    "Charts",
)
CHART_TEXT = (
    "Milestones done against scope",
    "Stance index over time",
    "Stakeholders by influence and interest",
    "Influence (power)",
    "Barriers by likelihood and impact",
    "Reading date",
)


def _copy_demo(demo_template: Path, folder: Path) -> Engine:
    path = folder / "demo.db"
    shutil.copy(demo_template, path)
    return db.make_engine(f"sqlite:///{path}")


def _text(pdf: bytes) -> str:
    """The PDF's text as pdftotext reads it, whitespace collapsed to single spaces."""
    if PDFTOTEXT is None:
        reason = "pdftotext is missing: apt-get install -y poppler-utils"
        if os.environ.get("TRACKER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TRACKER_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    result = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(result.stdout.decode("utf-8").split())


def _programme_id(engine: Engine, code: str) -> int:
    with db.read_session(engine) as session:
        programme = session.exec(select(Programme).where(Programme.code == code)).one()
        assert programme.id is not None
        return programme.id


def _programme_pack(engine: Engine, code: str) -> bytes:
    with db.read_session(engine) as session:
        lena = load_viewer(session, email="lena.leader@demo.example")
        assert lena is not None
        return packs.programme_pack(
            session=session,
            programme_id=_programme_id(engine, code),
            today=clock.today(),
            viewer=lena,
        )


@dataclass(frozen=True)
class _Written:
    out: Path
    printed: str
    exit_code: int


@pytest.fixture(scope="module")
def care_run(shared_demo_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> _Written:
    """`tracker pack NCC-CARE-RECORD --as lena.leader@... --out FILE`, run once."""
    out = tmp_path_factory.mktemp("cli") / "board.pdf"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("DATABASE_URL", shared_demo_engine.url.render_as_string(hide_password=False))
        code = main(
            ["pack", "NCC-CARE-RECORD", "--as", "lena.leader@demo.example", "--out", str(out)]
        )
    return _Written(out=out, printed=printed.getvalue(), exit_code=code)


@pytest.fixture(scope="module")
def care_pack(care_run: _Written) -> bytes:
    return care_run.out.read_bytes()


@pytest.fixture(scope="module")
def care_text(care_pack: bytes) -> str:
    return _text(care_pack)


@pytest.fixture(scope="module")
def hostile_text(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The text of the shared platform's pack after its title was changed to hold markup."""
    engine = _copy_demo(demo_template, tmp_path_factory.mktemp("hostile"))
    programme_id = _programme_id(engine, "EDC-SHARED-PLAT")
    with db.write_session(engine, actor="test@example.org") as session:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        programmes.update_programme(
            session=session,
            viewer=SYSTEM,
            programme_id=programme_id,
            data=records.validated(
                ProgrammeUpdate, {"title": HOSTILE_TITLE, "version": programme.version}
            ),
        )
    try:
        return _text(_programme_pack(engine, "EDC-SHARED-PLAT"))
    finally:
        engine.dispose()


def test_programme_pack_is_a_pdf_with_its_title_date_and_every_section(
    care_pack: bytes, care_text: str
) -> None:
    assert care_pack.startswith(b"%PDF-")
    assert packs.page_count(care_pack) >= 4
    text = care_text
    assert "Shared care record for hospital discharge" in text
    assert f"Prepared {date_words(clock.today())} for Lena Leader" in text
    missing = [section for section in SECTIONS if section not in text]
    assert not missing, f"sections missing from the pack: {missing}"
    assert f"Page 1 of {packs.page_count(care_pack)}" in text


def test_programme_pack_shows_the_rating_the_override_and_the_deciding_rule(
    shared_demo_engine: Engine, care_text: str
) -> None:
    with db.read_session(shared_demo_engine) as session:
        suggestion, override = read.programme.confidence_for(
            session=session,
            programme_id=_programme_id(shared_demo_engine, "NCC-CARE-RECORD"),
            today=clock.today(),
        )
    assert suggestion.deciding is not None and override is not None
    text = care_text
    assert suggestion.deciding.evidence_text in text
    assert f"({suggestion.deciding.threshold_text})" in text
    assert f"Suggested: {suggestion.rating.label}" in text
    assert f"Overridden to {override.rating.label} by {override.set_by}" in text
    for rule in ("Overdue work", "Blocked work", "Forecast finish", "Resistance hotspots"):
        assert rule in text


def test_programme_pack_names_hotspots_but_never_prints_stakeholder_notes(
    shared_demo_engine: Engine, care_text: str
) -> None:
    programme_id = _programme_id(shared_demo_engine, "NCC-CARE-RECORD")
    with db.read_session(shared_demo_engine) as session:
        hotspots = read.programme.hotspots(
            session=session, viewer=SYSTEM, programme_id=programme_id
        )
        notes = [
            " ".join(person.notes.split())
            for person in session.exec(
                select(Stakeholder).where(Stakeholder.programme_id == programme_id)
            ).all()
            if person.notes.strip()
        ]
    assert not hotspots.empty and notes, "the demo programme should have hotspots and notes"
    text = care_text
    for name in hotspots["name"]:
        assert name in text
    leaked = [note for note in notes if note in text]
    assert not leaked, f"stakeholder notes printed in the pack: {leaked}"


def test_charts_are_vector_graphics_with_selectable_text(care_pack: bytes, care_text: str) -> None:
    reader = PdfReader(io.BytesIO(care_pack))
    images = []
    for page in reader.pages:
        pending = [page["/Resources"]]
        while pending:
            resources = pending.pop().get_object()
            xobjects = (
                resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
            )
            for name, reference in (xobjects.get_object() if xobjects else {}).items():
                xobject = reference.get_object()
                if xobject.get("/Subtype") == "/Image":
                    images.append(name)
                elif "/Resources" in xobject:
                    pending.append(xobject["/Resources"])
    assert images == []
    if PDFIMAGES is not None:
        listing = subprocess.run(
            [PDFIMAGES, "-list", "-"], input=care_pack, capture_output=True, check=True
        ).stdout.decode()
        assert len(listing.strip().splitlines()) == 2, listing  # the header lines alone
    text = care_text
    missing = [words for words in CHART_TEXT if words not in text]
    assert not missing, f"chart text not extractable: {missing}"
    assert "In short: 9 stakeholders" in text


def test_user_text_prints_literally_never_as_markup(hostile_text: str) -> None:
    text = hostile_text
    assert "<script>alert(1)</script>" in text
    assert "<b>not bold</b>" in text
    assert "& <b>" in text


def test_money_metrics_print_the_pound_sign(hostile_text: str) -> None:
    text = hostile_text
    assert "£ saved (cumulative)" in text
    assert "£0" in text or "£1" in text


@pytest.mark.parametrize("email", ["lena.leader@demo.example", "dev.district@demo.example"])
def test_portfolio_pack_lists_every_programme_of_the_viewer_and_no_other(
    shared_demo_engine: Engine, email: str
) -> None:
    today = clock.today()
    with db.read_session(shared_demo_engine) as session:
        viewer = load_viewer(session, email=email)
        assert viewer is not None
        mine = read.portfolio.portfolio(session=session, viewer=viewer, today=today)
        everyone = session.exec(select(Programme.title)).all()
        data = packs.portfolio_pack(session=session, viewer=viewer, today=today)
        load, stance = read.portfolio.change_load_with_stance(
            session=session,
            viewer=viewer,
            start=(today.replace(day=1) - dt.timedelta(days=1)).replace(day=1),
            months=9,
            today=today,
        )
    text = _text(data)
    shown = set(mine["title"])
    assert shown, f"{email} should see some programmes"
    for title in shown:
        assert title in text
    for title in set(everyone) - shown:
        assert title not in text, f"{title} is not {email}'s to see"
    assert f"Prepared {date_words(today)} for {viewer.name}" in text
    for heading in ("Programmes", "Needs a decision", "Change load by staff group and month"):
        assert heading in text
    assert charts.change_load_summary(load, stance) in text


def test_cli_writes_the_programme_pack_and_says_where(care_run: _Written) -> None:
    assert care_run.exit_code == 0
    data = care_run.out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert str(care_run.out) in care_run.printed
    assert f"({packs.page_count(data)} pages," in care_run.printed


def test_cli_names_the_portfolio_pack_after_the_date_in_the_current_folder(
    shared_demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", shared_demo_engine.url.render_as_string(hide_password=False))
    monkeypatch.chdir(tmp_path)
    assert main(["pack", "--portfolio", "--as", "dev.district@demo.example"]) == 0
    expected = tmp_path / f"portfolio-board-pack-{clock.today().isoformat()}.pdf"
    assert expected.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["pack", "NO-SUCH-CODE"], "no programme has the code NO-SUCH-CODE"),
        (["pack", "--portfolio", "--as", "nobody@example.org"], "nobody@example.org"),
        (["pack", "NCC-CARE-RECORD", "--as", "dev.district@demo.example"], "not yours to see"),
    ],
)
def test_cli_refuses_an_unknown_code_or_user_with_exit_code_1(
    shared_demo_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", shared_demo_engine.url.render_as_string(hide_password=False))
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_asks_for_either_a_code_or_the_portfolio(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack"]) == 2
    assert main(["pack", "--portfolio"]) == 2
    assert "--as EMAIL" in capsys.readouterr().err
