"""Manage: the programme's barriers (risks and issues) in one table, highest score first.
Edit, add and delete rows, then save them all at once: every row is saved or none is."""

from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from tracker import access, db, read
from tracker.models import BarrierCreate, BarrierUpdate
from tracker.services import barriers, records
from tracker.workspace import TableEditCounts, apply_table_edits

COLUMNS = ["title", "kind", "category", "likelihood", "impact", "owner", "mitigation", "status"]
LABELS = {
    "title": "Title",
    "kind": "Risk or issue",
    "category": "Category",
    "likelihood": "Likelihood",
    "impact": "Impact",
    "owner": "Owner",
    "mitigation": "Mitigation",
    "status": "Status",
}
TEXT_COLUMNS = ("title", "owner", "mitigation")

viewer = manage.require_manager()
st.title("Barriers")
manage.show_flash()
choice = manage.choose_programme(viewer)
programme_id = choice.programme_id
record_key = f"barriers_{programme_id}"
editor_key = f"barriers_editor_{programme_id}"


def load() -> pd.DataFrame:
    with db.read_session(common.get_engine()) as session:
        return read.manage.barrier_table(session=session, programme_id=programme_id)


def text_blanks(values: dict[str, Any]) -> dict[str, Any]:
    """A cleared text cell arrives as None; the record keeps it as empty text."""
    return {
        name: "" if value is None and name in TEXT_COLUMNS else value
        for name, value in values.items()
    }


table = manage.snapshot(record_key, load)
edits: dict[str, Any] = st.session_state.get(editor_key) or {}
pending = any(edits.get(part) for part in ("edited_rows", "added_rows", "deleted_rows"))

# Changing a filter while edits are pending would move the rows under them: filters wait.
wait = "Save or reload your changes before changing the filter." if pending else None
left, right = st.columns(2)
statuses = left.multiselect(
    "Show status",
    list(barriers.STATUS_WORDS),
    format_func=barriers.STATUS_WORDS.__getitem__,
    placeholder="All statuses",
    key="barriers_status_filter",
    disabled=pending,
    help=wait,
)
categories = right.multiselect(
    "Show category",
    list(barriers.CATEGORY_WORDS),
    format_func=barriers.CATEGORY_WORDS.__getitem__,
    placeholder="All categories",
    key="barriers_category_filter",
    disabled=pending,
    help=wait,
)
view = table
if statuses:
    view = view[view["status"].isin(statuses)]
if categories:
    view = view[view["category"].isin(categories)]
view = view.reset_index(drop=True)

shown = f"{len(view)} of {len(table)}" if len(view) != len(table) else f"{len(table)}"
st.caption(
    f"Showing {shown} barriers, highest score first. Score is likelihood × impact (1 to 25). "
    "Add a row at the foot of the table; select rows and press Delete to remove them. "
    "Nothing is saved until you press **Save changes**."
)
st.data_editor(
    view,
    key=editor_key,
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    column_order=[
        "title",
        "kind",
        "category",
        "likelihood",
        "impact",
        "score",
        "owner",
        "mitigation",
        "status",
    ],
    column_config={
        "title": st.column_config.TextColumn("Title", required=True, max_chars=200),
        "kind": st.column_config.SelectboxColumn(
            "Risk or issue",
            options=list(barriers.KIND_WORDS),
            format_func=barriers.KIND_WORDS.__getitem__,
            default="risk",
            required=True,
            help="A risk might happen; an issue is happening now.",
        ),
        "category": st.column_config.SelectboxColumn(
            "Category",
            options=list(barriers.CATEGORY_WORDS),
            format_func=barriers.CATEGORY_WORDS.__getitem__,
            required=True,
        ),
        "likelihood": st.column_config.NumberColumn(
            "Likelihood",
            min_value=1,
            max_value=5,
            step=1,
            required=True,
            help="1 (rare) to 5 (almost certain). For an issue, use 5.",
        ),
        "impact": st.column_config.NumberColumn(
            "Impact",
            min_value=1,
            max_value=5,
            step=1,
            required=True,
            help="1 (minor) to 5 (severe), if it happens.",
        ),
        "score": st.column_config.NumberColumn(
            "Score",
            disabled=True,
            help="Likelihood × impact, 1 to 25. Worked out again when you save.",
        ),
        "owner": st.column_config.TextColumn("Owner", max_chars=120),
        "mitigation": st.column_config.TextColumn(
            "Mitigation", max_chars=2000, width="large", help="What is being done about it."
        ),
        "status": st.column_config.SelectboxColumn(
            "Status",
            options=list(barriers.STATUS_WORDS),
            format_func=barriers.STATUS_WORDS.__getitem__,
            default="open",
            required=True,
        ),
    },
)


def save_edits(session: Session) -> TableEditCounts:
    access.require_manager(session, viewer, programme_id)
    return apply_table_edits(
        session=session,
        snapshot=view.to_dict("records"),
        changes=st.session_state.get(editor_key) or {},
        columns=COLUMNS,
        create=lambda values: barriers.create_barrier(
            session=session,
            viewer=viewer,
            data=records.validated(
                BarrierCreate, text_blanks(values) | {"programme_id": programme_id}
            ),
        ),
        update=lambda barrier_id, version, values: barriers.update_barrier(
            session=session,
            viewer=viewer,
            barrier_id=barrier_id,
            data=records.validated(BarrierUpdate, text_blanks(values) | {"version": version}),
        ),
        delete=lambda barrier_id, version: barriers.delete_barrier(
            session=session, viewer=viewer, barrier_id=barrier_id, expected_version=version
        ),
    )


if st.button("Save changes", type="primary", key="barriers_save", disabled=not pending):
    counts = manage.save(viewer, save_edits, labels=LABELS)
    if counts is not None:
        manage.forget(record_key, [editor_key])
        manage.flash(counts.describe("barriers"))
        st.rerun()
manage.reload_button(record_key, [editor_key], key="barriers_reload")
