"""Where a person appears (DOMAIN.md "Data protection"), on the read side: the map of where a
stakeholder can be named, WHERE_A_PERSON_APPEARS, the one finder of the passages that name them,
and everything a subject access request finds about them (RELIABILITY.md #11, #21). Nothing here
writes: erasure and retention, which rewrite what this finds, are the rules in `tracker.privacy`;
the subject access file's formats are `tracker.io.subject_access`. docs/data-protection.md says
what is kept where.

Where a person can appear is one map, WHERE_A_PERSON_APPEARS: each table of programme data and
how its rows reach their programme; the free-text columns are read from the models. One finder
(`find_mentions`) looks, in the stakeholder's own programme only, for every name they have had
(whole, and each part of 3 letters or more, as whole words, in any case), their roles and notes,
in every free-text column and in the audit copies of those records. Erasure rewrites what it
finds; a subject access export lists the same passages, so the two cannot disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from tracker import audit, clock, permissions
from tracker.access import Viewer
from tracker.errors import NotFoundError, PermissionDeniedError
from tracker.models import (
    Assessment,
    Engagement,
    EngagementStakeholder,
    InfluenceLink,
    Milestone,
    MilestoneDependency,
    Organisation,
    Programme,
    StaffGroup,
    Stakeholder,
    Stance,
)
from tracker.ownership import PARENT
from tracker.vocabulary import ADKAR, key_words

ERASED = "[erased]"
ANOTHER_STAKEHOLDER = "another stakeholder"
# The stakeholder's fields that are about the person; everything else is numbers and keys.
PERSONAL_FIELDS = ("name", "role", "notes", "relationship_owner")
_ERASED_NAME = re.compile(r"Erased stakeholder \d+")

# --- Where a person can appear ------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """How a row of one table belongs to a programme: `column` holds the programme's id, or (with
    `parent`) the id of a row of `parent`, which belongs to the programme in its own way."""

    column: str
    parent: str | None = None


# Every table of programme data in which a person can be named, and how its rows reach their
# programme. The map decides only the scope (which programme's records an erasure or a subject
# access request looks at); which columns are free text is read from the models
# (`text_columns`), so a new text column is covered without touching the map, and a new table
# with text must be added here or to NOT_PROGRAMME_DATA (tests/test_read_privacy.py fails until it
# is). The audit copies (before/after) of these records are searched too: those about the same
# programme's records, whether the record still exists or not.
def _reach(table: str) -> Reach:
    # How a record reaches its programme is tracker.ownership's map, shared with the permission
    # resolver and the audit trail.
    if table == "programme":
        return Reach("id")
    if table in PARENT:
        parent, column = PARENT[table]
        return Reach(column, parent)
    return Reach("programme_id")


WHERE_A_PERSON_APPEARS: Mapping[str, Reach] = MappingProxyType(
    {
        table: _reach(table)
        for table in (
            "programme",
            "stakeholder",  # other stakeholders' notes, relationship owner
            "assessment",
            "engagement",
            "narrative",
            "barrier",
            "milestone",
            "stage_record",
            "exit_criterion",
            "metric",
            "metric_reading",
            "confidence_override",
        )
    }
)
# Tables whose text is not programme data (people who sign in, organisations and their groups,
# settings, sign-in bookkeeping): an erasure of a stakeholder does not rewrite them or their
# audit copies.
NOT_PROGRAMME_DATA = frozenset(
    {
        "app_user",
        "organisation",
        "staff_group",
        "user_organisation",
        "import_mapping",
        "setting",
        "audit_event",
        "data_version",
        "sign_in_attempt",
        "user_session",
    }
)
# Columns never rewritten when the erased person's name occurs in them: another stakeholder's
# own name and role are that person's identity, and a programme code is a key.
_KEPT = {"stakeholder": frozenset({"name", "role"}), "programme": frozenset({"code"})}
# Audit events of these record types can be about one stakeholder (besides their own record).
_LINKS = ("assessment", "influence_link", "engagement_stakeholder", "milestone_dependency")
BATCH = 1000
# Parts of a name that are titles, not the person: never looked for on their own.
_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lord", "lady", "cllr", "rev"}
)
# How much text around a match a subject access passage shows, each side (in characters).
_CONTEXT = 80


def text_columns(table_name: str) -> tuple[str, ...]:
    """The free-text columns of a table that an erasure may rewrite, read from the models:
    every text column except the ones kept (another stakeholder's name and role, a programme's
    code)."""
    kept = _KEPT.get(table_name, frozenset())
    return tuple(
        column.name
        for column in _table(table_name).columns
        if is_text(column) and column.name not in kept
    )


def name_terms(name: str) -> list[str]:
    """What is looked for of one name: the whole name, then each part of it with 3 letters or
    more (split at spaces and hyphens, titles such as "Mrs" left out). "Priya Shah" gives
    ["Priya Shah", "Priya", "Shah"]; "Al Li" only ["Al Li"]."""
    whole = " ".join(name.split())
    if len(whole) < 2:
        return []
    terms = [whole]
    for word in whole.split(" "):
        for piece in (word, *word.split("-")):
            part = re.sub(r"^\W+|\W+$", "", piece)
            letters = sum(character.isalpha() for character in part)
            if letters >= 3 and part.casefold() not in _TITLES and part not in terms:
                terms.append(part)
    return terms


def _table(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


def is_erased_name(name: str) -> bool:
    """True for the name an erasure gives a stakeholder ("Erased stakeholder 3")."""
    return _ERASED_NAME.fullmatch(name) is not None


def personal_values(values: Mapping[str, Any]) -> dict[str, str]:
    """The personal fields of a stakeholder's column values that still hold something."""
    found: dict[str, str] = {}
    for name in PERSONAL_FIELDS:
        value = values.get(name)
        if not isinstance(value, str) or not value.strip() or value == ERASED:
            continue
        if name == "name" and is_erased_name(value):
            continue
        found[name] = value
    return found


def matcher(needles: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for all needles, longest first, each matched as whole words
    (so "Shah" does not match in "Shahid"; Python's \\w knows every alphabet) and with any run
    of white space where the needle has a space."""
    parts = []
    for needle in sorted(set(needles), key=lambda n: (-len(n), n)):
        left = r"(?<!\w)" if re.match(r"\w", needle[0]) else ""
        right = r"(?!\w)" if re.match(r"\w", needle[-1]) else ""
        body = r"\s+".join(re.escape(word) for word in needle.split())
        parts.append(f"{left}{body}{right}")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def is_text(column: sa.Column[Any]) -> bool:
    """A column of free text (not an enum's value)."""
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, sa.String) and not isinstance(kind, sa.Enum)


# --- What is held about a stakeholder -----------------------------------------------------------


def stakeholder_row(connection: sa.Connection, stakeholder_id: int) -> dict[str, Any] | None:
    table = _table("stakeholder")
    row = connection.execute(sa.select(table).where(table.c.id == stakeholder_id)).mappings()
    found = row.first()
    return dict(found) if found is not None else None


def record_history(connection: sa.Connection, stakeholder_id: int) -> list[dict[str, Any]]:
    """Every before/after copy of the stakeholder's own record in the audit trail, oldest first."""
    events = _table("audit_event")
    copies: list[dict[str, Any]] = []
    query = (
        sa.select(events.c.before, events.c.after)
        .where(events.c.record_type == "stakeholder", events.c.record_id == str(stakeholder_id))
        .order_by(events.c.id)
    )
    for before, after in connection.execute(query):
        copies.extend(copy for copy in (audit.load_copy(before), audit.load_copy(after)) if copy)
    return copies


def programme_of(connection: sa.Connection, stakeholder_id: int) -> int | None:
    """The stakeholder's programme: from their record, or (once deleted) its last audit copy."""
    row = stakeholder_row(connection, stakeholder_id)
    if row is not None:
        return int(row["programme_id"])
    for copy in reversed(record_history(connection, stakeholder_id)):
        if isinstance(copy.get("programme_id"), int):
            return int(copy["programme_id"])
    return None


def holds_personal_data(connection: sa.Connection, stakeholder_id: int) -> bool:
    """True while the stakeholder's record, or any audit copy of it, still holds a name, role,
    notes or relationship owner (False once erased, unless someone wrote them in again)."""
    row = stakeholder_row(connection, stakeholder_id)
    if row is not None and personal_values(row):
        return True
    return any(personal_values(copy) for copy in record_history(connection, stakeholder_id))


def _needles(
    connection: sa.Connection, stakeholder_id: int, copies: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The texts to look for: every name the stakeholder has had and each part of it
    (`name_terms`), and every notes and role they have had. A role another stakeholder also
    holds ("Head of service") does not identify them and is not looked for."""
    names: set[str] = set()
    roles: set[str] = set()
    notes: set[str] = set()
    for copy in copies:
        values = personal_values(copy)
        names.update(name_terms(values.get("name", "")))
        if len(values.get("role", "").strip()) >= 3:
            roles.add(values["role"].strip())
        if len(values.get("notes", "").strip()) >= 3:
            notes.add(values["notes"].strip())
    table = _table("stakeholder")
    shared = {
        str(role).casefold()
        for (role,) in connection.execute(
            sa.select(table.c.role).where(table.c.id != stakeholder_id).distinct()
        )
    }
    roles = {role for role in roles if role.casefold() not in shared}
    return sorted(names | roles | notes)


# --- Finding the person: one finder for erasure and subject access -----------------------------


@dataclass(frozen=True)
class Mention:
    """One free-text field that names the person, with its whole text: in a record of programme
    data, or (with `audit_event_id` and `copy`, "before" or "after") in an audit copy of one."""

    record_type: str
    record_id: str
    field: str
    text: str
    audit_event_id: int | None = None
    copy: str | None = None


@dataclass(frozen=True)
class Search:
    """What to look for about one stakeholder, and where (their programme)."""

    stakeholder_id: int
    programme_id: int
    pattern: re.Pattern[str]
    # For a quick look at an audit event's raw JSON before it is parsed: the longest word of
    # each needle, as JSON writes it, case-folded (a needle can only match where it occurs).
    words: tuple[str, ...]


def search_for(
    connection: sa.Connection,
    stakeholder_id: int,
    programme_id: int,
    copies: Sequence[Mapping[str, Any]],
) -> Search | None:
    """The search for a stakeholder (`copies`: their record and its audit copies); None when
    nothing personal is left to look for."""
    needles = _needles(connection, stakeholder_id, copies)
    pattern = matcher(needles)
    if pattern is None:
        return None
    words = {
        json.dumps(max(needle.split(), key=len), ensure_ascii=False)[1:-1].casefold()
        for needle in needles
    }
    return Search(stakeholder_id, programme_id, pattern, tuple(sorted(words)))


def _in_programme(table_name: str, programme_id: int) -> sa.ColumnElement[bool]:
    """Rows of the table that belong to the programme (WHERE_A_PERSON_APPEARS)."""
    reach = WHERE_A_PERSON_APPEARS[table_name]
    table = _table(table_name)
    if reach.parent is None:
        return table.c[reach.column] == programme_id
    parent = _table(reach.parent)
    belongs = sa.select(parent.c.id).where(_in_programme(reach.parent, programme_id))
    return table.c[reach.column].in_(belongs)


class _AuditScope:
    """Whether an audit copy is about a record of the programme, including records deleted
    since: their ids are known from their own audit copies."""

    def __init__(self, connection: sa.Connection, programme_id: int) -> None:
        self._connection = connection
        self._programme_id = programme_id
        self._ids: dict[str, frozenset[int]] = {}

    def reaches(self, record_type: str, copy: Mapping[str, Any]) -> bool:
        reach = WHERE_A_PERSON_APPEARS[record_type]
        value = copy.get(reach.column)
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        if reach.parent is None:
            return value == self._programme_id
        return value in self._ids_of(reach.parent)

    def _ids_of(self, table_name: str) -> frozenset[int]:
        """Ids of the table's rows that belong to the programme, now or before they were
        deleted."""
        if table_name not in self._ids:
            table = _table(table_name)
            current = sa.select(table.c.id).where(_in_programme(table_name, self._programme_id))
            ids = {int(found) for (found,) in self._connection.execute(current)}
            events = _table("audit_event")
            query = sa.select(events.c.record_id, events.c.before, events.c.after).where(
                events.c.record_type == table_name
            )
            for record_id, before, after in self._connection.execute(query):
                if str(record_id).isdigit() and any(
                    self.reaches(table_name, copy)
                    for copy in (audit.load_copy(before), audit.load_copy(after))
                ):
                    ids.add(int(record_id))
            self._ids[table_name] = frozenset(ids)
        return self._ids[table_name]


def _mentions_in_records(connection: sa.Connection, search: Search) -> list[Mention]:
    """Every text of the programme's records that names the person (not their own record: an
    erasure clears it whole, and a subject access export shows it whole)."""
    found: list[Mention] = []
    for table_name in WHERE_A_PERSON_APPEARS:
        names = text_columns(table_name)
        if not names:
            continue
        table = _table(table_name)
        query = (
            sa.select(table.c.id, *(table.c[name] for name in names))
            .where(_in_programme(table_name, search.programme_id))
            .order_by(table.c.id)
        )
        if table_name == "stakeholder":
            query = query.where(table.c.id != search.stakeholder_id)
        for row in connection.execute(query).mappings():
            for name in names:
                text = row[name]
                if isinstance(text, str) and text and search.pattern.search(text):
                    found.append(Mention(table_name, str(row["id"]), name, text))
    return found


def own_events(stakeholder_id: int) -> sa.ColumnElement[bool]:
    events = _table("audit_event")
    return sa.and_(events.c.record_type == "stakeholder", events.c.record_id == str(stakeholder_id))


def _mentions_in_audit(connection: sa.Connection, search: Search) -> list[Mention]:
    """Every text of an audit copy of the programme's records that names the person (not the
    copies of their own record: an erasure redacts those whole)."""
    events = _table("audit_event")
    scope = _AuditScope(connection, search.programme_id)
    found: list[Mention] = []
    last = 0
    while True:
        batch = connection.execute(
            sa.select(
                events.c.id,
                events.c.record_type,
                events.c.record_id,
                events.c.before,
                events.c.after,
            )
            .where(
                events.c.id > last,
                events.c.record_type.in_(list(WHERE_A_PERSON_APPEARS)),
                sa.not_(own_events(search.stakeholder_id)),
            )
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return found
        for event_id, record_type, record_id, before, after in batch:
            last = event_id
            raw = f"{before or ''}\n{after or ''}".casefold()
            if not any(word in raw for word in search.words):
                continue
            copies = {"before": audit.load_copy(before), "after": audit.load_copy(after)}
            if not any(scope.reaches(record_type, copy) for copy in copies.values()):
                continue
            kept = _KEPT.get(record_type, frozenset())
            for side, copy in copies.items():
                for name, value in copy.items():
                    if name in kept or not isinstance(value, str) or not value:
                        continue
                    if search.pattern.search(value):
                        found.append(
                            Mention(record_type, str(record_id), name, value, event_id, side)
                        )


def find_mentions(connection: sa.Connection, search: Search) -> list[Mention]:
    """Where the person is named, outside their own record and its audit copies: what an
    erasure rewrites, and what a subject access export lists as passages."""
    return [*_mentions_in_records(connection, search), *_mentions_in_audit(connection, search)]


def require_person_data(session: Session, viewer: Viewer, programme_id: int) -> Programme:
    """The programme if the viewer may export or erase its stakeholders (the permission
    resolver's stakeholder_erase: a manager or administrator of the owning organisation, or of
    a partner under a recorded data-sharing agreement); otherwise PermissionDeniedError."""
    return permissions.require_programme(
        session, viewer, permissions.Action.stakeholder_erase, programme_id
    )


# --- Subject access -----------------------------------------------------------------------------


def _label(value: str) -> str:
    return key_words(value)


def _other_names(
    connection: sa.Connection, programme_id: int, stakeholder_id: int, own_name: str
) -> list[str]:
    """Every name another stakeholder of the programme has or had, except one that is part of
    the subject's own name (it would mangle it)."""
    table = _table("stakeholder")
    names = {
        str(name)
        for (name,) in connection.execute(
            sa.select(table.c.name).where(
                table.c.programme_id == programme_id, table.c.id != stakeholder_id
            )
        )
    }
    events = _table("audit_event")
    query = sa.select(events.c.before, events.c.after).where(
        events.c.record_type == "stakeholder", events.c.record_id != str(stakeholder_id)
    )
    for before, after in connection.execute(query):
        for copy in (audit.load_copy(before), audit.load_copy(after)):
            name = copy.get("name")
            if copy.get("programme_id") == programme_id and isinstance(name, str):
                names.add(name)
    names = {name.strip() for name in names if len(name.strip()) >= 2 and name != ERASED}
    kept = []
    for name in sorted(names):
        pattern = matcher([name])
        if pattern is not None and pattern.search(own_name) is None:
            kept.append(name)
    return kept


def _anonymised(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """`value` with other stakeholders' names replaced by "another stakeholder", recursively."""
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(ANOTHER_STAKEHOLDER, value)
    if isinstance(value, list):
        return [_anonymised(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _anonymised(item, pattern) for key, item in value.items()}
    return value


def _columns(record: SQLModel, names: Iterable[str]) -> dict[str, Any]:
    return {name: audit.json_value(getattr(record, name)) for name in names}


def _audit_about(
    connection: sa.Connection, stakeholder_id: int, engagement_ids: set[int]
) -> list[dict[str, Any]]:
    """The audit events about the stakeholder's records: their own record, their assessments,
    influence links, attendance and milestone dependencies, and the engagements they attended.
    In an influence link's copies the other party's id reads "another stakeholder"."""
    events = _table("audit_event")
    query = (
        sa.select(events)
        .where(
            sa.or_(
                sa.and_(
                    events.c.record_type == "stakeholder",
                    events.c.record_id == str(stakeholder_id),
                ),
                events.c.record_type.in_(_LINKS),
                events.c.record_type == "engagement",
            )
        )
        .order_by(events.c.id)
    )
    found: list[dict[str, Any]] = []
    for event in connection.execute(query).mappings():
        copies = [audit.load_copy(event["before"]), audit.load_copy(event["after"])]
        record_type = event["record_type"]
        if record_type in ("assessment", "engagement_stakeholder", "milestone_dependency"):
            if not any(copy.get("stakeholder_id") == stakeholder_id for copy in copies):
                continue
            if record_type == "engagement_stakeholder":
                engagement_ids.update(int(copy["engagement_id"]) for copy in copies if copy)
        elif record_type == "influence_link":
            ends = ("from_stakeholder_id", "to_stakeholder_id")
            if not any(copy.get(end) == stakeholder_id for copy in copies for end in ends):
                continue
            for copy in copies:
                for end in ends:
                    if end in copy and copy[end] != stakeholder_id:
                        copy[end] = ANOTHER_STAKEHOLDER
        found.append(
            {
                "at": audit.json_value(event["at"]),
                "actor": event["actor"],
                "action": audit.json_value(event["action"]),
                "record_type": record_type,
                "record_id": event["record_id"],
                "before": copies[0] or None,
                "after": copies[1] or None,
                "redacted": bool(event["redacted"]),
            }
        )
    # Engagements are known only once the attendance events are read: keep theirs.
    return [
        event
        for event in found
        if event["record_type"] != "engagement" or int(event["record_id"]) in engagement_ids
    ]


def _attended(session: Session, stakeholder_id: int) -> list[dict[str, Any]]:
    """The engagements the stakeholder attended, oldest first; other attendees only counted."""
    present = SQLModel.metadata.tables["engagement_stakeholder"].alias("present")
    others = (
        sa.select(sa.func.count())
        .where(
            present.c.engagement_id == col(Engagement.id),
            present.c.stakeholder_id != stakeholder_id,
        )
        .scalar_subquery()
    )
    attended = session.exec(
        select(Engagement, others)
        .join(EngagementStakeholder, col(EngagementStakeholder.engagement_id) == Engagement.id)
        .where(EngagementStakeholder.stakeholder_id == stakeholder_id)
        .order_by(col(Engagement.occurred_on), col(Engagement.id))
    ).all()
    names = ("id", "occurred_on", "kind", "summary", "outcome", "follow_up_on", "follow_up_done")
    return [
        _columns(engagement, names) | {"other_attendees": [ANOTHER_STAKEHOLDER] * int(count)}
        for engagement, count in attended
    ]


def _links(session: Session, stakeholder_id: int) -> list[dict[str, Any]]:
    """Who influences the stakeholder and whom they influence; the other party anonymous."""
    found = session.exec(
        select(InfluenceLink)
        .where(
            sa.or_(
                col(InfluenceLink.from_stakeholder_id) == stakeholder_id,
                col(InfluenceLink.to_stakeholder_id) == stakeholder_id,
            )
        )
        .order_by(col(InfluenceLink.id))
    )
    return [
        {
            "id": link.id,
            "direction": (
                "influences them"
                if link.to_stakeholder_id == stakeholder_id
                else "is influenced by them"
            ),
            "other": ANOTHER_STAKEHOLDER,
            "strength": link.strength,
        }
        for link in found
    ]


def subject_of(
    session: Session, viewer: Viewer, stakeholder_id: int
) -> tuple[dict[str, Any], Programme, bool]:
    """The stakeholder's column values (from their record, or once deleted from the audit
    trail's last copy of it), their programme, and whether the record still exists; refused
    unless the viewer manages the programme."""
    if not viewer.can_manage:
        raise PermissionDeniedError(
            None, "Only managers and administrators can export a stakeholder's data."
        )
    stakeholder = session.get(Stakeholder, stakeholder_id)
    if stakeholder is not None:
        values = {name: getattr(stakeholder, name) for name in Stakeholder.model_fields}
    else:
        # Deleted: what is still held about them is the audit trail's copies.
        copies = record_history(session.connection(), stakeholder_id)
        if not copies:
            raise NotFoundError(None, "That stakeholder does not exist.")
        values = copies[-1]
    programme = require_person_data(session, viewer, int(values["programme_id"]))
    return values, programme, stakeholder is not None


def passages(text: str, pattern: re.Pattern[str]) -> list[str]:
    """The passages of `text` around each match: up to _CONTEXT characters either side, widened
    to whole words, overlapping ones joined; "…" where the text goes on."""
    windows: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        start, end = max(0, match.start() - _CONTEXT), min(len(text), match.end() + _CONTEXT)
        for _ in range(20):
            if start == 0 or text[start - 1].isspace():
                break
            start -= 1
        for _ in range(20):
            if end == len(text) or text[end].isspace():
                break
            end += 1
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return [
        f"{'…' if start > 0 else ''}{text[start:end].strip()}{'…' if end < len(text) else ''}"
        for start, end in windows
    ]


def _mention_rows(session: Session, stakeholder_id: int, programme_id: int) -> list[dict[str, Any]]:
    """Every passage outside the person's own record that names them: exactly what an erasure
    would rewrite (the same search, `find_mentions`), one row per passage."""
    connection = session.connection()
    row = stakeholder_row(connection, stakeholder_id)
    copies = [*([row] if row else []), *record_history(connection, stakeholder_id)]
    search = search_for(connection, stakeholder_id, programme_id, copies)
    if search is None:
        return []
    return [
        {
            "record_type": mention.record_type,
            "record_id": mention.record_id,
            "field": mention.field,
            "held_in": (
                "the record"
                if mention.audit_event_id is None
                else f"audit event {mention.audit_event_id} ({mention.copy} the change)"
            ),
            "passage": passage,
        }
        for mention in find_mentions(connection, search)
        for passage in passages(mention.text, search.pattern)
    ]


def subject_access_export(
    *, session: Session, viewer: Viewer, stakeholder_id: int
) -> dict[str, Any]:
    """Everything held about one stakeholder (RELIABILITY.md #11, #21), as JSON-ready data:
    their record, every assessment, the engagements they attended (other attendees only
    counted, as "another stakeholder"), their influence links (the other party "another
    stakeholder"), the milestones that depend on them, the programme's title and lawful basis,
    the audit events about their records, and every passage elsewhere in the programme's data
    or its audit copies that names them (`mentions`: what an erasure would rewrite). Other
    stakeholders' names are replaced by "another stakeholder" in every text. A deleted
    stakeholder's export holds what the audit trail still keeps about them. Only managers and
    administrators of the programme (`require_person_data`). Writes nothing:
    `tracker.io.subject_access.subject_access_file` also records the export in the audit
    trail."""
    values, programme, current = subject_of(session, viewer, stakeholder_id)
    connection = session.connection()
    organisation = session.get(Organisation, programme.organisation_id)
    group_id = values.get("staff_group_id")
    group = session.get(StaffGroup, group_id) if group_id is not None else None
    person = {
        "id": stakeholder_id,
        "record": "current" if current else "deleted (only audit copies are held)",
        **{
            name: audit.json_value(values.get(name))
            for name in ("name", "role", "influence", "interest")
        },
        "stance": values.get("stance"),
        "stance_label": Stance(int(values.get("stance") or 0)).label,
        "desired_stance": values.get("desired_stance"),
        "desired_stance_label": Stance(int(values.get("desired_stance") or 0)).label,
        "staff_group": group.name if group else None,
        "relationship_owner": values.get("relationship_owner"),
        "notes": values.get("notes"),
    }
    assessments = [
        _columns(
            assessment,
            ("id", "assessed_on", "stance", "influence", "interest", *ADKAR, "assessed_by"),
        )
        | {"stance_label": Stance(assessment.stance).label}
        for assessment in session.exec(
            select(Assessment)
            .where(Assessment.stakeholder_id == stakeholder_id)
            .order_by(col(Assessment.assessed_on), col(Assessment.id))
        )
    ]
    attended = _attended(session, stakeholder_id)
    links = _links(session, stakeholder_id)
    milestones = [
        _columns(milestone, ("id", "title", "stage", "due_date", "status"))
        for milestone in session.exec(
            select(Milestone)
            .join(MilestoneDependency, col(MilestoneDependency.milestone_id) == Milestone.id)
            .where(MilestoneDependency.stakeholder_id == stakeholder_id)
            .order_by(col(Milestone.due_date), col(Milestone.id))
        )
    ]
    engagement_ids = {int(engagement["id"]) for engagement in attended}
    export: dict[str, Any] = {
        "export": {
            "kind": "subject access request",
            "generated_on": clock.today().isoformat(),
            "stakeholder_id": stakeholder_id,
            "note": (
                f'Other people are shown as "{ANOTHER_STAKEHOLDER}". Stance runs from -2 '
                "(active resistor) to +2 (champion); influence and interest from 1 to 5."
            ),
        },
        "programme": {
            "code": programme.code,
            "title": programme.title,
            "organisation": organisation.name if organisation else None,
            "lawful_basis": audit.json_value(programme.lawful_basis),
            "lawful_basis_label": _label(str(audit.json_value(programme.lawful_basis))),
        },
        "stakeholder": person,
        "assessments": assessments,
        "engagements": attended,
        "influence_links": links,
        "milestones_depending_on_them": milestones,
        "audit_events": _audit_about(connection, stakeholder_id, engagement_ids),
        "mentions": _mention_rows(session, stakeholder_id, programme.id or 0),
    }
    own_name = str(values.get("name") or "")
    other_names = _other_names(connection, programme.id or 0, stakeholder_id, own_name)
    return dict(_anonymised(export, matcher(other_names)))


def programmes_past_retention(
    *, session: Session, programme_ids: Iterable[int], stakeholder_ids: Iterable[int]
) -> list[dict[str, Any]]:
    """The programmes a retention run would reach (code, title, organisation, organisation_id,
    closed_on), oldest closed first, each with how many of `stakeholder_ids` it still holds."""
    due = sa.select(sa.func.count()).where(
        col(Stakeholder.programme_id) == col(Programme.id),
        col(Stakeholder.id).in_(list(stakeholder_ids)),
    )
    query = (
        sa.select(
            col(Programme.code),
            col(Programme.title),
            col(Organisation.name).label("organisation"),
            col(Programme.organisation_id),
            col(Programme.closed_on),
            due.scalar_subquery().label("stakeholders"),
        )
        .join(Organisation, col(Organisation.id) == col(Programme.organisation_id))
        .where(col(Programme.id).in_(list(programme_ids)))
        .order_by(col(Programme.closed_on), col(Programme.code))
    )
    return [dict(row) for row in session.execute(query).mappings()]
