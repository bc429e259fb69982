"""Manage → Metrics (pages/manage_metrics.py): metrics, their attainment and readings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.factories import SYSTEM
from tests.manage_screen import ADA, MAYA, NO_EDITS, by_id, first_programme, open_page, texts
from tests.screen import shown_all
from tracker import db, figures, read
from tracker.models import (
    Metric,
    MetricReading,
    MetricUpdate,
)
from tracker.safe_text import plain_text
from tracker.services import metrics, records
from tracker.words import date_words

ROOT = Path(__file__).resolve().parents[1]
OTHER = "other@example.org"
BARRIERS = "pages/manage_barriers.py"
METRICS = "pages/manage_metrics.py"
NARRATIVES = "pages/manage_narratives.py"


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
