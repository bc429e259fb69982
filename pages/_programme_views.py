"""The programme dashboard's views: journey, milestones, people, barriers and metrics. Each
chart comes with its text alternative (pages/_leadership.show_chart)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from pages import _common as common
from pages._leadership import show_chart
from tracker import charts, figures, permissions, read, words
from tracker.access import Viewer
from tracker.safe_text import plain_text, safe_markdown


def show_journey(programme_id: int, today: dt.date) -> None:
    """The six stages as the spine: progress, dates, exit criteria and each stage's story."""
    stages = common.cached(read.programme.stage_summary, programme_id=programme_id, today=today)
    st.subheader("The six-stage journey")
    for stage in stages.itertuples():
        with st.container(border=True):
            marker = " (current)" if stage.current else ""
            st.markdown(f"#### {words.stage_heading(stage.stage)}{marker}")
            if stage.progress is None:
                st.caption("Not planned: no milestones in this stage yet.")
            else:
                st.progress(
                    float(stage.progress),
                    text=f"{stage.progress:.0%} done by weight · {stage.done} of "
                    f"{stage.milestones} milestones done · {stage.overdue} overdue",
                )
            st.caption(
                f"Planned {_span(stage.planned_start, stage.planned_end)} · "
                f"actual {_span(stage.actual_start, stage.actual_end, actual=True)} · "
                f"exit criteria met {stage.criteria_met} of {stage.criteria}"
            )
            if stage.narrative:
                st.markdown(
                    safe_markdown(stage.narrative, allowed_image_hosts=common.allowed_image_hosts())
                )


def _span(start: object, end: object, *, actual: bool = False) -> str:
    if start is None or pd.isna(start):  # type: ignore[call-overload]
        return "not started" if actual else "not set"
    if end is None or pd.isna(end):  # type: ignore[call-overload]
        return (
            f"from {words.date_text(start)}, not finished"
            if actual
            else (f"from {words.date_text(start)}")
        )
    return f"{words.date_text(start)} to {words.date_text(end)}"


def show_milestones(
    programme_id: int, today: dt.date, forecast: figures.Forecast | None, target: dt.date
) -> None:
    data = common.cached(read.programme.burnup, programme_id=programme_id, today=today)
    p50 = forecast.p50 if forecast else None
    p85 = forecast.p85 if forecast else None
    st.subheader("Milestone burn-up")
    show_chart(
        common.chart(
            charts.burnup_chart,
            data,
            forecast_p50=p50,
            forecast_p85=p85,
            target_end_date=target,
            today=today,
        ),
        charts.burnup_summary(data, forecast_p50=p50, forecast_p85=p85, target_end_date=target),
        data.rename(columns={"week": "Week ending", "done": "Done", "scope": "Planned"}),
    )
    st.subheader("Overdue milestones")
    late = common.cached(read.programme.overdue_milestones, programme_id=programme_id, today=today)
    if late.empty:
        st.success("No milestone is overdue.")
    else:
        st.dataframe(
            late[["title", "stage", "owner", "due_date", "status", "weight", "slip_days"]],
            hide_index=True,
            width="stretch",
            column_config={
                "title": "Milestone",
                "stage": "Stage",
                "owner": "Owner",
                "due_date": st.column_config.DateColumn("Due", format="D MMM YYYY"),
                "status": "Status",
                "weight": "Weight",
                "slip_days": "Days late",
            },
        )


def show_people(
    viewer: Viewer, programme_id: int, today: dt.date, *, named: bool, hotspots_named: bool
) -> None:
    """Power/interest, stance over time, ADKAR and the named hotspots (no names at all unless
    `hotspots_named`; the queries hold the same rule). Never notes."""
    grid = common.cached(
        read.programme.stakeholder_grid, viewer=viewer, programme_id=programme_id, named=named
    )
    st.subheader("Power and interest")
    if not hotspots_named:
        st.caption(permissions.NAMES_HELD_BY_OWNER)
    elif not named:
        st.caption(
            "Only resistance hotspots are named here; other stakeholders are shown as points."
        )
    show_chart(
        common.chart(charts.power_interest_chart, grid),
        charts.power_interest_summary(grid),
        grid[["label", "role", "influence", "interest", "stance_label", "quadrant", "hotspot"]],
    )
    history = common.cached(read.programme.stance_history, programme_id=programme_id, today=today)
    st.subheader("Stance over time, against the stance we want")
    show_chart(
        common.chart(charts.stance_history_chart, history),
        charts.stance_history_summary(history),
        history,
    )
    adkar = common.cached(read.programme.adkar_by_group, programme_id=programme_id)
    st.subheader("ADKAR by staff group")
    show_chart(common.chart(charts.adkar_chart, adkar), charts.adkar_summary(adkar), adkar)
    st.subheader("Resistance hotspots")
    hot = common.cached(read.programme.hotspots, viewer=viewer, programme_id=programme_id)
    if not hot.empty and not hotspots_named:
        count = len(hot)
        st.warning(
            f"{count} resistance {'hotspot' if count == 1 else 'hotspots'}: "
            f"{'someone' if count == 1 else 'people'} with influence 4 or more resisting the "
            "change. " + permissions.NAMES_HELD_BY_OWNER,
            icon=":material/warning:",
        )
    elif hot.empty:
        st.success("No resistance hotspots: nobody with influence 4 or more resists the change.")
    else:
        st.dataframe(
            hot[["name", "role", "influence", "stance", "desired_stance", "blocks"]],
            hide_index=True,
            width="stretch",
            column_config={
                "name": "Name",
                "role": "Role",
                "influence": "Influence",
                "stance": "Stance",
                "desired_stance": "Stance we want",
                "blocks": "Milestones waiting on them",
            },
        )


def show_barriers(programme_id: int) -> None:
    matrix = common.cached(read.programme.barrier_matrix, programme_id=programme_id)
    st.subheader("Barriers by likelihood and impact")
    show_chart(
        common.chart(charts.barrier_matrix_chart, matrix),
        charts.barrier_matrix_summary(matrix),
        matrix,
    )


def show_metrics(programme_id: int) -> None:
    status = common.cached(read.programme.metric_status, programme_id=programme_id)
    readings = common.cached(read.programme.metric_readings, programme_id=programme_id)
    st.subheader("Metrics against baseline and target")
    if status.empty:
        st.info("This programme has no metrics yet.")
        return
    for metric in status.itertuples():
        values = readings[readings["metric_id"] == metric.metric_id]
        details = {
            "name": metric.name,
            "unit": metric.unit,
            "baseline": metric.baseline,
            "target": metric.target,
            "target_date": metric.target_date,
            "direction": metric.direction,
        }
        st.markdown(f"#### {plain_text(str(metric.name))}")
        show_chart(
            common.chart(charts.metric_chart, values[["reading_on", "value"]], **details),
            charts.metric_summary(values[["reading_on", "value"]], **details),
            values[["reading_on", "value"]].rename(
                columns={"reading_on": "Date", "value": "Value"}
            ),
        )
