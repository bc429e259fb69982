"""The portfolio page in AppTest, as leadership and as a manager, on the demo portfolio: the
figures shown are the database's, filters narrow and sort, bad links are explained, and what
needs a decision and the change load are shown with their words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.leadership_screen import LEADER, MANAGER, dashboard
from tracker.charts import confidence_text


@pytest.mark.parametrize("email", [LEADER, MANAGER])
def test_portfolio_shows_each_programme_with_the_confidence_and_figures_of_the_database(
    app_as: Callable[[str], Any], demo_url: str, email: str
) -> None:
    at = app_as(email)
    at.switch_page("pages/portfolio.py").run()
    assert not at.exception
    expected = dashboard(demo_url, email).set_index("title")
    shown = at.dataframe[0].value.set_index("title")
    assert sorted(shown.index) == sorted(expected.index)
    for title, row in shown.iterrows():
        assert row["confidence_text"] == confidence_text(expected.loc[title, "confidence"])
        assert row["overdue"] == expected.loc[title, "overdue"]
        assert row["hotspots"] == expected.loc[title, "hotspots"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Programmes shown"] == f"{len(expected)} of {len(expected)}"
    assert metrics["Overdue milestones"] == str(int(expected["overdue"].sum()))
    red = int(expected["confidence"].isin(["red", "amber_red"]).sum())
    assert metrics["Red or Amber/Red"] == str(red)


def test_a_confidence_filter_narrows_the_table_to_those_ratings(
    app_as: Callable[[str], Any], demo_url: str
) -> None:
    at = app_as(LEADER)
    at.switch_page("pages/portfolio.py").run()
    at.multiselect(key="confidence").set_value(["amber"]).run()
    assert not at.exception
    expected = dashboard(demo_url, LEADER)
    wanted = sorted(expected[expected["confidence"] == "amber"]["title"])
    assert 0 < len(wanted) < len(expected)
    assert sorted(at.dataframe[0].value["title"]) == wanted
    assert at.metric[0].value == f"{len(wanted)} of {len(expected)}"


def test_sorting_by_overdue_puts_the_most_overdue_first(app_as: Callable[[str], Any]) -> None:
    at = app_as(LEADER)
    at.switch_page("pages/portfolio.py").run()
    at.selectbox(key="sort").set_value("overdue").run()
    overdue = list(at.dataframe[0].value["overdue"])
    assert overdue == sorted(overdue, reverse=True)


def test_an_unknown_value_in_a_portfolio_link_is_explained_and_ignored(
    app_as: Callable[[str], Any], demo_url: str
) -> None:
    at = app_as(LEADER)
    at.switch_page("pages/portfolio.py")
    at.query_params["sort"] = "by-magic"
    at.query_params["confidence"] = "purple"
    at.run()
    assert not at.exception
    assert "does not know" in at.warning[0].value
    assert "purple" in at.warning[0].value
    assert len(at.dataframe[0].value) == len(dashboard(demo_url, LEADER))


def test_needs_a_decision_lists_red_programmes_and_blocking_hotspots(
    app_as: Callable[[str], Any],
) -> None:
    at = app_as(LEADER)
    at.switch_page("pages/portfolio.py").run()
    decisions = at.dataframe[1].value
    assert {"Delivery confidence", "Hotspot blocking work"} <= set(decisions["kind"])


def test_change_load_has_a_chart_a_summary_and_the_table_behind_it(
    app_as: Callable[[str], Any],
) -> None:
    at = app_as(LEADER)
    at.switch_page("pages/portfolio.py").run()
    assert at.get("vega_lite_chart")
    assert any(m.value.startswith("**In short:**") for m in at.markdown)
    table = at.dataframe[2].value
    assert "Revenues and benefits" in set(table["Staff group"])
    assert "Stance" in table.columns
