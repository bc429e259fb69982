"""Manage: Milestones. Bulk edit the open programme's milestones in a table (filtered by stage,
status, owner or overdue), then set the staff groups one milestone lands on and the
stakeholders whose support it needs."""

from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from tracker import access, db, permissions, read
from tracker.models import Impact, MilestoneCreate, MilestoneStatus, MilestoneUpdate, Stage
from tracker.safe_text import plain_text
from tracker.services import milestones, records
from tracker.words import key_words
from tracker.words import stage_label as numbered_stage
from tracker.workspace import apply_table_edits

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
IMPACTS = {"none": "Not affected", **{level.value: level.value.capitalize() for level in Impact}}


def stage_label(key: str) -> str:
    return numbered_stage(key, separator=". ")


def words(value: str) -> str:
    return key_words(value)


viewer = manage.require_manager()
st.title("Milestones")
manage.show_flash()
choice = manage.choose_programme(viewer)
pid = choice.programme_id
engine = common.get_engine()
record_key = f"milestones_{pid}"
editor_key = f"milestones_editor_{pid}"


def load() -> pd.DataFrame:
    with db.read_session(engine) as session:
        access.require_manager(session, viewer, pid)
        return read.manage.milestone_table(session=session, programme_id=pid)


# The table as it was when opened: edits are positions in it, and each row's version is checked
# on save. It stays until saved or reloaded, so a draft survives reruns.
table = manage.snapshot(record_key, load)
edits: dict[str, Any] = st.session_state.get(editor_key) or {}
pending = any(edits.get(part) for part in ("edited_rows", "added_rows", "deleted_rows"))

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
st.data_editor(
    view,
    key=editor_key,
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
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
        "weight": st.column_config.NumberColumn(
            "Weight",
            min_value=1,
            max_value=5,
            step=1,
            default=3,
            help="1 to 5: how much the milestone counts towards progress.",
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
if st.button("Save changes", type="primary", key="milestones_save", disabled=not pending):
    edits = st.session_state[editor_key]

    def save_table(session: Session) -> Any:
        access.require_manager(session, viewer, pid)
        return apply_table_edits(
            session=session,
            snapshot=view.to_dict("records"),
            changes=edits,
            columns=EDITABLE,
            create=lambda values: milestones.create_milestone(
                session=session,
                viewer=viewer,
                data=records.validated(MilestoneCreate, {**values, "programme_id": pid}),
            ),
            update=lambda mid, version, values: milestones.update_milestone(
                session=session,
                viewer=viewer,
                milestone_id=mid,
                data=records.validated(MilestoneUpdate, {**values, "version": version}),
            ),
            delete=lambda mid, version: milestones.delete_milestone(
                session=session, viewer=viewer, milestone_id=mid, expected_version=version
            ),
        )

    counts = manage.save(viewer, save_table, labels=LABELS)
    if counts is not None:
        manage.forget(record_key, [editor_key])
        manage.flash(counts.describe("milestones"))
        st.rerun()
manage.reload_button(record_key, [editor_key], key=f"milestones_reload_{pid}")

# --- One milestone: the staff groups it lands on and the stakeholders it needs -----------------
st.header("Who a milestone affects and whose support it needs")
if table.empty:
    st.info("This programme has no milestones yet. Add some in the table above.")
    st.stop()
titles = {int(mid): title for mid, title in zip(table["id"], table["title"], strict=True)}
stage_of = {int(mid): stage for mid, stage in zip(table["id"], table["stage"], strict=True)}
focus = st.selectbox(
    "Milestone",
    list(titles),
    format_func=lambda mid: f"{stage_label(stage_of[mid])} · {titles[mid]}",
    key="milestones_focus",
)
with db.read_session(engine) as session:
    groups = read.manage.staff_group_choices(session=session, programme_id=pid)
    sees_people = manage.may_see_people(viewer, pid)
    people = (
        read.manage.stakeholder_choices(session=session, viewer=viewer, programme_id=pid)
        if sees_people
        else {}
    )
    impacts = read.manage.milestone_impacts(session=session, milestone_id=focus)
    needs = read.manage.milestone_dependencies(session=session, milestone_id=focus)

impact_keys = {gid: f"milestones_impact_{focus}_{gid}" for gid in groups}
for gid, key in impact_keys.items():
    manage.seed(key, impacts[gid].value if gid in impacts else "none")
needs_key = f"milestones_dependencies_{focus}"
manage.seed(needs_key, needs)

with st.form(f"milestones_links_{focus}"):
    st.markdown("**Staff groups it lands on, and how hard**")
    if not groups:
        st.caption("The programme's organisations have no staff groups yet.")
    grid = st.columns(3)
    for index, (gid, name) in enumerate(groups.items()):
        grid[index % 3].selectbox(
            plain_text(name), list(IMPACTS), format_func=IMPACTS.__getitem__, key=impact_keys[gid]
        )
    if not sees_people:
        st.caption(permissions.PEOPLE_HELD_BY_OWNER)
    st.multiselect(
        "Stakeholders whose support it needs",
        list(people),
        disabled=not sees_people,
        format_func=people.__getitem__,
        key=needs_key,
        help="A head of service who must sign it off, a union representative whose members "
        "must take part: resistance from them puts this milestone at risk.",
    )
    linked = st.form_submit_button("Save staff groups and stakeholders", type="primary")

if linked:
    wanted = {
        gid: st.session_state[key]
        for gid, key in impact_keys.items()
        if st.session_state[key] != "none"
    }
    chosen = list(st.session_state[needs_key])

    def save_links(session: Session) -> bool:
        access.require_manager(session, viewer, pid)
        milestones.set_impacts(session=session, viewer=viewer, milestone_id=focus, impacts=wanted)
        if sees_people:
            milestones.set_dependencies(
                session=session, viewer=viewer, milestone_id=focus, stakeholder_ids=chosen
            )
        return True

    if manage.save(viewer, save_links, labels=LABELS):
        groups_text = f"{len(wanted)} staff group{'s' if len(wanted) != 1 else ''}"
        people_text = f"{len(chosen)} stakeholder{'s' if len(chosen) != 1 else ''}"
        manage.flash(
            f"Saved who '{plain_text(titles[focus])}' affects: it lands on {groups_text} "
            f"and needs {people_text}."
        )
        st.rerun()
manage.reload_button(
    f"milestone_links_{focus}",
    [*impact_keys.values(), needs_key],
    key=f"milestones_links_reload_{focus}",
)
