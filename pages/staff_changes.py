"""What changes for me: one programme's journey in plain words, the changes that land on the
reader's team by month, and what the programme has achieved. Nothing about stakeholders."""

import pandas as pd
import streamlit as st

from pages import _common as common
from tracker import db, read, words
from tracker.access import record_refusal
from tracker.models import Role
from tracker.safe_text import plain_text, safe_markdown

viewer = common.require_viewer(Role.staff, Role.manager, Role.admin, Role.leadership)
today = common.today()

st.title("What changes for me", anchor=False)

with db.read_session(common.get_engine()) as session:
    programmes = read.staff.programmes_for_staff(session=session, viewer=viewer, today=today)
    team = read.staff.staff_group_name(session=session, viewer=viewer)

if not programmes:
    st.info("There are no programmes in your organisation at the moment.")
    st.stop()

rows = {programme.code: programme for programme in programmes}
codes = list(rows)
CHOICE_KEY = "staff_changes_programme"
VIEWER_KEY = "staff_changes_viewer"
# In demo mode the viewer can change while the previous viewer's programme is still in the
# address: that is not a link anyone followed, so it is dropped without a warning.
switched = st.session_state.get(VIEWER_KEY, viewer.email) != viewer.email
st.session_state[VIEWER_KEY] = viewer.email
asked = st.query_params.get("programme")
if asked is not None and asked not in rows:
    record_refusal(viewer.email, f"programme {asked!r}")
    if not switched:
        st.warning("We could not find the programme in that link. Showing the first one instead.")
    asked = None
# The link wins over the last choice (a shared or edited address); a choice the viewer can no
# longer see falls back to the first programme.
if asked is not None:
    st.session_state[CHOICE_KEY] = asked
elif st.session_state.get(CHOICE_KEY) not in rows:
    st.session_state[CHOICE_KEY] = codes[0]


def _remember_choice() -> None:
    # Runs before the rerun, so the link and the choice agree when the page reads them.
    st.query_params["programme"] = st.session_state[CHOICE_KEY]


code = st.selectbox(
    "Programme",
    codes,
    format_func=lambda c: rows[c].choice_label,
    key=CHOICE_KEY,
    on_change=_remember_choice,
)
st.query_params["programme"] = code
row = rows[code]
programme_id = row.programme_id

if row.summary:
    st.markdown(plain_text(row.summary))
if row.vision_statement:
    st.markdown(f"**What we want to achieve:** {plain_text(row.vision_statement)}")

with db.read_session(common.get_engine()) as session:
    story = read.staff.stage_story(session=session, programme_id=programme_id, today=today)
    changes = read.staff.changes_for_group(
        session=session, viewer=viewer, today=today, programme_id=programme_id
    )
    achieved = read.staff.achievements(
        session=session, viewer=viewer, programme_id=programme_id, today=today
    )

# --- Where we are -------------------------------------------------------------------------------

st.header("Where we are", anchor=False)
for sentence in read.staff.journey_summary(story):
    st.markdown(sentence)


st.table(
    pd.DataFrame(
        {
            # Table cells are Markdown: escaped, "1. Vision" stays text rather than a list.
            "Stage": [plain_text(step.heading) for step in story],
            "What it means": [step.what_it_means for step in story],
            "Where we are": [step.status for step in story],
            "Planned": [step.planned for step in story],
        }
    ),
    hide_index=True,
    alt="The six stages of this programme, what each means, where we are and when each is planned",
)

for step in story:
    if step.story_heading is not None:
        st.subheader(step.story_heading, anchor=False)
        st.markdown(safe_markdown(step.narrative, allowed_image_hosts=common.allowed_image_hosts()))

# --- What changes for you and when ---------------------------------------------------------------

st.header("What changes for you and when", anchor=False)
if team is None:
    st.info(
        "Your account is not linked to a team, so we cannot show what changes for you. "
        "Ask your administrator to add your team."
    )
elif not changes:
    st.info(
        f"Nothing in this programme changes for {plain_text(team)} from last month to a year ahead."
    )
else:
    count = len(changes)
    delayed = sum(change.delayed for change in changes)
    st.markdown(
        f"These are the changes for **{plain_text(team)}**, from last month to a year ahead: "
        f"{count} {'change' if count == 1 else 'changes'}"
        + (f", {delayed} of them delayed." if delayed else ".")
    )
    st.caption(
        "Big change: a new way of doing a large part of your work. Some change: new steps "
        "or screens to learn. Small change: something to know about. Delayed: later than we said."
    )
    for month in read.staff.changes_by_month(changes, today=today):
        st.subheader(month.heading, anchor=False)
        st.table(
            pd.DataFrame(
                {
                    "What changes": [plain_text(change.milestone) for change in month.changes],
                    "How big a change": [change.impact_words for change in month.changes],
                    "Date due": [change.due_words for change in month.changes],
                    "Where it is": [change.status for change in month.changes],
                    "Stage": [change.stage_title for change in month.changes],
                }
            ),
            hide_index=True,
            alt=f"Changes for your team due in {words.month_words(month.month)}",
        )

# --- What we have achieved ----------------------------------------------------------------------

st.header("What we have achieved", anchor=False)
since = words.date_words(achieved.since)
st.subheader("Work finished", anchor=False)
if achieved.milestones:
    done = len(achieved.milestones)
    st.markdown(
        f"Since {since}, we have finished {done} {'piece' if done == 1 else 'pieces'} of work:"
    )
    st.markdown(
        "\n".join(
            f"- {plain_text(m.title)}, on {words.date_words(m.completed_date)}"
            for m in achieved.milestones
        )
    )
else:
    st.markdown(f"No work has been finished since {since} yet.")

st.subheader("Numbers that have moved", anchor=False)
if achieved.metrics:
    st.markdown("These measures have moved towards their targets:")
    st.markdown("\n".join(f"- {plain_text(m.sentence)}" for m in achieved.metrics))
else:
    st.markdown("None of this programme's measures has moved towards its target yet.")
