"""News and updates (pages/staff_news.py) in AppTest on the demo database: staff read the stories
published for them, search them and filter them by stage."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.screen import shown

NEWS = "pages/staff_news.py"
RITA = "rita.revenues@demo.example"  # district, Revenues and benefits


def open_news(at: AppTest) -> AppTest:
    at.switch_page(NEWS).run()
    assert not at.exception, at.exception
    return at


def headlines(at: AppTest) -> list[str]:
    return [shown(s.value) for s in at.subheader]


def test_news_search_finds_stories_and_explains_when_nothing_matches(
    app_as: Callable[[str], AppTest],
) -> None:
    at = open_news(app_as(RITA))
    everything = headlines(at)
    assert "One front door: what changes for revenues and benefits" in everything
    assert "Shared platform: go-live and the revenues backlog" not in everything

    at.text_input(key="staff_news_search").input("FLOOR-WALKERS").run()
    assert not at.exception
    assert headlines(at) == ["One front door: what changes for revenues and benefits"]
    assert at.header[0].value == "Search results"

    at.text_input(key="staff_news_search").input("100%").run()
    assert not at.exception
    assert at.subheader.len == 0
    assert "No news matches" in at.info[0].value


def test_news_filters_by_stage(app_as: Callable[[str], AppTest]) -> None:
    at = open_news(app_as(RITA))
    at.selectbox(key="staff_news_stage").set_value("equip").run()
    assert not at.exception
    assert headlines(at) == ["Thank you from the platform team"]
