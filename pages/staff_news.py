"""News and updates: the stories published for staff, newest first, with filters and search."""

import streamlit as st

from pages import _common as common
from tracker import db, read, words
from tracker.models import Role
from tracker.safe_text import plain_text, safe_markdown
from tracker.stages import STAGES

viewer = common.require_viewer(Role.staff, Role.manager, Role.admin, Role.leadership)
today = common.today()

st.title("News and updates", anchor=False)

with db.read_session(common.get_engine()) as session:
    programmes = read.staff.programmes_for_staff(session=session, viewer=viewer, today=today)

if not programmes:
    st.info("There are no programmes in your organisation at the moment, so there is no news.")
    st.stop()

ALL = "all"  # no programme code or stage key is lower-case "all"
titles = {programme.code: programme.title for programme in programmes}
ids = {programme.code: programme.programme_id for programme in programmes}
left, middle, right = st.columns(3)
code = left.selectbox(
    "Programme",
    [ALL, *titles],
    format_func=lambda c: "All programmes" if c == ALL else str(titles[c]),
    key="staff_news_programme",
)
stage = middle.selectbox(
    "Stage",
    [ALL, *(info.stage.value for info in STAGES)],
    format_func=lambda key: "All stages" if key == ALL else words.stage_heading(key),
    key="staff_news_stage",
)
search = right.text_input(
    "Search the news",
    placeholder="For example: training",
    key="staff_news_search",
).strip()

with db.read_session(common.get_engine()) as session:
    stories = read.staff.published_narratives(
        session=session,
        viewer=viewer,
        programme_id=None if code == ALL else ids[code],
        stage=None if stage == ALL else stage,
        search=search or None,
    )

filtered = code != ALL or stage != ALL or bool(search)
st.header("Search results" if filtered else "Latest news", anchor=False)
if not stories:
    if search:
        st.info(
            f"No news matches “{plain_text(search)}”. Try a shorter word, or choose "
            "All programmes and All stages."
        )
    elif filtered:
        st.info("No news has been published for this choice yet. Try All programmes or All stages.")
    else:
        st.info("No news has been published for your programmes yet. Please check back later.")
    st.stop()

count = len(stories)
st.caption(f"{count} {'story' if count == 1 else 'stories'}, newest first.")
for story in stories:
    with st.container(border=True):
        st.subheader(plain_text(story.title), anchor=False)
        st.caption(plain_text(story.byline))
        st.markdown(safe_markdown(story.body, allowed_image_hosts=common.allowed_image_hosts()))
