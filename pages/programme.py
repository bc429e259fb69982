"""Programme overview: one programme's six-stage journey and its key figures."""

import streamlit as st

from pages import _common as common
from tracker import queries
from tracker.models import Role
from tracker.safe_text import plain_text, safe_markdown

viewer = common.require_viewer(Role.admin, Role.manager, Role.leadership, Role.staff)

rows = common.visible_portfolio(viewer)
st.title("Programme overview")
if rows.empty:
    st.info("There are no programmes in your organisations yet.")
    st.stop()

codes = list(rows["code"])
titles = dict(zip(rows["code"], rows["title"], strict=True))
asked = st.query_params.get("programme")
if asked is not None and asked not in titles:
    st.warning(
        "That link names a programme that does not exist or is not yours to see. "
        "Showing the first one instead."
    )
    asked = None
code = st.selectbox(
    "Programme",
    codes,
    index=codes.index(asked) if asked else 0,
    format_func=lambda c: f"{titles[c]} ({c})",
    key="programme_choice",
)
st.query_params["programme"] = code
row = rows.set_index("code").loc[code]
programme_id = int(row["programme_id"])
today = common.today()
figures = common.cached(queries.programme_figures, programme_id=programme_id, today=today)
stages = common.cached(queries.stage_summary, programme_id=programme_id, today=today)
target = common.date_text(row["target_end_date"])

st.header(plain_text(str(row["title"])))
partners = f" with {plain_text(row['partners'])}" if row["partners"] else ""
sponsor = plain_text(row["sponsor"]) if row["sponsor"] else "not named"
st.markdown(
    f"Owned by **{plain_text(row['organisation'])}**{partners} · status **{row['status']}** · "
    f"sponsor (SRO) **{sponsor}** · "
    f"{common.date_text(row['start_date'])} to {target}"
)

cols = st.columns(4 if viewer.sees_stakeholders else 3)
cols[0].metric(
    "Progress",
    common.percent(figures.progress),
    help="Weight of done milestones over weight of milestones not cancelled.",
)
cols[1].metric("Overdue milestones", figures.overdue)
cols[1].caption(f"{figures.blocked} blocked · {figures.remaining} still to do")
if figures.forecast is None:
    forecast_text = "No forecast yet"
    forecast_note = "No milestones were completed in the last 12 weeks, so there is no forecast."
else:
    forecast_text = common.date_text(figures.forecast.p50)
    late = figures.forecast.p85 > row["target_end_date"]
    forecast_note = (
        f"As likely as not by {forecast_text}; fairly sure (85%) by "
        f"{common.date_text(figures.forecast.p85)}. Target end {target}"
        + (": at risk of finishing late." if late else ".")
    )
cols[2].metric("Forecast finish (P50)", forecast_text)
cols[2].caption(forecast_note)
if viewer.sees_stakeholders:
    cols[3].metric(
        "Stance index",
        common.stance_number(figures.stance_index),
        help="Influence-weighted stance, from -2 (active resistance) to +2 (champions).",
    )
    cols[3].caption(
        f"{common.stance_words(figures.stance_index)} · {figures.hotspots} resistance "
        f"hotspot(s) among {figures.stakeholders} stakeholders"
    )

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
                text=f"{stage.progress:.0%} done · {stage.done} of {stage.milestones} "
                f"milestones · {stage.overdue} overdue",
            )
        planned = (
            f"{common.date_text(stage.planned_start)} to {common.date_text(stage.planned_end)}"
        )
        actual = f"{common.date_text(stage.actual_start)} to {common.date_text(stage.actual_end)}"
        st.caption(
            f"Planned {planned} · actual {actual} · "
            f"exit criteria met {stage.criteria_met} of {stage.criteria}"
        )
        if stage.narrative:
            st.markdown(safe_markdown(stage.narrative))
