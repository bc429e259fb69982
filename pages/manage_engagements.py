"""Manage: Engagements. Log a contact with the programme's stakeholders, see every contact and
who attended, keep follow-ups moving, and correct or delete an engagement."""

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from pages import _people as people_pages
from pages._people import done, stand_on
from tracker import read, words
from tracker.models import EngagementBase, EngagementKind
from tracker.models.base import max_length
from tracker.models.people import EngagementCreate, EngagementUpdate
from tracker.safe_text import plain_text
from tracker.services import engagements, records

KINDS = [kind.value for kind in EngagementKind]
LIMITS = {field: max_length(EngagementBase, field) for field in ("summary", "outcome")}
LABELS = {"occurred_on": "Date", "follow_up_on": "Follow-up date", "stakeholders": "Who was there"}
HELP = {
    "summary": "What the contact was about, in a sentence or two.",
    "outcome": "What was agreed or learnt.",
    "follow_up_on": "When to get back to them; leave empty if there is nothing to follow up.",
}


def kind_words(kind: str) -> str:
    return kind.capitalize()


def follow_up_input(where: Any, label: str, key: str) -> None:
    # value=None only makes the date clearable; the starting value is seeded like the others.
    where.date_input(label, value=None, key=key, format="DD/MM/YYYY", help=HELP["follow_up_on"])


def contact(row: Any) -> str:
    """One engagement in a line, safe to show as Markdown."""
    return (
        f"**{words.date_text(row.occurred_on)}** · {kind_words(row.kind)}: "
        f"{plain_text(row.summary)} (with {plain_text(row.attendees or 'nobody recorded')})"
    )


viewer = manage.require_manager()
st.title("Engagements")
manage.show_flash()
choice = manage.choose_programme(viewer)
pid = choice.programme_id
manage.require_people(viewer, pid)
today = common.today()


def write(work: Callable[[Session], Any]) -> Any:
    """`work` saved as the viewer (see pages/_people.py); None when refused (shown here)."""
    return people_pages.write(viewer, pid, work, labels=LABELS)


def update(engagement_id: int, changes: dict[str, Any], version: int) -> Any:
    """Save `changes` to the engagement if it is still at `version`."""
    return write(
        lambda session: engagements.update_engagement(
            session=session,
            viewer=viewer,
            engagement_id=engagement_id,
            data=records.validated(EngagementUpdate, {**changes, "version": version}),
        )
    )


def mark_done(engagement_id: int, version: int) -> None:
    """The Mark done buttons' callback: remember which follow-up, at the version shown."""
    st.session_state["engagements_mark_done"] = (engagement_id, version)


# --- Log a contact --------------------------------------------------------------------------
names: dict[int, str] = common.cached(
    read.people.stakeholder_names, viewer=viewer, programme_id=pid
)
st.header("Log a contact")
log = {
    field: f"engagements_log_{field}_{pid}"
    for field in ("occurred_on", "kind", "stakeholders", "summary", "outcome", "follow_up_on")
}
starts = {"occurred_on": today, "kind": KINDS[0], "stakeholders": [], "summary": "", "outcome": ""}
for field, key in log.items():
    manage.seed(key, starts.get(field))
with st.form(f"engagements_log_form_{pid}"):
    left, middle, right = st.columns(3)
    left.date_input("Date", key=log["occurred_on"], format="DD/MM/YYYY")
    middle.selectbox("Kind", KINDS, format_func=kind_words, key=log["kind"])
    follow_up_input(right, "Follow-up date (optional)", log["follow_up_on"])
    st.multiselect(
        "Who was there",
        list(names),
        format_func=names.get,
        key=log["stakeholders"],
        placeholder="Choose at least one stakeholder",
    )
    for field in ("summary", "outcome"):
        st.text_area(field.capitalize(), key=log[field], max_chars=LIMITS[field], help=HELP[field])
    log_it = st.form_submit_button("Log the engagement", icon=":material/add:")
if log_it:
    data = {"programme_id": pid} | {
        field: st.session_state[key] for field, key in log.items() if field != "stakeholders"
    }
    people = st.session_state[log["stakeholders"]]
    logged = write(
        lambda session: engagements.log_engagement(
            session=session,
            viewer=viewer,
            data=records.validated(EngagementCreate, data),
            stakeholder_ids=people,
        )
    )
    if logged is not None:
        day = words.date_text(data["occurred_on"])
        count = f"{len(people)} stakeholder{'s' if len(people) != 1 else ''}"
        message = f"Logged the {data['kind']} on {day} with {count}."
        done(message, f"engagements_log_{pid}", list(log.values()))

# --- Follow-ups -----------------------------------------------------------------------------
st.header("Follow-ups")
st.caption(f"Open follow-ups as of {words.date_text(today)}.")
asked = st.session_state.pop("engagements_mark_done", None)
if asked is not None:
    engagement_id, version = asked
    if update(engagement_id, {"follow_up_done": True}, version) is not None:
        done("Marked the follow-up done.", f"engagement_{engagement_id}", [])
open_follow_ups = common.cached(
    read.people.follow_ups, viewer=viewer, programme_id=pid, today=today
)
for heading, rows, icon in (
    ("Overdue", open_follow_ups[open_follow_ups["overdue"]], ":material/warning:"),
    ("Due today or later", open_follow_ups[~open_follow_ups["overdue"]], ":material/event:"),
):
    st.markdown(f"**{heading}** ({len(rows)})")
    if rows.empty:
        st.caption("None.")
    for row in rows.itertuples():
        text, button = st.columns([6, 1], vertical_alignment="center")
        due = f"{heading.split()[0]}: follow up by {words.date_text(row.follow_up_on)}"
        text.markdown(f"{icon} {due}. {contact(row)}")
        button.button(
            "Mark done",
            key=f"engagements_done_{row.id}",
            on_click=mark_done,
            args=(int(row.id), int(row.version)),
        )

# --- All engagements ------------------------------------------------------------------------
st.header("All engagements")
table: pd.DataFrame = common.cached(read.people.engagement_table, viewer=viewer, programme_id=pid)
if table.empty:
    st.info("No engagements logged yet.")
    st.stop()
st.dataframe(
    table.assign(
        occurred_on=table["occurred_on"].map(words.date_text),
        kind=table["kind"].map(kind_words),
        follow_up=[
            "No follow-up" if day is None else words.date_text(day) + (" (done)" if closed else "")
            for day, closed in zip(table["follow_up_on"], table["follow_up_done"], strict=True)
        ],
    ),
    column_order=["occurred_on", "kind", "summary", "outcome", "attendees", "follow_up"],
    column_config={
        "occurred_on": "Date",
        "kind": "Kind",
        "summary": "Summary",
        "outcome": "Outcome",
        "attendees": "Who was there",
        "follow_up": "Follow-up",
    },
    hide_index=True,
    width="stretch",
)

st.header("Correct or delete an engagement")
by_id = table.set_index("id")
eid = st.selectbox(
    "Engagement",
    list(by_id.index),
    format_func=lambda i: (
        f"{words.date_text(by_id.at[i, 'occurred_on'])} · "
        f"{kind_words(by_id.at[i, 'kind'])}: {by_id.at[i, 'summary'][:80]}"
    ),
    key=f"engagements_chosen_{pid}",
)
row = by_id.loc[eid]
record = f"engagement_{eid}"
edit = {field: f"engagements_{field}_{eid}" for field in ("summary", "outcome", "follow_up_on")}
version = stand_on(record, {key: row[field] for field, key in edit.items()}, int(row["version"]))
with st.form(f"engagements_edit_form_{eid}"):
    for field in ("summary", "outcome"):
        st.text_area(field.capitalize(), key=edit[field], max_chars=LIMITS[field], help=HELP[field])
    follow_up_input(st, "Follow-up date", edit["follow_up_on"])
    save = st.form_submit_button("Save the changes", icon=":material/save:")
if save:
    changes = {field: st.session_state[key] for field, key in edit.items()}
    changed = update(eid, changes, version)
    if changed is not None:
        manage.saved(record, changed.version)
        manage.flash("Saved the engagement.")
        st.rerun()
    manage.reload_button(record, list(edit.values()), key=f"engagements_reload_{eid}")
sure = st.checkbox("I want to delete this engagement", key=f"engagements_delete_sure_{eid}")
if st.button("Delete the engagement", key=f"engagements_delete_{eid}", disabled=not sure):
    deleted = write(
        lambda session: engagements.delete_engagement(
            session=session, viewer=viewer, engagement_id=eid, expected_version=version
        )
    )
    if deleted:
        done("Deleted the engagement.", record, [*edit.values(), f"engagements_delete_sure_{eid}"])
