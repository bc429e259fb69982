"""Display helpers shared by the leadership pages: the portfolio table's columns and the board
packs behind the download buttons."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from pages import _common as common
from tracker import charts, confidence, db, figures, read, words
from tracker.access import Viewer
from tracker.safe_text import plain_text

PORTFOLIO_COLUMNS = {
    # Plain text, not a link: a link opens a new tab, a new Streamlit session, where someone
    # signed in with a local or demo account is signed out. Selecting the row opens it here.
    "code": st.column_config.TextColumn("Code"),
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
        "Forecast finish",
        help="P50 forecast from recent throughput; at risk of finishing late when P85 is after "
        "the target end.",
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
    # Last: a sentence per row, which would push the figures off a narrow screen.
    "why": st.column_config.TextColumn(
        "Why", width="medium", help="The rule that set the rating, or the manager's reason."
    ),
}


def portfolio_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The portfolio dashboard's rows as the table shows them: the words each row's verdicts
    carry (read.programme.Verdicts), symbols beside words, never codes."""
    verdicts: list[read.programme.Verdicts] = list(rows["verdicts"])
    return pd.DataFrame(
        {
            "code": rows["code"],
            "title": rows["title"],
            "confidence_text": [charts.confidence_text(v.confidence.rating) for v in verdicts],
            "progress_pct": [None if v is None else round(v * 100) for v in rows["progress"]],
            "stages": rows["current_stages"].map(words.stage_labels),
            "forecast": [v.forecast_text for v in verdicts],
            "stance": [v.stance_text for v in verdicts],
            "hotspots": rows["hotspots"],
            "attainment": [
                words.percent(v, not_defined="No readings") for v in rows["mean_attainment"]
            ],
            "overdue": rows["overdue"],
            "why": [v.confidence.summary for v in verdicts],
        }
    )


def change_load_table(load: pd.DataFrame, stance: pd.DataFrame) -> pd.DataFrame:
    """The change-load chart's numbers as a table: one row per staff group, one column per
    month, and the group's stance now and its change."""
    if load.empty:
        return pd.DataFrame(columns=["Staff group"])
    wide = load.assign(month=[words.short_month(m) for m in load["month"]]).pivot_table(
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
    stance_words = stance.assign(
        Stance=[
            figures.stance_trend_words(c) if i is not None else "No assessments"
            for i, c in zip(stance["stance_index"], stance["stance_change"], strict=True)
        ]
    )[["staff_group", "organisation", "Stance"]].rename(
        columns={"staff_group": "Staff group", "organisation": "Organisation"}
    )
    return wide.merge(stance_words, on=["Staff group", "Organisation"], how="left")


def portfolio_pack(viewer: Viewer, today: dt.date) -> bytes:
    from tracker.io import packs  # the PDF libraries load only when someone downloads a pack

    with db.read_session(common.get_engine()) as session:
        return packs.portfolio_pack(session=session, viewer=viewer, today=today)


def programme_pack(programme_id: int, viewer: Viewer, today: dt.date) -> bytes:
    from tracker.io import packs

    with db.read_session(common.get_engine()) as session:
        return packs.programme_pack(
            session=session, programme_id=programme_id, today=today, viewer=viewer
        )


# Streamlit's badge colours for each rating; the symbol and word carry the meaning too.
_BADGE = {
    "green": "green",
    "amber_green": "green",
    "amber": "orange",
    "amber_red": "orange",
    "red": "red",
}


def strong(text: str) -> str:
    """Bold in Markdown: for the words a read model marks up (e.g. a rating)."""
    return f"**{text}**"


def confidence_badge(rating: str) -> None:
    """A rating as colour, symbol and word together, never colour alone."""
    st.badge(charts.confidence_text(rating), color=_BADGE[rating])  # type: ignore[arg-type]


def show_chart(spec: dict[str, object], summary: str, data: pd.DataFrame | None = None) -> None:
    """A chart (a spec from common.chart) with its text alternative: a one-sentence summary,
    and the table behind it."""
    st.vega_lite_chart(spec, width="stretch")
    st.markdown(f"**In short:** {plain_text(summary)}")  # summaries quote user text
    if data is not None:
        with st.expander("Show the data behind this chart"):
            st.dataframe(data, hide_index=True, width="stretch")


def rules_table(explanation: confidence.Explanation) -> pd.DataFrame:
    """Every rule with its evidence, the band that applied and the rating it raises."""
    return pd.DataFrame(
        {
            "Rule": [r.description for r in explanation.rules],
            "Evidence": [r.evidence for r in explanation.rules],
            "Threshold": [r.threshold for r in explanation.rules],
            "Raises": [
                charts.confidence_text(r.raises) if r.raises else "No concern"
                for r in explanation.rules
            ],
            "Set the rating": ["Yes" if r.deciding else "" for r in explanation.rules],
        }
    )
