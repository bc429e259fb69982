"""Filtering and sorting the portfolio dashboard's rows (already aggregated in SQL), and checking
the values a shared link asks for. Pure functions over the frame from
queries.portfolio_dashboard."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from tracker.models import DeliveryConfidence, Stage

# Sort keys a link may name, with their labels, best first for a board's eye.
SORTS: dict[str, str] = {
    "confidence": "Delivery confidence, worst first",
    "title": "Programme name, A to Z",
    "progress": "Progress, least first",
    "overdue": "Overdue milestones, most first",
    "stance": "Stance index, lowest first",
    "forecast": "Forecast finish, latest first",
}
DEFAULT_SORT = "confidence"
_WORST_FIRST = {rating.value: rank for rank, rating in enumerate(reversed(DeliveryConfidence))}


def unknown_values(asked: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The values in a link that are not among the allowed ones, in the order asked."""
    known = set(allowed)
    return [value for value in asked if value not in known]


def filter_portfolio(
    rows: pd.DataFrame,
    *,
    organisations: Mapping[str, str] | None = None,
    stages: Sequence[str] = (),
    ratings: Sequence[str] = (),
    sponsors: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows matching every filter given; an empty filter keeps everything. `organisations` maps
    the chosen organisations' names to their short names: a programme matches when one of them
    owns it (by name) or partners in it (by short name, as the partners column shows them). A
    stage matches when it is one of the programme's current stages; ratings compare with the
    delivery confidence shown."""
    keep = pd.Series(True, index=rows.index)
    if organisations:
        names, shorts = set(organisations), set(organisations.values())
        keep &= pd.Series(
            [
                owner in names or bool(shorts & set(_split(partners, ", ")))
                for owner, partners in zip(rows["organisation"], rows["partners"], strict=True)
            ],
            index=rows.index,
        )
    if stages:
        keep &= pd.Series(
            [bool(set(stages) & set(_split(current, ","))) for current in rows["current_stages"]],
            index=rows.index,
        )
    if ratings:
        keep &= rows["confidence"].isin(list(ratings))
    if sponsors:
        keep &= rows["sponsor"].isin(list(sponsors))
    return rows[keep]


def sort_portfolio(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows in the order named by `key` (one of SORTS), ties by programme name."""
    if key not in SORTS:
        raise ValueError(f"sort: '{key}' is not one of {', '.join(SORTS)}")
    order = rows.assign(_title=rows["title"].str.lower())
    if key == "confidence":
        order = order.assign(_key=order["confidence"].map(_WORST_FIRST))
        ascending = True
    elif key == "title":
        return order.sort_values("_title").drop(columns="_title")
    elif key == "progress":
        order = order.assign(_key=order["progress"].astype(float))
        ascending = True
    elif key == "overdue":
        order = order.assign(_key=order["overdue"])
        ascending = False
    elif key == "stance":
        order = order.assign(_key=order["stance_index"].astype(float))
        ascending = True
    else:
        order = order.assign(_key=pd.to_datetime(order["forecast_p50"]))
        ascending = False
    order = order.sort_values(["_key", "_title"], ascending=[ascending, True], na_position="last")
    return order.drop(columns=["_key", "_title"])


def stage_keys() -> list[str]:
    return [stage.value for stage in Stage]


def _split(text: object, separator: str) -> list[str]:
    if not isinstance(text, str) or not text:
        return []
    return [part.strip() for part in text.split(separator) if part.strip()]
