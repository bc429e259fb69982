"""Manage → Milestones, one milestone's links: the staff groups it lands on (and how hard) and
the stakeholders whose support it needs, in one form saved together."""

import pandas as pd
import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from pages import _manage_tables as tables
from tracker import db, permissions, read
from tracker.access import Viewer
from tracker.models import Impact
from tracker.safe_text import plain_text
from tracker.services import milestones
from tracker.words import stage_label as numbered_stage

IMPACTS = {"none": "Not affected", **{level.value: level.value.capitalize() for level in Impact}}


def stage_label(key: str) -> str:
    return numbered_stage(key, separator=". ")


def links(viewer: Viewer, pid: int, table: pd.DataFrame, labels: dict[str, str]) -> None:
    """Choose one of the programme's milestones (the rows of `table`), then set whom it affects
    and whose support it needs."""
    titles = {int(mid): title for mid, title in zip(table["id"], table["title"], strict=True)}
    stage_of = {int(mid): stage for mid, stage in zip(table["id"], table["stage"], strict=True)}
    focus = st.selectbox(
        "Milestone",
        list(titles),
        format_func=lambda mid: f"{stage_label(stage_of[mid])} · {titles[mid]}",
        key="milestones_focus",
    )
    with db.read_session(common.get_engine()) as session:
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
                plain_text(name), **tables.choices(IMPACTS), key=impact_keys[gid]
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
        save(viewer, pid, focus, titles[focus], impact_keys, needs_key, sees_people, labels)
    manage.reload_button(
        f"milestone_links_{focus}",
        [*impact_keys.values(), needs_key],
        key=f"milestones_links_reload_{focus}",
    )


def save(
    viewer: Viewer,
    pid: int,
    focus: int,
    title: str,
    impact_keys: dict[int, str],
    needs_key: str,
    sees_people: bool,
    labels: dict[str, str],
) -> None:
    """Save the staff groups and stakeholders chosen in the form for milestone `focus`."""
    wanted = {
        gid: st.session_state[key]
        for gid, key in impact_keys.items()
        if st.session_state[key] != "none"
    }
    chosen = list(st.session_state[needs_key])

    def save_links(session: Session) -> bool:
        permissions.require_programme(session, viewer, permissions.Action.programme_edit, pid)
        milestones.set_impacts(session=session, viewer=viewer, milestone_id=focus, impacts=wanted)
        if sees_people:
            milestones.set_dependencies(
                session=session, viewer=viewer, milestone_id=focus, stakeholder_ids=chosen
            )
        return True

    if manage.save(viewer, save_links, labels=labels):
        groups_text = f"{len(wanted)} staff group{'s' if len(wanted) != 1 else ''}"
        people_text = f"{len(chosen)} stakeholder{'s' if len(chosen) != 1 else ''}"
        manage.flash(
            f"Saved who '{plain_text(title)}' affects: it lands on {groups_text} "
            f"and needs {people_text}."
        )
        st.rerun()
