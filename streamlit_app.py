"""Change Tracker: the front door. Who is using it, the navigation their role allows, and the
page they asked for. Every page re-checks the role itself."""

import streamlit as st

from pages import _common as common
from pages import _signin as signin
from tracker.models import Role
from tracker.safe_text import plain_text

st.set_page_config(page_icon=":material/diversity_3:", layout="wide")

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

# The Manage section: one page per kind of record a transformation manager keeps current.
manage_pages = [
    st.Page(f"pages/manage_{name}.py", title=title, icon=icon, url_path=f"manage-{name}")
    for name, title, icon in [
        ("programme", "Programme details", ":material/edit_note:"),
        ("stages", "Stages", ":material/route:"),
        ("milestones", "Milestones", ":material/flag:"),
        ("stakeholders", "Stakeholders", ":material/groups:"),
        ("engagements", "Engagements", ":material/forum:"),
        ("barriers", "Barriers", ":material/block:"),
        ("metrics", "Metrics", ":material/monitoring:"),
        ("narratives", "Narratives", ":material/article:"),
        ("import", "Import", ":material/upload_file:"),
        ("export", "Export", ":material/download:"),
    ]
]

# The Admin section: users, organisations, the audit trail and data protection.
admin_pages = [
    st.Page(
        f"pages/admin_{name}.py", title=title, icon=icon, url_path=f"admin-{name.replace('_', '-')}"
    )
    for name, title, icon in [
        ("users", "Users", ":material/manage_accounts:"),
        ("organisations", "Organisations", ":material/domain:"),
        ("audit", "Audit trail", ":material/history:"),
        ("data_protection", "Data protection", ":material/shield_person:"),
    ]
]

if viewer is None:
    # Every address of the app shows the sign-in screen (a link to a page opens that page once
    # signed in), in a hidden navigation: without st.navigation, Streamlit would list every file
    # in pages/ in the sidebar.
    known = [portfolio, programme, staff_changes, staff_news, *manage_pages, *admin_pages]
    gate = [st.Page(signin.show_sign_in, title="Sign in", default=True)] + [
        st.Page(signin.show_sign_in, title="Sign in", url_path=page.url_path) for page in known
    ]
    st.navigation(gate, position="hidden").run()
    st.stop()

# Pages grouped by audience; a role sees only the groups it may use.
sections: dict[str, list[st.Page]] = {}
if viewer.role is Role.staff:
    sections["Staff"] = [staff_changes, staff_news]
else:
    sections["Leadership"] = [portfolio, programme]
if viewer.can_manage:
    sections["Manage"] = manage_pages
if viewer.role is Role.admin:
    sections["Admin"] = admin_pages

with st.sidebar:
    st.caption(f"Signed in as **{plain_text(viewer.name)}** · {viewer.role.value}")
    st.button("Sign out", on_click=signin.sign_out, icon=":material/logout:", key="signout")

# The navigation sits at the top: in the sidebar, Streamlit 1.67 renders section headings
# inside the list of links, which axe reports as a serious list/listitem violation. One group
# is shown as plain links, several as a menu per group.
only = next(iter(sections.values()))
st.navigation(only if len(sections) == 1 else sections, position="top").run()
