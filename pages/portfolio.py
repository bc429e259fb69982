"""Portfolio: every programme the viewer may see, with stage, progress, overdue work and stance."""

import streamlit as st

from pages import _common as common
from tracker.models import Role

viewer = common.require_viewer(Role.admin, Role.manager, Role.leadership)

st.title("Portfolio")
st.caption(
    "Every programme you can see, across your organisations. "
    "Open a programme for its six-stage journey."
)

rows = common.visible_portfolio(viewer)
if rows.empty:
    st.info("There are no programmes in your organisations yet.")
    st.stop()

total_overdue = int(rows["overdue"].sum())
total_hotspots = int(rows["hotspots"].sum())
left, middle, right = st.columns(3)
left.metric("Programmes", len(rows))
middle.metric("Overdue milestones", total_overdue)
right.metric(
    "Resistance hotspots",
    total_hotspots,
    help="Stakeholders with influence 4 or more who resist the change.",
)

table = rows.assign(
    open=[f"programme?programme={code}" for code in rows["code"]],
    stages=rows["current_stages"].map(common.stage_labels),
    stance=rows["stance_index"].map(common.stance_words),
    progress_pct=rows["progress"].map(lambda v: None if v is None else round(v * 100)),
)
st.dataframe(
    table[
        [
            "open",
            "title",
            "organisation",
            "status",
            "stages",
            "progress_pct",
            "overdue",
            "blocked",
            "stance",
            "hotspots",
            "target_end_date",
        ]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "open": st.column_config.LinkColumn("Code", display_text=r"programme=(.*)$"),
        "title": st.column_config.TextColumn("Programme"),
        "organisation": st.column_config.TextColumn("Owner"),
        "status": st.column_config.TextColumn("Status"),
        "stages": st.column_config.TextColumn("Current stage(s)"),
        "progress_pct": st.column_config.ProgressColumn(
            "Progress",
            format="%d%%",
            min_value=0,
            max_value=100,
            help="Weight of done milestones over weight of milestones not cancelled.",
        ),
        "overdue": st.column_config.NumberColumn("Overdue"),
        "blocked": st.column_config.NumberColumn("Blocked"),
        "stance": st.column_config.TextColumn(
            "Stance index",
            help="Influence-weighted stance, from -2 (active resistance) to +2 (champions).",
        ),
        "hotspots": st.column_config.NumberColumn("Hotspots"),
        "target_end_date": st.column_config.DateColumn("Target end", format="D MMM YYYY"),
    },
)
st.caption("Progress shows no bar where a programme has no milestones planned yet.")
