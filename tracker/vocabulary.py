"""The fixed vocabularies of the domain (shared/DOMAIN.md) with their labels, in one place.
Values are what the database stores; `.label` is how the interface and the packs name each one:
the stored key in words ("in_progress" -> "In progress") unless LABELS below says otherwise.
Nothing here imports the tables, so pure rules can use it."""

from __future__ import annotations

from enum import IntEnum, StrEnum


def key_words(key: str) -> str:
    """A stored key or field name in words: "legal_basis" -> "Legal basis"."""
    return key.replace("_", " ").capitalize()


class Vocabulary(StrEnum):
    """A fixed vocabulary whose members carry their interface label."""

    @property
    def label(self) -> str:
        return LABELS.get(type(self), {}).get(self.value) or key_words(self.value)


# The six cultural-change stages, in order. Titles live in tracker.stages.
class Stage(Vocabulary):
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
class ProgrammeStatus(Vocabulary):
    planned = "planned"
    active = "active"
    paused = "paused"
    closed = "closed"


# UK GDPR Article 6 lawful bases for holding stakeholder data.
class LawfulBasis(Vocabulary):
    public_task = "public_task"
    legitimate_interests = "legitimate_interests"
    legal_obligation = "legal_obligation"
    consent = "consent"
    contract = "contract"
    vital_interests = "vital_interests"


class MilestoneStatus(Vocabulary):
    not_started = "not_started"
    in_progress = "in_progress"
    done = "done"
    blocked = "blocked"
    cancelled = "cancelled"


# How hard a milestone lands on a staff group.
class Impact(Vocabulary):
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
        return key_words(self.name)


class EngagementKind(Vocabulary):
    meeting = "meeting"
    workshop = "workshop"
    briefing = "briefing"
    email = "email"
    survey = "survey"


# Barrier categories named in the article.
class BarrierCategory(Vocabulary):
    financial = "financial"
    cultural = "cultural"
    legal_data_protection = "legal_data_protection"
    technical = "technical"
    capacity = "capacity"
    other = "other"


class BarrierKind(Vocabulary):
    risk = "risk"
    issue = "issue"


class BarrierStatus(Vocabulary):
    open = "open"
    mitigating = "mitigating"
    closed = "closed"


class Direction(Vocabulary):
    up = "up"
    down = "down"


class Audience(Vocabulary):
    staff = "staff"
    leadership = "leadership"
    everyone = "everyone"


class NarrativeStatus(Vocabulary):
    draft = "draft"
    published = "published"


# The five-point delivery confidence scale used by UK government assurance, best first.
class DeliveryConfidence(Vocabulary):
    green = "green"
    amber_green = "amber_green"
    amber = "amber"
    amber_red = "amber_red"
    red = "red"


# What a spreadsheet import brings in: one kind of record per file.
class ImportKind(Vocabulary):
    programmes = "programmes"
    milestones = "milestones"
    stakeholders = "stakeholders"
    assessments = "assessments"
    readings = "readings"


class Role(Vocabulary):
    admin = "admin"
    manager = "manager"
    leadership = "leadership"
    staff = "staff"


class AuditAction(Vocabulary):
    create = "create"
    update = "update"
    delete = "delete"
    # A stakeholder was erased (right to erasure): the event says only that it happened.
    erase = "erase"
    # Somebody exported everything held about a stakeholder (subject access): who, and when.
    subject_access = "subject_access"


# How someone tried to sign in (tracker/signin.py).
class SignInMethod(Vocabulary):
    sso = "sso"
    local = "local"
    demo = "demo"


# What came of an attempt to sign in.
class SignInOutcome(Vocabulary):
    ok = "ok"
    wrong_password = "wrong_password"
    unknown_email = "unknown_email"
    deactivated = "deactivated"
    throttled = "throttled"


# What the figures decide (tracker/figures.py): a forecast against its target (judged on P85,
# docs/delivery-confidence.md), which way a stance index moved, and a stakeholder's place on
# Mendelow's power/interest grid.
class ForecastVerdict(Vocabulary):
    late = "late"
    on_track = "on_track"
    no_forecast = "no_forecast"


class StanceDirection(Vocabulary):
    improving = "improving"
    worsening = "worsening"
    steady = "steady"

    @property
    def symbol(self) -> str:
        """Shown beside the word, never alone: ▲ improving, ▼ worsening, ► steady."""
        return DIRECTION_SYMBOLS[self.value]

    @property
    def text(self) -> str:
        """Symbol and word, e.g. "▲ improving"."""
        return f"{self.symbol} {self.value}"


DIRECTION_SYMBOLS: dict[str, str] = {"improving": "▲", "worsening": "▼", "steady": "►"}


class Quadrant(Vocabulary):
    manage_closely = "manage_closely"
    keep_satisfied = "keep_satisfied"
    keep_informed = "keep_informed"
    monitor = "monitor"


# The labels that are not simply the stored key in words.
LABELS: dict[type[Vocabulary], dict[str, str]] = {
    DeliveryConfidence: {"amber_green": "Amber/Green", "amber_red": "Amber/Red"},
    ForecastVerdict: {"late": "At risk of finishing late", "no_forecast": "No forecast yet"},
    BarrierCategory: {"legal_data_protection": "Legal and data protection"},
    AuditAction: {
        "create": "Created",
        "update": "Changed",
        "delete": "Deleted",
        "erase": "Erased",
        "subject_access": "Exported (subject access)",
    },
    SignInMethod: {"sso": "Single sign-on", "local": "Password", "demo": "Demo account"},
    SignInOutcome: {
        "ok": "Signed in",
        "wrong_password": "Wrong password",
        "unknown_email": "No such account",
        "deactivated": "Account deactivated",
        "throttled": "Refused: too many failures",
    },
}
