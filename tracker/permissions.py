"""Who may do what: the one permission resolver (datasette's `permission_allowed(actor, action,
resource)`). Every write service and every read of personal data asks `require(...)` here, so a
page, the command line and an import cannot differ; pages hide what the resolver refuses, and
the service refuses it too.

A decision depends on three things only:
- the viewer's role and organisations (`tracker.access.Viewer`);
- the action, one of `Action`;
- the resource's organisations: a programme's owner, its partners, and the partners with which
  it records a data-sharing agreement (`ProgrammeScope`); or a set of organisations, such as a
  user's memberships or the owner and partners an exchange file names (`Organisations`).

The viewer stands to a programme in one of three relations: its organisation owns it ("same"),
is a partner ("shared"), or neither ("other"). `tests/test_permissions.py` asserts every action
x role x relation through the services and through the pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from tracker.access import Viewer, record_refusal
from tracker.errors import NotFoundError, PermissionDeniedError
from tracker.models import Organisation, Programme, ProgrammePartner, Role
from tracker.ownership import PARENT, owner_of


class Action(StrEnum):
    """Everything a person can be allowed or refused."""

    # See a programme: its dashboards, narratives and aggregates.
    programme_read = "programme.read"
    # Keep a programme's plan current: stages, milestones, barriers, metrics, narratives.
    programme_edit = "programme.edit"
    # Make a programme owned by, or pooled with, the named organisations (create, import, add a
    # partner): only someone who acts for each of them, so nobody can push a programme into
    # another organisation's portfolio and staff news.
    programme_create = "programme.create"
    # Change who a programme is pooled with, and whether a partner may see its people.
    programme_share = "programme.share"
    # Override the suggested delivery confidence (with a reason).
    confidence_override = "confidence.override"
    # The stakeholder register: names, stance, its history, engagements and influence links.
    stakeholder_read = "stakeholder.read"
    stakeholder_edit = "stakeholder.edit"
    # What managers write about a person.
    stakeholder_notes_read = "stakeholder.notes.read"
    # Subject access and erasure of one stakeholder.
    stakeholder_erase = "stakeholder.erase"
    # Bring a programme in from an exchange file (the organisations it names: see
    # programme_create).
    exchange_import = "exchange.import"
    # Users: add, change, reset a password, deactivate.
    user_administer = "user.administer"
    # Add an organisation (its administrator administers it from then on).
    organisation_create = "organisation.create"
    # An organisation's name and staff groups.
    organisation_administer = "organisation.administer"
    # The audit trail (rows about the viewer's organisations only: see tracker.read.admin).
    audit_read = "audit.read"
    # Settings that apply to every organisation of the installation (retention, image hosts).
    installation_administer = "installation.administer"


class Relation(StrEnum):
    """How the viewer's organisations stand to a resource's."""

    same = "same"  # owns the programme; every one of the organisations is the viewer's
    shared = "shared"  # a partner of the programme; some of the organisations are the viewer's
    other = "other"  # none


@dataclass(frozen=True)
class ProgrammeScope:
    """The organisations a programme belongs to."""

    programme_id: int
    owner_id: int
    partner_ids: frozenset[int] = frozenset()
    # Partners the programme records a data-sharing agreement with: they may see its people.
    sharing_ids: frozenset[int] = frozenset()

    def relation(self, viewer: Viewer) -> Relation:
        if self.owner_id in viewer.organisation_ids:
            return Relation.same
        if self.partner_ids & viewer.organisation_ids:
            return Relation.shared
        return Relation.other

    def may_see_people(self, viewer: Viewer) -> bool:
        """The owner's organisation, or a partner with a data-sharing agreement."""
        return self.owner_id in viewer.organisation_ids or bool(
            self.sharing_ids & viewer.organisation_ids
        )


@dataclass(frozen=True)
class Organisations:
    """A set of organisations: a user's memberships, or those a file or form names."""

    ids: frozenset[int]
    # Every organisation of the installation (for installation-wide settings).
    everything: bool = False

    def relation(self, viewer: Viewer) -> Relation:
        if not self.ids:  # nothing named: only "the whole installation" when it has no others
            return Relation.same if self.everything else Relation.other
        if self.ids <= viewer.organisation_ids:
            return Relation.same
        if self.ids & viewer.organisation_ids:
            return Relation.shared
        return Relation.other


Resource = ProgrammeScope | Organisations | None

_MANAGING = frozenset({Role.admin, Role.manager})
_PLAN_ROLES = _MANAGING
_PEOPLE_ACTIONS = frozenset(
    {
        Action.stakeholder_read,
        Action.stakeholder_edit,
        Action.stakeholder_notes_read,
        Action.stakeholder_erase,
    }
)


# Why a partner's people (and their names) are not shown: the one wording, for refusals, pages
# and packs alike.
PEOPLE_HELD_BY_OWNER = (
    "This programme's stakeholders are held by its owning organisation, and no data-sharing "
    "agreement with your organisation is recorded."
)
NAMES_HELD_BY_OWNER = "No names are shown: t" + PEOPLE_HELD_BY_OWNER[1:]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


ALLOW = Decision(True)


def decide(viewer: Viewer, action: Action, resource: Resource = None) -> Decision:
    """Whether the viewer may take the action on the resource, and if not, why (a sentence for
    the person). Pure: no database, no Streamlit."""
    if viewer.system:
        return ALLOW
    role = viewer.role
    if isinstance(resource, ProgrammeScope):
        return _on_programme(viewer, action, resource)
    if action in (Action.programme_create, Action.exchange_import):
        if role not in _MANAGING:
            return Decision(False, "Only managers and administrators can create programmes.")
        if resource is None or not isinstance(resource, Organisations):
            return Decision(False, "A programme needs an owning organisation.")
        if resource.relation(viewer) is not Relation.same:
            return Decision(
                False,
                "You can create programmes only for your own organisations; "
                "a programme can name only organisations you act for as owner or partner.",
            )
        return ALLOW
    if action is Action.organisation_create:
        if role is not Role.admin:
            return Decision(False, "Only administrators can add organisations.")
        return ALLOW
    if action in (
        Action.user_administer,
        Action.organisation_administer,
        Action.audit_read,
        Action.installation_administer,
    ):
        if role is not Role.admin:
            return Decision(False, "Only administrators can do that.")
        if action is Action.audit_read and resource is None:
            return ALLOW  # the trail itself is filtered to the admin's organisations
        if not isinstance(resource, Organisations):
            return Decision(False, "That is not something an administrator can change.")
        if action is Action.installation_administer and not resource.everything:
            return Decision(False, "That setting applies to the whole installation.")
        if resource.relation(viewer) is not Relation.same:
            if action is Action.user_administer:
                return Decision(
                    False,
                    "You can change only users whose organisations are all yours to administer.",
                )
            if action is Action.installation_administer:
                return Decision(
                    False,
                    "Only an administrator of every organisation of this installation can "
                    "change a setting that applies to all of them.",
                )
            return Decision(False, "You can manage only the organisations you administer.")
        return ALLOW
    return Decision(False, "That action needs a programme.")


def _on_programme(viewer: Viewer, action: Action, scope: ProgrammeScope) -> Decision:
    relation = scope.relation(viewer)
    if relation is Relation.other:
        return Decision(False, "That programme does not exist or is not yours to see.")
    if action is Action.programme_read:
        return ALLOW
    if viewer.role not in _PLAN_ROLES:
        return Decision(False, "Only managers and administrators can change programmes.")
    if action in (Action.programme_edit,):
        return ALLOW
    if action in (Action.programme_share, Action.confidence_override):
        if relation is not Relation.same:
            return Decision(
                False,
                "Only the owning organisation's managers and administrators can do that.",
            )
        return ALLOW
    if action in _PEOPLE_ACTIONS:
        if not scope.may_see_people(viewer):
            return Decision(False, PEOPLE_HELD_BY_OWNER)
        return ALLOW
    return Decision(False, "That action does not apply to a programme.")


def allowed(viewer: Viewer, action: Action, resource: Resource = None) -> bool:
    return decide(viewer, action, resource).allowed


def require(viewer: Viewer, action: Action, resource: Resource = None) -> None:
    """PermissionDeniedError with the reason when the viewer may not; recorded in the server's
    security log."""
    decision = decide(viewer, action, resource)
    if not decision.allowed:
        record_refusal(viewer.email, f"{action.value} on {_describe(resource)}")
        raise PermissionDeniedError(None, decision.reason)


def _describe(resource: Resource) -> str:
    if isinstance(resource, ProgrammeScope):
        return f"programme {resource.programme_id}"
    if isinstance(resource, Organisations):
        return (
            "every organisation" if resource.everything else f"organisations {sorted(resource.ids)}"
        )
    return "the installation"


# --- Resources read from the database ------------------------------------------------------

_SCOPES_KEY = "tracker_programme_scopes"
_PROGRAMMES_KEY = "tracker_scoped_programmes"


def programme_scope(session: Session, programme_id: int) -> ProgrammeScope | None:
    """The programme's organisations, or None when there is no such programme. One statement
    (the programme with its partners), remembered for the rest of the session's transaction
    (forget_scope after a change of partners); the programme itself stays in the session."""
    cache: dict[int, ProgrammeScope | None] = session.info.setdefault(_SCOPES_KEY, {})
    if programme_id in cache:
        return cache[programme_id]
    rows = session.exec(
        select(Programme, ProgrammePartner.organisation_id, ProgrammePartner.data_sharing_agreement)
        .outerjoin(ProgrammePartner, col(ProgrammePartner.programme_id) == col(Programme.id))
        .where(Programme.id == programme_id)
    ).all()
    scope: ProgrammeScope | None = None
    if rows:
        # Held here: the session's identity map keeps objects only while something refers to
        # them, and require_programme hands this one back without a second statement.
        session.info.setdefault(_PROGRAMMES_KEY, {})[programme_id] = rows[0][0]
        partners = [(int(org), bool(sharing)) for _, org, sharing in rows if org is not None]
        scope = ProgrammeScope(
            programme_id=programme_id,
            owner_id=int(rows[0][0].organisation_id),
            partner_ids=frozenset(org for org, _ in partners),
            sharing_ids=frozenset(org for org, sharing in partners if sharing),
        )
    cache[programme_id] = scope
    return scope


def may_see_names(session: Session, viewer: Viewer, programme_id: int) -> bool:
    """Whether the programme's people may be named to the viewer at all (a hotspot on a
    dashboard or in a pack): the installation, the owner's organisation, or a partner under a
    data-sharing agreement."""
    scope = programme_scope(session, programme_id)
    return viewer.system or (scope is not None and scope.may_see_people(viewer))


def forget_scope(session: Session, programme_id: int) -> None:
    session.info.setdefault(_SCOPES_KEY, {}).pop(programme_id, None)
    session.info.setdefault(_PROGRAMMES_KEY, {}).pop(programme_id, None)


def require_programme(
    session: Session, viewer: Viewer, action: Action, programme_id: int | None
) -> Programme:
    """The programme if the viewer may take the action on it; otherwise PermissionDeniedError.
    A programme the viewer may not see is refused in the same words whether or not it exists,
    so a guessed id reveals nothing."""
    scope = programme_scope(session, int(programme_id)) if programme_id is not None else None
    if scope is None:
        if not viewer.system:
            record_refusal(viewer.email, f"{action.value} on programme {programme_id}")
        raise PermissionDeniedError(None, "That programme does not exist or is not yours to see.")
    require(viewer, action, scope)
    programme = session.info.get(_PROGRAMMES_KEY, {}).get(scope.programme_id)
    if programme is None:
        programme = session.get(Programme, scope.programme_id)
    assert isinstance(programme, Programme)
    return programme


def programme_of(session: Session, table: type[Any], record_id: Any) -> int | None:
    """The id of the programme a record belongs to (None when it does not exist, or belongs to
    none). Follows tracker.ownership, the map the audit trail uses too."""
    mapped = sa.inspect(table)
    keys = list(mapped.primary_key)
    if len(keys) != 1:
        raise ValueError(f"{table.__name__} has a composite key: check its parent instead")
    row = (
        session.connection()
        .execute(sa.select(mapped.local_table).where(keys[0] == record_id))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return owner_of(session.connection(), mapped.local_table.name, dict(row)).programme_id


def require_record(
    session: Session, viewer: Viewer, action: Action, table: type[Any], record_id: Any
) -> int:
    """Check the action on the programme the record belongs to; returns that programme's id.
    A record that does not exist, or that is in a programme the viewer may not see, is refused
    alike."""
    programme_id = programme_of(session, table, record_id)
    if programme_id is None:
        if viewer.system:
            raise NotFoundError(None, "That record no longer exists. Reload the page.")
        record_refusal(viewer.email, f"{action.value} on {table.__name__} {record_id}")
        raise PermissionDeniedError(
            None, "That record does not exist or is not in a programme you can change."
        )
    require_programme(session, viewer, action, programme_id)
    return programme_id


def all_organisation_ids(session: Session) -> frozenset[int]:
    return frozenset(int(i) for i in session.exec(select(Organisation.id)).all() if i is not None)


def installation(session: Session) -> Organisations:
    """Every organisation of the installation, as a resource."""
    return Organisations(all_organisation_ids(session), everything=True)


def organisations(ids: Iterable[int]) -> Organisations:
    return Organisations(frozenset(int(i) for i in ids))


def require_new(
    session: Session, viewer: Viewer, action: Action, table: type[Any], data: Mapping[str, Any]
) -> int:
    """Check the action on the programme a new record of `table` with these values would belong
    to (its programme_id, or its parent's); returns that programme's id."""
    name = sa.inspect(table).local_table.name
    owner = owner_of(session.connection(), name, dict(data))
    return require_programme(session, viewer, action, owner.programme_id).id or 0


def require_change(
    session: Session,
    viewer: Viewer,
    action: Action,
    table: type[Any],
    record_id: Any,
    changes: Mapping[str, Any] | None = None,
) -> int:
    """Check the action on the programme the record belongs to, and, when the changes would move
    it (a new programme_id or parent), on the programme it would move to. Returns the first."""
    programme_id = require_record(session, viewer, action, table, record_id)
    name = sa.inspect(table).local_table.name
    moves = {"programme_id", *(column for _, column in [PARENT.get(name, ("", ""))] if column)}
    if changes and moves & set(changes):
        target = owner_of(session.connection(), name, dict(changes)).programme_id
        if target != programme_id:
            require_programme(session, viewer, action, target)
    return programme_id
