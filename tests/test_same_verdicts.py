"""One verdict, four places: for every demo programme and for a generated M portfolio, the
portfolio table, the programme dashboard, the programme pack and the portfolio pack say the same
thing about a programme: late or on track, which way its stance is moving, and why its delivery
confidence is what it is.

Each place is read as a user reads it: the pages through Streamlit's AppTest (signed in, the
programme chosen in the dashboard's selector), the packs through their PDF text (pdftotext; the
portfolio pack's table rebuilt cell by cell from where each word lies). Each is compared with the
one read model, read.programme.Verdicts, which is also checked to be the same object whether read
for the portfolio or for one programme.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import sign_in
from tests.screen import shown
from tracker import clock, db, read
from tracker.access import Viewer, load_viewer
from tracker.io import packs
from tracker.safe_text import plain_text
from tracker.seed import generate

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
DEMO_ADMIN = "ada.admin@demo.example"  # sees all three demo organisations: every programme
M_LEADER = f"leader@{generate.EMAIL_DOMAIN}"
PDFTOTEXT = shutil.which("pdftotext")


@dataclass(frozen=True)
class World:
    """A database, who reads it, and each programme's verdicts by code (portfolio order)."""

    url: str
    engine: Engine
    email: str
    today: dt.date
    codes: tuple[str, ...]
    titles: dict[str, str]
    verdicts: dict[str, read.programme.Verdicts]


def _world(url: str, email: str) -> World:
    engine = db.make_engine(url)
    today = clock.today()
    with db.read_session(engine) as session:
        viewer = _viewer(session, email)
        rows = read.portfolio.sort_portfolio(
            read.portfolio.portfolio_dashboard(session=session, viewer=viewer, today=today),
            read.portfolio.DEFAULT_SORT,
        )
    codes = tuple(str(code) for code in rows["code"])
    return World(
        url=url,
        engine=engine,
        email=email,
        today=today,
        codes=codes,
        titles=dict(zip(codes, (str(t) for t in rows["title"]), strict=True)),
        verdicts=dict(zip(codes, rows["verdicts"], strict=True)),
    )


def _viewer(session: Any, email: str) -> Viewer:
    viewer = load_viewer(session, email=email)
    assert viewer is not None
    return viewer


@pytest.fixture(scope="module")
def demo(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("same-demo") / "demo.db"
    shutil.copy(demo_template, path)
    world = _world(f"sqlite:///{path}", DEMO_ADMIN)
    yield world
    world.engine.dispose()


@pytest.fixture(scope="module")
def portfolio_m(
    migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """A generated M portfolio (20 programmes), built once for the module."""
    path = tmp_path_factory.mktemp("same-m") / "m.db"
    shutil.copy(migrated_sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    generate.generate(engine, "M", seed=1, today=clock.today())
    engine.dispose()
    world = _world(f"sqlite:///{path}", M_LEADER)
    yield world
    world.engine.dispose()


@pytest.fixture(params=["demo", "M"])
def world(request: pytest.FixtureRequest) -> World:
    return request.getfixturevalue("demo" if request.param == "demo" else "portfolio_m")


def _app(world: World, monkeypatch: pytest.MonkeyPatch) -> Any:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", world.url)
    at = AppTest.from_file(APP, default_timeout=120)
    sign_in(at, world.email)
    at.run()
    assert not at.exception, at.exception
    return at


def _pdf_text(pdf: bytes) -> str:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext is missing: apt-get install -y poppler-utils")
    result = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(result.stdout.decode("utf-8").split())


def _squeezed(text: str) -> str:
    """Text without any whitespace: a table cell wraps its words at different places."""
    return re.sub(r"\s+", "", text)


def _programme_id(world: World, code: str) -> int:
    return world.verdicts[code].programme_id


# --- The read model is one object -----------------------------------------------------------


def test_one_programmes_verdicts_are_the_portfolio_rows_verdicts(world: World) -> None:
    with db.read_session(world.engine) as session:
        for code, expected in world.verdicts.items():
            assert (
                read.programme.verdicts(
                    session=session, programme_id=expected.programme_id, today=world.today
                )
                == expected
            ), code


def test_the_portfolio_late_verdict_is_the_one_the_rating_uses(world: World) -> None:
    """P85 after the target both reads "late" and lowers the rating at least to Amber."""
    for code, verdicts in world.verdicts.items():
        forecast_rule = next(r for r in verdicts.confidence.rules if r.name == "Forecast finish")
        assert verdicts.late is (
            forecast_rule.raises is not None and verdicts.forecast is not None
        ), code


# --- The portfolio table --------------------------------------------------------------------


def test_the_portfolio_table_shows_each_programmes_verdicts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(world, monkeypatch)
    at.switch_page("pages/portfolio.py").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("code")
    assert sorted(table.index) == sorted(world.codes)
    for code, verdicts in world.verdicts.items():
        row = table.loc[code]
        assert row["forecast"] == verdicts.forecast_text, code
        assert verdicts.forecast_verdict.label.lower() in row["forecast"].lower(), code
        assert row["stance"] == verdicts.stance_text, code
        if verdicts.direction is not None:
            assert row["stance"].endswith(verdicts.direction.text), code
        assert row["why"] == verdicts.confidence.summary, code


# --- The programme dashboard ----------------------------------------------------------------


def test_the_programme_dashboard_shows_the_same_verdicts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(world, monkeypatch)
    at.switch_page("pages/programme.py").run()
    for code, verdicts in world.verdicts.items():
        at.selectbox(key="programme_choice").set_value(code).run()
        assert not at.exception, code
        assert at.header[0].value == plain_text(world.titles[code])
        text = "\n".join(shown(str(e.value)) for e in (*at.markdown, *at.caption))
        if verdicts.forecast is not None:
            assert f": {verdicts.forecast_verdict.label.lower()}." in text, code
        assert f"{verdicts.stance_words} · {verdicts.direction_text} over 90 days" in text, code
        explanation = verdicts.confidence
        assert explanation.suggested_sentence(strong=lambda s: f"**{s}**") in text, code
        if explanation.override is not None:
            assert explanation.override_sentence(strong=lambda s: f"**{s}**") in text, code
        rules = at.dataframe[0].value
        assert list(rules["Evidence"]) == [r.evidence for r in explanation.rules], code
        assert list(rules["Set the rating"]).count("Yes") == (explanation.reason is not None)


# --- The packs ------------------------------------------------------------------------------


def test_the_programme_pack_shows_the_same_verdicts(world: World) -> None:
    with db.read_session(world.engine) as session:
        viewer = _viewer(session, world.email)
        for code, verdicts in world.verdicts.items():
            text = _pdf_text(
                packs.programme_pack(
                    session=session,
                    programme_id=verdicts.programme_id,
                    today=world.today,
                    viewer=viewer,
                )
            )
            if verdicts.forecast is None:
                assert "No forecast yet" in text, code
            else:
                assert f"(85% likely): {verdicts.forecast_verdict.label.lower()}" in text, code
            assert f"Direction {verdicts.direction_words}" in text, code
            explanation = verdicts.confidence
            assert explanation.suggested_sentence() in text, code
            assert explanation.override_sentence() in text, code


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]*)</word>'
)
_HEADINGS = ("Programme", "Delivery", "Why", "Progress", "Forecast", "Stance", "Hotspots")


def _table_cells(pdf: bytes) -> list[list[str]]:
    """The portfolio pack's programme table as rows of cell texts, rebuilt from where pdftotext
    finds each word: columns start where the heading row's words start; cells are top-aligned,
    so a row starts at the line of its Progress cell (one line in every row)."""
    if PDFTOTEXT is None:
        pytest.skip("pdftotext is missing: apt-get install -y poppler-utils")
    bbox = subprocess.run(
        [PDFTOTEXT, "-bbox", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
    rows: list[list[str]] = []
    for page in bbox.split("<page ")[1:]:
        words = [(float(x), float(y), unescape(text)) for x, y, text in _WORD.findall(page)]
        headers = [w for w in words if w[2] == "Hotspots"]
        if not headers:
            continue
        head_y = headers[0][1]
        starts = []
        for name in _HEADINGS:
            starts.append(next(x for x, y, text in words if text == name and abs(y - head_y) < 1))
        # The table ends at the next heading or at the footer ("Portfolio board pack · ...").
        stop = min(y for _x, y, text in words if text in ("Needs", "Portfolio") and y > head_y)
        body = [w for w in words if head_y + 5 < w[1] < stop - 1]

        def column(x: float, starts: list[float] = starts) -> int:
            return sum(1 for start in starts if x >= start - 1) - 1

        tops = sorted({round(y, 1) for x, y, _text in body if column(x) == 3})
        for index, top in enumerate(tops):
            bottom = tops[index + 1] if index + 1 < len(tops) else stop
            cells: list[list[tuple[float, float, str]]] = [[] for _ in _HEADINGS]
            for x, y, text in body:
                if top - 1 <= y < bottom - 1:
                    cells[column(x)].append((y, x, text))
            rows.append([" ".join(t for _y, _x, t in sorted(cell)) for cell in cells])
    return rows


def test_the_portfolio_pack_shows_the_same_verdicts_in_each_programmes_row(
    world: World,
) -> None:
    with db.read_session(world.engine) as session:
        pdf = packs.portfolio_pack(
            session=session, viewer=_viewer(session, world.email), today=world.today
        )
    rows = _table_cells(pdf)
    assert len(rows) == len(world.codes)
    for code, (programme, rating, why, _progress, forecast, stance, _rest) in zip(
        world.codes, rows, strict=True
    ):
        verdicts = world.verdicts[code]
        assert f"{code} ·" in programme, (code, programme)
        assert rating.endswith(verdicts.confidence.source.label), code
        assert why == " ".join(verdicts.confidence.summary.split()), code
        assert forecast.startswith(verdicts.forecast_verdict.label), code
        direction = verdicts.direction.label if verdicts.direction else "No trend yet"
        assert stance.endswith(direction), code
