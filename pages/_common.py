"""Streamlit glue shared by the pages: the engine, who is using the app, cached read loaders
keyed on the data version, and small display helpers. Domain logic lives in tracker/."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from pages import _signin
from pages._engine import data_version as data_version
from pages._engine import demo_mode as demo_mode
from pages._engine import get_engine as get_engine
from tracker import clock, db
from tracker.access import Viewer, record_refusal
from tracker.models import Role
from tracker.safe_text import plain_text


def current_viewer() -> Viewer | None:
    """The signed-in person, re-read from the database on every rerun so a changed role or a
    deactivated account takes effect at once (see pages/_signin.py)."""
    return _signin.current_viewer()


def require_viewer(*roles: Role) -> Viewer:
    """Every page calls this first: it stops the page unless the viewer has one of `roles`."""
    # Checked again here, not taken from the entry file's run: the page is the last line.
    viewer = current_viewer()
    if viewer is None:
        st.error("You are not signed in, or your account is not active.")
        st.stop()
    if roles and viewer.role not in roles:
        record_refusal(viewer.email, f"a {'/'.join(r.value for r in roles)} page")
        st.error("This page is not available to your role.")
        st.stop()
    return viewer


def cached(loader: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a query through the cache, keyed on its arguments and the data version, so any save
    anywhere shows on the next rerun. Only for loaders of one programme's data (the caller has
    already checked the viewer may see it); never for anything scoped to a user."""
    return _cached_call(
        db.database_url(),
        loader.__module__,
        loader.__qualname__,
        data_version(),
        tuple(kwargs.items()),
        _loader=loader,
    )


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_call(
    url: str,
    module: str,
    name: str,
    version: int,
    items: tuple[tuple[str, Any], ...],
    _loader: Callable[..., Any],
) -> Any:
    # The key is the database, the loader's module and name, the data version and the
    # arguments; `_loader` (underscored, so Streamlit leaves it out of the key) is the function
    # the caller passed, called as it is: nothing is looked up by name.
    with db.read_session(get_engine()) as session:
        return _loader(session=session, **dict(items))


def chart(build: Callable[..., Any], *inputs: Any, **options: Any) -> dict[str, Any]:
    """The Vega-Lite spec of the Altair chart `build(*inputs, **options)`, cached on those inputs:
    building and validating an Altair chart takes longer than the queries behind it, so a rerun
    on the same data reuses the spec. Show it with st.vega_lite_chart."""
    return _chart_spec(
        build.__module__, build.__qualname__, inputs, tuple(options.items()), _build=build
    )


@st.cache_data(max_entries=256, show_spinner=False)
def _chart_spec(
    module: str,
    name: str,
    inputs: tuple[Any, ...],
    options: tuple[tuple[str, Any], ...],
    _build: Callable[..., Any],
) -> dict[str, Any]:
    import altair as alt

    made = _build(*inputs, **dict(options))
    # Not validated against the Vega-Lite schema here (a third of the cost): tests/test_charts.py
    # validates every chart builder, with data and empty.
    with alt.data_transformers.disable_max_rows():
        return dict(made.to_dict(validate=False))


def scoped(loader: Callable[..., Any], viewer: Viewer, **kwargs: Any) -> Any:
    """Call a viewer-scoped query through the cache. The key is the viewer's organisations and
    role, never who they are: two people with the same scope share rows they may both see, and
    people with different scopes never share an entry."""
    scope = Viewer(
        user_id=0,
        email="",
        name="",
        role=viewer.role,
        organisation_ids=viewer.organisation_ids,
        staff_group_id=None,
    )
    return cached(loader, viewer=scope, **kwargs)


def warn_unknown_params(allowed: dict[str, list[str]]) -> None:
    """Say so, briefly, when a link names values this page does not know; the widgets bound to
    the URL then drop them and show their defaults."""
    unknown = {
        key: [v for v in st.query_params.get_all(key) if v and v not in values]
        for key, values in allowed.items()
    }
    unknown = {key: values for key, values in unknown.items() if values}
    if unknown:
        named = "; ".join(f"{key} = {', '.join(values)}" for key, values in unknown.items())
        st.warning(
            f"This link asks for something this page does not know ({plain_text(named)}). "
            "Showing the defaults for that instead."
        )


def table(rows: pd.DataFrame | Sequence[Any], columns: Mapping[str, Any]) -> None:
    """Show `rows` (a DataFrame, or read models: frozen dataclasses) as a read-only table of
    `columns`, in that order: each key a column or field, each value its heading (or an
    st.column_config)."""
    if isinstance(rows, pd.DataFrame):
        data = rows
    elif rows:
        data = pd.DataFrame([dataclasses.asdict(row) for row in rows])
    else:
        data = pd.DataFrame(columns=list(columns))
    st.dataframe(
        data,
        column_order=list(columns),
        column_config=dict(columns),
        hide_index=True,
        width="stretch",
    )


def choose(label: str, options: Mapping[int, str], *, key: str, none: str) -> int:
    """A selectbox of `options` (id -> how it is named) under `label`, keyed `key`. With no
    options it says `none` and stops the page; a remembered choice no longer offered (deleted,
    or out of the viewer's scope) falls back to the first."""
    if not options:
        st.info(none)
        st.stop()
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)
    return int(st.selectbox(label, list(options), format_func=options.__getitem__, key=key))


def today() -> dt.date:
    return clock.today()


def allowed_image_hosts() -> frozenset[str]:
    """The hosts an administrator allows narratives to show images from (the installation's
    setting, tracker/content_policy.py), read through the cache: pass it to safe_markdown."""
    from tracker import content_policy

    hosts: frozenset[str] = cached(content_policy.image_hosts)
    return hosts
