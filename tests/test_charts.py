"""Dashboard charts (tracker/charts.py): the data and encodings a reader depends on, the
one-sentence summaries, the empty case, and that each chart renders offline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import vl_convert

from tracker import charts
from tracker.charts import CONFIDENCE_STYLE, NO_DATA
from tracker.vocabulary import DeliveryConfidence

# --- Reading a chart's Vega-Lite spec ---------------------------------------------------------

Spec = dict[str, Any]


def spec_of(chart: charts.AnyChart) -> Spec:
    return chart.to_dict()


def units(spec: Spec) -> Iterator[tuple[Spec, list[dict[str, Any]]]]:
    """Every single-mark view in the spec, with the rows of data it draws."""

    def walk(node: Spec, inherited: list[dict[str, Any]]) -> Iterator[tuple[Spec, Any]]:
        rows = spec["datasets"][node["data"]["name"]] if "data" in node else inherited
        if "mark" in node:
            yield node, rows
        for key in ("layer", "hconcat", "vconcat"):
            for child in node.get(key, []):
                yield from walk(child, rows)

    yield from walk(spec, [])


def mark_type(unit: Spec) -> str:
    mark = unit["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def marks(spec: Spec, kind: str) -> list[tuple[Spec, list[dict[str, Any]]]]:
    return [(unit, rows) for unit, rows in units(spec) if mark_type(unit) == kind]


def texts(spec: Spec) -> list[str]:
    """Every string a text mark prints from its data (empty strings left out)."""
    printed = []
    for unit, rows in marks(spec, "text"):
        field = unit["encoding"]["text"]["field"]
        printed.extend(str(row[field]) for row in rows if row[field] not in ("", None))
    return printed


# --- Hand-built frames, as tracker.read.programme returns them -----------------------------


def burnup_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week": [date(2027, 5, 24), date(2027, 5, 31), date(2027, 6, 7)],
            "done": [20, 21, 23],
            "scope": [38, 40, 40],
        }
    )


def stakeholder(
    stakeholder_id: int,
    *,
    influence: int,
    interest: int,
    stance: int,
    label: str = "",
    quadrant: str = "Manage closely",
) -> dict[str, Any]:
    return {
        "stakeholder_id": stakeholder_id,
        "label": label,
        "role": "Head of service",
        "influence": influence,
        "interest": interest,
        "stance": stance,
        "stance_label": charts.STANCE_LABELS[stance],
        "quadrant": quadrant,
        "hotspot": influence >= 4 and stance <= -1,
    }


def power_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            stakeholder(1, influence=5, interest=4, stance=-2, label="Alex Reid"),
            stakeholder(2, influence=4, interest=4, stance=-1),
            stakeholder(3, influence=4, interest=4, stance=1),
            stakeholder(4, influence=4, interest=4, stance=2),
            stakeholder(5, influence=4, interest=2, stance=0, quadrant="Keep satisfied"),
            stakeholder(6, influence=1, interest=1, stance=-2, quadrant="Monitor"),
        ]
    )


def stance_history_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1), date(2027, 6, 1)],
            "stance_index": [None, -0.6, -0.2, 0.3],
            "desired_index": [1.2, 1.2, 1.2, 1.2],
        }
    )


def adkar_frame() -> pd.DataFrame:
    # Given out of order, so the chart must put the elements in ADKAR order itself.
    rows = [
        ("Revenues and benefits", "reinforcement", 2.0, 4),
        ("Revenues and benefits", "desire", 1.5, 4),
        ("Revenues and benefits", "awareness", 3.5, 4),
        ("Revenues and benefits", "knowledge", 2.5, 4),
        ("Revenues and benefits", "ability", 2.0, 4),
        ("Customer services", "awareness", 4.0, 2),
        ("Customer services", "desire", 3.0, 2),
        ("Customer services", "knowledge", 3.5, 2),
        ("Customer services", "ability", 2.5, 2),
        ("Customer services", "reinforcement", 2.0, 2),
    ]
    return pd.DataFrame(rows, columns=["staff_group", "element", "score", "stakeholders"])


def barrier_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"likelihood": 4, "impact": 5, "barriers": 1, "titles": "Union opposition"},
            {"likelihood": 3, "impact": 3, "barriers": 2, "titles": "Budget cut; Supplier delay"},
            {"likelihood": 1, "impact": 2, "barriers": 1, "titles": "Room bookings"},
        ]
    )


def metric_frame(values: list[float]) -> pd.DataFrame:
    months = [date(2027, month, 1) for month in range(7 - len(values), 7)]
    return pd.DataFrame({"reading_on": months, "value": values})


EDC = "Eastbrook District Council"
NCC = "Northmoor County Council"


def load_frame(*, second_organisation: str = EDC) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (1, "Revenues and benefits", EDC, date(2027, 3, 1), 35),
            (1, "Revenues and benefits", EDC, date(2027, 4, 1), 10),
            (2, "Customer services", second_organisation, date(2027, 3, 1), 6),
            (2, "Customer services", second_organisation, date(2027, 5, 1), 1),
        ],
        columns=["staff_group_id", "staff_group", "organisation", "month", "load"],
    )


def stance_frame(*, second_organisation: str = EDC) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (1, "Revenues and benefits", EDC, 6, -0.5, 0.8, -1.3, True),
            (2, "Customer services", second_organisation, 3, 0.4, 0.1, 0.3, False),
            (3, "ICT", EDC, 2, 1.0, None, None, False),
        ],
        columns=[
            "staff_group_id",
            "staff_group",
            "organisation",
            "stakeholders",
            "stance_index",
            "stance_index_90d",
            "stance_change",
            "falling",
        ],
    )


def burnup(**overrides: Any) -> charts.AnyChart:
    arguments: dict[str, Any] = {
        "forecast_p50": date(2027, 10, 4),
        "forecast_p85": date(2027, 11, 22),
        "target_end_date": date(2027, 10, 31),
        "today": date(2027, 6, 7),
        **overrides,
    }
    df = arguments.pop("df", burnup_frame())
    return charts.burnup_chart(df, **arguments)


def metric(df: pd.DataFrame, **overrides: Any) -> charts.AnyChart:
    arguments: dict[str, Any] = {
        "name": "% of staff trained",
        "unit": "%",
        "baseline": 40,
        "target": 80,
        "target_date": date(2027, 12, 1),
        "direction": "up",
        **overrides,
    }
    return charts.metric_chart(df, **arguments)


# Every builder, with demo-like data and with empty frames.
BUILDERS: dict[str, Callable[[bool], charts.AnyChart]] = {
    "burn-up": lambda empty: burnup(df=burnup_frame().iloc[0:0] if empty else burnup_frame()),
    "power/interest": lambda empty: charts.power_interest_chart(
        power_frame().iloc[0:0] if empty else power_frame()
    ),
    "stance history": lambda empty: charts.stance_history_chart(
        stance_history_frame().iloc[0:0] if empty else stance_history_frame()
    ),
    "ADKAR": lambda empty: charts.adkar_chart(adkar_frame().iloc[0:0] if empty else adkar_frame()),
    "barriers": lambda empty: charts.barrier_matrix_chart(
        barrier_frame().iloc[0:0] if empty else barrier_frame()
    ),
    "metric": lambda empty: metric(metric_frame([] if empty else [40, 55, 62])),
    "change load": lambda empty: charts.change_load_chart(
        load_frame().iloc[0:0] if empty else load_frame(),
        stance_frame().iloc[0:0] if empty else stance_frame(),
    ),
}


# --- Every chart ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILDERS)
def test_an_empty_frame_gives_a_titled_no_data_yet_chart(name: str) -> None:
    spec = spec_of(BUILDERS[name](True))

    assert texts(spec) == [NO_DATA]
    assert spec["title"]["text"]


@pytest.mark.parametrize("empty", [False, True], ids=["with data", "empty"])
@pytest.mark.parametrize("name", BUILDERS)
def test_every_chart_renders_to_svg_offline(name: str, empty: bool) -> None:
    svg = vl_convert.vegalite_to_svg(BUILDERS[name](empty).to_dict())

    assert svg.startswith("<svg")
    assert "<text" in svg


@pytest.mark.parametrize("empty", [False, True], ids=["with data", "empty"])
@pytest.mark.parametrize("name", BUILDERS)
def test_every_chart_carries_its_summary_as_its_description(name: str, empty: bool) -> None:
    description = spec_of(BUILDERS[name](empty))["description"]

    assert description.endswith(".") and description != NO_DATA


@pytest.mark.parametrize("name", BUILDERS)
def test_every_chart_has_a_title_and_tooltips(name: str) -> None:
    spec = spec_of(BUILDERS[name](False))

    assert spec["title"]["text"]
    assert any("tooltip" in unit.get("encoding", {}) for unit, _ in units(spec))


# --- 1. Burn-up ----------------------------------------------------------------------------


def test_burnup_draws_done_solid_and_scope_dashed_from_the_weekly_figures() -> None:
    spec = spec_of(burnup())
    [(line, rows)] = marks(spec, "line")

    encoding = line["encoding"]
    assert encoding["strokeDash"]["field"] == encoding["color"]["field"] == "series"
    assert encoding["strokeDash"]["scale"]["domain"] == ["Done", "Scope"]
    dash_done, dash_scope = encoding["strokeDash"]["scale"]["range"]
    assert dash_done != dash_scope
    assert [(row["series"], row["milestones"]) for row in rows] == [
        ("Done", 20),
        ("Done", 21),
        ("Done", 23),
        ("Scope", 38),
        ("Scope", 40),
        ("Scope", 40),
    ]


def test_burnup_shades_a_labelled_band_from_p50_to_p85() -> None:
    spec = spec_of(burnup())
    [(band, rows)] = marks(spec, "rect")

    assert band["encoding"]["x"]["field"] == "p50"
    assert band["encoding"]["x2"]["field"] == "p85"
    assert rows[0]["p50"].startswith("2027-10-04")
    assert rows[0]["p85"].startswith("2027-11-22")
    assert "Forecast finish P50–P85" in texts(spec)


def test_burnup_marks_the_target_end_and_today_with_labelled_rules() -> None:
    spec = spec_of(burnup())

    rules = {rows[0]["label"]: rows[0]["day"][:10] for _, rows in marks(spec, "rule")}
    assert rules == {"Target end": "2027-10-31", "Today": "2027-06-07"}
    assert {"Target end", "Today"} <= set(texts(spec))


def test_burnup_without_a_forecast_has_no_band_and_says_so() -> None:
    spec = spec_of(burnup(forecast_p50=None, forecast_p85=None))

    assert marks(spec, "rect") == []
    assert spec["title"]["subtitle"] == "No forecast finish yet"


@pytest.mark.parametrize(
    ("p50", "p85", "expected"),
    [
        (
            date(2027, 9, 6),
            date(2027, 10, 4),
            "23 of 40 milestones done by 7 June 2027; forecast finish between 6 September 2027 "
            "(50% likely) and 4 October 2027 (85% likely), both on or before the target end of "
            "31 October 2027.",
        ),
        (
            date(2027, 10, 4),
            date(2027, 11, 22),
            "23 of 40 milestones done by 7 June 2027; forecast finish between 4 October 2027 "
            "(50% likely) and 22 November 2027 (85% likely), either side of the target end of "
            "31 October 2027.",
        ),
        (
            None,
            None,
            "23 of 40 milestones done by 7 June 2027; there is no forecast finish yet, against "
            "the target end of 31 October 2027.",
        ),
    ],
    ids=["on course", "straddles target", "no forecast"],
)
def test_burnup_summary_reads_the_latest_week_and_the_forecast_against_the_target(
    p50: date | None, p85: date | None, expected: str
) -> None:
    summary = charts.burnup_summary(
        burnup_frame(), forecast_p50=p50, forecast_p85=p85, target_end_date=date(2027, 10, 31)
    )

    assert summary == expected


# --- 2. Power/interest ---------------------------------------------------------------------


def test_power_interest_shows_stance_by_both_colour_and_shape_on_a_fixed_scale() -> None:
    spec = spec_of(charts.power_interest_chart(power_frame()))
    [(points, rows)] = [
        (unit, rows) for unit, rows in marks(spec, "point") if "shape" in unit["encoding"]
    ]

    colour, shape = points["encoding"]["color"], points["encoding"]["shape"]
    stances = ["Active resistor", "Passive resistor", "Neutral", "Supporter", "Champion"]
    assert colour["field"] == shape["field"] == "stance_label"
    assert colour["scale"]["domain"] == shape["scale"]["domain"] == stances
    assert len(set(colour["scale"]["range"])) == len(set(shape["scale"]["range"])) == 5
    assert points["encoding"]["size"]["field"] == "influence"
    assert points["encoding"]["y"]["title"] == "Influence (power)"
    assert {row["stakeholder_id"]: row["stance_label"] for row in rows}[1] == "Active resistor"


def test_power_interest_spreads_stakeholders_who_share_a_cell_the_same_way_each_time() -> None:
    first = charts.power_interest_chart(power_frame()).to_dict()
    again = charts.power_interest_chart(power_frame().iloc[::-1]).to_dict()
    [(_, rows)] = [(u, r) for u, r in marks(first, "point") if "shape" in u["encoding"]]
    [(_, rows_again)] = [(u, r) for u, r in marks(again, "point") if "shape" in u["encoding"]]

    shared_cell = [(row["x"], row["y"]) for row in rows if row["stakeholder_id"] in (2, 3, 4)]
    assert len(set(shared_cell)) == 3
    for row in rows:
        assert abs(row["x"] - row["interest"]) < 0.5
        assert abs(row["y"] - row["influence"]) < 0.5
    assert sorted(rows, key=lambda r: r["stakeholder_id"]) == sorted(
        rows_again, key=lambda r: r["stakeholder_id"]
    )


def test_power_interest_names_the_quadrants_rings_hotspots_and_labels_only_named_points() -> None:
    spec = spec_of(charts.power_interest_chart(power_frame()))

    printed = texts(spec)
    assert {"Manage closely", "Keep satisfied", "Keep informed", "Monitor"} <= set(printed)
    assert "Alex Reid" in printed
    rules = [unit["encoding"] for unit, _ in marks(spec, "rule")]
    assert sorted(next(iter(encoding)) for encoding in rules) == ["x", "y"]
    assert all(rows[0]["at"] == 2.5 for _, rows in marks(spec, "rule"))
    rings = [unit for unit, _ in marks(spec, "point") if unit["mark"].get("filled") is False]
    assert rings and rings[0]["transform"] == [{"filter": "datum.hotspot"}]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (
            {1: "Alex Reid"},
            "6 stakeholders: 3 to manage closely, 1 to keep satisfied and 2 to monitor; "
            "2 resistance hotspots (Alex Reid and 1 not named).",
        ),
        (
            {1: "Alex Reid", 2: "Priya Shah"},
            "6 stakeholders: 3 to manage closely, 1 to keep satisfied and 2 to monitor; "
            "2 resistance hotspots (Alex Reid and Priya Shah).",
        ),
    ],
)
def test_power_interest_summary_counts_quadrants_and_names_the_hotspots_it_may(
    labels: dict[int, str], expected: str
) -> None:
    df = power_frame()
    df.loc[df["stakeholder_id"] == 6, "quadrant"] = "Monitor"
    df.loc[df["stakeholder_id"] == 4, "quadrant"] = "Monitor"
    df["label"] = [labels.get(i, "") for i in df["stakeholder_id"]]

    assert charts.power_interest_summary(df) == expected


def test_power_interest_summary_says_when_there_are_no_hotspots() -> None:
    df = pd.DataFrame([stakeholder(1, influence=2, interest=4, stance=1, quadrant="Keep informed")])

    assert charts.power_interest_summary(df) == (
        "1 stakeholder: 1 to keep informed; no resistance hotspots."
    )


# --- 3. Stance history ---------------------------------------------------------------------


def test_stance_history_plots_actual_solid_and_desired_dashed_on_a_fixed_scale() -> None:
    spec = spec_of(charts.stance_history_chart(stance_history_frame()))
    [(line, rows)] = marks(spec, "line")

    y = line["encoding"]["y"]
    assert y["scale"]["domain"] == [-2, 2]
    assert "Champion" in y["axis"]["labelExpr"] and "Active resistor" in y["axis"]["labelExpr"]
    assert line["encoding"]["strokeDash"]["scale"]["domain"] == ["Stance index", "Desired stance"]
    assert line["encoding"]["strokeDash"]["scale"]["range"] == [[1, 0], [6, 4]]
    actual = [row["index"] for row in rows if row["series"] == "Stance index"]
    assert actual == [-0.6, -0.2, 0.3]  # January has no assessment: a gap, not a zero
    [(zero, zero_rows)] = marks(spec, "rule")
    assert zero_rows == [{"zero": 0}]


def test_stance_history_summary_gives_first_and_latest_against_desired() -> None:
    assert charts.stance_history_summary(stance_history_frame()) == (
        "The stance index moved from -0.6 in February 2027 to +0.3 in June 2027, against a "
        "desired +1.2."
    )


def test_stance_history_summary_with_one_reading_and_no_desired() -> None:
    df = pd.DataFrame({"month": [date(2027, 6, 1)], "stance_index": [0.0], "desired_index": [None]})

    assert charts.stance_history_summary(df) == "The stance index is 0.0 in June 2027."


def test_stance_history_with_no_index_at_all_is_no_data() -> None:
    df = stance_history_frame().assign(stance_index=None, desired_index=None)

    assert texts(spec_of(charts.stance_history_chart(df))) == [NO_DATA]
    assert charts.stance_history_summary(df) == "No stance assessments yet."


# --- 4. ADKAR ------------------------------------------------------------------------------


def test_adkar_keeps_the_elements_in_adkar_order_and_prints_each_score() -> None:
    spec = spec_of(charts.adkar_chart(adkar_frame()))
    [(cells, rows)] = marks(spec, "rect")

    order = ["Awareness", "Desire", "Knowledge", "Ability", "Reinforcement"]
    assert cells["encoding"]["x"]["sort"] == order
    assert cells["encoding"]["x"]["scale"]["domain"] == order
    assert cells["encoding"]["color"]["field"] == "score"
    [(scores, _)] = marks(spec, "text")
    assert scores["encoding"]["text"] == {"field": "score", "format": ".1f", "type": "quantitative"}
    assert len(rows) == 10


def test_adkar_summary_names_the_lowest_cell_and_the_weakest_element() -> None:
    # Desire: (1.5 * 4 + 3.0 * 2) / 6 = 2.0; reinforcement 2.0 as well, desire comes first.
    assert charts.adkar_summary(adkar_frame()) == (
        "Lowest score: Revenues and benefits on desire (1.5 of 5); across 2 staff groups the "
        "weakest element is desire (mean 2.0)."
    )


# --- 5. Barriers ---------------------------------------------------------------------------


def test_barrier_matrix_always_draws_all_25_cells_with_counts_bands_and_titles() -> None:
    spec = spec_of(charts.barrier_matrix_chart(barrier_frame()))
    [(cells, rows)] = marks(spec, "rect")

    assert len(rows) == 25
    assert {(row["likelihood"], row["impact"]) for row in rows} == {
        (likelihood, impact) for likelihood in range(1, 6) for impact in range(1, 6)
    }
    by_cell = {(row["likelihood"], row["impact"]): row for row in rows}
    assert by_cell[4, 5]["barriers"] == 1 and by_cell[4, 5]["band"] == "High"
    assert by_cell[3, 3]["titles"] == "Budget cut; Supplier delay"
    assert by_cell[2, 2]["barriers"] == 0 and by_cell[2, 2]["band"] == "Low"
    assert cells["encoding"]["color"]["field"] == "band"
    assert any(t["field"] == "titles" for t in cells["encoding"]["tooltip"])
    printed = texts(spec)
    assert sorted(p for p in printed if p.isdigit()) == ["1", "1", "2"]
    assert printed.count("High") == 6 and printed.count("Low") == 8


@pytest.mark.parametrize(
    ("likelihood", "impact", "band"),
    [(1, 4, "Low"), (1, 5, "Medium"), (3, 4, "Medium"), (3, 5, "High"), (5, 5, "High")],
)
def test_barrier_bands_split_the_score_at_5_and_15(likelihood: int, impact: int, band: str) -> None:
    assert charts.barrier_band(likelihood, impact) == band


def test_barrier_matrix_summary_counts_bands_and_names_the_worst() -> None:
    assert charts.barrier_matrix_summary(barrier_frame()) == (
        "4 barriers: 1 high, 2 medium and 1 low; the highest scoring is likelihood 4, impact 5 "
        "(Union opposition)."
    )


# --- 6. Metric -----------------------------------------------------------------------------


def test_metric_chart_draws_readings_baseline_and_target_with_distinct_dashes() -> None:
    spec = spec_of(metric(metric_frame([40, 55, 62])))

    [(line, rows)] = marks(spec, "line")
    assert [row["value"] for row in rows] == [40, 55, 62]
    levels = {
        rows[0]["label"]: unit["mark"]["strokeDash"]
        for unit, rows in marks(spec, "rule")
        if "y" in unit["encoding"]
    }
    assert set(levels) == {"Baseline 40%", "Target 80%"}
    assert levels["Baseline 40%"] != levels["Target 80%"]
    assert {"Baseline 40%", "Target 80%", "Target date"} <= set(texts(spec))
    assert spec["title"] == {
        "text": "% of staff trained",
        "subtitle": "Aim: higher is better",
        "anchor": "start",
        "subtitleColor": "#505a5f",
    }


def test_metric_chart_without_a_target_date_has_no_vertical_rule() -> None:
    spec = spec_of(metric(metric_frame([40, 55]), target_date=None))

    assert all("x" not in unit["encoding"] for unit, _ in marks(spec, "rule"))
    assert "Target date" not in texts(spec)


@pytest.mark.parametrize(
    ("values", "overrides", "expected"),
    [
        (
            [40, 55, 62],
            {},
            "% of staff trained: 62% on 1 June 2027, against a baseline of 40% and a target of "
            "80% by 1 December 2027; moving the right way (up from 55% at the previous reading).",
        ),
        (
            [12, 15],
            {
                "name": "Average days to reply",
                "unit": "days",
                "baseline": 21,
                "target": 5,
                "target_date": None,
                "direction": "down",
            },
            "Average days to reply: 15 days on 1 June 2027, against a baseline of 21 days and a "
            "target of 5 days; moving the wrong way (up from 12 days at the previous reading).",
        ),
        (
            [85],
            {},
            "% of staff trained: 85% on 1 June 2027, against a baseline of 40% and a target of "
            "80% by 1 December 2027; target met.",
        ),
        (
            [38],
            {"unit": "£", "name": "£ saved", "baseline": 0, "target": 400000},
            "£ saved: £38 on 1 June 2027, against a baseline of £0 and a target of £400,000 by "
            "1 December 2027; moving the right way (up from £0 at the baseline).",
        ),
    ],
    ids=["up, improving", "down, worsening", "target met", "one reading"],
)
def test_metric_summary_compares_latest_with_baseline_target_and_previous_reading(
    values: list[float], overrides: dict[str, Any], expected: str
) -> None:
    arguments: dict[str, Any] = {
        "name": "% of staff trained",
        "unit": "%",
        "baseline": 40,
        "target": 80,
        "target_date": date(2027, 12, 1),
        "direction": "up",
        **overrides,
    }

    assert charts.metric_summary(metric_frame(values), **arguments) == expected


# --- 7. Change load ------------------------------------------------------------------------


def test_change_load_prints_each_load_in_its_cell_on_continuous_months() -> None:
    spec = spec_of(charts.change_load_chart(load_frame(), stance_frame()))
    [heatmap, _, _] = spec["hconcat"]

    [(cells, rows)] = [
        (unit, rows)
        for unit, rows in units({**heatmap, "datasets": spec["datasets"]})
        if mark_type(unit) == "rect"
    ]
    assert sorted(row["load"] for row in rows) == [1, 6, 10, 35]
    assert cells["encoding"]["x"]["scale"]["domain"] == ["Mar 2027", "Apr 2027", "May 2027"]
    assert sorted(int(t) for t in texts(spec) if t.isdigit()) == [1, 6, 10, 35]


def test_change_load_puts_stance_beside_each_row_in_words_and_marks_falling_rows() -> None:
    spec = spec_of(charts.change_load_chart(load_frame(), stance_frame()))

    printed = texts(spec)
    assert "-0.5 ▼ falling" in printed
    assert "+0.4 ▲ improving" in printed
    assert "+1.0 (no trend yet)" in printed
    bold = [unit for unit, _ in marks(spec, "text") if unit["mark"].get("fontWeight") == "bold"]
    assert any(unit.get("transform") == [{"filter": "datum.falling"}] for unit in bold)
    [(points, rows)] = [
        (unit, rows) for unit, rows in marks(spec, "point") if "shape" in unit["encoding"]
    ]
    assert points["encoding"]["shape"]["scale"]["range"][0] == "triangle-down"
    assert {row["row"]: row["marker"] for row in rows}["Revenues and benefits"] == "Falling"


def test_change_load_rows_line_up_across_heatmap_and_stance_in_one_order() -> None:
    spec = spec_of(charts.change_load_chart(load_frame(), stance_frame()))

    domains = [
        unit["encoding"]["y"]["scale"]["domain"]
        for unit, _ in units(spec)
        if "y" in unit["encoding"] and unit["encoding"]["y"].get("field") == "row"
    ]
    assert domains and all(
        d == ["Customer services", "ICT", "Revenues and benefits"] for d in domains
    )
    assert spec["resolve"]["scale"]["y"] == "shared"


def test_change_load_names_the_organisation_only_when_there_are_several() -> None:
    spec = spec_of(
        charts.change_load_chart(
            load_frame(second_organisation=NCC), stance_frame(second_organisation=NCC)
        )
    )
    [first_unit, *_] = [
        unit for unit, _ in units(spec) if unit["encoding"].get("y", {}).get("field") == "row"
    ]

    assert first_unit["encoding"]["y"]["scale"]["domain"] == [
        "ICT (Eastbrook District Council)",
        "Revenues and benefits (Eastbrook District Council)",
        "Customer services (Northmoor County Council)",
    ]


def test_change_load_summary_joins_the_heaviest_load_to_its_falling_stance() -> None:
    assert charts.change_load_summary(load_frame(), stance_frame()) == (
        "Revenues and benefits carries the heaviest change load: 35 in March 2027, while its "
        "stance fell from +0.8 to -0.5."
    )


def test_change_load_summary_names_other_falling_groups() -> None:
    stance = stance_frame()
    stance.loc[stance["staff_group_id"] == 1, "falling"] = False
    stance.loc[stance["staff_group_id"] == 2, "falling"] = True

    assert charts.change_load_summary(load_frame(), stance) == (
        "Revenues and benefits carries the heaviest change load: 35 in March 2027, and its "
        "stance index is -0.5; stance is also falling in Customer services."
    )


# --- 8. Delivery confidence ----------------------------------------------------------------


def _contrast_on_white(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_each_delivery_confidence_has_its_own_word_colour_and_symbol() -> None:
    styles = [CONFIDENCE_STYLE[rating] for rating in DeliveryConfidence]

    assert [style.label for style in styles] == [rating.label for rating in DeliveryConfidence]
    assert len({style.colour for style in styles}) == 5
    assert len({style.symbol for style in styles}) == 5
    assert [charts.confidence_symbol(rating.value) for rating in DeliveryConfidence] == [
        "●",
        "◕",
        "◑",
        "◔",
        "○",
    ]
    assert charts.confidence_text("amber_red") == "◔ Amber/Red"


def test_only_colours_with_text_contrast_are_marked_safe_for_text() -> None:
    for style in CONFIDENCE_STYLE.values():
        assert style.text_safe == (_contrast_on_white(style.colour) >= 4.5), style.label
    assert not CONFIDENCE_STYLE[DeliveryConfidence.amber].text_safe


def test_an_unknown_rating_is_refused() -> None:
    with pytest.raises(ValueError):
        charts.confidence_symbol("purple")


@pytest.mark.parametrize("empty", ["load", "stance"])
def test_change_load_draws_whichever_frame_has_rows(empty: str) -> None:
    load = load_frame().iloc[0:0] if empty == "load" else load_frame()
    stance = stance_frame().iloc[0:0] if empty == "stance" else stance_frame()

    chart = charts.change_load_chart(load, stance)

    assert vl_convert.vegalite_to_svg(chart.to_dict()).startswith("<svg")
    assert NO_DATA not in texts(spec_of(chart))


def test_change_load_accepts_decimals_as_postgresql_returns_them() -> None:
    stance = stance_frame().astype({"stance_index": object})
    stance["stance_index"] = [Decimal("-0.5"), Decimal("0.4"), Decimal("1")]

    chart = charts.change_load_chart(load_frame(), stance)

    assert vl_convert.vegalite_to_svg(chart.to_dict()).startswith("<svg")
    assert "-0.5 ▼ falling" in texts(spec_of(chart))
