"""Change Tracker: the front door. Who is using it, the navigation their role allows, and the
page they asked for. Every page re-checks the role itself."""

import streamlit as st

from pages import _common as common
from tracker.demo import DEMO_USERS
from tracker.models import Role

st.set_page_config(page_icon=":material/diversity_3:", layout="wide")

if common.demo_mode():
    with st.sidebar:
        st.markdown("**Demo mode**")
        st.caption("Pick whose view to see. This selector exists only in demo mode.")
        options = [user.email for user in DEMO_USERS]
        labels = {user.email: f"{user.name} · {user.role.value}" for user in DEMO_USERS}
        st.selectbox(
            "Viewing as",
            options,
            format_func=labels.__getitem__,
            key=common.DEMO_USER_KEY,
        )

viewer = common.current_viewer()

portfolio = st.Page("pages/portfolio.py", title="Portfolio", icon=":material/dashboard:")
programme = st.Page(
    "pages/programme.py",
    title="Programme dashboard",
    icon=":material/timeline:",
    url_path="programme",
)
staff_changes = st.Page(
    "pages/staff_changes.py",
    title="What changes for me",
    icon=":material/event_upcoming:",
    url_path="changes",
)
staff_news = st.Page(
    "pages/staff_news.py", title="News and updates", icon=":material/campaign:", url_path="news"
)

if viewer is None:
    st.title("Change Tracker")
    st.error(
        "You are not signed in, or your account is not active. Ask your administrator for access."
    )
    st.stop()

# Pages grouped by audience; a role sees only the groups it may use.
sections: dict[str, list[st.Page]] = {}
if viewer.role is Role.staff:
    sections["Staff"] = [staff_changes, staff_news]
else:
    sections["Leadership"] = [portfolio, programme]

with st.sidebar:
    st.caption(f"Signed in as **{viewer.name}** · {viewer.role.value}")

# The navigation sits at the top: in the sidebar, Streamlit 1.67 renders section headings
# inside the list of links, which axe reports as a serious list/listitem violation. One group
# is shown as plain links, several as a menu per group.
only = next(iter(sections.values()))
st.navigation(only if len(sections) == 1 else sections, position="top").run()
