"""Manage: Stakeholders. The programme's stakeholder register as one editable table; then, for
one stakeholder, their assessments, notes and who influences whom. Personal data (DOMAIN.md
"Data protection"): managers and administrators of the programme's organisations only."""

from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from pages import _manage_tables as tables
from pages import _people as people_pages
from pages._people import done, stand_on
from tracker import read, words
from tracker.models import NOTES_WARNING, StakeholderBase, Stance
from tracker.models.base import max_length
from tracker.models.people import AssessmentCreate, StakeholderUpdate
from tracker.read.people import ADKAR, INFLUENCED_BY_THEM, INFLUENCES_THEM, REGISTER_COLUMNS
from tracker.safe_text import plain_text
from tracker.services import records
from tracker.services import stakeholders as people

config = st.column_config
STANCES = [int(stance) for stance in Stance]
STRENGTHS = {1: "1 · a little", 2: "2 · moderately", 3: "3 · strongly"}
SCORES = {None: "Not scored", 1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}
SCORED = ("influence", "interest", *ADKAR)
TABLE = {"hide_index": True, "width": "stretch"}
LABELS = {"staff_group_id": "Staff group", "assessed_on": "Date", "other": "Other stakeholder"}
LABELS |= {"from_stakeholder_id": "Other stakeholder", "to_stakeholder_id": "Other stakeholder"}


def fresh_unless_edited(record_key: str, editor_key: str) -> None:
    """While an editor holds no unsaved edits, it shows the database as it is now."""
    if not tables.pending(editor_key):
        manage.forget(record_key)


viewer = manage.require_manager()
st.title("Stakeholders")
manage.show_flash()
pid = manage.choose_programme(viewer).programme_id
manage.require_people(viewer, pid)


def write(work: Callable[[Session], Any]) -> Any:
    """`work` saved as the viewer (see pages/_people.py); None when refused (shown here)."""
    return people_pages.write(viewer, pid, work, labels=LABELS)


# --- The register ---------------------------------------------------------------------------
st.header("Register")
st.caption(
    "Personal data: record only what the programme needs. New stakeholders start neutral, "
    "assessed today. Deleting one also deletes their assessments, links and attendance."
)
table_key, editor_key = f"stakeholders_register_{pid}", f"stakeholders_register_editor_{pid}"
fresh_unless_edited(table_key, editor_key)
table = manage.snapshot(
    table_key, lambda: common.cached(read.people.stakeholder_table, viewer=viewer, programme_id=pid)
)
groups: dict[int, str] = common.cached(read.people.staff_group_options, programme_id=pid)
limit = {f: max_length(StakeholderBase, f) for f in ("name", "role", "relationship_owner", "notes")}
with st.form(f"stakeholders_register_form_{pid}"):
    st.data_editor(
        table.assign(
            current=table["stance"].map(words.stance_choice),
            assessed=table["assessed_on"].map(words.date_text),
        ),
        key=editor_key,
        num_rows="dynamic",
        column_order=[*REGISTER_COLUMNS, "current", "assessed", "quadrant"],
        disabled=["current", "assessed", "quadrant"],
        column_config={
            "name": config.TextColumn("Name", max_chars=limit["name"], required=True),
            "role": config.TextColumn("Role", max_chars=limit["role"]),
            "staff_group_id": config.SelectboxColumn(
                "Staff group", options=list(groups), format_func=lambda g: groups.get(g, "Other")
            ),
            "influence": config.NumberColumn("Influence", help="Power over the change, 1 to 5."),
            "interest": config.NumberColumn("Interest", help="How much it concerns them, 1 to 5."),
            "desired_stance": config.SelectboxColumn(
                "Desired stance", options=STANCES, format_func=words.stance_choice
            ),
            "relationship_owner": config.TextColumn(
                "Relationship owner", max_chars=limit["relationship_owner"]
            ),
            "current": config.TextColumn("Current stance", help="Latest assessment: see below."),
            "assessed": "Assessed on",
            "quadrant": config.TextColumn("Power/interest", help="Mendelow: 3 or more is high."),
        },
        **TABLE,
    )
    save_register = st.form_submit_button("Save the register", icon=":material/save:")
if save_register:
    edits = {"snapshot": table.to_dict("records"), "changes": st.session_state[editor_key]}
    counts = write(
        lambda session: people.apply_register_edits(
            session=session, viewer=viewer, programme_id=pid, assessed_by=viewer.name, **edits
        )
    )
    if counts is not None:
        done(counts.describe("the register"), table_key, [editor_key])
manage.reload_button(table_key, [editor_key], key=f"stakeholders_register_reload_{pid}")

# --- One stakeholder ------------------------------------------------------------------------
names: dict[int, str] = common.cached(
    read.people.stakeholder_names, viewer=viewer, programme_id=pid
)
if not names:
    st.info("There are no stakeholders yet: add them to the register above.")
    st.stop()
st.header("One stakeholder")
sid = st.selectbox(
    "Stakeholder", list(names), format_func=names.get, key=f"stakeholders_chosen_{pid}"
)
person = common.cached(read.people.stakeholder_notes, viewer=viewer, stakeholder_id=sid)
name = plain_text(person.name)
assessments_tab, notes_tab, links_tab = st.tabs(["Assessments", "Notes", "Influence links"])

with assessments_tab:
    st.markdown(
        f"Current stance of **{name}**: **{words.stance_choice(person.stance)}**. The current "
        "stance is always that of the latest assessment: record a new one when it changes."
    )
    keys = {f: f"stakeholders_assess_{f}_{sid}" for f in ("assessed_on", "stance", *SCORED)}
    for field, key in keys.items():
        manage.seed(key, {"assessed_on": common.today(), "stance": person.stance}.get(field))
    with st.form(f"stakeholders_assess_form_{sid}"):
        left, right = st.columns(2)
        left.date_input(
            "Date", key=keys["assessed_on"], format="DD/MM/YYYY", help="Not in the future."
        )
        right.select_slider("Stance", STANCES, format_func=words.stance_choice, key=keys["stance"])
        st.caption("Optional scores from 1 (low) to 5 (high), including ADKAR.")
        for column, field in zip(st.columns(len(SCORED)), SCORED, strict=True):
            column.selectbox(field.capitalize(), SCORES, format_func=SCORES.get, key=keys[field])
        record = st.form_submit_button("Record the assessment", icon=":material/add:")
    if record:
        data = {"stakeholder_id": sid, "assessed_by": viewer.name}
        data |= {field: st.session_state[key] for field, key in keys.items()}
        recorded = write(
            lambda session: people.record_assessment(
                session=session, viewer=viewer, data=records.validated(AssessmentCreate, data)
            )
        )
        if recorded is not None:
            day = words.date_text(data["assessed_on"])
            done(f"Saved the assessment of {name} on {day}.", f"assess_{sid}", [*keys.values()])
    history = common.cached(read.people.assessment_history, viewer=viewer, stakeholder_id=sid)
    st.markdown("**Assessment history**, newest first")
    st.dataframe(
        history.assign(
            assessed_on=history["assessed_on"].map(words.date_text),
            stance=history["stance"].map(words.stance_choice),
        ).drop(columns="stance_label"),
        column_config={"assessed_on": "Date", "assessed_by": "Assessed by"}
        | {field: field.capitalize() for field in ("stance", *SCORED)},
        **TABLE,
    )

with notes_tab:
    notes_key, notes_record = f"stakeholders_notes_{sid}", f"stakeholder_{sid}"
    version = stand_on(notes_record, {notes_key: person.notes}, person.version)
    with st.form(f"stakeholders_notes_form_{sid}"):
        st.warning(NOTES_WARNING, icon=":material/visibility:")
        st.text_area("Notes", key=notes_key, max_chars=limit["notes"], height=160)
        save_notes = st.form_submit_button("Save the notes", icon=":material/save:")
    if save_notes:
        notes = {"notes": st.session_state[notes_key], "version": version}
        changed = write(
            lambda session: people.update_stakeholder(
                session=session,
                viewer=viewer,
                stakeholder_id=sid,
                data=records.validated(StakeholderUpdate, notes),
            )
        )
        if changed is not None:
            manage.saved(notes_record, changed.version)
            manage.flash(f"Saved the notes about {name}.")
            st.rerun()
        manage.reload_button(notes_record, [notes_key], key=f"stakeholders_notes_reload_{sid}")

with links_tab:
    links_key, links_editor = f"stakeholders_links_{sid}", f"stakeholders_links_editor_{sid}"
    fresh_unless_edited(links_key, links_editor)
    links = manage.snapshot(
        links_key,
        lambda: common.cached(read.people.influence_links, viewer=viewer, stakeholder_id=sid),
    )
    if links.empty:
        st.info(f"No influence links for {name} yet.")
    else:
        with st.form(f"stakeholders_links_form_{sid}"):
            st.data_editor(
                links,
                key=links_editor,
                num_rows="delete",
                column_order=["other", "direction", "strength"],
                disabled=["other", "direction"],
                column_config={
                    "other": "Other stakeholder",
                    "direction": "Direction",
                    "strength": config.SelectboxColumn(
                        "Strength", options=list(STRENGTHS), format_func=STRENGTHS.get
                    ),
                },
                **TABLE,
            )
            save_links = st.form_submit_button("Save link changes", icon=":material/save:")
        if save_links:
            edits = st.session_state[links_editor]
            counts = write(
                lambda session: people.apply_link_edits(
                    session=session,
                    viewer=viewer,
                    snapshot=links.to_dict("records"),
                    changes=edits,
                )
            )
            if counts is not None:
                done(counts.describe(f"the links of {name}"), links_key, [links_editor])
        manage.reload_button(links_key, [links_editor], key=f"stakeholders_links_reload_{sid}")

    others = {other: other_name for other, other_name in names.items() if other != sid}
    add = {f: f"stakeholders_link_{f}_{sid}" for f in ("other", "direction", "strength")}
    manage.seed(add["direction"], INFLUENCES_THEM)
    manage.seed(add["strength"], 2)
    with st.form(f"stakeholders_link_add_form_{sid}"):
        st.markdown(f"**Add a link** with {name}: who listens to whom, and how strongly.")
        st.selectbox(
            "Other stakeholder", list(others), index=None, format_func=others.get, key=add["other"]
        )
        directions = [INFLUENCES_THEM, INFLUENCED_BY_THEM]
        st.radio("The other stakeholder…", directions, key=add["direction"], horizontal=True)
        st.select_slider(
            "Strength", list(STRENGTHS), format_func=STRENGTHS.get, key=add["strength"]
        )
        add_link = st.form_submit_button("Add the link", icon=":material/add_link:")
    if add_link:
        other = st.session_state[add["other"]]
        inbound = st.session_state[add["direction"]] == INFLUENCES_THEM
        strength = st.session_state[add["strength"]]
        link = {"other_id": other, "other_influences": inbound, "strength": strength}
        linked = write(
            lambda session: people.link_stakeholders(
                session=session, viewer=viewer, stakeholder_id=sid, **link
            )
        )
        if linked is not None:
            message = f"Added a link between {name} and {plain_text(others[other])}."
            done(message, links_key, [links_editor, *add.values()])
