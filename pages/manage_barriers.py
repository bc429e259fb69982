"""Manage: the programme's barriers (risks and issues) in one table, highest score first.
Edit, add and delete rows, then save them all at once: every row is saved or none is."""

import pandas as pd
import streamlit as st

from pages import _common as common
from pages import _manage as manage
from pages import _manage_tables as tables
from tracker import db, read
from tracker.models import BarrierCreate, BarrierUpdate
from tracker.services import barriers

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
# The filters above the table: column -> (label, its words, what an empty choice shows).
FILTERS = {
    "status": ("Show status", barriers.STATUS_WORDS, "All statuses"),
    "category": ("Show category", barriers.CATEGORY_WORDS, "All categories"),
}
SERVICES = tables.RowServices(
    barriers.create_barrier,
    BarrierCreate,
    barriers.update_barrier,
    BarrierUpdate,
    barriers.delete_barrier,
    "barrier_id",
    text_columns=("title", "owner", "mitigation"),
)

viewer, choice = manage.open_page("Barriers")
programme_id = choice.programme_id
record_key = f"barriers_{programme_id}"
editor_key = f"barriers_editor_{programme_id}"


def load() -> pd.DataFrame:
    with db.read_session(common.get_engine()) as session:
        return read.manage.barrier_table(session=session, programme_id=programme_id)


table = manage.snapshot(record_key, load)
pending = tables.pending(editor_key)

# Changing a filter while edits are pending would move the rows under them: filters wait.
wait = "Save or reload your changes before changing the filter." if pending else None
view = table
for column, (field, (label, words, placeholder)) in zip(
    st.columns(2), FILTERS.items(), strict=True
):
    chosen = column.multiselect(
        label,
        **tables.choices(words),
        placeholder=placeholder,
        key=f"barriers_{field}_filter",
        disabled=pending,
        help=wait,
    )
    if chosen:
        view = view[view[field].isin(chosen)]
view = view.reset_index(drop=True)
edit = tables.EditTable(
    view, record_key, editor_key, COLUMNS, SERVICES, {"programme_id": programme_id}
)

shown = f"{len(view)} of {len(table)}" if len(view) != len(table) else f"{len(table)}"
st.caption(
    f"Showing {shown} barriers, highest score first. Score is likelihood × impact (1 to 25). "
    "Add a row at the foot of the table; select rows and press Delete to remove them. "
    "Nothing is saved until you press **Save changes**."
)
tables.editor(
    edit,
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
        "kind": tables.choice_column(
            "Risk or issue",
            barriers.KIND_WORDS,
            default="risk",
            help="A risk might happen; an issue is happening now.",
        ),
        "category": tables.choice_column("Category", barriers.CATEGORY_WORDS),
        "likelihood": tables.one_to_five(
            "Likelihood",
            required=True,
            help="1 (rare) to 5 (almost certain). For an issue, use 5.",
        ),
        "impact": tables.one_to_five(
            "Impact", required=True, help="1 (minor) to 5 (severe), if it happens."
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
        "status": tables.choice_column("Status", barriers.STATUS_WORDS, default="open"),
    },
)

tables.save_button(
    viewer, programme_id, edit, "Save changes", key="barriers_save", labels=LABELS, what="barriers"
)
manage.reload_button(record_key, [editor_key], key="barriers_reload")
