"""Dashboard charts (issue 4): data in, Altair chart out. No Streamlit, no session, no I/O.

Each chart has a builder `x_chart(df, ...)` and a text alternative `x_summary(df, ...)`: one plain
sentence for a screen-reader user or a board member. The builder also puts that sentence in the
chart's `description`, which Vega gives the chart's container as its `aria-label` in a browser
(a static SVG does not carry it: the board pack writes the summary beside the image). The page
shows the summary and the table behind the chart beside it.

Colour is never the only signal: stance has a fixed colour *and* shape; lines differ by dash
as well as colour; rules and bands carry text labels; cells print their values; change-load rows
whose stance is falling say so in words and with a ▼ marker. Colours come from the Okabe-Ito
colour-blind-safe palette (stance, trend) or run light to dark in one hue (heatmaps), and marks
have a dark outline so they keep 3:1 contrast on white.

Every builder accepts an empty frame and then returns a chart saying "No data yet". Time-series
and scatter charts fill their container's width (`width="container"`; the page stretches them);
for a fixed-size image, e.g. the board pack, set `chart.properties(width=640)`. The grids (ADKAR,
barriers, change load) size their cells by step instead, so each cell stays legible.

Dates arrive as `datetime.date` (from tracker.read.programme) and are turned into pandas
timestamps here,
because Vega-Lite's JSON cannot carry a `date`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

import altair as alt
import pandas as pd

from tracker import figures
from tracker.vocabulary import ADKAR, ADKAR_LABELS, DeliveryConfidence, Direction, Stance
from tracker.words import amount_text, date_words, month_words

__all__ = [
    "ADKAR_ELEMENTS",
    "AnyChart",
    "CONFIDENCE_STYLE",
    "NO_DATA",
    "STANCE_COLOURS",
    "STANCE_LABELS",
    "STANCE_SHAPES",
    "ConfidenceStyle",
    "adkar_chart",
    "adkar_summary",
    "barrier_band",
    "barrier_matrix_chart",
    "barrier_matrix_summary",
    "burnup_chart",
    "burnup_summary",
    "change_load_chart",
    "change_load_summary",
    "confidence_symbol",
    "confidence_text",
    "metric_chart",
    "metric_summary",
    "power_interest_chart",
    "power_interest_summary",
    "signed",
    "stance_history_chart",
    "stance_history_summary",
]

AnyChart: TypeAlias = alt.Chart | alt.LayerChart | alt.HConcatChart

NO_DATA = "No data yet"

# GOV.UK text and secondary-text colours: 4.5:1 or better on white.
_INK = "#0b0c0c"
_GREY = "#505a5f"
_LIGHT_GREY = "#b1b4b6"
# Okabe-Ito blue and vermillion: the "ours" and "warning" colours in every chart.
_BLUE = "#0072b2"
_VERMILLION = "#d55e00"


# --- Shared pieces ---------------------------------------------------------------------------


# Text drawn twice, a thick white outline first, reads clearly over rules and lines.
_HALO_THEN_INK: tuple[dict[str, Any], ...] = (
    {"color": "white", "stroke": "white", "strokeWidth": 4, "strokeJoin": "round"},
    {"color": _INK},
)


def _title(text: str, subtitle: str | None = None) -> alt.TitleParams:
    """A left-aligned title, as GOV.UK pages read."""
    if subtitle:
        return alt.TitleParams(text=text, subtitle=subtitle, anchor="start", subtitleColor=_GREY)
    return alt.TitleParams(text=text, anchor="start")


def _no_data(title: str, summary: str, *, height: int = 160) -> alt.Chart:
    """The chart every builder returns for an empty frame: its title and "No data yet", with the
    summary as its description."""
    chart: alt.Chart = (
        alt.Chart(pd.DataFrame({"message": [NO_DATA]}))
        .mark_text(fontSize=14, color=_GREY)
        .encode(text=alt.Text("message:N"))
        .properties(title=_title(title), width="container", height=height, description=summary)
    )
    return chart


def _timestamps(values: Any) -> pd.Series:
    """Dates (or None) as pandas timestamps, which Altair writes as ISO strings."""
    return pd.to_datetime(pd.Series(values), errors="coerce")


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers as floats, None as NaN (PostgreSQL may return Decimals, which JSON cannot carry)."""
    return pd.to_numeric(values, errors="coerce").astype(float)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as plain dicts (typed loosely, as pandas' cells are)."""
    return [{str(key): value for key, value in row.items()} for row in df.to_dict("records")]


def _missing(value: Any) -> bool:
    """None, NaN or NaT: a cell with no value."""
    return value is None or bool(pd.isna(value))


def _day(value: Any) -> dt.date:
    """A `date`, `datetime` or pandas Timestamp as a plain date."""
    return pd.Timestamp(value).date()


def signed(value: float) -> str:
    """A stance index with its sign and one decimal, e.g. "+0.4", "-1.2", "0.0"."""
    rounded = round(value, 1)
    return "0.0" if rounded == 0 else f"{rounded:+.1f}"


def _and(words: Sequence[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- Stance scale: fixed colour and shape per stance --------------------------------------------

STANCE_LABELS: Mapping[int, str] = MappingProxyType({s.value: s.label for s in Stance})
# Okabe-Ito: vermillion and orange for resistance, grey for neutral, sky blue and blue for support.
STANCE_COLOURS: Mapping[int, str] = MappingProxyType(
    {-2: _VERMILLION, -1: "#e69f00", 0: "#999999", 1: "#56b4e9", 2: _BLUE}
)
# Down for resistance, up for support, so the shape alone tells the direction.
STANCE_SHAPES: Mapping[int, str] = MappingProxyType(
    {-2: "triangle-down", -1: "diamond", 0: "circle", 1: "square", 2: "triangle-up"}
)
_STANCE_ORDER = sorted(STANCE_LABELS)


def _by_stance(channel: type[Any], values: Mapping[int, str]) -> Any:
    """An encoding of stance (alt.Color or alt.Shape) over all five stances, best last, so the
    legend never changes and colour and shape share one legend."""
    return channel(
        "stance_label:N",
        title="Stance",
        scale=alt.Scale(
            domain=[STANCE_LABELS[s] for s in _STANCE_ORDER],
            range=[values[s] for s in _STANCE_ORDER],
        ),
        sort=[STANCE_LABELS[s] for s in _STANCE_ORDER],
    )


def _stance_colour() -> alt.Color:
    """Stance by colour."""
    color: alt.Color = _by_stance(alt.Color, STANCE_COLOURS)
    return color


def _stance_shape() -> alt.Shape:
    """Stance by shape, with the same title and domain as the colour, so one legend shows both."""
    shape: alt.Shape = _by_stance(alt.Shape, STANCE_SHAPES)
    return shape


def _stance_axis_labels() -> str:
    """A Vega expression labelling the stance axis: "+2 Champion" ... "-2 Active resistor"."""
    expression = "''"
    for stance in _STANCE_ORDER:
        label = f"{signed(stance).replace('.0', '')} {STANCE_LABELS[stance]}"
        expression = f"datum.value == {stance} ? '{label}' : {expression}"
    return expression


# --- 1. Milestone burn-up --------------------------------------------------------------------

BURNUP_TITLE = "Milestones done against scope"
_BURNUP_SERIES = ("Done", "Scope")


def burnup_chart(
    df: pd.DataFrame,
    *,
    forecast_p50: dt.date | None,
    forecast_p85: dt.date | None,
    target_end_date: dt.date | None,
    today: dt.date,
) -> AnyChart:
    """Cumulative milestones done and total scope by week, with the forecast finish and target.

    df: week (date), done (cumulative int), scope (int). Done is a solid blue line, scope a
    dashed grey one. When both forecast dates are given, a shaded band labelled "Forecast finish
    P50–P85" spans them; a solid rule labelled "Target end" marks the target end date and a
    dotted rule labelled "Today" marks today. The time axis runs a little past the last of
    these dates, so their labels fit.
    """
    summary = burnup_summary(
        df,
        forecast_p50=forecast_p50,
        forecast_p85=forecast_p85,
        target_end_date=target_end_date,
    )
    if df.empty:
        return _no_data(BURNUP_TITLE, summary)
    weeks = _timestamps(df["week"])
    markers = [forecast_p50, forecast_p85, target_end_date, today]
    x_scale = _time_scale([*weeks.dt.date, *(day for day in markers if day is not None)])
    lines_data = pd.concat(
        [
            pd.DataFrame({"week": weeks, "series": "Done", "milestones": df["done"].astype(int)}),
            pd.DataFrame({"week": weeks, "series": "Scope", "milestones": df["scope"].astype(int)}),
        ],
        ignore_index=True,
    )
    lines = (
        alt.Chart(lines_data)
        .mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(size=16, filled=True))
        .encode(
            x=alt.X("week:T", title="Week", scale=x_scale, axis=_month_axis()),
            y=alt.Y("milestones:Q", title="Milestones", scale=alt.Scale(zero=True)),
            **_two_lines(_BURNUP_SERIES),
            tooltip=[
                alt.Tooltip("week:T", title="Week of", format="%-d %B %Y"),
                alt.Tooltip("series:N", title="Line"),
                alt.Tooltip("milestones:Q", title="Milestones"),
            ],
        )
    )
    band: list[alt.Chart] = []
    subtitle = "No forecast finish yet"
    if forecast_p50 is not None and forecast_p85 is not None:
        band = _forecast_band(forecast_p50, forecast_p85, x_scale)
        subtitle = "Shaded: when the remaining milestones will be done, 50% to 85% likely"
    layers = [*band[:1], lines]
    if target_end_date is not None:
        layers.extend(_labelled_rule(target_end_date, "Target end", [1, 0], 0, x_scale))
    layers.extend(_labelled_rule(today, "Today", [2, 3], 1, x_scale))
    layers.extend(band[1:])
    return alt.LayerChart(layer=layers).properties(
        title=_title(BURNUP_TITLE, subtitle),
        width="container",
        height=320,
        description=summary,
    )


def _time_scale(days: Sequence[dt.date]) -> alt.Scale:
    """A time scale from the first day to the last plus an eighth of the span (at least three
    weeks), so a label printed right of a rule at the last day still fits."""
    first, last = min(days), max(days)
    last += max(dt.timedelta(weeks=3), (last - first) / 8)
    return alt.Scale(
        domain=[alt.DateTime(year=d.year, month=d.month, date=d.day) for d in (first, last)]
    )


def _month_axis() -> alt.Axis:
    """A time axis labelled by month, e.g. "Mar 2027", dropping labels that would collide."""
    return alt.Axis(format="%b %Y", labelOverlap=True, tickCount="month")


def _two_lines(series: tuple[str, str]) -> dict[str, Any]:
    """Colour and dash for a chart of two lines, the first solid blue (the measure), the second
    dashed grey (what it is compared with): line style tells them apart without colour."""
    return {
        "color": alt.Color(
            "series:N",
            title=None,
            scale=alt.Scale(domain=list(series), range=[_BLUE, _GREY]),
            legend=_line_legend(),
        ),
        "strokeDash": alt.StrokeDash(
            "series:N",
            title=None,
            scale=alt.Scale(domain=list(series), range=[[1, 0], [6, 4]]),
        ),
    }


def _line_legend() -> alt.Legend:
    """A legend above the plot showing each line's stroke and dash, not a dot."""
    return alt.Legend(
        orient="top", direction="horizontal", symbolType="stroke", symbolStrokeWidth=2.5
    )


def _forecast_band(p50: dt.date, p85: dt.date, x_scale: alt.Scale) -> list[alt.Chart]:
    """The P50–P85 forecast band, then its label along the bottom, centred on the band (a white
    halo under the label keeps it legible where a rule crosses it)."""
    band = pd.DataFrame(
        {
            "p50": _timestamps([p50]),
            "p85": _timestamps([p85]),
            "middle": _timestamps([p50]) + (_timestamps([p85]) - _timestamps([p50])) / 2,
            "label": ["Forecast finish P50–P85"],
        }
    )
    tooltip = [
        alt.Tooltip("p50:T", title="Forecast finish, 50% likely by", format="%-d %B %Y"),
        alt.Tooltip("p85:T", title="Forecast finish, 85% likely by", format="%-d %B %Y"),
    ]
    area = (
        alt.Chart(band)
        .mark_rect(color=_BLUE, opacity=0.15, stroke=_BLUE, strokeOpacity=0.6)
        .encode(x=alt.X("p50:T", scale=x_scale), x2="p85:T", tooltip=tooltip)
    )
    labels = [
        alt.Chart(band)
        .mark_text(baseline="bottom", fontSize=11, dy=-6, **style)
        .encode(x=alt.X("middle:T", scale=x_scale), y=alt.value("height"), text="label:N")
        for style in _HALO_THEN_INK
    ]
    return [area, *labels]


def _labelled_rule(
    day: dt.date, label: str, dash: list[int], slot: int, x_scale: alt.Scale
) -> list[alt.Chart]:
    """A vertical rule at `day` with its label right of it near the top; `slot` picks the
    label's line, so the labels of rules close together do not print over each other."""
    data = pd.DataFrame({"day": _timestamps([day]), "label": [label]})
    x = alt.X("day:T", scale=x_scale)
    tooltip = [
        alt.Tooltip("label:N", title="Marker"),
        alt.Tooltip("day:T", title="Date", format="%-d %B %Y"),
    ]
    rule = (
        alt.Chart(data)
        .mark_rule(color=_INK, strokeDash=dash, strokeWidth=1.5)
        .encode(x=x, tooltip=tooltip)
    )
    text = (
        alt.Chart(data)
        .mark_text(align="left", baseline="top", dx=4, dy=4 + 15 * slot, fontSize=11, color=_INK)
        .encode(x=x, y=alt.value(0), text="label:N")
    )
    return [rule, text]


def burnup_summary(
    df: pd.DataFrame,
    *,
    forecast_p50: dt.date | None,
    forecast_p85: dt.date | None,
    target_end_date: dt.date | None,
) -> str:
    """E.g. "23 of 40 milestones done by 7 June 2027; forecast finish between 12 March 2028
    (50% likely) and 30 April 2028 (85% likely), both after the target end of 31 January 2028."
    """
    if df.empty:
        return "No milestones yet, so there is nothing to burn up."
    last = max(_records(df), key=lambda row: _day(row["week"]))
    done, scope = int(last["done"]), int(last["scope"])
    opening = f"{done} of {scope} milestones done by {date_words(_day(last['week']))}"
    target = f"the target end of {date_words(target_end_date)}" if target_end_date else None
    if done >= scope:
        return f"All {opening}." if scope else f"{opening}."
    if forecast_p50 is None or forecast_p85 is None:
        against = f", against {target}" if target else ""
        return f"{opening}; there is no forecast finish yet{against}."
    forecast = (
        f"forecast finish between {date_words(forecast_p50)} (50% likely) and "
        f"{date_words(forecast_p85)} (85% likely)"
    )
    if target_end_date is None:
        return f"{opening}; {forecast}."
    if forecast_p85 <= target_end_date:
        relation = f"both on or before {target}"
    elif forecast_p50 > target_end_date:
        relation = f"both after {target}"
    else:
        relation = f"either side of {target}"
    return f"{opening}; {forecast}, {relation}."


# --- 2. Power/interest grid ------------------------------------------------------------------

POWER_INTEREST_TITLE = "Stakeholders by influence and interest"
_Align = Literal["left", "center", "right"]
_Baseline = Literal["top", "middle", "bottom"]
# Quadrant names and the corner each sits in: (label, interest, influence, align, baseline).
_QUADRANT_CORNERS: tuple[tuple[str, float, float, _Align, _Baseline], ...] = (
    ("Keep satisfied", 0.55, 5.45, "left", "top"),
    ("Manage closely", 5.45, 5.45, "right", "top"),
    ("Monitor", 0.55, 0.55, "left", "bottom"),
    ("Keep informed", 5.45, 0.55, "right", "bottom"),
)
_QUADRANT_ORDER = ("Manage closely", "Keep satisfied", "Keep informed", "Monitor")
# Points sharing a cell spread over a disc of this radius (grid units), so they never overlap.
_SPREAD_RADIUS = 0.38
_GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))


def _spread(df: pd.DataFrame) -> pd.DataFrame:
    """Plot positions: stakeholders sharing an (interest, influence) cell spread on a sunflower
    pattern around it, in stakeholder_id order, so the same data always draws the same way."""
    placed = df.sort_values("stakeholder_id").copy()
    placed["x"] = placed["interest"].astype(float)
    placed["y"] = placed["influence"].astype(float)
    for _, cell in placed.groupby(["interest", "influence"]):
        if len(cell) < 2:
            continue
        for rank, index in enumerate(cell.index):
            radius = _SPREAD_RADIUS * math.sqrt((rank + 0.5) / len(cell))
            angle = rank * _GOLDEN_ANGLE
            placed.loc[index, "x"] += radius * math.cos(angle)
            placed.loc[index, "y"] += radius * math.sin(angle)
    return placed


def power_interest_chart(df: pd.DataFrame) -> AnyChart:
    """Mendelow's grid: each stakeholder at interest (x) by influence (y), 1-5.

    df: stakeholder_id, label (name, or "" when the viewer may not see it), role, influence,
    interest, stance (-2..2), stance_label, quadrant (label), hotspot (bool). The stance
    labels come from STANCE_LABELS by the stance value, so the legend always matches the fixed
    colour and shape of each stance. Point size grows
    with influence; stance shows by colour *and* shape; hotspots get a dark ring and, when
    named, their label beside the point. Dashed rules at 2.5 split the quadrants, whose names
    sit in the corners.
    """
    summary = power_interest_summary(df)
    if df.empty:
        return _no_data(POWER_INTEREST_TITLE, summary)
    data = _spread(df)
    data["stance_label"] = [STANCE_LABELS[int(s)] for s in data["stance"]]
    data["who"] = [label or "Not named" for label in data["label"].fillna("")]
    data["hotspot_words"] = ["Yes" if flag else "No" for flag in data["hotspot"]]
    data["label"] = data["label"].fillna("")
    axis = alt.Axis(values=[1, 2, 3, 4, 5], grid=False, tickMinStep=1)
    x = alt.X("x:Q", title="Interest", scale=alt.Scale(domain=[0.5, 5.5], nice=False), axis=axis)
    y = alt.Y(
        "y:Q", title="Influence (power)", scale=alt.Scale(domain=[0.5, 5.5], nice=False), axis=axis
    )
    tooltip = [
        alt.Tooltip("who:N", title="Stakeholder"),
        alt.Tooltip("role:N", title="Role"),
        alt.Tooltip("stance_label:N", title="Stance"),
        alt.Tooltip("influence:Q", title="Influence"),
        alt.Tooltip("interest:Q", title="Interest"),
        alt.Tooltip("quadrant:N", title="Quadrant"),
        alt.Tooltip("hotspot_words:N", title="Resistance hotspot"),
    ]
    base = alt.Chart(data).encode(x=x, y=y)
    points = base.mark_point(filled=True, opacity=0.9, stroke=_INK, strokeWidth=1).encode(
        color=_stance_colour(),
        shape=_stance_shape(),
        size=alt.Size("influence:Q", scale=alt.Scale(domain=[1, 5], range=[50, 320]), legend=None),
        tooltip=tooltip,
    )
    rings = (
        base.transform_filter(alt.datum.hotspot)
        .mark_point(shape="circle", filled=False, size=700, stroke=_INK, strokeWidth=2, aria=False)
        .encode(tooltip=tooltip)
    )
    return alt.LayerChart(
        layer=[*_quadrant_guides(), points, rings, *_point_labels(base)]
    ).properties(
        title=_title(POWER_INTEREST_TITLE, "Ringed: resistance hotspots (influence 4+, resisting)"),
        width="container",
        height=420,
        description=summary,
    )


def _point_labels(base: alt.Chart) -> list[alt.Chart]:
    """Names beside the named points, on the side away from their cell's centre (so the names
    of stakeholders sharing a cell fan out), each over a white halo."""
    sides: tuple[tuple[_Align, int, str], ...] = (
        ("left", 16, "datum.label != '' && datum.x >= datum.interest"),
        ("right", -16, "datum.label != '' && datum.x < datum.interest"),
    )
    labels = []
    for side, dx, test in sides:
        for style in _HALO_THEN_INK:
            labels.append(
                base.transform_filter(test)
                .mark_text(align=side, dx=dx, fontSize=11, fontWeight="bold", **style)
                .encode(text="label:N")
            )
    return labels


def _quadrant_guides() -> list[alt.Chart]:
    """The dashed rules at 2.5 and the four quadrant names in the corners."""
    rules = alt.Chart(pd.DataFrame({"at": [2.5]}))
    vertical = rules.mark_rule(color=_GREY, strokeDash=[4, 4]).encode(x="at:Q")
    horizontal = rules.mark_rule(color=_GREY, strokeDash=[4, 4]).encode(y="at:Q")
    names = []
    for label, interest, influence, align, baseline in _QUADRANT_CORNERS:
        corner = pd.DataFrame({"x": [interest], "y": [influence], "quadrant_name": [label]})
        names.append(
            alt.Chart(corner)
            .mark_text(align=align, baseline=baseline, fontSize=12, color=_GREY, fontStyle="italic")
            .encode(x="x:Q", y="y:Q", text="quadrant_name:N")
        )
    return [vertical, horizontal, *names]


def power_interest_summary(df: pd.DataFrame) -> str:
    """E.g. "12 stakeholders: 5 to manage closely, 3 to keep satisfied and 4 to monitor;
    2 resistance hotspots (Alex Reid and 1 not named)."""
    if df.empty:
        return "No stakeholders recorded yet."
    counts = df["quadrant"].value_counts()
    parts = [
        f"{int(counts[name])} to {name[0].lower()}{name[1:]}"
        for name in _QUADRANT_ORDER
        if counts.get(name, 0)
    ]
    hotspots = df[df["hotspot"].astype(bool)]
    opening = f"{_plural(len(df), 'stakeholder')}: {_and(parts)}"
    if hotspots.empty:
        return f"{opening}; no resistance hotspots."
    named = [str(label) for label in hotspots["label"].fillna("") if label]
    unnamed = len(hotspots) - len(named)
    who = named + ([f"{unnamed} not named"] if unnamed else [])
    return f"{opening}; {_plural(len(hotspots), 'resistance hotspot')} ({_and(who)})."


# --- 3. Stance index over time ---------------------------------------------------------------

STANCE_HISTORY_TITLE = "Stance index over time"
_STANCE_SERIES = ("Stance index", "Desired stance")


def stance_history_chart(df: pd.DataFrame) -> AnyChart:
    """The programme's stance index by month (solid blue line) against the desired index
    (dashed grey line), both with points, on a fixed -2..2 scale labelled with the stance words
    and a rule at 0 (neutral).

    df: month (date), stance_index (float or None), desired_index (float or None). A month
    without a value is left out of its line rather than drawn as 0.
    """
    summary = stance_history_summary(df)
    data = _stance_long(df)
    if data.empty:
        return _no_data(STANCE_HISTORY_TITLE, summary)
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(size=45, filled=True))
        .encode(
            x=alt.X("month:T", title="Month", axis=_month_axis()),
            y=alt.Y(
                "index:Q",
                title="Stance index",
                scale=alt.Scale(domain=[-2, 2], nice=False),
                axis=alt.Axis(values=[-2, -1, 0, 1, 2], labelExpr=_stance_axis_labels()),
            ),
            **_two_lines(_STANCE_SERIES),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%B %Y"),
                alt.Tooltip("series:N", title="Line"),
                alt.Tooltip("index:Q", title="Index", format="+.1f"),
            ],
        )
    )
    zero = (
        alt.Chart(pd.DataFrame({"zero": [0]}))
        .mark_rule(color=_INK, strokeWidth=1)
        .encode(y="zero:Q")
    )
    return alt.LayerChart(layer=[zero, lines]).properties(
        title=_title(
            STANCE_HISTORY_TITLE,
            "Weighted by influence, from -2 (all active resistors) to +2 (all champions)",
        ),
        width="container",
        height=280,
        description=summary,
    )


def _stance_long(df: pd.DataFrame) -> pd.DataFrame:
    """One row per month and line, without the months a line has no value for."""
    if df.empty:
        return pd.DataFrame(columns=["month", "series", "index"])
    frames = [
        pd.DataFrame(
            {"month": _timestamps(df["month"]), "series": name, "index": df[column].astype(float)}
        )
        for name, column in zip(_STANCE_SERIES, ("stance_index", "desired_index"), strict=True)
    ]
    return pd.concat(frames, ignore_index=True).dropna(subset=["index"]).reset_index(drop=True)


def stance_history_summary(df: pd.DataFrame) -> str:
    """E.g. "The stance index moved from -0.6 in January 2027 to +0.3 in June 2027, against a
    desired +1.2."""
    actual = df.dropna(subset=["stance_index"]) if not df.empty else df
    if actual.empty:
        return "No stance assessments yet."
    ordered = actual.sort_values("month")
    first, last = ordered.iloc[0], ordered.iloc[-1]
    now = f"{signed(float(last['stance_index']))} in {month_words(_day(last['month']))}"
    if len(ordered) == 1:
        sentence = f"The stance index is {now}"
    else:
        then = f"{signed(float(first['stance_index']))} in {month_words(_day(first['month']))}"
        sentence = f"The stance index moved from {then} to {now}"
    desired = ordered["desired_index"].dropna()
    if desired.empty:
        return f"{sentence}."
    return f"{sentence}, against a desired {signed(float(desired.iloc[-1]))}."


# --- 4. ADKAR by staff group -----------------------------------------------------------------

ADKAR_TITLE = "ADKAR scores by staff group"
ADKAR_ELEMENTS = ADKAR
_ADKAR_LABELS = [ADKAR_LABELS[element] for element in ADKAR]
# With the scale below, interpolated in RGB, cells from this score up are dark enough for white
# text; below it, near-black text. Either way the text has at least 4.4:1 contrast.
_DARK_FROM = 3.95


def adkar_chart(df: pd.DataFrame) -> AnyChart:
    """A heatmap of the mean ADKAR score (1-5) per staff group and element, the score printed
    in each cell, light (low) to dark blue (high). Elements keep the ADKAR order across the top.

    df: staff_group, element (awareness, desire, knowledge, ability, reinforcement), score
    (float, 1-5), stakeholders (int, how many scored).
    """
    summary = adkar_summary(df)
    if df.empty:
        return _no_data(ADKAR_TITLE, summary)
    data = df.copy()
    data["element_label"] = data["element"].str.capitalize()
    data["score"] = data["score"].astype(float)
    base = alt.Chart(data).encode(
        x=alt.X(
            "element_label:N",
            title=None,
            sort=_ADKAR_LABELS,
            scale=alt.Scale(domain=_ADKAR_LABELS),
            axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=12, ticks=False),
        ),
        y=alt.Y(
            "staff_group:N",
            title=None,
            sort="ascending",
            axis=alt.Axis(labelLimit=260, ticks=False),
        ),
        tooltip=[
            alt.Tooltip("staff_group:N", title="Staff group"),
            alt.Tooltip("element_label:N", title="Element"),
            alt.Tooltip("score:Q", title="Mean score (1-5)", format=".1f"),
            alt.Tooltip("stakeholders:Q", title="Stakeholders scored"),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color(
            "score:Q",
            title="Score (1-5)",
            scale=alt.Scale(domain=[1, 5], range=["#eff3ff", "#08519c"], interpolate="rgb"),
            legend=alt.Legend(orient="bottom", gradientLength=160, values=[1, 2, 3, 4, 5]),
        )
    )
    scores = base.mark_text(fontSize=13, fontWeight="bold").encode(
        text=alt.Text("score:Q", format=".1f"),
        color=alt.condition(alt.datum.score >= _DARK_FROM, alt.value("white"), alt.value(_INK)),
    )
    return alt.LayerChart(layer=[cells, scores]).properties(
        title=_title(ADKAR_TITLE, "Mean score in each cell, from 1 (low) to 5 (high)"),
        width="container",
        height=alt.Step(34),
        description=summary,
    )


def adkar_summary(df: pd.DataFrame) -> str:
    """E.g. "Lowest score: Revenues and benefits on desire (1.5 of 5); across 3 staff groups the
    weakest element is desire (mean 2.4)." Element means are weighted by stakeholders scored."""
    if df.empty:
        return "No ADKAR scores recorded yet."
    lowest = df.sort_values(["score", "staff_group"]).iloc[0]
    weights = df["stakeholders"].clip(lower=1).astype(float)
    weighted = (df["score"].astype(float) * weights).groupby(df["element"]).sum()
    means = weighted / weights.groupby(df["element"]).sum()
    order = {element: position for position, element in enumerate(ADKAR_ELEMENTS)}
    weakest = min(means.index, key=lambda element: (round(means[element], 6), order[element]))
    groups = df["staff_group"].nunique()
    return (
        f"Lowest score: {lowest['staff_group']} on {lowest['element']} "
        f"({float(lowest['score']):.1f} of 5); across {_plural(groups, 'staff group')} the "
        f"weakest element is {weakest} (mean {means[weakest]:.1f})."
    )


# --- 5. Barriers: likelihood x impact --------------------------------------------------------

BARRIER_TITLE = "Barriers by likelihood and impact"
_BANDS = ("Low", "Medium", "High")
_BAND_FILLS = ("#e8f1f8", "#f9c784", "#b3261e")
_SCALE_1_TO_5 = list(range(1, 6))


def barrier_band(likelihood: int, impact: int) -> str:
    """The score band of a cell: likelihood x impact 1-4 "Low", 5-12 "Medium", 15-25 "High"."""
    score = likelihood * impact
    if score >= 15:
        return "High"
    if score >= 5:
        return "Medium"
    return "Low"


def _barrier_grid(df: pd.DataFrame) -> pd.DataFrame:
    """All 25 cells, with the barriers counted and titled in each (0 and "" when none)."""
    grid = pd.DataFrame(
        [(likelihood, impact) for likelihood in _SCALE_1_TO_5 for impact in _SCALE_1_TO_5],
        columns=["likelihood", "impact"],
    )
    counted = (
        df.assign(titles=df["titles"].fillna("").astype(str))
        .groupby(["likelihood", "impact"], as_index=False)
        .agg(barriers=("barriers", "sum"), titles=("titles", "; ".join))
    )
    grid = grid.merge(counted, on=["likelihood", "impact"], how="left")
    grid["barriers"] = grid["barriers"].fillna(0).astype(int)
    grid["titles"] = grid["titles"].fillna("").astype(str)
    grid["score"] = grid["likelihood"] * grid["impact"]
    grid["band"] = [
        barrier_band(int(likelihood), int(impact))
        for likelihood, impact in zip(grid["likelihood"], grid["impact"], strict=True)
    ]
    grid["count_text"] = [str(n) if n else "" for n in grid["barriers"]]
    return grid


def barrier_matrix_chart(df: pd.DataFrame) -> AnyChart:
    """A 5 x 5 likelihood (up) by impact (across) grid, every cell drawn, shaded by score band
    (light blue low, amber medium, dark red high) with the band's word in the cell and the
    number of barriers printed large; the tooltip lists the barriers' titles.

    df: likelihood (1-5), impact (1-5), barriers (count), titles (the barriers' titles).
    """
    summary = barrier_matrix_summary(df)
    if df.empty:
        return _no_data(BARRIER_TITLE, summary)
    grid = _barrier_grid(df)
    base = alt.Chart(grid).encode(
        x=alt.X("impact:O", title="Impact", sort=_SCALE_1_TO_5, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("likelihood:O", title="Likelihood", sort="descending"),
        tooltip=[
            alt.Tooltip("likelihood:O", title="Likelihood"),
            alt.Tooltip("impact:O", title="Impact"),
            alt.Tooltip("band:N", title="Band"),
            alt.Tooltip("barriers:Q", title="Barriers"),
            alt.Tooltip("titles:N", title="Titles"),
        ],
    )
    on_dark = alt.condition(alt.datum.band == "High", alt.value("white"), alt.value(_INK))
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color(
            "band:N",
            title="Score band",
            scale=alt.Scale(domain=list(_BANDS), range=list(_BAND_FILLS)),
            legend=alt.Legend(orient="right"),
        )
    )
    counts = base.mark_text(fontSize=20, fontWeight="bold", dy=-6).encode(
        text="count_text:N", color=on_dark
    )
    bands = base.mark_text(fontSize=9, baseline="bottom", dy=24).encode(
        text="band:N", color=on_dark
    )
    return alt.LayerChart(layer=[cells, counts, bands]).properties(
        title=_title(BARRIER_TITLE, "Number of barriers in each cell; score = likelihood × impact"),
        width=alt.Step(64),
        height=alt.Step(56),
        description=summary,
    )


def barrier_matrix_summary(df: pd.DataFrame) -> str:
    """E.g. "7 barriers: 2 high, 3 medium and 2 low; the highest scoring is likelihood 4,
    impact 5 (Union opposition)." Bands as in barrier_band."""
    if df.empty or int(df["barriers"].sum()) == 0:
        return "No barriers recorded yet."
    grid = _barrier_grid(df)
    by_band = grid.groupby("band")["barriers"].sum()
    parts = [f"{int(by_band[band])} {band.lower()}" for band in reversed(_BANDS) if by_band[band]]
    worst = grid[grid["barriers"] > 0].sort_values(["score", "likelihood"]).iloc[-1]
    return (
        f"{_plural(int(grid['barriers'].sum()), 'barrier')}: {_and(parts)}; the highest scoring "
        f"is likelihood {worst['likelihood']}, impact {worst['impact']} ({worst['titles']})."
    )


# --- 6. A metric's readings against baseline and target ----------------------------------------


def _unit_title(unit: str) -> str:
    """The value axis title for a unit: "Per cent", "Pounds (£)", "Days", or "Value"."""
    return {"%": "Per cent", "£": "Pounds (£)", "": "Value"}.get(unit, unit.capitalize())


def metric_chart(
    df: pd.DataFrame,
    *,
    name: str,
    unit: str,
    baseline: float,
    target: float,
    target_date: dt.date | None,
    direction: Direction | str,
) -> AnyChart:
    """A metric's readings (blue line with points) against a dotted grey baseline rule and a
    dashed green target rule, each labelled with its value; a dotted vertical rule labelled
    "Target date" when there is one. The subtitle says which way is better.

    df: reading_on (date), value (float).
    """
    summary = metric_summary(
        df,
        name=name,
        unit=unit,
        baseline=baseline,
        target=target,
        target_date=target_date,
        direction=direction,
    )
    if df.empty:
        return _no_data(name, summary)
    data = pd.DataFrame(
        {"reading_on": _timestamps(df["reading_on"]), "value": _numbers(df["value"])}
    )
    x_scale = _time_scale([*data["reading_on"].dt.date, *([target_date] if target_date else [])])
    data["value_text"] = [amount_text(float(value), unit) for value in data["value"]]
    readings = (
        alt.Chart(data)
        .mark_line(color=_BLUE, strokeWidth=2.5, point=alt.OverlayMarkDef(size=45, color=_BLUE))
        .encode(
            x=alt.X("reading_on:T", title="Reading date", scale=x_scale, axis=_month_axis()),
            y=alt.Y("value:Q", title=_unit_title(unit), scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip("reading_on:T", title="Reading on", format="%-d %B %Y"),
                alt.Tooltip("value_text:N", title="Value"),
            ],
        )
    )
    layers = [
        *_level(baseline, f"Baseline {amount_text(baseline, unit)}", [2, 3], _GREY),
        *_level(target, f"Target {amount_text(target, unit)}", [8, 4], "#00703c"),
        readings,
    ]
    if target_date is not None:
        layers.extend(_labelled_rule(target_date, "Target date", [2, 3], 0, x_scale))
    better = "higher" if Direction(direction) is Direction.up else "lower"
    return alt.LayerChart(layer=layers).properties(
        title=_title(name, f"Aim: {better} is better"),
        width="container",
        height=260,
        description=summary,
    )


def _level(value: float, label: str, dash: list[int], colour: str) -> list[alt.Chart]:
    """A horizontal rule at `value` with its label in the right margin, beside the line's end,
    where no reading can cover it."""
    data = pd.DataFrame({"level": [value], "label": [label]})
    rule = (
        alt.Chart(data)
        .mark_rule(color=colour, strokeDash=dash, strokeWidth=2)
        .encode(y="level:Q", tooltip=alt.Tooltip("label:N", title="Level"))
    )
    text = (
        alt.Chart(data)
        .mark_text(align="left", baseline="middle", dx=6, fontSize=11, color=_INK)
        .encode(y="level:Q", x=alt.value("width"), text="label:N")
    )
    return [rule, text]


def metric_summary(
    df: pd.DataFrame,
    *,
    name: str,
    unit: str,
    baseline: float,
    target: float,
    target_date: dt.date | None,
    direction: Direction | str,
) -> str:
    """E.g. "% of staff trained: 62% on 1 May 2027, against a baseline of 40% and a target of
    80% by 1 December 2027; moving the right way (up from 55% at the previous reading)."

    "The right way" is up for a metric whose direction is up, down for one whose direction is
    down; the latest reading is compared with the one before it, or with the baseline when it
    is the only one.
    """
    if df.empty:
        return f"{name}: no readings yet."
    readings = df.assign(day=_timestamps(df["reading_on"])).sort_values("day")
    latest = float(readings["value"].iloc[-1])
    when = date_words(_day(readings["day"].iloc[-1]))
    by = f" by {date_words(target_date)}" if target_date else ""
    opening = (
        f"{name}: {amount_text(latest, unit)} on {when}, against a baseline of "
        f"{amount_text(baseline, unit)} and a target of {amount_text(target, unit)}{by}"
    )
    up = Direction(direction) is Direction.up
    if (latest >= target) if up else (latest <= target):
        return f"{opening}; target met."
    if len(readings) > 1:
        earlier, compared = float(readings["value"].iloc[-2]), "at the previous reading"
    else:
        earlier, compared = baseline, "at the baseline"
    if latest == earlier:
        return f"{opening}; no change from {amount_text(earlier, unit)} {compared}."
    rose = latest > earlier
    way = "the right way" if rose == up else "the wrong way"
    return (
        f"{opening}; moving {way} ({'up' if rose else 'down'} from "
        f"{amount_text(earlier, unit)} {compared})."
    )


# --- 7. Change load by staff group and month, with the groups' stance beside it ----------------

CHANGE_LOAD_TITLE = "Change load by staff group and month"
_ROW = "row"
_ROW_TITLE = "Staff group"
_ROW_STEP = 30


def _row_labels(load_df: pd.DataFrame, stance_df: pd.DataFrame) -> pd.DataFrame:
    """One row per staff group in either frame: staff_group_id, organisation, staff_group and
    its row label, sorted by organisation then group. The label is the group's name, followed
    by its organisation in brackets only when the groups come from more than one organisation
    (a portfolio can hold two "Customer services"; one council's view needs no suffix)."""
    columns = ["staff_group_id", "staff_group", "organisation"]
    groups = (
        pd.concat([load_df[columns], stance_df[columns]], ignore_index=True)
        .drop_duplicates("staff_group_id")
        .sort_values(["organisation", "staff_group"])
        .reset_index(drop=True)
    )
    several = groups["organisation"].nunique() > 1
    groups[_ROW] = [
        f"{row.staff_group} ({row.organisation})" if several else str(row.staff_group)
        for row in groups.itertuples()
    ]
    return groups


def change_load_chart(load_df: pd.DataFrame, stance_df: pd.DataFrame) -> AnyChart:
    """Beside each other, sharing the rows (one per staff group): a heatmap of the change load
    per month, light to dark purple with the load printed in each cell, and each group's stance
    index now as a point on -2..2 with a label such as "+0.4 ▼ falling".

    Rows whose stance is falling stand out three ways: their load cells have a thick dark
    outline, their stance point is a vermillion downward triangle, and the label says "falling"
    in bold. load_df: staff_group_id, staff_group, organisation, month (date), load (int).
    stance_df: staff_group_id, staff_group, organisation, stakeholders, stance_index,
    stance_index_90d, stance_change, falling (bool).
    """
    summary = change_load_summary(load_df, stance_df)
    if load_df.empty and stance_df.empty:
        return _no_data(CHANGE_LOAD_TITLE, summary)
    rows = _row_labels(load_df, stance_df)
    order = list(rows[_ROW])
    falling_ids = set(stance_df.loc[stance_df["falling"].astype(bool), "staff_group_id"])
    falling_rows = list(rows.loc[rows["staff_group_id"].isin(falling_ids), _ROW])
    is_falling = f"indexof({json.dumps(falling_rows)}, datum.value) >= 0"
    bold_if_falling = {"condition": {"test": is_falling, "value": "bold"}, "value": "normal"}
    y = alt.Y(
        f"{_ROW}:N",
        title=None,
        sort=order,
        scale=alt.Scale(domain=order),
        axis=alt.Axis(
            labelLimit=360, ticks=False, labelFontSize=12, labelFontWeight=bold_if_falling
        ),
    )
    heatmap = _load_heatmap(load_df, rows, falling_ids, y)
    stance = _stance_column(stance_df, rows, y)
    chart: alt.HConcatChart = (
        alt.hconcat(heatmap, *stance, spacing=8)
        .resolve_scale(y="shared", color="independent", shape="independent")
        .properties(
            title=_title(
                CHANGE_LOAD_TITLE,
                "Milestones due each month, weighted by their impact on the group",
            ),
            description=summary,
        )
    )
    return chart


def _load_heatmap(
    load_df: pd.DataFrame, rows: pd.DataFrame, falling_ids: set[Any], y: alt.Y
) -> alt.LayerChart:
    """The load cells; rows of falling stance get a thick dark outline."""
    data = load_df.merge(rows[["staff_group_id", _ROW]], on="staff_group_id", how="left")
    data["month"] = _timestamps(data["month"])
    data["load"] = pd.to_numeric(data["load"]).astype(int)
    data["month_label"] = data["month"].dt.strftime("%b %Y")
    data["falling"] = data["staff_group_id"].isin(falling_ids)
    months = _month_labels(data["month"])
    top = float(data["load"].max()) if not data.empty else 1.0
    base = alt.Chart(data).encode(
        x=alt.X(
            "month_label:O",
            title=None,
            sort=months,
            scale=alt.Scale(domain=months),
            axis=alt.Axis(labelAngle=0, ticks=False, labelExpr="split(datum.label, ' ')"),
        ),
        y=y,
        tooltip=[
            alt.Tooltip(f"{_ROW}:N", title=_ROW_TITLE),
            alt.Tooltip("month:T", title="Month", format="%B %Y"),
            alt.Tooltip("load:Q", title="Change load"),
        ],
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "load:Q",
            title="Change load",
            scale=alt.Scale(domain=[0, top], range=["#f2f0f7", "#54278f"], interpolate="rgb"),
            legend=alt.Legend(orient="bottom", gradientLength=140),
        ),
        stroke=alt.condition(alt.datum.falling, alt.value(_INK), alt.value("white")),
        strokeWidth=alt.condition(alt.datum.falling, alt.value(2.5), alt.value(1.5)),
    )
    # As for ADKAR: white text from two-thirds of the way up the scale keeps 4.4:1 contrast.
    values = base.mark_text(fontSize=12, fontWeight="bold").encode(
        text="load:Q",
        color=alt.condition(alt.datum.load >= top * 0.67, alt.value("white"), alt.value(_INK)),
    )
    return alt.LayerChart(layer=[cells, values]).properties(
        width=alt.Step(42), height=alt.Step(_ROW_STEP)
    )


def _month_labels(months: pd.Series) -> list[str]:
    """Every month from the first to the last, e.g. ["Jul 2026", "Aug 2026", ...]: a month with
    no load anywhere still gets its (empty) column, so the time axis has no jumps."""
    if months.empty:
        return []
    span = pd.period_range(months.min(), months.max(), freq="M")
    return [month.strftime("%b %Y") for month in span]


_FALLING_IN_BOLD: tuple[tuple[Any, Literal["bold", "normal"]], ...] = (
    (alt.datum.falling, "bold"),
    (~alt.datum.falling, "normal"),
)


def _stance_column(stance_df: pd.DataFrame, rows: pd.DataFrame, y: alt.Y) -> list[alt.LayerChart]:
    """Each group's stance index now as a point on -2..2, and its label beside it in words."""
    data = rows[["staff_group_id", _ROW]].merge(
        stance_df.drop(columns=["staff_group", "organisation"]), on="staff_group_id", how="left"
    )
    for column in ("stance_index", "stance_index_90d", "stance_change"):
        data[column] = _numbers(data[column])
    data["falling"] = data["falling"].astype("boolean").fillna(False).astype(bool)
    data["stance_text"] = [_stance_text(row) for row in _records(data)]
    data["marker"] = ["Falling" if flag else "Not falling" for flag in data["falling"]]
    tooltip = [
        alt.Tooltip(f"{_ROW}:N", title=_ROW_TITLE),
        alt.Tooltip("stance_index:Q", title="Stance index now", format="+.1f"),
        alt.Tooltip("stance_index_90d:Q", title="90 days ago", format="+.1f"),
        alt.Tooltip("stance_text:N", title="Direction"),
        alt.Tooltip("stakeholders:Q", title="Stakeholders"),
    ]
    base = alt.Chart(data).encode(y=y.axis(None))
    zero = base.mark_rule(color=_LIGHT_GREY).encode(x=alt.datum(0))
    points = (
        base.transform_filter("isValid(datum.stance_index)")
        .mark_point(filled=True, size=110, stroke=_INK, strokeWidth=1)
        .encode(
            x=alt.X(
                "stance_index:Q",
                title="Stance now",
                scale=alt.Scale(domain=[-2, 2], nice=False),
                axis=alt.Axis(values=[-2, 0, 2], grid=False),
            ),
            shape=alt.Shape(
                "marker:N",
                scale=alt.Scale(
                    domain=["Falling", "Not falling"], range=["triangle-down", "circle"]
                ),
                legend=None,
            ),
            color=alt.Color(
                "marker:N",
                scale=alt.Scale(domain=["Falling", "Not falling"], range=[_VERMILLION, _BLUE]),
                legend=None,
            ),
            tooltip=tooltip,
        )
    )
    words = [
        base.transform_filter(test)
        .mark_text(align="left", fontSize=12, color=_INK, fontWeight=weight)
        .encode(x=alt.value(0), text="stance_text:N", tooltip=tooltip)
        for test, weight in _FALLING_IN_BOLD
    ]
    return [
        alt.LayerChart(layer=[zero, points]).properties(width=120, height=alt.Step(_ROW_STEP)),
        alt.LayerChart(layer=words).properties(
            width=150, height=alt.Step(_ROW_STEP), view=alt.ViewBackground(stroke=None)
        ),
    ]


def _stance_text(row: Mapping[str, Any]) -> str:
    """E.g. "+0.4 ▼ falling", "-0.2 ► steady", "+1.1 (no trend yet)", "no stakeholders"."""
    if _missing(row["stance_index"]):
        return "no stakeholders"
    change = None if _missing(row["stance_change"]) else float(row["stance_change"])
    trend = figures.stance_trend_words(change)
    return f"{signed(float(row['stance_index']))} {trend or '(no trend yet)'}"


def change_load_summary(load_df: pd.DataFrame, stance_df: pd.DataFrame) -> str:
    """E.g. "Revenues and benefits carries the heaviest change load: 35 in March 2027, while its
    stance fell from +0.8 to -0.5." Names any other group whose stance is falling too."""
    if load_df.empty and stance_df.empty:
        return "No change load or stance recorded yet."
    rows = {row["staff_group_id"]: row[_ROW] for row in _records(_row_labels(load_df, stance_df))}
    stance = {row["staff_group_id"]: row for row in _records(stance_df)}
    heaviest_id = None
    if load_df.empty:
        sentence = "No milestones land on any staff group in these months"
    else:
        heaviest = min(_records(load_df), key=lambda row: (-int(row["load"]), _day(row["month"])))
        heaviest_id = heaviest["staff_group_id"]
        sentence = (
            f"{rows[heaviest_id]} carries the heaviest change load: {int(heaviest['load'])} in "
            f"{month_words(_day(heaviest['month']))}"
        )
        sentence += _stance_clause(stance.get(heaviest_id))
    others = [
        rows[group_id]
        for group_id, row in stance.items()
        if bool(row["falling"]) and group_id != heaviest_id
    ]
    if others:
        sentence += f"; stance is also falling in {_and(others)}"
    return f"{sentence}."


def _stance_clause(row: Mapping[str, Any] | None) -> str:
    """The clause about the heaviest-loaded group's stance, e.g. ", while its stance fell from
    +0.8 to -0.5" or ", and its stance index is +0.4"; empty when it has no stance index."""
    if row is None or _missing(row["stance_index"]):
        return ""
    now = signed(float(row["stance_index"]))
    if bool(row["falling"]) and not _missing(row["stance_index_90d"]):
        return f", while its stance fell from {signed(float(row['stance_index_90d']))} to {now}"
    return f", and its stance index is {now}"


# --- 8. Delivery confidence: word, colour and symbol --------------------------------------------


@dataclass(frozen=True)
class ConfidenceStyle:
    """How a delivery confidence rating is shown: always the word and the symbol, with the
    colour as a third signal. `text_safe` is False for a colour too light for text on white."""

    label: str
    colour: str
    symbol: str
    text_safe: bool


# Harvey balls: the fuller the circle, the higher the confidence, so the symbols keep the
# scale's order without colour. Colours are GOV.UK's green and red and three steps between,
# distinct in hue and lightness; amber (#f47738) is too light for text on white.
_STYLES = (  # (rating, colour, symbol, text_safe); the word is the rating's own label
    (DeliveryConfidence.green, "#00703c", "●", True),
    (DeliveryConfidence.amber_green, "#85994b", "◕", False),
    (DeliveryConfidence.amber, "#f47738", "◑", False),
    (DeliveryConfidence.amber_red, "#e4572e", "◔", False),
    (DeliveryConfidence.red, "#d4351c", "○", True),
)
CONFIDENCE_STYLE: Mapping[DeliveryConfidence, ConfidenceStyle] = MappingProxyType(
    {
        rating: ConfidenceStyle(rating.label, colour, symbol, text_safe)
        for rating, colour, symbol, text_safe in _STYLES
    }
)


def confidence_symbol(rating: DeliveryConfidence | str) -> str:
    """The symbol of a delivery confidence rating ("green" ... "red"), e.g. "◑" for amber.
    Raises ValueError for anything else."""
    return CONFIDENCE_STYLE[DeliveryConfidence(rating)].symbol


def confidence_text(rating: DeliveryConfidence | str) -> str:
    """Symbol and word for a table cell, e.g. "◑ Amber". Raises ValueError for an unknown
    rating."""
    style = CONFIDENCE_STYLE[DeliveryConfidence(rating)]
    return f"{style.symbol} {style.label}"
