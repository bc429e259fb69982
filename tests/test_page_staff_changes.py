"""What changes for me (pages/staff_changes.py), with the staff navigation around it, driven
with Streamlit's AppTest on a seeded demo database as the two demo staff users: each sees what
lands on their own staff group, and no staff page shows anything about stakeholders. The news
page's own search and filters: tests/test_page_staff_news.py."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.conftest import sign_in
from tests.screen import navigation
from tracker import db
from tracker.models import Stakeholder

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
CHANGES = "pages/staff_changes.py"
NEWS = "pages/staff_news.py"
SAM = "sam.staff@demo.example"  # county, Customer services
RITA = "rita.revenues@demo.example"  # district, Revenues and benefits

# Demo milestones that land on one of the two groups only (tracker/seed/demo.py).
ONLY_SAM = "Move county customer services onto the platform"  # ncc.cs, in progress and late
ONLY_RITA = "Switch off paper forms for council tax moves"  # edc.rb and edc.cs, blocked
ONLY_RITA_DONE = "Start a weekly backlog review with revenues"  # edc.rb, done last month
SAM_ELSEWHERE = "Train customer services on the call-back service"  # NCC-ASC-ONLINE, ncc.cs


# demo_template, demo_url and app_as come from tests/conftest.py.


@pytest.fixture
def stakeholder_names(demo_url: str) -> list[str]:
    engine = db.make_engine(demo_url)
    with db.read_session(engine) as session:
        names = list(session.exec(select(Stakeholder.name)).all())
    engine.dispose()
    assert len(names) > 20
    return names


# --- Reading what the page shows -------------------------------------------------------------


def _walk(node: Any) -> Iterator[Any]:
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _walk(child)


def _unescape(text: str) -> str:
    """Markdown backslash escapes (tracker.safe_text.plain_text) removed: the text as read."""
    return re.sub(r"\\(.)", r"\1", text)


def shown_text(at: AppTest) -> str:
    """Every piece of text on the page and in the sidebar, as a reader would see it: headings,
    Markdown, captions, alerts, every cell and column name of tables and dataframes, metric
    labels and values, and widget labels and options."""
    parts: list[str] = []
    for element in [*_walk(at.main), *_walk(at.sidebar)]:
        kind = type(element).__name__
        if kind in ("Table", "Dataframe"):
            frame = element.value
            parts += [str(name) for name in frame.columns]
            parts += [str(value) for value in frame.to_numpy().ravel()]
            continue
        for name in ("label", "value", "body", "help", "placeholder"):
            value = getattr(element, name, None)
            if isinstance(value, str):
                parts.append(value)
        options = getattr(element, "options", None)
        if isinstance(options, list):
            parts += [str(option) for option in options]
    return _unescape("\n".join(parts))


def change_titles(at: AppTest) -> set[str]:
    """The milestone titles in the "What changes for you and when" tables."""
    titles: set[str] = set()
    for table in at.table:
        frame = table.value
        if "What changes" in frame.columns:
            titles |= {_unescape(str(title)) for title in frame["What changes"]}
    return titles


def heading_levels(at: AppTest) -> list[int]:
    return [
        int(element.tag[1])
        for element in _walk(at.main)
        if getattr(element, "tag", "") in ("h1", "h2", "h3", "h4", "h5", "h6")
    ]


def every_programme(at: AppTest) -> Iterator[AppTest]:
    """The changes page for each programme in its selector, in turn."""
    for index in range(len(at.selectbox(key="staff_changes_programme").options)):
        at.selectbox(key="staff_changes_programme").select_index(index).run()
        assert not at.exception, at.exception
        yield at


def open_changes(at: AppTest, programme: str | None = None) -> AppTest:
    at.switch_page(CHANGES)
    if programme is not None:
        at.query_params["programme"] = programme
    at.run()
    assert not at.exception, at.exception
    return at


def open_news(at: AppTest) -> AppTest:
    at.switch_page(NEWS).run()
    assert not at.exception, at.exception
    return at


# --- Navigation ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [SAM, RITA])
def test_staff_navigation_has_exactly_the_two_staff_pages(
    app_as: Callable[[str], AppTest], email: str
) -> None:
    at = app_as(email)
    assert navigation(at) == ["What changes for me", "News and updates"]
    assert [t.value for t in at.title] == ["What changes for me"]
    assert [t.value for t in open_news(at).title] == ["News and updates"]
    assert [t.value for t in open_changes(at).title] == ["What changes for me"]
    assert not {"Portfolio", "Programme dashboard"} & set(navigation(at))


# --- What lands on my group ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "team", "mine", "not_mine"),
    [
        (SAM, "Customer services", {ONLY_SAM, SAM_ELSEWHERE}, {ONLY_RITA, ONLY_RITA_DONE}),
        (RITA, "Revenues and benefits", {ONLY_RITA, ONLY_RITA_DONE}, {ONLY_SAM, SAM_ELSEWHERE}),
    ],
)
def test_each_staff_user_sees_the_changes_that_land_on_their_own_group(
    app_as: Callable[[str], AppTest],
    email: str,
    team: str,
    mine: set[str],
    not_mine: set[str],
) -> None:
    at = open_changes(app_as(email))
    seen: set[str] = set()
    for page in every_programme(at):
        seen |= change_titles(page)
        assert f"These are the changes for **{team}**" in shown_text(page) or not change_titles(
            page
        )
    assert mine <= seen
    assert not not_mine & seen


@pytest.mark.parametrize(("email", "absent"), [(SAM, ONLY_RITA), (RITA, ONLY_SAM)])
def test_work_still_to_come_for_the_other_group_appears_nowhere(
    app_as: Callable[[str], AppTest], email: str, absent: str
) -> None:
    at = open_changes(app_as(email))
    for page in every_programme(at):
        assert absent not in shown_text(page)


def test_the_shared_programme_shows_each_group_its_own_months_and_impacts(
    app_as: Callable[[str], AppTest],
) -> None:
    sam = open_changes(app_as(SAM), "EDC-SHARED-PLAT")
    assert change_titles(sam) == {ONLY_SAM}
    table = next(t.value for t in sam.table if "What changes" in t.value.columns)
    assert list(table["How big a change"]) == ["Big change"]
    assert list(table["Where it is"]) == ["Delayed"]

    rita = open_changes(app_as(RITA), "EDC-SHARED-PLAT")
    assert change_titles(rita) == {ONLY_RITA, ONLY_RITA_DONE}
    assert "2 changes, 1 of them delayed" in shown_text(rita)


# --- Nothing about stakeholders ----------------------------------------------------------------


@pytest.mark.parametrize("email", [SAM, RITA])
def test_no_stakeholder_name_or_stance_appears_on_any_staff_page(
    app_as: Callable[[str], AppTest], email: str, stakeholder_names: list[str]
) -> None:
    at = open_changes(app_as(email))
    texts = [shown_text(page) for page in every_programme(at)]
    news = open_news(at)
    texts.append(shown_text(news))
    for index in range(len(news.selectbox(key="staff_news_programme").options)):
        news.selectbox(key="staff_news_programme").select_index(index).run()
        texts.append(shown_text(news))

    everything = "\n".join(texts)
    assert "Where we are" in everything and "Latest news" in everything
    assert [name for name in stakeholder_names if name in everything] == []
    assert not re.search(r"\b(stance|stances|stakeholders?)\b", everything, re.IGNORECASE)


# --- Links, search, headings -------------------------------------------------------------------


def test_a_link_to_an_unknown_programme_says_so_and_shows_the_first(
    app_as: Callable[[str], AppTest],
) -> None:
    at = open_changes(app_as(SAM), "<b>NOPE%")
    assert "could not find the programme" in at.warning[0].value
    box = at.selectbox(key="staff_changes_programme")
    assert box.index == 0
    assert at.query_params["programme"] == box.value


def test_choosing_a_programme_shows_it_and_puts_it_in_the_link(
    app_as: Callable[[str], AppTest],
) -> None:
    at = open_changes(app_as(SAM), "NCC-ASC-ONLINE")
    at.selectbox(key="staff_changes_programme").set_value("EDC-SHARED-PLAT").run()
    assert not at.exception
    assert at.query_params["programme"] == "EDC-SHARED-PLAT"
    assert change_titles(at) == {ONLY_SAM}
    at.run()
    assert at.selectbox(key="staff_changes_programme").value == "EDC-SHARED-PLAT"


def test_signing_out_leaves_nothing_of_the_last_user_for_the_next(
    app_as: Callable[[str], AppTest],
) -> None:
    at = open_changes(app_as(SAM), "NCC-ASC-ONLINE")
    at.button(key="signout").click().run()
    assert not at.query_params
    assert "staff_changes_programme" not in at.session_state
    assert "signin_token" not in at.session_state
    at = app_as(RITA)
    at.switch_page(CHANGES).run()
    assert not at.exception
    assert at.warning.len == 0
    assert at.selectbox(key="staff_changes_programme").value == "EDC-SHARED-PLAT"


def test_a_link_to_a_programme_of_another_organisation_is_refused(
    app_as: Callable[[str], AppTest],
) -> None:
    at = open_changes(app_as(RITA), "NCC-ASC-ONLINE")
    assert "could not find the programme" in at.warning[0].value
    assert at.selectbox(key="staff_changes_programme").value != "NCC-ASC-ONLINE"


@pytest.mark.parametrize("email", [SAM, RITA])
def test_headings_go_in_order_without_skipping_a_level(
    app_as: Callable[[str], AppTest], email: str
) -> None:
    at = open_changes(app_as(email))
    pages = [heading_levels(page) for page in every_programme(at)]
    pages.append(heading_levels(open_news(at)))
    for levels in pages:
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels


def test_every_table_has_a_text_alternative(app_as: Callable[[str], AppTest]) -> None:
    at = open_changes(app_as(SAM))
    assert at.table.len >= 2
    assert all(table.proto.alt for table in at.table)


def test_a_reader_without_a_team_is_told_why_no_changes_are_shown(
    app_as: Callable[[str], AppTest],
) -> None:
    # Leadership has no staff pages in its navigation, but may read them: run the page alone.
    at = AppTest.from_file(str(ROOT / CHANGES), default_timeout=60)
    sign_in(at, "lena.leader@demo.example")
    at.run()
    assert not at.exception, at.exception
    assert any("not linked to a team" in info.value for info in at.info)
    assert change_titles(at) == set()
