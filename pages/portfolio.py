"""Portfolio: one glance across every programme the viewer may see, what needs a decision, and
where change lands on staff groups."""

import datetime as dt

import streamlit as st

from pages import _common as common
from pages import _leadership as leadership
from tracker import charts, read, words
from tracker.models import DeliveryConfidence, Role
from tracker.safe_text import plain_text

viewer = common.require_viewer(Role.admin, Role.manager, Role.leadership)
today = common.today()

st.title("Portfolio")
st.caption("Every programme you can see, across your organisations. Choose one to open it.")

rows = common.scoped(read.portfolio.portfolio_dashboard, viewer, today=today)
if rows.empty:
    st.info("There are no programmes in your organisations yet.")
    st.stop()
organisations = common.scoped(read.portfolio.organisations_in_view, viewer)
sponsors = sorted({s for s in rows["sponsor"] if s})
ratings = [rating.value for rating in DeliveryConfidence]

# Filters live in the URL (bind="query-params"), so a link reopens the same view. Streamlit
# drops values it does not know silently: say so first.
allowed = {
    "org": list(organisations),
    "stage": read.portfolio.stage_keys(),
    "confidence": ratings,
    "sro": sponsors,
    "sort": list(read.portfolio.SORTS),
}
common.warn_unknown_params(allowed)

with st.container(horizontal=True):
    chosen_orgs = st.multiselect(
        "Organisation", list(organisations), key="org", bind="query-params", placeholder="All"
    )
    chosen_stages = st.multiselect(
        "Current stage",
        read.portfolio.stage_keys(),
        format_func=words.stage_label,
        key="stage",
        bind="query-params",
        placeholder="All",
    )
    chosen_ratings = st.multiselect(
        "Delivery confidence",
        ratings,
        format_func=charts.confidence_text,
        key="confidence",
        bind="query-params",
        placeholder="All",
    )
    chosen_sponsors = st.multiselect(
        "Senior responsible owner", sponsors, key="sro", bind="query-params", placeholder="All"
    )
    sort = st.selectbox(
        "Sort by",
        list(read.portfolio.SORTS),
        format_func=read.portfolio.SORTS.__getitem__,
        key="sort",
        bind="query-params",
    )

shown = read.portfolio.sort_portfolio(
    read.portfolio.filter_portfolio(
        rows,
        organisations={name: organisations[name] for name in chosen_orgs},
        stages=chosen_stages,
        ratings=chosen_ratings,
        sponsors=chosen_sponsors,
    ),
    sort or read.portfolio.DEFAULT_SORT,
)

totals = read.portfolio.totals(shown)
left, middle, right, last = st.columns(4)
left.metric("Programmes shown", f"{totals.programmes} of {len(rows)}")
middle.metric("Red or Amber/Red", totals.needs_decision)
right.metric("Overdue milestones", totals.overdue)
last.metric(
    "Resistance hotspots",
    totals.hotspots,
    help="Stakeholders with influence 4 or more who resist the change.",
)

if shown.empty:
    st.info("No programme matches these filters. Clear a filter to see more.")
else:
    table = leadership.portfolio_table(shown)
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config=leadership.PORTFOLIO_COLUMNS,
        on_select="rerun",
        selection_mode="single-row",
        key="portfolio_table",
    )
    st.caption(
        "Select a row to open that programme's dashboard. Delivery confidence "
        "shows a symbol and a word as well as a colour; ▲ and ▼ show the stance over 90 days."
    )
    picked = event.selection.rows if event is not None else []
    if picked:
        code = str(shown.iloc[picked[0]]["code"])
        st.switch_page("pages/programme.py", query_params={"programme": code})

st.header("Needs a decision")
decisions = common.scoped(read.portfolio.needs_decision, viewer, today=today)
if decisions.empty:
    st.success(
        "Nothing needs a decision: no Red or Amber/Red programme, blocking hotspot or "
        "overdue high-weight milestone."
    )
else:
    st.dataframe(
        decisions[["kind", "programme", "item", "detail"]],
        hide_index=True,
        width="stretch",
        column_config={
            "kind": st.column_config.TextColumn("What", width="small"),
            "programme": st.column_config.TextColumn("Programme", width="small"),
            "item": st.column_config.TextColumn("Item", width="medium"),
            "detail": st.column_config.TextColumn("Detail", width="large"),
        },
    )

st.header("Change load on staff groups")
st.caption(
    "Weighted impact of the milestones due each month on each staff group, across all your "
    "programmes (low 1, medium 5, high 10), beside each group's stance now. Rows marked "
    "'falling' are where heavy change meets hardening resistance."
)
start = dt.date(today.year, today.month, 1) - dt.timedelta(days=1)
start = dt.date(start.year, start.month, 1)
load, stance = common.scoped(
    read.portfolio.change_load_with_stance, viewer, start=start, months=9, today=today
)
st.vega_lite_chart(common.chart(charts.change_load_chart, load, stance), width="content")
st.markdown(f"**In short:** {plain_text(charts.change_load_summary(load, stance))}")
with st.expander("Show the data behind this chart"):
    st.dataframe(leadership.change_load_table(load, stance), hide_index=True, width="stretch")

st.download_button(
    "Download the portfolio board pack (PDF)",
    data=lambda: leadership.portfolio_pack(viewer, today),
    file_name=f"portfolio-board-pack-{today.isoformat()}.pdf",
    mime="application/pdf",
    icon=":material/picture_as_pdf:",
)
