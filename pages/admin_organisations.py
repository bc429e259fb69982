"""Admin: Organisations. The councils and partner bodies you administer and their staff groups:
add and rename organisations; add, rename and delete staff groups (saying first what a
deletion changes)."""

from functools import partial

import streamlit as st
from sqlmodel import Session

from pages import _admin as admin
from pages import _common as common
from pages import _manage as manage
from tracker import db, read
from tracker.models import Role
from tracker.models.organisation import OrganisationCreate, OrganisationUpdate
from tracker.safe_text import plain_text
from tracker.services import organisations, records

LABELS = {"name": "Name", "short_name": "Short name", "organisations": "Organisation"}
# The columns of the two tables, with their headings.
ORGANISATION_COLUMNS = {
    "name": "Organisation",
    "short_name": "Short name",
    "staff_groups": "Staff groups",
    "users": "Users",
    "programmes": st.column_config.NumberColumn("Programmes", help="Programmes it owns."),
}
STAFF_GROUP_COLUMNS = {
    "name": "Staff group",
    "users": "Users",
    "stakeholders": "Stakeholders",
    "milestone_impacts": st.column_config.NumberColumn(
        "Milestone impacts", help="Milestones that land on this group."
    ),
}
SHORT_HELP = "2 to 12 characters, shown where space is short, e.g. NCC: Customer services."

viewer = common.require_viewer(Role.admin)
st.title("Organisations")
manage.show_flash()
st.caption(
    "The councils and partner bodies you administer, and their staff groups (departments or "
    "teams). Stakeholders belong to a staff group, milestones land on staff groups, and staff "
    "users read what changes for theirs."
)
engine = common.get_engine()
with db.read_session(engine) as session:
    table = read.admin.organisation_table(session=session, viewer=viewer)
common.table(table, ORGANISATION_COLUMNS)

with st.expander("Add an organisation", icon=":material/domain_add:"):
    with st.form("organisations_new"):
        new_name = st.text_input("Name", key="organisations_new_name", max_chars=120)
        new_short = st.text_input(
            "Short name", key="organisations_new_short", max_chars=12, help=SHORT_HELP
        )
        if st.form_submit_button("Add organisation", icon=":material/add:"):
            data = {"name": new_name.strip(), "short_name": new_short.strip()}

            def add(session: Session) -> str:
                return organisations.add_organisation(
                    session=session, viewer=viewer, data=records.validated(OrganisationCreate, data)
                ).name

            added = manage.save(viewer, add, labels=LABELS)
            if added is not None:
                for key in ("organisations_new_name", "organisations_new_short"):
                    st.session_state.pop(key, None)
                manage.flash(
                    f"Added {plain_text(added)}. You administer it: add its staff groups below."
                )
                st.rerun()

by_id = {org.id: org for org in table}
oid = common.choose(
    "Organisation",
    {i: org.name for i, org in by_id.items()},
    key="organisations_choice",
    none="You do not administer any organisation yet.",
)
org = by_id[oid]
record_key = f"organisations_org_{oid}"
keys = {"name": f"organisations_name_{oid}", "short_name": f"organisations_short_{oid}"}
for name, key in keys.items():
    manage.seed(key, getattr(org, name))
version = manage.built_from(record_key, org.version)
with st.form(f"organisations_rename_{oid}"):
    st.text_input("Name", key=keys["name"], max_chars=120)
    st.text_input("Short name", key=keys["short_name"], max_chars=12, help=SHORT_HELP)
    if st.form_submit_button("Rename organisation"):
        changes = {name: str(st.session_state[key]).strip() for name, key in keys.items()}
        rename = partial(organisations.rename_organisation, organisation_id=oid)
        update = {**changes, "version": version}
        if admin.save_update(viewer, rename, OrganisationUpdate, update, record_key, LABELS):
            manage.flash(
                f"Saved {plain_text(changes['name'])} ({plain_text(changes['short_name'])})."
            )
            st.rerun()
manage.reload_button(record_key, keys.values(), key=f"organisations_reload_{oid}")

st.header(f"Staff groups of {plain_text(org.name)}")
with db.read_session(engine) as session:
    staff_groups = read.admin.staff_group_table(session=session, organisation_id=oid)
common.table(staff_groups, STAFF_GROUP_COLUMNS)

with st.form(f"organisations_new_group_{oid}"):
    group_name = st.text_input(
        "New staff group", key=f"organisations_new_group_name_{oid}", max_chars=120
    )
    if st.form_submit_button("Add staff group", icon=":material/add:"):

        def add_group(session: Session) -> str:
            return organisations.add_staff_group(
                session=session, viewer=viewer, organisation_id=oid, name=group_name
            ).name

        added_group = manage.save(viewer, add_group, labels=LABELS)
        if added_group is not None:
            st.session_state.pop(f"organisations_new_group_name_{oid}", None)
            manage.flash(f"Added the staff group {plain_text(added_group)}.")
            st.rerun()

groups = {group.id: group for group in staff_groups}
if not groups:
    st.stop()
choice_key = f"organisations_group_choice_{oid}"
if st.session_state.get(choice_key) not in groups:
    st.session_state.pop(choice_key, None)
gid = st.selectbox(
    "Staff group to rename or delete",
    list(groups),
    format_func=lambda i: groups[i].name,
    key=choice_key,
)
group = groups[gid]
group_key = f"organisations_group_{gid}"
name_key = f"organisations_group_name_{gid}"
manage.seed(name_key, group.name)
group_version = manage.built_from(group_key, group.version)
with st.form(f"organisations_rename_group_{gid}"):
    st.text_input("Name", key=name_key, max_chars=120)
    if st.form_submit_button("Rename staff group"):
        renamed_to = str(st.session_state[name_key])

        def rename_group(session: Session) -> int:
            return organisations.rename_staff_group(
                session=session,
                viewer=viewer,
                staff_group_id=gid,
                expected_version=group_version,
                name=renamed_to,
            ).version

        new_group_version = manage.save(viewer, rename_group, labels=LABELS)
        if new_group_version is not None:
            manage.saved(group_key, new_group_version)
            manage.flash(f"Renamed the staff group to {plain_text(renamed_to.strip())}.")
            st.rerun()
manage.reload_button(group_key, [name_key], key=f"organisations_group_reload_{gid}")

with st.form(f"organisations_delete_group_{gid}"):
    st.warning(
        f"Deleting {plain_text(group.name)} changes what uses it: {group.deletion_words} "
        "The audit trail records each change. This cannot be undone here.",
        icon=":material/warning:",
    )
    confirmed = st.checkbox(
        "I understand: delete this staff group", key=f"organisations_delete_confirm_{gid}"
    )
    if st.form_submit_button("Delete staff group", icon=":material/delete:"):
        if not confirmed:
            st.error("Not deleted. Tick the box to confirm first.")
        else:

            def delete_group(session: Session) -> bool:
                organisations.delete_staff_group(
                    session=session,
                    viewer=viewer,
                    staff_group_id=gid,
                    expected_version=group_version,
                )
                return True

            if manage.save(viewer, delete_group, labels=LABELS):
                manage.forget(group_key, [name_key, choice_key])
                manage.flash(f"Deleted the staff group {plain_text(group.name)}.")
                st.rerun()
