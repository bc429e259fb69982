"""The demo portfolio: three organisations, five programmes at different points of the six
stages, and the work, people and numbers around them, loaded from the files in data/demo/
(data/README.md describes them).

The files are written as of a reference date (`as_of` in portfolio.json) and moved to today
(tracker.clock) when loaded, so the demo never goes stale: every date moves by the days from
the reference date to today, except metric readings, which are monthly and stay on the 1st,
moving by whole months. Each programme file is an exchange document, imported by
tracker.io.exchange.import_programme as a user's file would be; the organisations, their staff
groups and the demo accounts go through the organisation services. It is all one audited write
session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tracker import clock, db
from tracker.access import system_viewer
from tracker.figures import month_start
from tracker.io import exchange
from tracker.models import Programme
from tracker.models.organisation import OrganisationCreate, StaffGroupCreate, UserCreate
from tracker.seed.accounts import DEMO_DATA, read_json
from tracker.seed.accounts import DemoUser as DemoUser
from tracker.seed.accounts import demo_accounts as demo_accounts
from tracker.services import organisations, records

DEMO_ACTOR = "demo@system"

DEMO_USERS: tuple[DemoUser, ...] = demo_accounts()


@dataclass(frozen=True)
class Portfolio:
    """The demo files of a folder: the reference date they are written as of, the programme
    codes in loading order, the organisations (exchange "organisation" objects) and accounts."""

    as_of: dt.date
    codes: tuple[str, ...]
    organisations: list[dict[str, Any]]
    accounts: tuple[DemoUser, ...]
    folder: Path

    def programme(self, code: str, today: dt.date) -> dict[str, Any]:
        """The exchange document of programme `code`, its dates moved to `today`."""
        document = read_json(self.folder / "programmes" / f"{code}.json")
        assert isinstance(document, dict), f"{code}.json holds one exchange document"
        return moved_to(document, as_of=self.as_of, today=today)


def read_portfolio(folder: Path = DEMO_DATA) -> Portfolio:
    """The demo portfolio's files in `folder` (data/demo/ unless given)."""
    manifest = read_json(folder / "portfolio.json")
    orgs = read_json(folder / "organisations.json")
    assert isinstance(manifest, dict) and isinstance(orgs, list)
    return Portfolio(
        as_of=dt.date.fromisoformat(manifest["as_of"]),
        codes=tuple(manifest["programmes"]),
        organisations=orgs,
        accounts=demo_accounts(folder),
        folder=folder,
    )


DEMO_PROGRAMME_CODES: tuple[str, ...] = read_portfolio().codes


def moved_to(document: dict[str, Any], *, as_of: dt.date, today: dt.date) -> dict[str, Any]:
    """An exchange document written as of `as_of`, with its dates moved to `today`: by the
    days between them, except metric readings, which stay on the 1st and move by whole months."""
    days = today - as_of
    months = (today.year - as_of.year) * 12 + today.month - as_of.month

    def move(where: str, value: dt.date) -> dt.date:
        if where == "reading.reading_on":
            index = value.year * 12 + value.month - 1 + months
            return month_start(dt.date(index // 12, index % 12 + 1, 1))
        return value + days

    return exchange.move_dates(document, move)


# --- What seeding did ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What seed_demo wrote: counts of the records it created (all 0 when `created` is False)."""

    created: bool
    organisations: int = 0
    staff_groups: int = 0
    users: int = 0
    programmes: int = 0
    milestones: int = 0
    stakeholders: int = 0
    assessments: int = 0
    engagements: int = 0
    barriers: int = 0
    metrics: int = 0
    readings: int = 0
    narratives: int = 0
    influence_links: int = 0

    def describe(self) -> str:
        """One line for a person: what was seeded, or that nothing changed."""
        if not self.created:
            return "Demo portfolio already present: nothing changed"
        return (
            f"Demo portfolio seeded: {self.programmes} programmes, {self.milestones} milestones, "
            f"{self.stakeholders} stakeholders ({self.assessments} assessments), "
            f"{self.engagements} engagements, {self.barriers} barriers, {self.metrics} metrics "
            f"({self.readings} readings), {self.narratives} narratives, "
            f"{self.influence_links} influence links, {self.organisations} organisations, "
            f"{self.staff_groups} staff groups, {self.users} users"
        )


def seed_demo(engine: Engine, *, reset: bool = False, folder: Path = DEMO_DATA) -> DemoSummary:
    """Write the demo portfolio of `folder` (data/demo/), dated relative to today, in one
    audited transaction.

    When a demo programme code is already present, nothing changes (created False). With
    `reset`, every row of every table (the audit trail included) is deleted first, in the same
    transaction, and the demo is written afresh. The schema must already be migrated.
    Raises DomainError when existing data clashes with the demo (e.g. an organisation of the
    same name); nothing is written then.
    """
    portfolio = read_portfolio(folder)
    with db.write_session(engine, actor=DEMO_ACTOR) as session:
        if reset:
            _delete_everything(session)
        elif _demo_present(session, portfolio.codes):
            return DemoSummary(created=False)
        counts = _load(session, portfolio, clock.today())
    return DemoSummary(created=True, **counts)


def _delete_everything(session: Session) -> None:
    # Bulk deletes bypass the audit listener on purpose: the audit trail itself is being emptied.
    # The reload raises the data version, so every process reads afresh.
    connection = session.connection()
    for table in db.tables_to_empty():
        connection.execute(sa.delete(table))


def _demo_present(session: Session, codes: tuple[str, ...]) -> bool:
    query = select(Programme.id).where(col(Programme.code).in_(codes)).limit(1)
    return session.exec(query).first() is not None


def _load(session: Session, portfolio: Portfolio, today: dt.date) -> dict[str, int]:
    # The installation seeding itself: no person, so the resolver allows it everything.
    viewer = system_viewer("demo")
    counts = dict.fromkeys(_COUNTED, 0)
    organisation_ids: dict[str, int] = {}
    group_ids: dict[tuple[str, str], int] = {}
    for org in portfolio.organisations:
        created = organisations.create_organisation(
            session=session,
            viewer=viewer,
            data=records.validated(
                OrganisationCreate, {"name": org["name"], "short_name": org["short_name"]}
            ),
        )
        assert created.id is not None
        organisation_ids[org["short_name"]] = created.id
        for name in org["staff_groups"]:
            group = organisations.create_staff_group(
                session=session,
                viewer=viewer,
                data=records.validated(
                    StaffGroupCreate, {"organisation_id": created.id, "name": name}
                ),
            )
            assert group.id is not None
            group_ids[(org["short_name"], name)] = group.id
    counts["organisations"] = len(organisation_ids)
    counts["staff_groups"] = len(group_ids)
    for user in portfolio.accounts:
        organisations.create_user(
            session=session,
            viewer=viewer,
            data=records.validated(
                UserCreate,
                {
                    "email": user.email,
                    "name": user.name,
                    "role": user.role,
                    "staff_group_id": None
                    if user.staff_group is None
                    else group_ids[user.staff_group],
                },
            ),
            organisation_ids=[organisation_ids[short] for short in user.organisations],
        )
    counts["users"] = len(portfolio.accounts)
    for code in portfolio.codes:
        document = portfolio.programme(code, today)
        exchange.import_programme(
            session=session, viewer=viewer, document=document, as_written=True
        )
        for name, many in _document_counts(document).items():
            counts[name] += many
    return counts


def _document_counts(document: dict[str, Any]) -> dict[str, int]:
    """The records an exchange document creates, by DemoSummary field."""
    people = document.get("stakeholders", [])
    return {
        "programmes": 1,
        "milestones": len(document.get("milestones", [])),
        "stakeholders": len(people),
        "assessments": sum(len(person.get("assessments", [])) for person in people),
        "engagements": len(document.get("engagements", [])),
        "barriers": len(document.get("barriers", [])),
        "metrics": len(document.get("metrics", [])),
        "readings": sum(len(m.get("readings", [])) for m in document.get("metrics", [])),
        "narratives": len(document.get("narratives", [])),
        "influence_links": len(document.get("influence_links", [])),
    }


# The DemoSummary fields that count records.
_COUNTED = tuple(item.name for item in fields(DemoSummary) if item.name != "created")
