"""Manage → Narratives (pages/manage_narratives.py): drafts, publishing, preview, deleting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from tests.factories import SYSTEM
from tests.manage_screen import ADA, MAYA, by_id, first_programme, open_page, texts
from tests.screen import shown_all
from tracker import db, read
from tracker.models import (
    Narrative,
    NarrativeStatus,
    NarrativeUpdate,
)
from tracker.services import narratives, records

ROOT = Path(__file__).resolve().parents[1]
OTHER = "other@example.org"
BARRIERS = "pages/manage_barriers.py"
METRICS = "pages/manage_metrics.py"
NARRATIVES = "pages/manage_narratives.py"


def narrative_rows(engine: Engine, programme_id: int) -> pd.DataFrame:
    with db.read_session(engine) as session:
        return read.manage.narrative_table(session=session, programme_id=programme_id)


def a_draft(engine: Engine, programme_id: int) -> int:
    rows = narrative_rows(engine, programme_id)
    return int(rows[rows["status"] == "draft"]["id"].iloc[0])


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_the_narratives_page_lists_drafts_and_published_newest_first(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, NARRATIVES, email)
    expected = narrative_rows(demo_engine, first_programme(demo_engine, email).programme_id)
    shown = at.dataframe[0].value
    assert list(shown["Title"]) == list(expected["title"])
    assert set(shown["Status"]) == {"Draft", "Published"}
    assert list(expected["id"]) == sorted(expected["id"], reverse=True)
    assert "Not published" in set(shown["Published"])


def test_writing_a_narrative_saves_a_draft_and_opens_it(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, NARRATIVES)
    programme_id = first_programme(demo_engine).programme_id
    at.text_input(key="narratives_title_new").input("What the new rota means for you")
    at.text_area(key="narratives_body_new").input("## From March\n\n- fewer late shifts")
    at.selectbox(key="narratives_audience_new").set_value("staff")
    at.button(key="narratives_save_new").click().run()
    assert not at.exception, at.exception
    assert texts(at.success) == ["Saved the draft “What the new rota means for you”."]
    newest = narrative_rows(demo_engine, programme_id).iloc[0]
    assert (newest["title"], newest["audience"], newest["status"], newest["author"]) == (
        "What the new rota means for you",
        "staff",
        "draft",
        "Maya Manager",
    )
    assert newest["body"] == "## From March\n\n- fewer late shifts"
    assert at.selectbox(key="narratives_choice").value == int(newest["id"])
    assert at.text_input(key=f"narratives_title_{newest['id']}").value == newest["title"]
    at.selectbox(key="narratives_choice").set_value(None).run()
    assert at.text_input(key="narratives_title_new").value == ""


def test_a_narrative_title_too_short_is_refused_and_nothing_is_written(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, NARRATIVES)
    programme_id = first_programme(demo_engine).programme_id
    before = narrative_rows(demo_engine, programme_id)
    at.text_input(key="narratives_title_new").input("Hi")
    at.button(key="narratives_save_new").click().run()
    assert not at.exception, at.exception
    assert shown_all(at.error) == ["Not saved. Title: must be at least 3 characters"]
    assert at.text_input(key="narratives_title_new").value == "Hi"
    pd.testing.assert_frame_equal(narrative_rows(demo_engine, programme_id), before)


def test_publishing_a_draft_publishes_it_with_todays_date(
    app_as: Callable[[str], AppTest], demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_TODAY", "2026-12-03")
    at = open_page(app_as, NARRATIVES)
    draft_id = a_draft(demo_engine, first_programme(demo_engine).programme_id)
    at.selectbox(key="narratives_choice").set_value(draft_id).run()
    at.button(key=f"narratives_publish_{draft_id}").click().run()
    assert not at.exception, at.exception
    assert texts(at.success)[0].startswith("Published today (3 Dec 2026): “")
    published = by_id(demo_engine, Narrative, draft_id)
    assert (published.status, published.published_on) == (
        NarrativeStatus.published,
        dt.date(2026, 12, 3),
    )
    assert at.markdown[0].value == "**Published on 3 Dec 2026**: its readers can see it."

    at.button(key=f"narratives_unpublish_{draft_id}").click().run()
    assert not at.exception, at.exception
    back = by_id(demo_engine, Narrative, draft_id)
    assert (back.status, back.published_on) == (NarrativeStatus.draft, None)


def test_a_narrative_someone_else_saved_meanwhile_is_refused_and_the_draft_kept(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, NARRATIVES)
    draft_id = a_draft(demo_engine, first_programme(demo_engine).programme_id)
    at.selectbox(key="narratives_choice").set_value(draft_id).run()
    with db.write_session(demo_engine, actor=OTHER) as session:
        narratives.update_narrative(
            session=session,
            viewer=SYSTEM,
            narrative_id=draft_id,
            data=records.validated(NarrativeUpdate, {"title": "Their better title", "version": 1}),
        )
    at.text_area(key=f"narratives_body_{draft_id}").input("My own words")
    at.button(key=f"narratives_save_{draft_id}").click().run()
    assert not at.exception, at.exception
    assert "Someone else saved this narrative after you opened it" in shown_all(at.error)[0]
    theirs = by_id(demo_engine, Narrative, draft_id)
    assert (theirs.title, theirs.version) == ("Their better title", 2)
    assert theirs.body != "My own words"
    assert at.text_area(key=f"narratives_body_{draft_id}").value == "My own words"

    at.button(key=f"narratives_reload_{draft_id}").click().run()
    assert at.text_input(key=f"narratives_title_{draft_id}").value == "Their better title"
    assert at.text_area(key=f"narratives_body_{draft_id}").value == theirs.body


def test_the_preview_shows_markdown_and_never_raw_html(
    app_as: Callable[[str], AppTest],
) -> None:
    at = open_page(app_as, NARRATIVES)
    at.text_input(key="narratives_title_new").input("<b>Bold</b> move")
    at.text_area(key="narratives_body_new").input(
        "## Why\n<script>alert(1)</script> [click](javascript:alert(1)) **now**"
    )
    at.run()
    shown = "\n".join(texts(at.markdown))
    assert "## Why" in shown and "**now**" in shown
    assert "<script" not in shown and "javascript:" not in shown and "<b>" not in shown


def test_a_narrative_is_deleted_only_after_confirming(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, NARRATIVES)
    draft_id = a_draft(demo_engine, first_programme(demo_engine).programme_id)
    at.selectbox(key="narratives_choice").set_value(draft_id).run()
    assert at.button(key=f"narratives_delete_{draft_id}").disabled
    at.checkbox(key=f"narratives_delete_sure_{draft_id}").check().run()
    at.button(key=f"narratives_delete_{draft_id}").click().run()
    assert not at.exception, at.exception
    assert texts(at.success)[0].startswith("Deleted “")
    with db.read_session(demo_engine) as session:
        assert session.get(Narrative, draft_id) is None
    assert at.selectbox(key="narratives_choice").value is None
