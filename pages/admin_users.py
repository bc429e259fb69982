"""Admin: Users. Everyone who signs in within your organisations: add someone; change a person's
name, role, staff group or organisations; deactivate or reactivate them; set a password for a
local account."""

from functools import partial

import streamlit as st
from sqlmodel import Session

from pages import _admin as admin
from pages import _common as common
from pages import _manage as manage
from tracker import db, read
from tracker.models import Role
from tracker.models.organisation import UserCreate, UserUpdate
from tracker.passwords import MIN_PASSWORD_LENGTH
from tracker.safe_text import plain_text
from tracker.services import organisations, records

LABELS = {"email": "E-mail", "staff_group_id": "Staff group"}
ROLES = [role.value for role in Role]
ROLE_HELP = (
    "Admin: users, organisations, the audit trail and data protection. Manager: keeps their "
    "organisations' programmes current. Leadership: reads the dashboards. Staff: reads what "
    "changes for their staff group."
)
GROUP_HELP = "Staff only (required for them): the staff pages show what changes for this group."
PASSWORD_HELP = (
    f"For a local account: at least {MIN_PASSWORD_LENGTH} characters (a short phrase works). "
    "Leave empty for someone who signs in with your organisation's single sign-on."
)


def role_words(value: str) -> str:
    return Role(value).label


viewer = common.require_viewer(Role.admin)
st.title("Users")
manage.show_flash()
st.caption(
    "The people who can sign in to the tracker in your organisations. A changed role or a "
    "deactivation takes effect on the person's next click: the tracker checks who they are "
    "every time, so nobody keeps access they no longer have."
)
with db.read_session(common.get_engine()) as session:
    users = read.admin.user_table(session=session, viewer=viewer)
    own = read.admin.organisation_names(session=session, viewer=viewer)
    groups = read.admin.staff_group_names(session=session, viewer=viewer)

common.table(
    users,
    {
        "email": "E-mail",
        "name": "Name",
        "role_label": "Role",
        "organisations": "Organisations",
        "staff_group": "Staff group",
        "account": "Account",
        "password_set": st.column_config.TextColumn(
            "Local password set", help="Whether they can sign in with a password set here."
        ),
    },
)


def group_words(group_id: int | None) -> str:
    return "None" if group_id is None else groups[group_id]


with st.expander("Add a user", icon=":material/person_add:"):
    with st.form("users_new"):
        new_email = st.text_input(
            "E-mail", key="users_new_email", max_chars=254, help="What they sign in with."
        )
        new_name = st.text_input("Name", key="users_new_name", max_chars=120)
        new_role = st.selectbox(
            "Role", ROLES, format_func=role_words, key="users_new_role", help=ROLE_HELP
        )
        new_orgs = st.multiselect(
            "Organisations",
            list(own),
            format_func=own.__getitem__,
            key="users_new_orgs",
            help="They see and change only these organisations' programmes.",
        )
        new_group = st.selectbox(
            "Staff group",
            [None, *groups],
            format_func=group_words,
            key="users_new_group",
            help=GROUP_HELP,
        )
        new_password = st.text_input(
            "Initial password (optional)", type="password", key="users_new_password"
        )
        st.caption(PASSWORD_HELP)
        if st.form_submit_button("Add user", icon=":material/person_add:"):
            data = {"email": new_email, "name": new_name.strip(), "role": new_role} | {
                "staff_group_id": new_group
            }

            def add(session: Session) -> str:
                return organisations.add_user(
                    session=session,
                    viewer=viewer,
                    data=records.validated(UserCreate, data),
                    organisation_ids=new_orgs,
                    password=new_password,
                ).email

            added = manage.save(viewer, add, labels=LABELS)
            if added is not None:
                for key in ("email", "name", "orgs", "group", "password"):
                    st.session_state.pop(f"users_new_{key}", None)
                manage.flash(f"Added {plain_text(added)}. They can sign in now.")
                st.rerun()

st.header("Change a user")
by_id = {user.id: user for user in users if user.administrable}
shared = len(users) - len(by_id)
if shared:
    st.caption(
        f"{shared} {'user also belongs' if shared == 1 else 'users also belong'} to an "
        "organisation you do not administer: only an administrator of all their organisations "
        "can change them."
    )
uid = common.choose(
    "User",
    {i: f"{user.name} ({user.email})" for i, user in by_id.items()},
    key="users_choice",
    none="There are no users you can change in your organisations yet.",
)
user = by_id[uid]
record_key = f"users_user_{uid}"
current = {
    "name": user.name,
    "role": user.role,
    "staff_group_id": user.staff_group_id,
    "active": user.active,
}
keys = {name: f"users_{name}_{uid}" for name in current}
for name, value in current.items():
    manage.seed(keys[name], value)
version = manage.built_from(record_key, user.version)
# A group outside your organisations (the person also works elsewhere) stays selectable.
if user.staff_group_id is not None:
    groups.setdefault(user.staff_group_id, user.staff_group)

with st.form(f"users_edit_{uid}"):
    st.text_input("E-mail", user.email, disabled=True, help="Fixed: it is who they are.")
    st.text_input("Name", key=keys["name"], max_chars=120)
    st.selectbox("Role", ROLES, format_func=role_words, key=keys["role"], help=ROLE_HELP)
    st.selectbox(
        "Staff group",
        [None, *groups],
        format_func=group_words,
        key=keys["staff_group_id"],
        help=GROUP_HELP,
    )
    st.checkbox(
        "Active (can sign in)",
        key=keys["active"],
        help="Untick to deactivate the account: they cannot use the tracker from their next "
        "click; what they did stays in the audit trail. Tick again to reactivate it.",
    )
    submitted = st.form_submit_button("Save user", type="primary")

if submitted:
    draft = {name: st.session_state[key] for name, key in keys.items()}
    draft["name"] = draft["name"].strip()

    save_user = partial(organisations.change_user, user_id=uid)
    update = {**draft, "version": version}
    if admin.save_update(viewer, save_user, UserUpdate, update, record_key, LABELS):
        what = [
            manage.field_name(name, LABELS).lower()
            for name in current
            if draft[name] != current[name]
        ]
        note = " The change applies from their next click." if what else ""
        manage.flash(
            f"Saved {plain_text(draft['name'])}: {', '.join(what) or 'nothing had changed'}." + note
        )
        st.rerun()

manage.reload_button(record_key, keys.values(), key=f"users_reload_{uid}")

org_key = f"users_orgs_{uid}"
manage.seed(org_key, list(user.organisation_ids))
with st.form(f"users_organisations_{uid}"):
    st.multiselect(
        "Organisations",
        list(own),
        format_func=own.__getitem__,
        key=org_key,
        help="Which of your organisations they work for. Organisations you do not administer "
        "stay as they are.",
    )
    if st.form_submit_button("Save organisations"):
        chosen = list(st.session_state[org_key])

        def save_organisations(session: Session) -> set[int]:
            return organisations.change_user_organisations(
                session=session, viewer=viewer, user_id=uid, organisation_ids=chosen
            )

        if manage.save(viewer, save_organisations, labels=LABELS) is not None:
            named = ", ".join(own[org] for org in own if org in chosen)
            manage.flash(f"Saved {plain_text(user.name)}'s organisations: {plain_text(named)}.")
            st.rerun()

with st.form(f"users_password_{uid}", clear_on_submit=True):
    password = st.text_input("New password", type="password", help=PASSWORD_HELP)
    again = st.text_input("The same password again", type="password")
    if st.form_submit_button("Set password", icon=":material/key:"):
        if password != again:
            st.error("Not saved. The two passwords differ: type the same password twice.")
        else:

            def set_password(session: Session) -> tuple[int, int]:
                before = organisations.require_user_administer(session, viewer, uid).version
                after = organisations.reset_password(
                    session=session, viewer=viewer, user_id=uid, password=password
                ).version
                return before, after

            versions = manage.save(viewer, set_password, labels=LABELS)
            if versions is not None:
                # Setting a password moves the account's version on; a form built on the
                # version before it stands on the new one (nobody else changed anything).
                if versions[0] == version:
                    manage.saved(record_key, versions[1])
                manage.flash(f"Set a new password for {plain_text(user.name)}.")
                st.rerun()
