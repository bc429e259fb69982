"""What the Admin pages read (tracker/read/admin.py): users and staff groups of the
administrator's organisations only, the audit trail and sign-in attempts filtered in the
database, readable change summaries, the audit CSV and the retention preview."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from tests import factories
from tests.admin_screen import LONG_PASSWORD, OTHER, record_attempt, two_councils_in
from tests.factories import SYSTEM
from tracker import clock, db, read
from tracker.errors import DomainError
from tracker.models.organisation import StaffGroupCreate
from tracker.services import organisations, records


@pytest.fixture
def two_councils(sqlite_engine: Engine) -> dict[str, Any]:
    """An administrator of council A only; users in A, in B, and in both."""
    return two_councils_in(sqlite_engine)


def test_user_table_lists_only_users_sharing_an_organisation_with_the_admin(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    with db.write_session(engine, actor=OTHER) as session:
        organisations.set_password(
            session=session,
            viewer=SYSTEM,
            user_id=two_councils["ids"]["both"],
            password=LONG_PASSWORD,
        )
    with db.read_session(engine) as session:
        table = by_email(read.admin.user_table(session=session, viewer=viewer))
        names = read.admin.organisation_names(session=session, viewer=viewer)
    assert set(table.index) == {"admin@a.example", "staff@a.example", "both@example.org"}
    a_name = names[two_councils["a"]]
    assert table.loc["both@example.org", "organisations"] == f"{a_name} (and 1 other)"
    assert table.loc["both@example.org", "organisation_ids"] == (two_councils["a"],)
    assert table.loc["both@example.org", "local_password"]
    assert not table.loc["staff@a.example", "local_password"]
    assert table.loc["staff@a.example", "staff_group"].endswith(": Housing")
    assert list(names) == [two_councils["a"]]


def by_email(users: tuple[read.admin.AdminUser, ...]) -> pd.DataFrame:
    return pd.DataFrame([asdict(user) for user in users]).set_index("email")


def test_staff_group_table_counts_users_stakeholders_and_milestone_impacts(
    two_councils: dict[str, Any],
) -> None:
    engine = two_councils["engine"]
    pid = factories.programme(engine, two_councils["a"])
    factories.stakeholder(engine, pid, staff_group_id=two_councils["group_a"])
    factories.staff_group(engine, two_councils["a"], name="Unused")
    with db.read_session(engine) as session:
        table = read.admin.staff_group_table(session=session, organisation_id=two_councils["a"])
    counts = pd.DataFrame([asdict(group) for group in table]).set_index("name")
    counts = counts[["users", "stakeholders", "milestone_impacts"]]
    assert counts.loc["Housing"].tolist() == [1, 1, 0]
    assert counts.loc["Unused"].tolist() == [0, 0, 0]


def test_audit_count_and_events_filter_in_the_database(sqlite_engine: Engine) -> None:
    org = factories.organisation(sqlite_engine)
    with db.write_session(sqlite_engine, actor=OTHER) as session:
        organisations.create_staff_group(
            session=session,
            viewer=SYSTEM,
            data=records.validated(StaffGroupCreate, {"organisation_id": org, "name": "Aa"}),
        )
    today = clock.today()
    everything = read.admin.AuditFilter(since=today, until=today)
    by_other = read.admin.AuditFilter(since=today, until=today, actor=OTHER)
    about_org = read.admin.AuditFilter(
        since=today, until=today, record_type="organisation", record_id=str(org)
    )
    past = read.admin.AuditFilter(since=today - dt.timedelta(days=9), until=today - dt.timedelta(1))
    with db.read_session(sqlite_engine) as session:
        counts = [
            read.admin.audit_count(session=session, viewer=SYSTEM, where=where)
            for where in (everything, by_other, about_org, past)
        ]
        events = read.admin.audit_events(session=session, viewer=SYSTEM, where=by_other)
        with pytest.raises(DomainError):
            read.admin.audit_count(
                session=session,
                viewer=SYSTEM,
                where=read.admin.AuditFilter(since=today, until=past.since),
            )
    assert counts == [2, 1, 1, 0]
    assert events[0].changes.startswith("name: Aa; organisation id:")


def test_changes_text_reads_each_changed_field_and_never_shows_a_password_hash() -> None:
    before = json.dumps({"id": 3, "title": "Old", "version": 1, "password_hash": "$argon2id$a"})
    after = json.dumps({"id": 3, "title": "New", "version": 2, "password_hash": "$argon2id$b"})
    assert (
        read.admin.changes_text("update", before, after) == "password: replaced; title: Old → New"
    )
    created = read.admin.changes_text("create", None, after)
    assert created == "password: (set); title: New"
    assert "argon2" not in read.admin.changes_text("delete", before, None)
    erased = json.dumps({"records_changed": {"stakeholder": 1, "engagement": 2}})
    assert read.admin.changes_text("erase", None, erased).endswith(
        "3 records rewritten, 0 audit events redacted"
    )


def test_sign_in_attempts_of_people_outside_the_admins_organisations_are_not_shown(
    two_councils: dict[str, Any],
) -> None:
    engine, viewer = two_councils["engine"], two_councils["viewer"]
    for email in ("staff@a.example", "manager@b.example", "both@example.org", "who@x.example"):
        record_attempt(engine, email)
    today = clock.today()
    with db.read_session(engine) as session:
        shown = read.admin.sign_in_attempts(
            session=session, viewer=viewer, where=read.admin.SignInFilter(today, today)
        )
        count = read.admin.sign_in_count(
            session=session, viewer=viewer, where=read.admin.SignInFilter(today, today)
        )
    assert {a.email for a in shown} == {"staff@a.example", "both@example.org", "who@x.example"}
    assert count == 3
    assert {a.outcome for a in shown} == {"Signed in", "No such account"}
