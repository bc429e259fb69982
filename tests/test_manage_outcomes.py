"""The Manage pages for outcomes: barriers (bulk edit), metrics (with readings) and narratives,
driven with AppTest on the demo database; and the read functions behind them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.conftest import sign_in
from tests.factories import SYSTEM
from tests.screen import shown_all
from tracker import db, figures, read
from tracker.access import load_viewer
from tracker.errors import DomainError
from tracker.models import (
    Barrier,
    BarrierCreate,
    BarrierUpdate,
    Metric,
    MetricCreate,
    MetricReading,
    MetricReadingCreate,
    MetricReadingUpdate,
    MetricUpdate,
    Narrative,
    NarrativeCreate,
    NarrativeStatus,
    NarrativeUpdate,
)
from tracker.safe_text import plain_text
from tracker.services import barriers, metrics, narratives, records
from tracker.words import date_words
from tracker.workspace import ProgrammeChoice, managed_programmes

ROOT = Path(__file__).resolve().parents[1]
MAYA = "maya.manager@demo.example"
ADA = "ada.admin@demo.example"
OTHER = "other@example.org"
BARRIERS = "pages/manage_barriers.py"
METRICS = "pages/manage_metrics.py"
NARRATIVES = "pages/manage_narratives.py"
NO_EDITS: dict[str, Any] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}


def first_programme(engine: Engine, email: str = MAYA) -> ProgrammeChoice:
    """The programme a Manage page opens on for this person (the first by title)."""
    with db.read_session(engine) as session:
        viewer = load_viewer(session, email=email)
        assert viewer is not None
        return managed_programmes(session=session, viewer=viewer)[0]


def open_page(app_as: Callable[[str], AppTest], page: str, email: str = MAYA) -> AppTest:
    at = app_as(email)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(elements: Any) -> list[str]:
    return [element.value for element in elements]


def by_id(engine: Engine, table: type[Any], record_id: int) -> Any:
    with db.read_session(engine) as session:
        record = session.get(table, record_id)
        assert record is not None
        session.expunge(record)
        return record


# --- Barriers --------------------------------------------------------------------------------


def barrier_rows(engine: Engine, programme_id: int) -> pd.DataFrame:
    with db.read_session(engine) as session:
        return read.manage.barrier_table(session=session, programme_id=programme_id)


def edit_barriers(at: AppTest, programme_id: int, changes: dict[str, Any]) -> AppTest:
    # As in the browser: the editor reruns the page on each edit, which enables Save.
    at.session_state[f"barriers_editor_{programme_id}"] = NO_EDITS | changes
    at.run()
    return at.button(key="barriers_save").click().run()


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_the_barriers_page_lists_the_programmes_barriers_highest_score_first(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, BARRIERS, email)
    programme = first_programme(demo_engine, email)
    shown = at.dataframe(key=f"barriers_editor_{programme.programme_id}").value
    expected = barrier_rows(demo_engine, programme.programme_id)
    assert list(shown["title"]) == list(expected["title"]) and len(shown) > 0
    assert list(shown["score"]) == sorted(shown["score"], reverse=True)
    assert list(shown["score"]) == list(shown["likelihood"] * shown["impact"])


def test_editing_adding_and_deleting_barriers_saves_them_all_and_confirms(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, BARRIERS)
    programme_id = first_programme(demo_engine).programme_id
    before = barrier_rows(demo_engine, programme_id)
    at = edit_barriers(
        at,
        programme_id,
        {
            "edited_rows": {0: {"likelihood": 2, "owner": ""}},
            "added_rows": [
                {"title": "Union ballot on new rotas", "category": "cultural", "likelihood": 3}
                | {"impact": 4, "kind": "issue"}
            ],
            "deleted_rows": [len(before) - 1],
        },
    )
    assert not at.exception, at.exception
    assert texts(at.success) == ["Saved barriers: 1 added, 1 changed, 1 deleted."]
    edited = by_id(demo_engine, Barrier, int(before["id"][0]))
    assert (edited.likelihood, edited.owner, edited.version) == (2, "", 2)
    after = barrier_rows(demo_engine, programme_id)
    assert int(before["id"].iloc[-1]) not in set(after["id"])
    added = after[after["title"] == "Union ballot on new rotas"].iloc[0]
    assert (added["kind"], added["category"], added["score"], added["status"]) == (
        "issue",
        "cultural",
        12,
        "open",
    )


def test_a_likelihood_of_7_is_refused_with_its_row_and_nothing_is_saved(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, BARRIERS)
    programme_id = first_programme(demo_engine).programme_id
    before = barrier_rows(demo_engine, programme_id)
    at = edit_barriers(
        at,
        programme_id,
        {"edited_rows": {0: {"title": "A fine new title"}, 1: {"likelihood": 7}}},
    )
    assert not at.exception, at.exception
    assert shown_all(at.error) == ["Nothing was saved: 1 row needs correcting first."]
    problems = at.dataframe[-1].value
    assert problems.to_dict("records") == [
        {"Row": 2, "Column": "Likelihood", "Problem": "must be 5 or less"}
    ]
    pd.testing.assert_frame_equal(barrier_rows(demo_engine, programme_id), before)


def test_a_barrier_someone_else_saved_meanwhile_is_refused_and_the_draft_kept(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, BARRIERS)
    programme_id = first_programme(demo_engine).programme_id
    barrier_id = int(barrier_rows(demo_engine, programme_id)["id"][0])
    with db.write_session(demo_engine, actor=OTHER) as session:
        barriers.update_barrier(
            session=session,
            viewer=SYSTEM,
            barrier_id=barrier_id,
            data=records.validated(BarrierUpdate, {"impact": 1, "version": 1}),
        )
    draft = {"edited_rows": {0: {"mitigation": "My own plan"}}}
    at = edit_barriers(at, programme_id, draft)
    assert not at.exception, at.exception
    assert shown_all(at.error) == ["Nothing was saved: 1 row needs correcting first."]
    assert "Someone else saved this barrier" in at.dataframe[-1].value["Problem"][0]
    theirs = by_id(demo_engine, Barrier, barrier_id)
    assert (theirs.impact, theirs.version) == (1, 2)
    assert theirs.mitigation != "My own plan"
    assert at.session_state[f"barriers_editor_{programme_id}"]["edited_rows"] == {
        0: {"mitigation": "My own plan"}
    }

    at.button(key="barriers_reload").click().run()
    reloaded = at.dataframe(key=f"barriers_editor_{programme_id}").value
    assert int(reloaded.set_index("id").loc[barrier_id, "impact"]) == 1


def test_barriers_can_be_filtered_by_status_and_category(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, BARRIERS)
    programme_id = first_programme(demo_engine).programme_id
    every = barrier_rows(demo_engine, programme_id)
    at.multiselect(key="barriers_status_filter").set_value(["mitigating"]).run()
    shown = at.dataframe(key=f"barriers_editor_{programme_id}").value
    assert set(shown["status"]) == {"mitigating"}
    assert len(shown) == (every["status"] == "mitigating").sum() < len(every)
    category = str(shown["category"][0])
    at.multiselect(key="barriers_category_filter").set_value([category]).run()
    shown = at.dataframe(key=f"barriers_editor_{programme_id}").value
    assert set(shown["category"]) == {category} and set(shown["status"]) == {"mitigating"}


# --- Metrics ---------------------------------------------------------------------------------


def metric_rows(engine: Engine, programme_id: int) -> pd.DataFrame:
    with db.read_session(engine) as session:
        return read.manage.metric_table(session=session, programme_id=programme_id)


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_the_attainment_beside_each_metric_matches_the_figure(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, METRICS, email)
    programme_id = first_programme(demo_engine, email).programme_id
    shown = at.dataframe[0].value.set_index("Metric")["Attainment"]
    with db.read_session(demo_engine) as session:
        defined = session.exec(select(Metric).where(Metric.programme_id == programme_id)).all()
        assert len(shown) == len(defined) > 0
        for metric in defined:
            latest = max(metric.readings, key=lambda r: r.reading_on).value
            attainment = figures.metric_attainment(
                baseline=metric.baseline,
                target=metric.target,
                latest=latest,
                direction=metric.direction,
            )
            assert attainment is not None
            assert shown[metric.name] == f"{attainment:.0%}"


def test_editing_a_metric_saves_it_and_says_what_changed(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, METRICS)
    metric = metric_rows(demo_engine, first_programme(demo_engine).programme_id).iloc[0]
    metric_id = int(metric["id"])
    at.number_input(key=f"metrics_target_{metric_id}").set_value(float(metric["target"]) + 5)
    at.date_input(key=f"metrics_target_date_{metric_id}").set_value(dt.date(2028, 6, 30))
    at.button(key=f"metrics_save_{metric_id}").click().run()
    assert not at.exception, at.exception
    assert texts(at.success) == [
        f"Saved metric “{plain_text(metric['name'])}”: target, target date changed."
    ]
    saved = by_id(demo_engine, Metric, metric_id)
    assert (saved.target, saved.target_date, saved.version) == (
        float(metric["target"]) + 5,
        dt.date(2028, 6, 30),
        2,
    )


def test_a_target_below_the_baseline_of_an_up_metric_is_refused(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, METRICS)
    metric = metric_rows(demo_engine, first_programme(demo_engine).programme_id).iloc[0]
    metric_id = int(metric["id"])
    assert metric["direction"] == "up"
    at.number_input(key=f"metrics_target_{metric_id}").set_value(float(metric["baseline"]) - 1)
    at.button(key=f"metrics_save_{metric_id}").click().run()
    assert not at.exception, at.exception
    assert shown_all(at.error) == [
        "Not saved. Target: a metric that should go up needs a target above its baseline"
    ]
    assert at.number_input(key=f"metrics_target_{metric_id}").value == metric["baseline"] - 1
    saved = by_id(demo_engine, Metric, metric_id)
    assert (saved.target, saved.version) == (metric["target"], 1)


def test_defining_a_metric_adds_it_to_the_programme(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, METRICS)
    programme_id = first_programme(demo_engine).programme_id
    at.text_input(key="metrics_name_new").input("Calls to the contact centre")
    at.text_input(key="metrics_unit_new").input("calls")
    at.number_input(key="metrics_baseline_new").set_value(1200.0)
    at.number_input(key="metrics_target_new").set_value(800.0)
    at.selectbox(key="metrics_direction_new").set_value("down")
    at.selectbox(key="metrics_stage_new").set_value("launch")
    at.button(key="metrics_define").click().run()
    assert not at.exception, at.exception
    assert texts(at.success) == [
        "Defined metric “Calls to the contact centre”. Record its first reading below."
    ]
    added = (
        metric_rows(demo_engine, programme_id).set_index("name").loc["Calls to the contact centre"]
    )
    assert (added["unit"], added["baseline"], added["target"]) == ("calls", 1200.0, 800.0)
    assert (added["direction"], added["stage"], added["latest"]) == ("down", "launch", None)
    assert at.dataframe[0].value.set_index("Metric").loc[
        "Calls to the contact centre", "Attainment"
    ] == ("No reading yet")


def test_a_metric_someone_else_saved_meanwhile_is_refused_and_the_draft_kept(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, METRICS)
    metric = metric_rows(demo_engine, first_programme(demo_engine).programme_id).iloc[0]
    metric_id, theirs, mine = int(metric["id"]), float(metric["target"]) + 10, 33.0
    with db.write_session(demo_engine, actor=OTHER) as session:
        metrics.update_metric(
            session=session,
            viewer=SYSTEM,
            metric_id=metric_id,
            data=records.validated(MetricUpdate, {"target": theirs, "version": 1}),
        )
    at.number_input(key=f"metrics_target_{metric_id}").set_value(mine)
    at.button(key=f"metrics_save_{metric_id}").click().run()
    assert not at.exception, at.exception
    assert "Someone else saved this metric after you opened it" in shown_all(at.error)[0]
    assert by_id(demo_engine, Metric, metric_id).target == theirs
    assert at.number_input(key=f"metrics_target_{metric_id}").value == mine
    assert texts(at.warning) == ["Someone else has saved this metric since you opened it."]

    at.button(key=f"metrics_reload_{metric_id}").click().run()
    assert at.number_input(key=f"metrics_target_{metric_id}").value == theirs
    assert not at.warning


def test_recording_a_reading_saves_it_and_a_second_on_that_date_is_refused(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, METRICS)
    metric = metric_rows(demo_engine, first_programme(demo_engine).programme_id).iloc[0]
    metric_id = int(metric["id"])
    day = metric["latest_on"] + dt.timedelta(days=14)
    at.date_input(key=f"metrics_reading_date_{metric_id}").set_value(day)
    at.number_input(key=f"metrics_reading_value_{metric_id}").set_value(12.5)
    at.text_input(key=f"metrics_reading_note_{metric_id}").input("Mid-month count")
    at.button(key=f"metrics_record_{metric_id}").click().run()
    assert not at.exception, at.exception
    assert texts(at.success) == [
        f"Recorded a reading of “{plain_text(metric['name'])}”: "
        f"{plain_text('12.5%')} on {day.day} {day:%b %Y}."
    ]
    assert at.dataframe[0].value["Latest reading"][0] == f"12.5% on {day.day} {day:%b %Y}"

    at.date_input(key=f"metrics_reading_date_{metric_id}").set_value(day)
    at.number_input(key=f"metrics_reading_value_{metric_id}").set_value(99.0)
    at.button(key=f"metrics_record_{metric_id}").click().run()
    assert shown_all(at.error) == [
        f"Not saved. Date: this metric already has a reading on {date_words(day)}. "
        "Change that reading instead of adding a second one."
    ]
    with db.read_session(demo_engine) as session:
        on_day = session.exec(
            select(MetricReading).where(
                MetricReading.metric_id == metric_id, MetricReading.reading_on == day
            )
        ).all()
    assert [(r.value, r.note) for r in on_day] == [(12.5, "Mid-month count")]


def test_readings_are_edited_in_bulk_and_a_duplicate_date_refuses_the_lot(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, METRICS)
    metric_id = int(metric_rows(demo_engine, first_programme(demo_engine).programme_id)["id"][0])
    key = f"metrics_readings_editor_{metric_id}"
    shown = at.dataframe(key=key).value
    newest, older = shown.iloc[0], shown.iloc[1]

    at.session_state[key] = NO_EDITS | {
        "edited_rows": {0: {"value": 7.0}},
        "added_rows": [{"reading_on": older["reading_on"].isoformat(), "value": 1.0}],
    }
    at.run()
    at.button(key="metrics_readings_save").click().run()
    assert not at.exception, at.exception
    assert shown_all(at.error) == ["Nothing was saved: 1 row needs correcting first."]
    problem = at.dataframe[-1].value.iloc[0]
    assert (problem["Row"], problem["Column"]) == (len(shown) + 1, "Date")
    assert "already has a reading on" in problem["Problem"]
    assert by_id(demo_engine, MetricReading, int(newest["id"])).value == newest["value"]

    at.session_state[key] = NO_EDITS | {
        "edited_rows": {0: {"value": 7.0, "note": "Recounted"}},
        "added_rows": [{"reading_on": "2027-01-01", "value": 9.0}],
        "deleted_rows": [1],
    }
    at.run()
    at.button(key="metrics_readings_save").click().run()
    assert not at.exception, at.exception
    assert texts(at.success)[0].startswith("Saved readings of")
    assert texts(at.success)[0].endswith(": 1 added, 1 changed, 1 deleted.")
    changed = by_id(demo_engine, MetricReading, int(newest["id"]))
    assert (changed.value, changed.note, changed.version) == (7.0, "Recounted", 2)
    with db.read_session(demo_engine) as session:
        assert session.get(MetricReading, int(older["id"])) is None
        assert session.exec(
            select(MetricReading.value).where(
                MetricReading.metric_id == metric_id,
                MetricReading.reading_on == dt.date(2027, 1, 1),
            )
        ).all() == [9.0]


# --- Narratives ------------------------------------------------------------------------------


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


# --- Who may use them ------------------------------------------------------------------------


@pytest.mark.parametrize("page", [BARRIERS, METRICS, NARRATIVES])
@pytest.mark.parametrize("email", ["lena.leader@demo.example", "sam.staff@demo.example"])
def test_leadership_and_staff_cannot_reach_the_outcome_pages(
    app_as: Callable[[str], AppTest], page: str, email: str
) -> None:
    at = app_as(email)
    with pytest.raises(ValueError):
        at.switch_page(page).run()


@pytest.mark.parametrize("page", [BARRIERS, METRICS, NARRATIVES])
@pytest.mark.parametrize("email", ["lena.leader@demo.example", "sam.staff@demo.example"])
def test_the_outcome_pages_stop_for_leadership_and_staff_who_open_them_directly(
    demo_url: str, page: str, email: str
) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    sign_in(at, email)
    at.run()
    assert not at.exception, at.exception
    assert shown_all(at.error) == ["This page is not available to your role."]
    assert not at.title and not at.dataframe


# --- The read functions ----------------------------------------------------------------------


def test_barrier_table_scores_and_orders_highest_first(sqlite_engine: Engine) -> None:
    programme_id = factories.programme(sqlite_engine)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        for title, likelihood, impact in (("Bravo", 2, 3), ("Alpha", 3, 2), ("Charlie", 5, 4)):
            barriers.create_barrier(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    BarrierCreate,
                    {"programme_id": programme_id, "title": title, "category": "technical"}
                    | {"likelihood": likelihood, "impact": impact},
                ),
            )
    with db.read_session(sqlite_engine) as session:
        table = read.manage.barrier_table(session=session, programme_id=programme_id)
        empty = read.manage.barrier_table(session=session, programme_id=programme_id + 1)
    # Charlie 5 x 4 = 20; Alpha 3 x 2 = 6 ties with Bravo 2 x 3 = 6, then by title.
    assert list(zip(table["title"], table["score"], strict=True)) == [
        ("Charlie", 20),
        ("Alpha", 6),
        ("Bravo", 6),
    ]
    assert set(table["kind"]) == {"risk"} and set(table["status"]) == {"open"}
    assert list(table.columns) == list(read.manage.BARRIER_COLUMNS)
    assert empty.empty and str(empty["likelihood"].dtype) == "int64"


def test_metric_table_gives_the_latest_reading_and_attainment(sqlite_engine: Engine) -> None:
    programme_id = factories.programme(sqlite_engine)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        down = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": "Days to assess", "unit": "days"}
                | {"baseline": 28.0, "target": 14.0, "direction": "down", "stage": "test"},
            ),
        )
        flat = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": "Flat line", "baseline": 5.0}
                | {"target": 5.0},
            ),
        )
        metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": "No readings", "target": 10.0}
                | {"baseline": 0.0},
            ),
        )
        for metric, day, value in ((down, 1, 26.0), (down, 2, 21.0), (flat, 1, 6.0)):
            metrics.record_reading(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    MetricReadingCreate,
                    {"metric_id": metric.id, "reading_on": dt.date(2026, day, 1), "value": value},
                ),
            )
    with db.read_session(sqlite_engine) as session:
        table = read.manage.metric_table(session=session, programme_id=programme_id)
    rows = table.set_index("name")
    # Down: (21 - 28) / (14 - 28) = -7 / -14 = 0.5.
    assert rows.loc["Days to assess", "attainment"] == pytest.approx(0.5)
    assert rows.loc["Days to assess", "latest_on"] == dt.date(2026, 2, 1)
    assert (rows.loc["Days to assess", "stage"], rows.loc["Days to assess", "version"]) == (
        "test",
        1,
    )
    assert rows.loc["Flat line", "attainment"] is None
    assert rows.loc["No readings", "latest"] is None
    listing = read.manage.metric_listing(table).set_index("Metric")
    assert listing.loc["Days to assess", "Attainment"] == "50%"
    assert listing.loc["Days to assess", "Latest reading"] == "21 days on 1 Feb 2026"
    assert listing.loc["Flat line", "Attainment"] == "Not defined (target equals baseline)"
    assert listing.loc["No readings", "Attainment"] == "No reading yet"
    assert listing.loc["No readings", "Stage"] == "Not tied to a stage"


def test_reading_table_lists_newest_first_and_one_reading_per_date(
    sqlite_engine: Engine,
) -> None:
    programme_id = factories.programme(sqlite_engine)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        metric = metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {"programme_id": programme_id, "name": "Trained", "baseline": 0, "target": 9},
            ),
        )
        metric_id = metric.id
        for day in (3, 1, 2):
            metrics.record_reading(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    MetricReadingCreate,
                    {"metric_id": metric_id, "reading_on": dt.date(2026, day, 1), "value": day},
                ),
            )
    with db.read_session(sqlite_engine) as session:
        table = read.manage.reading_table(session=session, metric_id=metric_id)
    assert list(table["reading_on"]) == [dt.date(2026, m, 1) for m in (3, 2, 1)]
    march = int(table["id"][0])

    with (
        pytest.raises(DomainError, match="already has a reading on 1 February 2026") as refused,
        db.write_session(sqlite_engine, actor=factories.ACTOR) as session,
    ):
        metrics.record_reading(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricReadingCreate,
                {"metric_id": metric_id, "reading_on": dt.date(2026, 2, 1), "value": 5},
            ),
        )
    assert refused.value.field == "reading_on"
    with (
        pytest.raises(DomainError, match="already has a reading on 1 January 2026"),
        db.write_session(sqlite_engine, actor=factories.ACTOR) as session,
    ):
        metrics.update_reading(
            session=session,
            viewer=SYSTEM,
            reading_id=march,
            data=records.validated(MetricReadingUpdate, {"reading_on": "2026-01-01", "version": 1}),
        )
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        moved = metrics.update_reading(
            session=session,
            viewer=SYSTEM,
            reading_id=march,
            data=records.validated(
                MetricReadingUpdate, {"reading_on": dt.date(2026, 3, 1), "value": 4.0, "version": 1}
            ),
        )
        assert (moved.value, moved.version) == (4.0, 2)


def test_narrative_table_lists_drafts_and_published_newest_first(sqlite_engine: Engine) -> None:
    programme_id = factories.programme(sqlite_engine)
    with db.write_session(sqlite_engine, actor=factories.ACTOR) as session:
        first = narratives.write_narrative(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                NarrativeCreate,
                {"programme_id": programme_id, "title": "First story", "stage": "vision"},
            ),
        )
        narratives.write_narrative(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                NarrativeCreate,
                {"programme_id": programme_id, "title": "Second story", "audience": "staff"},
            ),
        )
        assert first.id is not None
        narratives.publish_narrative(
            session=session, viewer=SYSTEM, narrative_id=first.id, expected_version=1
        )
    with db.read_session(sqlite_engine) as session:
        table = read.manage.narrative_table(session=session, programme_id=programme_id)
    assert list(table["title"]) == ["Second story", "First story"]
    assert list(table["status"]) == ["draft", "published"]
    assert list(table["stage"]) == [None, "vision"]
    assert table["published_on"][0] is None and table["published_on"][1] is not None
    assert list(table["version"]) == [1, 2]
