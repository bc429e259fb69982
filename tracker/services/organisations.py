"""Organisations, their staff groups, and user accounts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import (
    Organisation,
    OrganisationBase,
    Role,
    StaffGroup,
    StaffGroupBase,
    User,
    UserBase,
    UserOrganisation,
)
from tracker.models.organisation import (
    OrganisationCreate,
    OrganisationUpdate,
    StaffGroupCreate,
    StaffGroupUpdate,
    UserCreate,
    UserUpdate,
)
from tracker.passwords import hash_password
from tracker.permissions import Action, organisations, require
from tracker.services import records


def create_organisation(
    *, session: Session, viewer: Viewer, data: OrganisationCreate
) -> Organisation:
    require(viewer, Action.organisation_create)
    return records.create(session, Organisation, OrganisationBase, data.model_dump())


def create_staff_group(*, session: Session, viewer: Viewer, data: StaffGroupCreate) -> StaffGroup:
    organisation = records.get(session, Organisation, data.organisation_id)
    require(viewer, Action.organisation_administer, organisations([organisation.id or 0]))
    return records.create(session, StaffGroup, StaffGroupBase, data.model_dump())


def require_user_administer(session: Session, viewer: Viewer, user_id: int) -> User:
    """The user, if the viewer may change them: an administrator of every organisation the user
    belongs to (so an administrator of one council cannot take over an administrator of
    several)."""
    user = records.get(session, User, user_id)
    require(viewer, Action.user_administer, organisations(organisation_ids_of(session, user_id)))
    return user


def create_user(
    *, session: Session, viewer: Viewer, data: UserCreate, organisation_ids: Iterable[int]
) -> User:
    """A user scoped to at least one organisation; a staff user's group must be in one of them.
    The e-mail address is stored trimmed and in lower case."""
    orgs = sorted(set(organisation_ids))
    if not orgs:
        raise DomainError("organisations", "a user needs at least one organisation")
    require(viewer, Action.user_administer, organisations(orgs))
    for organisation_id in orgs:
        records.get(session, Organisation, organisation_id)
    clean = data.model_dump() | {"email": data.email.strip().lower()}
    check_staff_group(session, data.staff_group_id, set(orgs))
    user = records.create(session, User, UserBase, clean)
    assert user.id is not None
    for organisation_id in orgs:
        session.add(UserOrganisation(user_id=user.id, organisation_id=organisation_id))
    records.flush(session, UserOrganisation)
    session.refresh(user)
    return user


def update_user(
    *,
    session: Session,
    viewer: Viewer,
    user_id: int,
    data: UserUpdate,
) -> User:
    """Change a user's name, role, staff group or whether they are active. The change applies
    on their next rerun: pages read the user afresh every time."""
    require_user_administer(session, viewer, user_id)
    if data.email is not None:
        data = data.model_copy(update={"email": data.email.strip().lower()})
    user = records.update_from(session, User, UserBase, user_id, data)
    check_staff_group(session, user.staff_group_id, organisation_ids_of(session, user_id))
    return user


def set_user_organisations(
    *, session: Session, viewer: Viewer, user_id: int, organisation_ids: Iterable[int]
) -> None:
    """Scope the user to exactly these organisations (at least one). The viewer administers
    every organisation the user is in, before and after."""
    user = require_user_administer(session, viewer, user_id)
    wanted = set(organisation_ids)
    if not wanted:
        raise DomainError("organisations", "a user needs at least one organisation")
    require(viewer, Action.user_administer, organisations(wanted))
    for organisation_id in wanted:
        records.get(session, Organisation, organisation_id)
    check_staff_group(session, user.staff_group_id, wanted)
    records.set_links(
        session,
        UserOrganisation,
        owner="user_id",
        owner_id=user_id,
        member="organisation_id",
        wanted=wanted,
    )


def set_password(*, session: Session, viewer: Viewer, user_id: int, password: str) -> None:
    """Give a local account a new password (Argon2id-hashed; at least 12 characters)."""
    require_user_administer(session, viewer, user_id)
    user = records.get(session, User, user_id, for_update=True)
    user.password_hash = hash_password(password)
    user.version += 1
    records.flush(session, User)


def organisation_ids_of(session: Session, user_id: int) -> set[int]:
    """The ids of the organisations the user belongs to."""
    return set(
        session.exec(
            select(UserOrganisation.organisation_id).where(UserOrganisation.user_id == user_id)
        ).all()
    )


def check_staff_group(
    session: Session, staff_group_id: int | None, organisation_ids: set[int]
) -> None:
    """Refuse a user's staff group outside their organisations (None is allowed)."""
    if staff_group_id is None:
        return
    group = records.get(session, StaffGroup, staff_group_id)
    if group.organisation_id not in organisation_ids:
        raise DomainError(
            "staff_group_id", "the staff group must be in one of the user's organisations"
        )


# --- What an administrator may do, within their own organisations --------------------------


def require_admin(viewer: Viewer, organisation_ids: Iterable[int] = ()) -> None:
    """Administrators only, and only for organisations they administer (their own)."""
    require(viewer, Action.organisation_administer, organisations(organisation_ids or [-1]))


def check_email(email: str) -> None:
    """DomainError unless `email` looks like an e-mail address."""
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in email):
        raise DomainError("email", "must be an e-mail address, such as name@council.gov.uk")


def check_role_group(role: Role, staff_group_id: int | None) -> None:
    """A staff user needs a staff group: the staff pages say what changes for the reader's own."""
    if role is Role.staff and staff_group_id is None:
        raise DomainError("staff_group_id", "a staff user needs a staff group")


def add_user(
    *,
    session: Session,
    viewer: Viewer,
    data: UserCreate,
    organisation_ids: Iterable[int],
    password: str = "",
) -> User:
    """An administrator adds a user to some of their own organisations, optionally with an
    initial password for a local account (at least 12 characters; empty for single sign-on)."""
    orgs = set(organisation_ids)
    check_email(data.email.strip().lower())
    check_role_group(Role(data.role), data.staff_group_id)
    user = create_user(session=session, viewer=viewer, data=data, organisation_ids=orgs)
    if password:
        assert user.id is not None
        set_password(session=session, viewer=viewer, user_id=user.id, password=password)
    return user


def change_user(
    *,
    session: Session,
    viewer: Viewer,
    user_id: int,
    data: UserUpdate,
) -> User:
    """An administrator changes a user of their organisations (name, role, staff group, active).
    Nobody can deactivate their own account or give up their own administrator role: another
    administrator has to, so an organisation is never left without one by accident."""
    require_user_administer(session, viewer, user_id)
    if user_id == viewer.user_id:
        if data.active is False:
            raise DomainError("active", "you cannot deactivate your own account")
        if data.role is not None and Role(data.role) is not Role.admin:
            raise DomainError("role", "you cannot take away your own administrator role")
    if data.email is not None:
        check_email(data.email.strip().lower())
    user = update_user(session=session, viewer=viewer, user_id=user_id, data=data)
    check_role_group(Role(user.role), user.staff_group_id)
    return user


def change_user_organisations(
    *, session: Session, viewer: Viewer, user_id: int, organisation_ids: Iterable[int]
) -> set[int]:
    """Set which organisations the user belongs to: all of them the viewer's, before and after
    (an administrator changes only users wholly within their organisations). Returns them."""
    wanted = set(organisation_ids)
    set_user_organisations(session=session, viewer=viewer, user_id=user_id, organisation_ids=wanted)
    return wanted


def reset_password(*, session: Session, viewer: Viewer, user_id: int, password: str) -> User:
    """An administrator gives a user of their organisations a new password (a local account)."""
    user = require_user_administer(session, viewer, user_id)
    set_password(session=session, viewer=viewer, user_id=user_id, password=password)
    return user


def add_organisation(*, session: Session, viewer: Viewer, data: OrganisationCreate) -> Organisation:
    """An administrator adds an organisation; they administer it from then on."""
    organisation = create_organisation(session=session, viewer=viewer, data=data)
    assert organisation.id is not None
    if not viewer.system:
        session.add(UserOrganisation(user_id=viewer.user_id, organisation_id=organisation.id))
        records.flush(session, UserOrganisation)
    return organisation


def rename_organisation(
    *,
    session: Session,
    viewer: Viewer,
    organisation_id: int,
    data: OrganisationUpdate,
) -> Organisation:
    """Change an organisation's name or short name (if still at `data.version`)."""
    require_admin(viewer, [organisation_id])
    return records.update_from(session, Organisation, OrganisationBase, organisation_id, data)


def add_staff_group(
    *, session: Session, viewer: Viewer, organisation_id: int, name: str
) -> StaffGroup:
    return create_staff_group(
        session=session,
        viewer=viewer,
        data=records.validated(
            StaffGroupCreate, {"organisation_id": organisation_id, "name": name.strip()}
        ),
    )


def _own_group(session: Session, viewer: Viewer, staff_group_id: int) -> StaffGroup:
    group = records.get(session, StaffGroup, staff_group_id)
    require_admin(viewer, [group.organisation_id])
    return group


def rename_staff_group(
    *, session: Session, viewer: Viewer, staff_group_id: int, expected_version: int, name: str
) -> StaffGroup:
    _own_group(session, viewer, staff_group_id)
    change = records.validated(
        StaffGroupUpdate, {"version": expected_version, "name": name.strip()}
    )
    return records.update_from(session, StaffGroup, StaffGroupBase, staff_group_id, change)


def delete_staff_group(
    *, session: Session, viewer: Viewer, staff_group_id: int, expected_version: int
) -> None:
    """Delete a staff group. The database then clears it from its users and stakeholders (ON
    DELETE SET NULL) and deletes the milestone impacts on it (ON DELETE CASCADE); the audit
    trail records each of those changes."""
    _own_group(session, viewer, staff_group_id)
    records.delete(session, StaffGroup, staff_group_id, expected_version=expected_version)
