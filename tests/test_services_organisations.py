"""The administrator's services (tracker/services/organisations.py): an administrator changes only
the users and staff groups of their own organisations, and their rules hold."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests import factories
from tests.admin_screen import LONG_PASSWORD, two_councils_in
from tracker import db, read
from tracker.errors import ConflictError, DomainError, PermissionDeniedError
from tracker.models.organisation import OrganisationCreate, UserCreate, UserUpdate
from tracker.services import organisations, records


@pytest.fixture
def two_councils(sqlite_engine: Engine) -> dict[str, Any]:
    """An administrator of council A only; users in A, in B, and in both."""
    return two_councils_in(sqlite_engine)


def test_an_admin_manages_only_users_and_groups_of_their_own_organisations(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    group_b = factories.staff_group(engine, two_councils["b"])
    with db.write_session(engine, actor=viewer.email) as session:
        with pytest.raises(PermissionDeniedError):
            organisations.change_user(
                session=session,
                viewer=viewer,
                user_id=two_councils["ids"]["in_b"],
                data=records.validated(UserUpdate, {"version": 1, "active": False}),
            )
        with pytest.raises(PermissionDeniedError):
            organisations.add_user(
                session=session,
                viewer=viewer,
                data=records.validated(
                    UserCreate, {"email": "x@b.example", "name": "X", "role": "manager"}
                ),
                organisation_ids=[two_councils["b"]],
            )
        with pytest.raises(PermissionDeniedError):
            organisations.delete_staff_group(
                session=session, viewer=viewer, staff_group_id=group_b, expected_version=1
            )
    manager = factories.viewer(engine, "manager@b.example")
    with db.write_session(engine, actor=manager.email) as session:
        with pytest.raises(PermissionDeniedError):
            organisations.add_organisation(
                session=session,
                viewer=manager,
                data=records.validated(OrganisationCreate, {"name": "Nope", "short_name": "NP"}),
            )


def test_an_admin_changes_only_users_wholly_within_their_organisations(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    ids = two_councils["ids"]
    with db.write_session(engine, actor=viewer.email) as session:
        with pytest.raises(DomainError, match="at least one organisation"):
            organisations.change_user_organisations(
                session=session, viewer=viewer, user_id=ids["in_a"], organisation_ids=[]
            )
    # A user who also works at council B is B's administrators' too: council A's alone cannot
    # change them, reset their password or take them off B.
    for change in (
        lambda s: organisations.change_user_organisations(
            session=s, viewer=viewer, user_id=ids["both"], organisation_ids=[two_councils["a"]]
        ),
        lambda s: organisations.reset_password(
            session=s, viewer=viewer, user_id=ids["both"], password=LONG_PASSWORD
        ),
        lambda s: organisations.change_user(
            session=s,
            viewer=viewer,
            user_id=ids["both"],
            data=records.validated(UserUpdate, {"version": 1, "active": False}),
        ),
    ):
        with pytest.raises(PermissionDeniedError, match="all yours to administer"):
            with db.write_session(engine, actor=viewer.email) as session:
                change(session)
    assert factories.viewer(engine, "both@example.org").organisation_ids == {
        two_councils["a"],
        two_councils["b"],
    }
    with db.read_session(engine) as session:
        users = {user.email: user for user in read.admin.user_table(session=session, viewer=viewer)}
    assert not users["both@example.org"].administrable
    assert users["staff@a.example"].administrable


def test_a_staff_user_needs_a_staff_group_and_stale_edits_are_refused(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    in_a = two_councils["ids"]["in_a"]
    with db.write_session(engine, actor=viewer.email) as session:
        with pytest.raises(DomainError, match="a staff user needs a staff group"):
            organisations.change_user(
                session=session,
                viewer=viewer,
                user_id=in_a,
                data=records.validated(UserUpdate, {"version": 1, "staff_group_id": None}),
            )
    with db.write_session(engine, actor=viewer.email) as session:
        with pytest.raises(ConflictError):
            organisations.change_user(
                session=session,
                viewer=viewer,
                user_id=in_a,
                data=records.validated(
                    UserUpdate,
                    {
                        "version": 7,
                    },
                ),
            )
