"""Manage: the stories told to staff and leadership. The programme's narratives, newest first;
write a new one or edit one with a live preview; save it as a draft, publish or unpublish it,
or delete it."""

from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from tracker import permissions, read, words
from tracker.models import NarrativeCreate, NarrativeStatus, NarrativeUpdate, Stage
from tracker.safe_text import plain_text, safe_markdown
from tracker.services import narratives, records

FIELDS = ("title", "body", "audience", "stage")
NEW = {"title": "", "body": "", "audience": "everyone", "stage": None}
# Which narrative the editor opens on the next run (after one is written or deleted).
OPEN_NEXT_KEY = "narratives_open_next"


def stage_words(stage: str | None) -> str:
    if stage is None:
        return "No particular stage"
    return words.stage_heading(stage)


viewer, choice = manage.open_page("Narratives")
programme_id = choice.programme_id
table = manage.listing(
    read.manage.narrative_table,
    programme_id,
    header="The programme's narratives",
    empty="This programme has no narratives yet. Write the first one below.",
)
if not table.empty:
    st.dataframe(
        pd.DataFrame(
            {
                "Title": table["title"],
                "Audience": table["audience"].map(narratives.AUDIENCE_WORDS.__getitem__),
                "Stage": table["stage"].map(stage_words),
                "Status": table["status"].map(narratives.STATUS_WORDS.__getitem__),
                "Published": table["published_on"].map(
                    lambda day: "Not published" if day is None else words.date_text(day)
                ),
                "Author": table["author"],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption("Newest first. Staff see only published narratives for staff or for everyone.")

rows = {int(r["id"]): r for r in table.to_dict("records")}
if OPEN_NEXT_KEY in st.session_state:
    st.session_state["narratives_choice"] = st.session_state.pop(OPEN_NEXT_KEY)
chosen: int | None = st.selectbox(
    "Write or edit",
    [None, *rows],
    format_func=lambda i: (
        "A new narrative"
        if i is None
        else f"{rows[i]['title']} ({narratives.STATUS_WORDS[rows[i]['status']].lower()})"
    ),
    key="narratives_choice",
)
row: dict[Any, Any] = NEW if chosen is None else rows[chosen]
suffix = "new" if chosen is None else str(chosen)
record_key = f"narrative_{suffix}"
keys = manage.seed_form("narratives", suffix, {field: row[field] for field in FIELDS})
expected = None if chosen is None else manage.built_from(record_key, int(row["version"]))

published = chosen is not None and row["status"] == NarrativeStatus.published
if chosen is not None:
    st.markdown(
        f"**Published on {words.date_text(row['published_on'])}**: its readers can see it."
        if published
        else "**Draft**: only managers and administrators can see it."
    )

# No st.form here: the preview follows the text as it is typed (each field reruns on leaving it).
write, preview = st.columns(2)
with write:
    fields = {
        "title": st.text_input("Title", max_chars=200, key=keys["title"]),
        "audience": st.selectbox(
            "Audience",
            list(narratives.AUDIENCE_WORDS),
            format_func=narratives.AUDIENCE_WORDS.__getitem__,
            key=keys["audience"],
            help="Staff read narratives for staff and for everyone; leadership read those for "
            "leadership and for everyone.",
        ),
        "stage": st.selectbox(
            "Stage (optional)",
            [None, *(stage.value for stage in Stage)],
            format_func=stage_words,
            key=keys["stage"],
        ),
        "body": st.text_area(
            "Body",
            height=320,
            max_chars=20000,
            key=keys["body"],
            help="Markdown: # headings, **bold**, lists, [links](https://...). HTML shows as "
            "plain text.",
        ),
    }
with preview:
    st.caption("Preview: how readers will see it")
    with st.container(border=True):
        st.markdown(f"### {plain_text(fields['title'])}" if fields["title"].strip() else "### …")
        st.markdown(
            safe_markdown(fields["body"], allowed_image_hosts=common.allowed_image_hosts())
            if fields["body"].strip()
            else "_No text yet._"
        )


def save(publish: bool | None, done: str) -> None:
    """Save what is on screen, then publish (True), unpublish (False) or leave the status."""

    def action(session: Session) -> tuple[int, int]:
        permissions.require_programme(
            session, viewer, permissions.Action.programme_edit, programme_id
        )
        if chosen is None:
            data = fields | {"programme_id": programme_id, "author": viewer.name}
            record = narratives.write_narrative(
                session=session, viewer=viewer, data=records.validated(NarrativeCreate, data)
            )
        else:
            record = narratives.update_narrative(
                session=session,
                viewer=viewer,
                narrative_id=chosen,
                data=records.validated(NarrativeUpdate, fields | {"version": expected}),
            )
        assert record.id is not None
        change = {True: narratives.publish_narrative, False: narratives.unpublish_narrative}
        if publish is not None:
            record = change[publish](
                session=session,
                viewer=viewer,
                narrative_id=record.id,
                expected_version=record.version,
            )
        return record.id, record.version

    result = manage.save(viewer, action)
    if result is None:
        return
    narrative_id, version = result
    if chosen is None:
        manage.forget(record_key, keys.values())
        st.session_state[OPEN_NEXT_KEY] = narrative_id
    else:
        manage.saved(record_key, version)
    manage.flash(f"{done} “{plain_text(fields['title'])}”.")
    st.rerun()


buttons = st.columns(3)
if chosen is None:
    if buttons[0].button("Save draft", type="primary", key="narratives_save_new"):
        save(None, "Saved the draft")
    if buttons[1].button("Publish now", key="narratives_publish_new"):
        save(True, f"Published today ({words.date_text(common.today())}):")
else:
    if buttons[0].button("Save changes", type="primary", key=f"narratives_save_{chosen}"):
        save(None, "Saved")
    if not published and buttons[1].button("Save and publish", key=f"narratives_publish_{chosen}"):
        save(True, f"Published today ({words.date_text(common.today())}):")
    if published and buttons[1].button(
        "Unpublish (back to draft)", key=f"narratives_unpublish_{chosen}"
    ):
        save(False, "Back to draft, no longer shown to readers:")

if chosen is not None and expected != int(row["version"]):
    st.warning("Someone else has saved this narrative since you opened it.")
    manage.reload_button(record_key, keys.values(), key=f"narratives_reload_{chosen}")

if chosen is not None:
    with st.expander("Delete this narrative"):
        sure_key = f"narratives_delete_sure_{chosen}"
        sure = st.checkbox("Yes, delete it: this cannot be undone", key=sure_key)
        if st.button("Delete narrative", key=f"narratives_delete_{chosen}", disabled=not sure):

            def remove(session: Session) -> str:
                permissions.require_programme(
                    session, viewer, permissions.Action.programme_edit, programme_id
                )
                narratives.delete_narrative(
                    session=session, viewer=viewer, narrative_id=chosen, expected_version=expected
                )
                return str(row["title"])

            if manage.save(viewer, remove) is not None:
                manage.forget(record_key, [*keys.values(), sure_key])
                st.session_state[OPEN_NEXT_KEY] = None
                manage.flash(f"Deleted “{plain_text(str(row['title']))}”.")
                st.rerun()
