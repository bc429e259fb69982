"""Manage: Milestones. Bulk edit the open programme's milestones in a table (filtered by stage,
status, owner or overdue), then set the staff groups one milestone lands on and the
stakeholders whose support it needs."""

import pandas as pd
import streamlit as st

from pages import _common as common
from pages import _manage as manage
from pages import _manage_milestone_links as links
from pages import _manage_tables as tables
from pages._manage_milestone_links import stage_label
from tracker import db, permissions, read
from tracker.models import MilestoneCreate, MilestoneStatus, MilestoneUpdate, Stage
from tracker.services import milestones
from tracker.words import key_words

LABELS = {
    "title": "Title",
    "stage": "Stage",
    "owner": "Owner",
    "due_date": "Due",
    "status": "Status",
    "weight": "Weight",
    "completed_date": "Completed",
    "impacts": "Staff groups",
    "dependencies": "Stakeholders",
}
EDITABLE = ("title", "stage", "owner", "due_date", "status", "weight")
SERVICES = tables.RowServices(
    milestones.create_milestone,
    MilestoneCreate,
    milestones.update_milestone,
    MilestoneUpdate,
    milestones.delete_milestone,
    "milestone_id",
)


def words(value: str) -> str:
    return key_words(value)


viewer, choice = manage.open_page("Milestones")
pid = choice.programme_id
engine = common.get_engine()
record_key = f"milestones_{pid}"
editor_key = f"milestones_editor_{pid}"


def load() -> pd.DataFrame:
    with db.read_session(engine) as session:
        permissions.require_programme(session, viewer, permissions.Action.programme_edit, pid)
        return read.manage.milestone_table(session=session, programme_id=pid)


# The table as it was when opened: edits are positions in it, and each row's version is checked
# on save. It stays until saved or reloaded, so a draft survives reruns.
table = manage.snapshot(record_key, load)
pending = tables.pending(editor_key)

# --- Filters ---------------------------------------------------------------------------------
stage_keys = [stage.value for stage in Stage]
status_keys = [status.value for status in MilestoneStatus]
owner_key = "milestones_owner_filter"
owners = sorted({o for o in table["owner"] if o} | set(st.session_state.get(owner_key, [])))
cols = st.columns([3, 3, 3, 2], vertical_alignment="bottom")
stages = cols[0].multiselect(
    "Stage", stage_keys, format_func=stage_label, key="milestones_stage_filter", disabled=pending
)
statuses = cols[1].multiselect(
    "Status", status_keys, format_func=words, key="milestones_status_filter", disabled=pending
)
chosen_owners = cols[2].multiselect("Owner", owners, key=owner_key, disabled=pending)
overdue = cols[3].toggle(
    "Overdue only",
    key="milestones_overdue_filter",
    disabled=pending,
    help="Due before today and neither done nor cancelled.",
)
view = read.manage.filter_milestones(
    table,
    today=common.today(),
    stages=stages,
    statuses=statuses,
    owners=chosen_owners,
    overdue_only=overdue,
)
view.insert(0, "row", range(1, len(view) + 1))
shown = f"Showing {len(view)} of {len(table)} milestones."
if pending:
    shown += " The filters are fixed while the table has unsaved changes: save or reload first."
st.caption(shown)

# --- The table -------------------------------------------------------------------------------
dates = {"format": "D MMM YYYY"}
edit = tables.EditTable(view, record_key, editor_key, EDITABLE, SERVICES, {"programme_id": pid})
tables.editor(
    edit,
    alt="The programme's milestones, editable: one row per milestone",
    column_order=("row", *EDITABLE, "completed_date"),
    disabled=("row", "completed_date"),
    column_config={
        "row": st.column_config.NumberColumn(
            "Row", help="If a save is refused, the problems name these row numbers."
        ),
        "title": st.column_config.TextColumn("Title", required=True, max_chars=200),
        "stage": st.column_config.SelectboxColumn(
            "Stage", options=stage_keys, format_func=stage_label, required=True
        ),
        "owner": st.column_config.TextColumn("Owner", max_chars=120),
        "due_date": st.column_config.DateColumn("Due", required=True, **dates),
        "status": st.column_config.SelectboxColumn(
            "Status",
            options=status_keys,
            format_func=words,
            required=True,
            default=MilestoneStatus.not_started.value,
        ),
        "weight": tables.one_to_five(
            "Weight", default=3, help="1 to 5: how much the milestone counts towards progress."
        ),
        "completed_date": st.column_config.DateColumn(
            "Completed", help="Set to today when the status becomes done.", **dates
        ),
    },
)
st.caption(
    "Add a row at the bottom of the table; select rows and press Delete to remove them. "
    "Nothing is saved until you press Save changes, and then either every change is saved or "
    "none is."
)
tables.save_button(
    viewer, pid, edit, "Save changes", key="milestones_save", labels=LABELS, what="milestones"
)
manage.reload_button(record_key, [editor_key], key=f"milestones_reload_{pid}")

# --- One milestone: the staff groups it lands on and the stakeholders it needs -----------------
st.header("Who a milestone affects and whose support it needs")
if table.empty:
    st.info("This programme has no milestones yet. Add some in the table above.")
    st.stop()
links.links(viewer, pid, table, LABELS)
