"""The permission matrix's cells, shared by the service tests (tests/test_permissions.py) and the
page tests (tests/test_permission_pages.py): every action x role x relation, with what a person
of that role should be able to do. The expectations are written out here by hand, from
DOMAIN.md and RELIABILITY.md #4, #5 and #18, not computed by the resolver they test.

Relations, on the demo portfolio (a viewer who belongs to one organisation only):
- same: the viewer's organisation owns the programme (Northmoor, NCC-ASC-ONLINE);
- shared: it is a partner with a data-sharing agreement (Northmoor on Eastbrook's
  EDC-SHARED-PLAT);
- shared_no_agreement: a partner without one (the care board on NCC-CARE-RECORD);
- other: neither (Eastbrook on NCC-ASC-ONLINE).
For users and imports the relation is of organisations: the target user's, or those an
exchange file names, are all the viewer's (same), some of them (shared) or none (other).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests import factories
from tracker import db
from tracker.io import exchange
from tracker.models import Organisation, Programme, Role, StaffGroup, Stakeholder

ROLES = (Role.admin, Role.manager, Role.leadership, Role.staff)
MANAGING = {Role.admin, Role.manager}
ADMIN = {Role.admin}
NOBODY: set[Role] = set()
EVERYONE = set(ROLES)

# relation -> (the viewer's organisation, the programme)
PROGRAMME_RELATIONS = {
    "same": ("NCC", "NCC-ASC-ONLINE"),
    "shared": ("NCC", "EDC-SHARED-PLAT"),
    "shared_no_agreement": ("NICB", "NCC-CARE-RECORD"),
    "other": ("EDC", "NCC-ASC-ONLINE"),
}
# relation -> (the viewer's organisation, the organisations named: a user's, or a file's
# owner first and then its partners)
ORGANISATION_RELATIONS = {
    "same": ("NCC", ("NCC",)),
    "shared": ("NCC", ("NCC", "EDC")),
    "other": ("NCC", ("EDC",)),
}

# action -> relation -> the roles that may take it.
EXPECTED: dict[str, dict[str, set[Role]]] = {
    "programme.read": {
        "same": EVERYONE,
        "shared": EVERYONE,
        "shared_no_agreement": EVERYONE,
        "other": NOBODY,
    },
    "programme.edit": {
        "same": MANAGING,
        "shared": MANAGING,
        "shared_no_agreement": MANAGING,
        "other": NOBODY,
    },
    "programme.share": {
        "same": MANAGING,
        "shared": NOBODY,
        "shared_no_agreement": NOBODY,
        "other": NOBODY,
    },
    "confidence.override": {
        "same": MANAGING,
        "shared": NOBODY,
        "shared_no_agreement": NOBODY,
        "other": NOBODY,
    },
    **{
        action: {
            "same": MANAGING,
            "shared": MANAGING,
            "shared_no_agreement": NOBODY,
            "other": NOBODY,
        }
        for action in (
            "stakeholder.read",
            "stakeholder.notes.read",
            "stakeholder.edit",
            "stakeholder.erase",
        )
    },
    "audit.read": {
        "same": ADMIN,
        "shared": ADMIN,
        "shared_no_agreement": NOBODY,
        "other": NOBODY,
    },
    "exchange.import": {"same": MANAGING, "shared": NOBODY, "other": NOBODY},
    "user.administer": {"same": ADMIN, "shared": NOBODY, "other": NOBODY},
}
ORGANISATION_ACTIONS = {"exchange.import", "user.administer"}


@dataclass(frozen=True)
class Cell:
    action: str
    role: Role
    relation: str

    @property
    def allowed(self) -> bool:
        return self.role in EXPECTED[self.action][self.relation]

    @property
    def id(self) -> str:
        return f"{self.action}-{self.role.value}-{self.relation}"


CELLS = [
    Cell(action, role, relation)
    for action, relations in EXPECTED.items()
    for relation, role in itertools.product(relations, ROLES)
]


@dataclass(frozen=True)
class World:
    """What one cell acts on, in a demo database."""

    email: str  # the viewer: one organisation, one role
    programme_id: int
    programme_code: str
    stakeholder_id: int  # a stakeholder of that programme
    named: tuple[int, ...]  # organisation ids named (organisation relations)
    named_short: tuple[str, ...]
    target_user_id: int  # a user whose organisations are `named`
    target_email: str


def organisation_ids(engine: Engine) -> dict[str, int]:
    with db.read_session(engine) as session:
        return {
            org.short_name: int(org.id or 0) for org in session.exec(select(Organisation)).all()
        }


def make_world(engine: Engine, cell: Cell, tag: str = "") -> World:
    """A viewer of the cell's role in the cell's organisation (and, for organisation relations,
    a user in the organisations named), added to a demo database."""
    orgs = organisation_ids(engine)
    if cell.action in ORGANISATION_ACTIONS:
        mine, named_short = ORGANISATION_RELATIONS[cell.relation]
        code = "NCC-ASC-ONLINE"
    else:
        mine, code = PROGRAMME_RELATIONS[cell.relation]
        named_short = (mine,)
    with db.read_session(engine) as session:
        programme = session.exec(select(Programme).where(Programme.code == code)).one()
        stakeholder = session.exec(
            select(Stakeholder).where(Stakeholder.programme_id == programme.id)
        ).first()
        group = session.exec(
            select(StaffGroup).where(StaffGroup.organisation_id == orgs[mine])
        ).first()
    assert stakeholder is not None and group is not None
    email = f"{cell.role.value}.{mine.lower()}{tag}@matrix.example"
    factories.user(
        engine,
        [orgs[mine]],
        role=cell.role,
        email=email,
        name=f"Matrix {cell.role.value.title()}",
        staff_group_id=group.id if cell.role is Role.staff else None,
    )
    named = tuple(orgs[short] for short in named_short)
    target_email = f"target.{cell.id}{tag}@matrix.example"
    target = factories.user(engine, list(named), role=Role.manager, email=target_email)
    return World(
        email=email,
        programme_id=int(programme.id or 0),
        programme_code=code,
        stakeholder_id=int(stakeholder.id or 0),
        named=named,
        named_short=named_short,
        target_user_id=target,
        target_email=target_email,
    )


def exchange_document(session: Session, world: World, code: str) -> dict[str, Any]:
    """A copy of the cell's programme as an exchange document under `code`, owned by and shared
    with the organisations the cell names."""
    document = exchange.export_programme(
        session=session, viewer=factories.SYSTEM, programme_id=world.programme_id
    )
    document["programme"]["code"] = code
    owner, *partners = world.named_short
    document["programme"]["organisation"] = owner
    document["programme"]["partners"] = partners
    listed = {org["short_name"] for org in document["organisations"]}
    for org in session.exec(select(Organisation)).all():
        if org.short_name in world.named_short and org.short_name not in listed:
            document["organisations"].append(
                {"name": org.name, "short_name": org.short_name, "staff_groups": []}
            )
    return document
