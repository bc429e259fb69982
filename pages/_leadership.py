"""Display helpers shared by the leadership pages: the portfolio table's columns and the board
packs behind the download buttons."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from pages import _common as common
from tracker import charts, confidence, db, figures, queries
from tracker.access import Viewer
from tracker.safe_text import plain_text, safe_markdown

_DIRECTION = {"improving": "▲ improving", "worsening": "▼ worsening", "steady": "► steady"}

PORTFOLIO_COLUMNS = {
    "open": st.column_config.LinkColumn("Code", display_text=r"programme=(.*)$"),
    "title": st.column_config.TextColumn("Programme", width="medium"),
    "confidence_text": st.column_config.TextColumn(
        "Delivery confidence", help="The rating shown: a manager's override where there is one."
    ),
    "progress_pct": st.column_config.ProgressColumn(
        "Progress",
        format="%d%%",
        min_value=0,
        max_value=100,
        help="Weight of done milestones over weight of milestones not cancelled.",
    ),
    "stages": st.column_config.TextColumn("Current stage(s)", width="small"),
    "forecast": st.column_config.TextColumn(
        "Forecast finish", help="P50 forecast from recent throughput, against the target end."
    ),
    "stance": st.column_config.TextColumn(
        "Stance (90 days)",
        help="Influence-weighted stance from -2 (active resistance) to +2 (champions).",
    ),
    "hotspots": st.column_config.NumberColumn("Hotspots"),
    "attainment": st.column_config.TextColumn(
        "Metrics", help="Mean attainment of the programme's metrics towards their targets."
    ),
    "overdue": st.column_config.NumberColumn("Overdue"),
}


def _forecast(p50: object, target: dt.date) -> str:
    if not isinstance(p50, dt.date):
        return "No forecast yet"
    verdict = "late" if p50 > target else "on time"
    return f"{p50:%b %Y} ({verdict})"


def _stance(index: object, direction: object) -> str:
    if index is None or pd.isna(index):  # type: ignore[call-overload]
        return "No assessments"
    arrow = _DIRECTION.get(str(direction), "")
    return f"{float(index):+.2f} {arrow}".strip()  # type: ignore[arg-type]


def portfolio_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The portfolio dashboard's rows as the table shows them: words and symbols, not codes."""
    return pd.DataFrame(
        {
            "open": [f"programme?programme={code}" for code in rows["code"]],
            "title": rows["title"],
            "confidence_text": [charts.confidence_text(c) for c in rows["confidence"]],
            "progress_pct": [None if v is None else round(v * 100) for v in rows["progress"]],
            "stages": rows["current_stages"].map(common.stage_labels),
            "forecast": [
                _forecast(p50, target)
                for p50, target in zip(rows["forecast_p50"], rows["target_end_date"], strict=True)
            ],
            "stance": [
                _stance(i, d)
                for i, d in zip(rows["stance_index"], rows["stance_direction"], strict=True)
            ],
            "hotspots": rows["hotspots"],
            "attainment": [
                common.percent(v, not_defined="No readings") for v in rows["mean_attainment"]
            ],
            "overdue": rows["overdue"],
        }
    )


def change_load_table(load: pd.DataFrame, stance: pd.DataFrame) -> pd.DataFrame:
    """The change-load chart's numbers as a table: one row per staff group, one column per
    month, and the group's stance now and its change."""
    if load.empty:
        return pd.DataFrame(columns=["Staff group"])
    wide = load.assign(month=[f"{m:%b %Y}" for m in load["month"]]).pivot_table(
        index=["staff_group", "organisation"],
        columns="month",
        values="load",
        aggfunc="sum",
        fill_value=0,
        sort=False,
    )
    wide = wide.reset_index().rename(
        columns={"staff_group": "Staff group", "organisation": "Organisation"}
    )
    words = stance.assign(
        Stance=[
            charts.stance_trend_words(change=c, falling=bool(f))
            if i is not None
            else "No assessments"
            for i, c, f in zip(
                stance["stance_index"], stance["stance_change"], stance["falling"], strict=True
            )
        ]
    )[["staff_group", "organisation", "Stance"]].rename(
        columns={"staff_group": "Staff group", "organisation": "Organisation"}
    )
    return wide.merge(words, on=["Staff group", "Organisation"], how="left")


def portfolio_pack(viewer: Viewer, today: dt.date) -> bytes:
    from tracker import pack  # the PDF libraries load only when someone downloads a pack

    with db.read_session(common.get_engine()) as session:
        return pack.portfolio_pack(session=session, viewer=viewer, today=today)


def programme_pack(programme_id: int, viewer: Viewer, today: dt.date) -> bytes:
    from tracker import pack

    with db.read_session(common.get_engine()) as session:
        return pack.programme_pack(
            session=session, programme_id=programme_id, today=today, viewer_name=viewer.name
        )


# Streamlit's badge colours for each rating; the symbol and word carry the meaning too.
_BADGE = {
    "green": "green",
    "amber_green": "green",
    "amber": "orange",
    "amber_red": "orange",
    "red": "red",
}


def confidence_badge(rating: str) -> None:
    """A rating as colour, symbol and word together, never colour alone."""
    st.badge(charts.confidence_text(rating), color=_BADGE[rating])  # type: ignore[arg-type]


def show_chart(chart: object, summary: str, data: pd.DataFrame | None = None) -> None:
    """A chart with its text alternative: a one-sentence summary, and the table behind it."""
    st.altair_chart(chart, width="stretch")  # type: ignore[arg-type]
    st.markdown(f"**In short:** {plain_text(summary)}")  # summaries quote user text
    if data is not None:
        with st.expander("Show the data behind this chart"):
            st.dataframe(data, hide_index=True, width="stretch")


def rules_table(suggestion: confidence.Suggestion) -> pd.DataFrame:
    """Every rule with its evidence, the band that applied and the rating it raises."""
    return pd.DataFrame(
        {
            "Rule": [r.description for r in suggestion.results],
            "Evidence": [r.evidence_text for r in suggestion.results],
            "Threshold": [r.threshold_text for r in suggestion.results],
            "Raises": [
                charts.confidence_text(r.rating) if r.rating else "No concern"
                for r in suggestion.results
            ],
            "Set the rating": [
                "Yes"
                if suggestion.deciding is not None and r.key == suggestion.deciding.key
                else ""
                for r in suggestion.results
            ],
        }
    )


def show_journey(programme_id: int, today: dt.date) -> None:
    """The six stages as the spine: progress, dates, exit criteria and each stage's story."""
    stages = common.cached(queries.stage_summary, programme_id=programme_id, today=today)
    st.subheader("The six-stage journey")
    for stage in stages.itertuples():
        with st.container(border=True):
            marker = " (current)" if stage.current else ""
            st.markdown(f"#### {stage.number}. {stage.title}{marker}")
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
                st.markdown(safe_markdown(stage.narrative))


def _span(start: object, end: object, *, actual: bool = False) -> str:
    if start is None or pd.isna(start):  # type: ignore[call-overload]
        return "not started" if actual else "not set"
    if end is None or pd.isna(end):  # type: ignore[call-overload]
        return (
            f"from {common.date_text(start)}, not finished"
            if actual
            else (f"from {common.date_text(start)}")
        )
    return f"{common.date_text(start)} to {common.date_text(end)}"


def show_milestones(
    programme_id: int, today: dt.date, forecast: figures.Forecast | None, target: dt.date
) -> None:
    data = common.cached(queries.burnup, programme_id=programme_id, today=today)
    p50 = forecast.p50 if forecast else None
    p85 = forecast.p85 if forecast else None
    st.subheader("Milestone burn-up")
    show_chart(
        charts.burnup_chart(
            data, forecast_p50=p50, forecast_p85=p85, target_end_date=target, today=today
        ),
        charts.burnup_summary(data, forecast_p50=p50, forecast_p85=p85, target_end_date=target),
        data.rename(columns={"week": "Week ending", "done": "Done", "scope": "Planned"}),
    )
    st.subheader("Overdue milestones")
    late = common.cached(queries.overdue_milestones, programme_id=programme_id, today=today)
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


def show_people(programme_id: int, today: dt.date, *, named: bool) -> None:
    """Power/interest, stance over time, ADKAR and the named hotspots. Never notes."""
    grid = common.cached(queries.stakeholder_grid, programme_id=programme_id, named=named)
    st.subheader("Power and interest")
    if not named:
        st.caption(
            "Only resistance hotspots are named here; other stakeholders are shown as points."
        )
    show_chart(
        charts.power_interest_chart(grid),
        charts.power_interest_summary(grid),
        grid[["label", "role", "influence", "interest", "stance_label", "quadrant", "hotspot"]],
    )
    history = common.cached(queries.stance_history, programme_id=programme_id, today=today)
    st.subheader("Stance over time, against the stance we want")
    show_chart(
        charts.stance_history_chart(history), charts.stance_history_summary(history), history
    )
    adkar = common.cached(queries.adkar_by_group, programme_id=programme_id)
    st.subheader("ADKAR by staff group")
    show_chart(charts.adkar_chart(adkar), charts.adkar_summary(adkar), adkar)
    st.subheader("Resistance hotspots")
    hot = common.cached(queries.hotspots, programme_id=programme_id)
    if hot.empty:
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
    matrix = common.cached(queries.barrier_matrix, programme_id=programme_id)
    st.subheader("Barriers by likelihood and impact")
    show_chart(charts.barrier_matrix_chart(matrix), charts.barrier_matrix_summary(matrix), matrix)


def show_metrics(programme_id: int) -> None:
    status = common.cached(queries.metric_status, programme_id=programme_id)
    readings = common.cached(queries.metric_readings, programme_id=programme_id)
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
            charts.metric_chart(values[["reading_on", "value"]], **details),
            charts.metric_summary(values[["reading_on", "value"]], **details),
            values[["reading_on", "value"]].rename(
                columns={"reading_on": "Date", "value": "Value"}
            ),
        )
