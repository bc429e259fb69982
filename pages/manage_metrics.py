"""Manage: the measures the programme promised to move. Each metric with its latest reading and
attainment; define a metric or edit one; record readings one at a time or edit them in bulk."""

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from pages import _manage_tables as tables
from tracker import db, permissions, read, words
from tracker.models import (
    MetricCreate,
    MetricReadingCreate,
    MetricReadingUpdate,
    MetricUpdate,
    Stage,
)
from tracker.safe_text import plain_text
from tracker.services import metrics, records
from tracker.words import amount_text

READING_COLUMNS = ["reading_on", "value", "note"]
READINGS = tables.RowServices(
    metrics.record_reading,
    MetricReadingCreate,
    metrics.update_reading,
    MetricReadingUpdate,
    metrics.delete_reading,
    "reading_id",
    text_columns=("note",),
)
FIELDS = ("name", "unit", "baseline", "target", "target_date", "direction", "stage")
LABELS = {"reading_on": "Date"}
NEW = {"name": "", "unit": "", "baseline": 0.0, "target": 0.0, "direction": "up"}


def metric_fields(suffix: str, start: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a metric, keyed metrics_<field>_<suffix>, seeded once from `start`."""
    manage.seed_form("metrics", suffix, {field: start.get(field) for field in FIELDS})
    left, right = st.columns(2)
    return {
        "name": left.text_input("Name", max_chars=160, key=f"metrics_name_{suffix}"),
        "unit": right.text_input(
            "Unit", max_chars=20, key=f"metrics_unit_{suffix}", help="For example %, £ or days."
        ),
        "baseline": left.number_input(
            "Baseline", key=f"metrics_baseline_{suffix}", help="Where the measure started."
        ),
        "target": right.number_input(
            "Target", key=f"metrics_target_{suffix}", help="Where the programme promised to get it."
        ),
        "target_date": left.date_input(
            "Target date (optional)", format="DD/MM/YYYY", key=f"metrics_target_date_{suffix}"
        ),
        "direction": right.selectbox(
            "Direction",
            list(read.manage.DIRECTION_WORDS),
            format_func=read.manage.DIRECTION_WORDS.__getitem__,
            key=f"metrics_direction_{suffix}",
            help="Which way is better: the target must lie that way from the baseline.",
        ),
        "stage": left.selectbox(
            "Stage (optional)",
            [None, *(stage.value for stage in Stage)],
            format_func=read.manage.stage_words,
            key=f"metrics_stage_{suffix}",
        ),
    }


viewer, choice = manage.open_page("Metrics")
programme_id = choice.programme_id
table = manage.listing(
    read.manage.metric_table,
    programme_id,
    header="Metrics and how far they have moved",
    empty="This programme has no metrics yet. Define the first one below.",
)
if not table.empty:
    st.dataframe(read.manage.metric_listing(table), hide_index=True, width="stretch")
    st.caption(
        "Attainment is (latest − baseline) ÷ (target − baseline): 100% means the target is met, "
        "below 0% means the measure moved the wrong way."
    )

with st.expander("Define a new metric", expanded=table.empty), st.form("metrics_new"):
    new_values = metric_fields("new", NEW)
    if st.form_submit_button("Define metric", type="primary", key="metrics_define"):

        def define(session: Session) -> str:
            permissions.require_programme(
                session, viewer, permissions.Action.programme_edit, programme_id
            )
            data = new_values | {"programme_id": programme_id}
            metric = records.validated(MetricCreate, data)
            return metrics.define_metric(session=session, viewer=viewer, data=metric).name

        defined = manage.save(viewer, define, labels=LABELS)
        if defined is not None:
            manage.forget("metric_new", [f"metrics_{field}_new" for field in FIELDS])
            manage.flash(f"Defined metric “{plain_text(defined)}”. Record its first reading below.")
            st.rerun()

if table.empty:
    st.stop()

names = dict(zip(table["id"], table["name"], strict=True))
metric_id = st.selectbox(
    "Metric to edit and record readings for",
    list(names),
    format_func=names.__getitem__,
    key="metrics_choice",
)
row = table.set_index("id").loc[metric_id]
record_key = f"metric_{metric_id}"
form = manage.record_form(
    viewer,
    programme_id,
    record_key,
    int(row["version"]),
    metrics.update_metric,
    MetricUpdate,
    metric_id=metric_id,
)
form_keys = [f"metrics_{field}_{metric_id}" for field in FIELDS]

st.header("Edit this metric")
with st.form(f"metrics_edit_{metric_id}"):
    values = metric_fields(str(metric_id), row.to_dict())
    submitted = st.form_submit_button(
        "Save metric", type="primary", key=f"metrics_save_{metric_id}"
    )
if submitted and form.save(values, labels=LABELS):
    what = [manage.field_name(name) for name in FIELDS if values[name] != row[name]]
    manage.flash(
        f"Saved metric “{plain_text(values['name'])}”: {', '.join(what).lower()} changed."
        if what
        else f"Saved metric “{plain_text(values['name'])}”: nothing had changed."
    )
    st.rerun()
if form.version != int(row["version"]):
    st.warning("Someone else has saved this metric since you opened it.")
    manage.reload_button(record_key, form_keys, key=f"metrics_reload_{metric_id}")

st.header("Readings")
readings_key = f"metric_readings_{metric_id}"
editor_key = f"metrics_readings_editor_{metric_id}"
pending = tables.pending(editor_key)
reading_keys = [f"metrics_reading_{field}_{metric_id}" for field in ("date", "value", "note")]
manage.seed(reading_keys[0], common.today())
manage.seed(reading_keys[1], None)
manage.seed(reading_keys[2], "")
with st.form(f"metrics_reading_{metric_id}"):
    left, middle, right = st.columns([1, 1, 2])
    reading = {
        "reading_on": left.date_input("Date of reading", format="DD/MM/YYYY", key=reading_keys[0]),
        "value": middle.number_input(
            f"Value ({plain_text(row['unit']) or 'no unit'})", key=reading_keys[1]
        ),
        "note": right.text_input("Note (optional)", max_chars=500, key=reading_keys[2]),
    }
    if st.form_submit_button("Record reading", key=f"metrics_record_{metric_id}"):

        def record(session: Session) -> str:
            permissions.require_programme(
                session, viewer, permissions.Action.programme_edit, programme_id
            )
            metrics.record_reading(
                session=session,
                viewer=viewer,
                data=records.validated(MetricReadingCreate, reading | {"metric_id": metric_id}),
            )
            day = words.date_text(reading["reading_on"])
            return f"{plain_text(amount_text(reading['value'], row['unit']))} on {day}"

        recorded = manage.save(viewer, record, labels=LABELS)
        if recorded is not None:
            # The bulk table below reloads to show it, unless it holds unsaved edits.
            manage.forget(readings_key, reading_keys if pending else [*reading_keys, editor_key])
            manage.flash(f"Recorded a reading of “{plain_text(row['name'])}”: {recorded}.")
            st.rerun()


def load_readings() -> pd.DataFrame:
    with db.read_session(common.get_engine()) as session:
        return read.manage.reading_table(session=session, metric_id=metric_id)


readings = manage.snapshot(readings_key, load_readings)
st.caption(
    "All readings, newest first: change, add or delete several at once, then save. One reading "
    "per date."
)
edit = tables.EditTable(
    readings, readings_key, editor_key, READING_COLUMNS, READINGS, {"metric_id": metric_id}
)
tables.editor(
    edit,
    column_order=READING_COLUMNS,
    column_config={
        "reading_on": st.column_config.DateColumn("Date", format="D MMM YYYY", required=True),
        "value": st.column_config.NumberColumn("Value", required=True),
        "note": st.column_config.TextColumn("Note", max_chars=500, width="large"),
    },
)
what = f"readings of “{plain_text(row['name'])}”"
tables.save_button(
    viewer,
    programme_id,
    edit,
    "Save readings",
    key="metrics_readings_save",
    labels=LABELS,
    what=what,
)
manage.reload_button(readings_key, [editor_key], key="metrics_readings_reload")
