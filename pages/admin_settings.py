"""Admin: Installation settings. Settings that apply to every organisation in the installation:
the hosts that narratives may show images from. Only an administrator of every organisation may
change them; other administrators see them."""

import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from tracker import content_policy, db
from tracker.models import Role
from tracker.safe_text import IMAGE_NOT_SHOWN, plain_text

HOSTS_KEY = "settings_image_hosts"
RESEED_KEY = "settings_image_hosts_saved"
LABELS = {"hosts": "Image hosts"}

viewer = common.require_viewer(Role.admin)
st.title("Installation settings")
if st.session_state.pop(RESEED_KEY, False):
    # After a save the box shows the list as saved (lower case, sorted, one per line).
    st.session_state.pop(HOSTS_KEY, None)
manage.show_flash()
st.caption(
    "Settings that apply to every organisation in this installation, so only an administrator "
    "of every organisation can change them."
)
engine = common.get_engine()
with db.read_session(engine) as session:
    hosts = content_policy.image_hosts(session)
    may_change = content_policy.may_change(session, viewer)

st.header("Images in narratives", anchor=False)
st.markdown(
    "Pages make no request outside this installation: a request to another site would tell "
    "that site who is reading, and when. So an image in a narrative that comes from another "
    "site is not shown; readers see a note such as "
    f"“{plain_text(f'[{IMAGE_NOT_SHOWN}: images.example.org]')}” instead. Links to other sites "
    "are kept, with their address shown beside them, and open in a new tab."
)
st.markdown(
    "You can allow images from hosts you trust, such as your own intranet's image server. "
    "Every reader's browser will then fetch those images from that host."
)
if hosts:
    st.markdown(
        "Images are allowed from: " + ", ".join(f"**{plain_text(host)}**" for host in sorted(hosts))
    )
else:
    st.markdown("No host is allowed: every image from another site is replaced by a note.")

if not may_change:
    st.info(
        "Only an administrator of every organisation can change this setting.",
        icon=":material/lock:",
    )
    st.stop()

manage.seed(HOSTS_KEY, "\n".join(sorted(hosts)))
with st.form("settings_image_hosts_form"):
    st.text_area(
        "Hosts that narratives may show images from, one per line",
        key=HOSTS_KEY,
        max_chars=400,
        placeholder="images.example.org",
        help="Only the host name, such as images.example.org: no https://, path, port or "
        "wildcard. Leave it empty to allow none.",
    )
    if st.form_submit_button("Save image hosts", icon=":material/save:"):
        wanted = content_policy.parse_hosts(str(st.session_state[HOSTS_KEY]))

        def set_hosts(session: Session) -> frozenset[str]:
            return content_policy.set_image_hosts(session=session, viewer=viewer, hosts=wanted)

        saved = manage.save(viewer, set_hosts, labels=LABELS)
        if saved is not None:
            manage.flash(
                f"Saved: images are allowed from {len(saved)} "
                f"{'host' if len(saved) == 1 else 'hosts'}."
                if saved
                else "Saved: no host is allowed, so no image from another site is shown."
            )
            st.session_state[RESEED_KEY] = True
            st.rerun()
