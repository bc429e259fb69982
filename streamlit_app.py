"""Change Tracker: the front door. Who is using it, the navigation their role allows, and the
page they asked for. Every page re-checks the role itself."""

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import streamlit as st

from pages import _common as common
from pages import _signin as signin
from tracker import faults
from tracker.models import Role
from tracker.safe_text import plain_text

# The icon is a file served by this server: Streamlit fetches a ":material/...:" page icon
# from fonts.gstatic.com, and pages make no request outside the installation.
st.set_page_config(page_icon=str(Path(__file__).parent / "static" / "favicon.png"), layout="wide")


def fault_message(error: Exception) -> str:
    """The plain sentence for an infrastructure fault (database down, disk full, read-only),
    the full exception logged for the administrator; any other error is raised again."""
    message = faults.describe(error)
    if message is None:
        raise error
    logging.getLogger("tracker.faults").exception("Infrastructure fault: %s", message)
    return message


@contextlib.contextmanager
def faults_shown_plainly() -> Iterator[None]:
    """Run a page so an infrastructure fault shows a plain message and stops, never a
    traceback. Its writes went through db.write_session, which rolled them back."""
    try:
        yield
    except Exception as error:
        st.error(fault_message(error))
        st.stop()


def show_fault() -> None:
    st.error(fault or "")


fault: str | None = None
try:
    viewer = common.current_viewer()
except Exception as error:
    # The sign-in check could not use the database: every address shows the fault instead.
    viewer, fault = None, fault_message(error)

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

# The Admin section: users, organisations, the audit trail, data protection and installation
# settings.
admin_pages = [
    st.Page(
        f"pages/admin_{name}.py", title=title, icon=icon, url_path=f"admin-{name.replace('_', '-')}"
    )
    for name, title, icon in [
        ("users", "Users", ":material/manage_accounts:"),
        ("organisations", "Organisations", ":material/domain:"),
        ("audit", "Audit trail", ":material/history:"),
        ("data_protection", "Data protection", ":material/shield_person:"),
        ("settings", "Installation settings", ":material/settings:"),
    ]
]

if viewer is None:
    # Every address of the app shows the sign-in screen (a link to a page opens that page once
    # signed in), in a hidden navigation: without st.navigation, Streamlit would list every file
    # in pages/ in the sidebar.
    known = [portfolio, programme, staff_changes, staff_news, *manage_pages, *admin_pages]
    shown = signin.show_sign_in if fault is None else show_fault
    gate = [st.Page(shown, title="Sign in", default=True)] + [
        st.Page(shown, title="Sign in", url_path=page.url_path) for page in known
    ]
    with faults_shown_plainly():
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
with faults_shown_plainly():
    st.navigation(only if len(sections) == 1 else sections, position="top").run()
