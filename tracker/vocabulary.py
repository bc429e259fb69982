"""The fixed vocabularies of the domain (shared/DOMAIN.md). Values are what the database stores."""

from __future__ import annotations

from enum import IntEnum, StrEnum


# The six cultural-change stages, in order. Titles live in tracker.stages.
class Stage(StrEnum):
    vision = "vision"
    influencers = "influencers"
    test = "test"
    equip = "equip"
    launch = "launch"
    celebrate = "celebrate"


# The five elements of the ADKAR model, in order: each a score from 1 to 5 on an assessment
# (a column of the same name).
ADKAR: tuple[str, ...] = ("awareness", "desire", "knowledge", "ability", "reinforcement")
ADKAR_LABELS: dict[str, str] = {element: element.capitalize() for element in ADKAR}


# Where a programme is in its life. Retention counts from the date it was closed.
class ProgrammeStatus(StrEnum):
    planned = "planned"
    active = "active"
    paused = "paused"
    closed = "closed"


# UK GDPR Article 6 lawful bases for holding stakeholder data.
class LawfulBasis(StrEnum):
    public_task = "public_task"
    legitimate_interests = "legitimate_interests"
    legal_obligation = "legal_obligation"
    consent = "consent"
    contract = "contract"
    vital_interests = "vital_interests"


class MilestoneStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    done = "done"
    blocked = "blocked"
    cancelled = "cancelled"


# How hard a milestone lands on a staff group.
class Impact(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


# A stakeholder's stance on the change, from active resistor to champion.
class Stance(IntEnum):
    active_resistor = -2
    passive_resistor = -1
    neutral = 0
    supporter = 1
    champion = 2

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()


class EngagementKind(StrEnum):
    meeting = "meeting"
    workshop = "workshop"
    briefing = "briefing"
    email = "email"
    survey = "survey"


# Barrier categories named in the article.
class BarrierCategory(StrEnum):
    financial = "financial"
    cultural = "cultural"
    legal_data_protection = "legal_data_protection"
    technical = "technical"
    capacity = "capacity"
    other = "other"


class BarrierKind(StrEnum):
    risk = "risk"
    issue = "issue"


class BarrierStatus(StrEnum):
    open = "open"
    mitigating = "mitigating"
    closed = "closed"


class Direction(StrEnum):
    up = "up"
    down = "down"


class Audience(StrEnum):
    staff = "staff"
    leadership = "leadership"
    everyone = "everyone"


class NarrativeStatus(StrEnum):
    draft = "draft"
    published = "published"


# The five-point delivery confidence scale used by UK government assurance, best first.
class DeliveryConfidence(StrEnum):
    green = "green"
    amber_green = "amber_green"
    amber = "amber"
    amber_red = "amber_red"
    red = "red"

    @property
    def label(self) -> str:
        return {
            "green": "Green",
            "amber_green": "Amber/Green",
            "amber": "Amber",
            "amber_red": "Amber/Red",
            "red": "Red",
        }[self.value]


# What a spreadsheet import brings in: one kind of record per file.
class ImportKind(StrEnum):
    programmes = "programmes"
    milestones = "milestones"
    stakeholders = "stakeholders"
    assessments = "assessments"
    readings = "readings"


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    leadership = "leadership"
    staff = "staff"

    @property
    def label(self) -> str:
        """The role as the interface names it, e.g. "Leadership"."""
        return self.value.capitalize()


class AuditAction(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"
    # A stakeholder was erased (right to erasure): the event says only that it happened.
    erase = "erase"
    # Somebody exported everything held about a stakeholder (subject access): who, and when.
    subject_access = "subject_access"

    @property
    def label(self) -> str:
        """What the audit trail calls the action, e.g. "Changed"."""
        return _AUDIT_ACTION_LABELS[self]


_AUDIT_ACTION_LABELS = {
    AuditAction.create: "Created",
    AuditAction.update: "Changed",
    AuditAction.delete: "Deleted",
    AuditAction.erase: "Erased",
    AuditAction.subject_access: "Exported (subject access)",
}
