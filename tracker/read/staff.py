"""What staff read: the programmes that affect them, where each is on its six-stage journey,
what changes for their staff group and when, published news, and what has been achieved.

Read-only queries (SQL aggregates, no whole-table loads) and the plain words the staff pages
show. Every viewer-scoped function sees only `staff_programme_ids(viewer)`: programmes owned by
or pooled with one of the viewer's organisations that are not closed. Nothing here reads a
stakeholder, assessment, engagement or influence table: staff never see stakeholder data
(DOMAIN.md, "Data protection").

Plain words, one definition each:
- Stage status: "Done" (an actual end date is recorded, or every planned milestone is done),
  "Happening now" (`read.programme.is_current_stage`), "Coming next" (the first stage, in
  order, that is neither of those), "Later" (the rest).
- Milestone status: "Done"; "Delayed" for a blocked milestone or one past its due date and not
  done (to staff both mean "this lands later than we said"); "In progress"; "Planned" (not
  started and not yet due). Cancelled milestones are never shown to staff.
- Impact on a staff group: "Big change" (high), "Some change" (medium), "Small change" (low).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import Executable
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from tracker import figures, read, words
from tracker.access import Viewer, visible_programme_ids
from tracker.models import (
    Audience,
    Impact,
    Milestone,
    MilestoneImpact,
    MilestoneStatus,
    Narrative,
    NarrativeStatus,
    Programme,
    ProgrammeStatus,
    StaffGroup,
    Stage,
)
from tracker.read.sql import add_months as _add_months
from tracker.read.sql import rows as _rows
from tracker.read.sql import sum_where as _sum_where
from tracker.stages import STAGE_INFO, STAGES

__all__ = [
    "COMING_NEXT",
    "DELAYED",
    "DONE",
    "HAPPENING_NOW",
    "IMPACT_WORDS",
    "IN_PROGRESS",
    "LATER",
    "PLANNED",
    "STAGE_FOR_STAFF",
    "Achievements",
    "DoneMilestone",
    "GroupChange",
    "MonthOfChanges",
    "MovedMetric",
    "NewsStory",
    "StaffProgramme",
    "StageStep",
    "achievements",
    "changes_by_month",
    "changes_for_group",
    "journey_summary",
    "milestone_status_words",
    "programmes_for_staff",
    "published_narratives",
    "staff_group_name",
    "staff_programme_ids",
    "stage_statuses",
    "stage_story",
]

# Stage status words.
DONE = "Done"
HAPPENING_NOW = "Happening now"
COMING_NEXT = "Coming next"
LATER = "Later"

# Milestone status words.
DELAYED = "Delayed"
IN_PROGRESS = "In progress"
PLANNED = "Planned"

IMPACT_WORDS: dict[Impact, str] = {
    Impact.high: "Big change",
    Impact.medium: "Some change",
    Impact.low: "Small change",
}

# What each stage means for staff, in plain words (the titles are the programme's own words).
STAGE_FOR_STAFF: dict[Stage, str] = {
    Stage.vision: "We agree why we are changing and what good looks like.",
    Stage.influencers: "We talk with the people others listen to, and hear their worries.",
    Stage.test: "We try out the new way with a few people and decide what works.",
    Stage.equip: "You get the training, guides and support you need.",
    Stage.launch: "The new way of working starts, and the old ways close.",
    Stage.celebrate: "We share what went well, keep it going and learn for next time.",
}

_DONE = MilestoneStatus.done
_CANCELLED = MilestoneStatus.cancelled


# --- Small helpers --------------------------------------------------------------------------


def staff_programme_ids(viewer: Viewer) -> SelectOfScalar[Any]:
    """A subquery of the programmes staff pages show this viewer: owned by or pooled with one of
    their organisations, and not closed."""
    return select(Programme.id).where(
        col(Programme.id).in_(visible_programme_ids(viewer)),
        col(Programme.status) != ProgrammeStatus.closed,
    )


def staff_group_name(*, session: Session, viewer: Viewer) -> str | None:
    """The name of the viewer's staff group, or None when they have none."""
    if viewer.staff_group_id is None:
        return None
    return session.exec(
        select(StaffGroup.name).where(StaffGroup.id == viewer.staff_group_id)
    ).first()


def _with_programme(table: type[Milestone] | type[Narrative], id_label: str, *columns: Any) -> Any:
    """SELECT the record's id (as `id_label`), its programme_id, its programme's title (as
    "programme") and `columns`, from the record joined to its programme."""
    return sa.select(
        col(table.id).label(id_label),
        col(table.programme_id),
        col(Programme.title).label("programme"),
        *columns,
    ).join(Programme, col(Programme.id) == col(table.programme_id))


# --- Stages in plain words ------------------------------------------------------------------


def stage_statuses(stages: Sequence[Mapping[str, Any]]) -> dict[Stage, str]:
    """The status word of each stage of one programme (see the module docstring).

    Each mapping has: stage (key), actual_start, actual_end (dates or None), progress (float in
    [0, 1], None when nothing is planned) and active (milestones in progress, blocked or done).
    Stages missing from `stages` count as not started.
    """
    by_stage = {Stage(row["stage"]): row for row in stages}
    statuses: dict[Stage, str] = {}
    for info in STAGES:
        row = by_stage.get(info.stage)
        if row is None:
            continue
        if read.programme.is_current_stage(
            actual_start=row["actual_start"],
            actual_end=row["actual_end"],
            progress=row["progress"],
            active=int(row["active"] or 0),
        ):
            statuses[info.stage] = HAPPENING_NOW
        elif row["actual_end"] is not None or row["progress"] == 1.0:
            statuses[info.stage] = DONE
    coming = next((info.stage for info in STAGES if info.stage not in statuses), None)
    return {
        info.stage: statuses.get(info.stage, COMING_NEXT if info.stage == coming else LATER)
        for info in STAGES
    }


def _stage_rows(
    session: Session, programme_ids: SelectOfScalar[Any] | Sequence[int], today: dt.date
) -> list[dict[str, Any]]:
    """Each stage record of these programmes with its narrative, dates, and the milestone sums
    behind progress and the current-stage rule (read.programme.stage_rows: one statement)."""
    rows = read.programme.stage_rows(session, programme_ids, today)
    for row in rows:
        row["stage"] = str(row["stage"])
        row["weight_done"] = int(row["weight_done"] or 0)
        row["weight_planned"] = int(row["weight_planned"] or 0)
        row["active"] = int(row["active"] or 0)
        row["progress"] = (
            row["weight_done"] / row["weight_planned"] if row["weight_planned"] else None
        )
    return rows


@dataclass(frozen=True)
class StageStep:
    """One stage of a programme's journey as staff read it.

    status: "Done", "Happening now", "Coming next" or "Later" (stage_statuses); planned: the
    planned months in words ("March 2026 to July 2026", or "Not planned yet" unless both dates
    are recorded); narrative: the stage's story as raw Markdown, "" when none (render it with
    tracker.safe_text.safe_markdown); story_heading: the heading its story is told under, or
    None when the story is not told (only the stages happening now or coming next, with a
    story, are)."""

    stage: Stage
    number: int
    title: str
    heading: str
    what_it_means: str
    status: str
    planned_start: dt.date | None
    planned_end: dt.date | None
    planned: str
    narrative: str
    story_heading: str | None


def stage_story(*, session: Session, programme_id: int, today: dt.date) -> tuple[StageStep, ...]:
    """Six steps, one per stage in order, telling one programme's journey in plain words (see
    StageStep). The caller checks the viewer may see the programme."""
    rows = {Stage(row["stage"]): row for row in _stage_rows(session, [programme_id], today)}
    statuses = stage_statuses(list(rows.values()))
    story = []
    for info in STAGES:
        row = rows.get(info.stage, {})
        start, end = row.get("planned_start"), row.get("planned_end")
        status = statuses[info.stage]
        narrative = row.get("narrative") or ""
        told = status in (HAPPENING_NOW, COMING_NEXT) and bool(narrative)
        story.append(
            StageStep(
                stage=info.stage,
                number=info.number,
                title=info.title,
                heading=words.stage_heading(info.stage),
                what_it_means=STAGE_FOR_STAFF[info.stage],
                status=status,
                planned_start=start,
                planned_end=end,
                planned=(
                    f"{words.month_words(start)} to {words.month_words(end)}"
                    if start is not None and end is not None
                    else "Not planned yet"
                ),
                narrative=narrative,
                story_heading=f"{status}: stage {info.number}, {info.title}" if told else None,
            )
        )
    return tuple(story)


def journey_summary(story: Sequence[StageStep]) -> list[str]:
    """Where the programme is and what comes next, as short sentences, from stage_story's steps.

    For example ["4 of 6 stages are done.", "We are working on stage 5 of 6: Launch the change
    and open the way.", "Coming next is stage 6: Celebrate, reinforce and renew.", "It is planned
    to start in March 2027."]. The planned start is only mentioned when recorded.
    """
    now = [step for step in story if step.status == HAPPENING_NOW]
    coming = [step for step in story if step.status == COMING_NEXT]
    done = [step for step in story if step.status == DONE]
    sentences: list[str] = []
    if done and len(done) < len(story):
        verb = "is" if len(done) == 1 else "are"
        sentences.append(f"{len(done)} of {len(story)} stages {verb} done.")
    if len(now) == 1:
        sentences.append(f"We are working on stage {now[0].number} of 6: {now[0].title}.")
    elif now:
        parts = [f"stage {step.number} ({step.title})" for step in now]
        sentences.append(f"We are working on {', '.join(parts[:-1])} and {parts[-1]}.")
    elif not coming:
        sentences.append("Every stage is done.")
    elif not done:
        sentences.append("We have not started yet.")
    if coming:
        step = coming[0]
        sentences.append(f"Coming next is stage {step.number}: {step.title}.")
        if step.planned_start is not None:
            sentences.append(f"It is planned to start in {words.month_words(step.planned_start)}.")
    return sentences


# --- Programmes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffProgramme:
    """A programme as the staff pages list it.

    current_stages: keys of the stages "Happening now", in stage order, joined by "," ("" when
    none); next_stage: key of the stage "Coming next" ("" when none); progress: weighted share
    of planned milestones done, in [0, 1], None when nothing is planned; changes_for_me:
    milestones neither done nor cancelled that land on the viewer's staff group (0 without a
    group); touches_my_group: any milestone not cancelled lands on the group, done ones
    included; choice_label: how a programme list names it, with the changes still to come for
    the viewer's team when there are any."""

    programme_id: int
    code: str
    title: str
    summary: str
    vision_statement: str
    current_stages: str
    next_stage: str
    progress: float | None
    changes_for_me: int
    touches_my_group: bool

    @property
    def choice_label(self) -> str:
        changes = self.changes_for_me
        if not changes:
            return self.title
        noun = "change" if changes == 1 else "changes"
        return f"{self.title} ({changes} {noun} to come for your team)"


def programmes_for_staff(
    *, session: Session, viewer: Viewer, today: dt.date
) -> tuple[StaffProgramme, ...]:
    """The programmes the staff pages show this viewer (staff_programme_ids), those that touch
    the viewer's staff group first, then by title. Three statements, however many programmes.
    The milestone sums are counted as of `today`."""
    ids = staff_programme_ids(viewer)
    programmes = _rows(
        session,
        sa.select(
            col(Programme.id).label("programme_id"),
            col(Programme.code),
            col(Programme.title),
            col(Programme.summary),
            col(Programme.vision_statement),
        ).where(col(Programme.id).in_(ids)),
    )
    stages: dict[int, list[dict[str, Any]]] = {}
    for row in _stage_rows(session, ids, today):
        stages.setdefault(row["programme_id"], []).append(row)
    mine: dict[int, dict[str, Any]] = {}
    if viewer.staff_group_id is not None:
        status = col(Milestone.status)
        statement = (
            sa.select(
                col(Milestone.programme_id),
                _sum_where(status.not_in([_DONE, _CANCELLED]), 1).label("open"),
                sa.func.count().label("touching"),
            )
            .join(MilestoneImpact, col(MilestoneImpact.milestone_id) == col(Milestone.id))
            .where(
                col(MilestoneImpact.staff_group_id) == viewer.staff_group_id,
                col(Milestone.programme_id).in_(ids),
                status != _CANCELLED,
            )
            .group_by(col(Milestone.programme_id))
        )
        mine = {row["programme_id"]: row for row in _rows(session, statement)}

    found = []
    for programme in programmes:
        programme_stages = stages.get(programme["programme_id"], [])
        statuses = stage_statuses(programme_stages)
        planned = sum(row["weight_planned"] for row in programme_stages)
        done = sum(row["weight_done"] for row in programme_stages)
        counts = mine.get(programme["programme_id"])
        found.append(
            StaffProgramme(
                programme_id=int(programme["programme_id"]),
                code=programme["code"],
                title=programme["title"],
                summary=programme["summary"] or "",
                vision_statement=programme["vision_statement"] or "",
                current_stages=",".join(
                    stage.value for stage, word in statuses.items() if word == HAPPENING_NOW
                ),
                next_stage=next(
                    (stage.value for stage, word in statuses.items() if word == COMING_NEXT), ""
                ),
                progress=done / planned if planned else None,
                changes_for_me=int(counts["open"]) if counts else 0,
                touches_my_group=counts is not None,
            )
        )
    found.sort(key=lambda row: (not row.touches_my_group, row.title, row.programme_id))
    return tuple(found)


# --- What changes for my staff group, and when ----------------------------------------------


def milestone_status_words(
    *, status: MilestoneStatus | str, due_date: dt.date, today: dt.date
) -> str:
    """A milestone's status as staff read it: "Done", "Delayed" (blocked, or past its due date
    and not done), "In progress" or "Planned". Raises ValueError for a cancelled milestone,
    which staff never see."""
    status = MilestoneStatus(status)
    if status is _CANCELLED:
        raise ValueError("status: cancelled milestones are not shown to staff")
    if status is _DONE:
        return DONE
    if status is MilestoneStatus.blocked or figures.is_overdue(
        due_date=due_date, status=status, today=today
    ):
        return DELAYED
    if status is MilestoneStatus.in_progress:
        return IN_PROGRESS
    return PLANNED


@dataclass(frozen=True)
class GroupChange:
    """A milestone that lands on the viewer's staff group, as staff read it: month is the first
    of the month it is due; impact_words per IMPACT_WORDS; status per milestone_status_words;
    due_words the due date in words ("6 March 2027")."""

    milestone_id: int
    programme_id: int
    programme: str
    stage: Stage
    stage_title: str
    milestone: str
    month: dt.date
    due_date: dt.date
    due_words: str
    impact: Impact
    impact_words: str
    status: str

    @property
    def delayed(self) -> bool:
        return self.status == DELAYED


@dataclass(frozen=True)
class MonthOfChanges:
    """The changes due in one month, under a heading such as "March 2027 (this month)"."""

    month: dt.date
    heading: str
    changes: tuple[GroupChange, ...]


def changes_by_month(
    changes: Sequence[GroupChange], *, today: dt.date
) -> tuple[MonthOfChanges, ...]:
    """`changes` grouped by the month they are due, in month order, each under its heading (the
    month in words, with "(this month)" for today's month)."""
    months: dict[dt.date, list[GroupChange]] = {}
    for change in changes:
        months.setdefault(change.month, []).append(change)
    this_month = figures.month_start(today)
    return tuple(
        MonthOfChanges(
            month=month,
            heading=words.month_words(month) + (" (this month)" if month == this_month else ""),
            changes=tuple(months[month]),
        )
        for month in sorted(months)
    )


def changes_for_group(
    *,
    session: Session,
    viewer: Viewer,
    today: dt.date,
    months_back: int = 1,
    months_ahead: int = 12,
    programme_id: int | None = None,
) -> tuple[GroupChange, ...]:
    """The milestones (not cancelled) that land on the viewer's staff group, due from the first
    of the month `months_back` months before today's to the last day of the month `months_ahead`
    months after today's, in the viewer's programmes (only `programme_id`'s when given). Ordered
    by due date, then programme and milestone title. Empty for a viewer with no staff group.
    Raises ValueError when `months_back` or `months_ahead` is negative.
    """
    if months_back < 0 or months_ahead < 0:
        raise ValueError("months_back and months_ahead must not be negative")
    if viewer.staff_group_id is None:
        return ()
    this_month = figures.month_start(today)
    conditions = [
        col(MilestoneImpact.staff_group_id) == viewer.staff_group_id,
        col(Milestone.programme_id).in_(staff_programme_ids(viewer)),
        col(Milestone.status) != _CANCELLED,
        col(Milestone.due_date) >= _add_months(this_month, -months_back),
        col(Milestone.due_date) < _add_months(this_month, months_ahead + 1),
    ]
    if programme_id is not None:
        conditions.append(col(Milestone.programme_id) == programme_id)
    statement: Executable = (
        _with_programme(
            Milestone,
            "milestone_id",
            col(Milestone.stage),
            col(Milestone.title).label("milestone"),
            col(Milestone.due_date),
            col(Milestone.status),
            col(MilestoneImpact.impact),
        )
        .join(MilestoneImpact, col(MilestoneImpact.milestone_id) == col(Milestone.id))
        .where(*conditions)
        .order_by(
            col(Milestone.due_date), col(Programme.title), col(Milestone.title), col(Milestone.id)
        )
    )
    return tuple(
        GroupChange(
            milestone_id=int(row["milestone_id"]),
            programme_id=int(row["programme_id"]),
            programme=row["programme"],
            stage=Stage(row["stage"]),
            stage_title=STAGE_INFO[Stage(row["stage"])].title,
            milestone=row["milestone"],
            month=figures.month_start(row["due_date"]),
            due_date=row["due_date"],
            due_words=words.date_words(row["due_date"]),
            impact=Impact(row["impact"]),
            impact_words=IMPACT_WORDS[Impact(row["impact"])],
            status=milestone_status_words(
                status=row["status"], due_date=row["due_date"], today=today
            ),
        )
        for row in _rows(session, statement)
    )


# --- News -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewsStory:
    """A published narrative as staff read it: body is raw Markdown (render it with
    tracker.safe_text.safe_markdown); stage_title is "" when it has no stage; byline the date
    in words, the programme and the stage, e.g. "6 March 2027 · Council tax online · Stage 3:
    Test the ground and make decisions"."""

    narrative_id: int
    programme_id: int
    programme: str
    title: str
    body: str
    stage: Stage | None
    stage_title: str
    published_on: dt.date
    byline: str


def _like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with `%`, `_` and `\\` in it taken literally
    (escaped with a backslash: use ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The NewsStory fields taken as the statement reads them.
_NEWS_AS_READ = ("narrative_id", "programme_id", "programme", "title", "body", "published_on")


def published_narratives(
    *,
    session: Session,
    viewer: Viewer,
    programme_id: int | None = None,
    stage: Stage | str | None = None,
    search: str | None = None,
    limit: int = 50,
) -> tuple[NewsStory, ...]:
    """Published narratives for staff or everyone, of the viewer's programmes, newest first (then
    the most recently written first), at most `limit` of them. Drafts and leadership-only
    narratives never appear.

    Filters: `programme_id`; `stage` (a stage key; narratives with no stage then drop out);
    `search`: the text, trimmed, found anywhere in the title or body, ignoring case (ASCII
    letters only on SQLite); `%`, `_` and `\\` match themselves. A blank search does not filter.

    Each one a NewsStory.
    """
    conditions = [
        col(Narrative.programme_id).in_(staff_programme_ids(viewer)),
        col(Narrative.status) == NarrativeStatus.published,
        col(Narrative.audience).in_([Audience.staff, Audience.everyone]),
    ]
    if programme_id is not None:
        conditions.append(col(Narrative.programme_id) == programme_id)
    if stage is not None:
        conditions.append(col(Narrative.stage) == Stage(stage))
    wanted = (search or "").strip()
    if wanted:
        pattern = _like_pattern(wanted)
        conditions.append(
            sa.or_(
                col(Narrative.title).ilike(pattern, escape="\\"),
                col(Narrative.body).ilike(pattern, escape="\\"),
            )
        )
    statement: Executable = (
        _with_programme(
            Narrative,
            "narrative_id",
            col(Narrative.title),
            col(Narrative.body),
            col(Narrative.stage),
            col(Narrative.published_on),
        )
        .where(*conditions)
        .order_by(col(Narrative.published_on).desc(), col(Narrative.id).desc())
        .limit(limit)
    )
    found = []
    for row in _rows(session, statement):
        stage = None if row["stage"] is None else Stage(row["stage"])
        info = None if stage is None else STAGE_INFO[stage]
        parts = [words.date_words(row["published_on"]), row["programme"]]
        if info is not None:
            parts.append(f"Stage {info.number}: {info.title}")
        as_read = {name: row[name] for name in _NEWS_AS_READ}
        stage_title = "" if info is None else info.title
        found.append(
            NewsStory(**as_read, stage=stage, stage_title=stage_title, byline=" · ".join(parts))
        )
    return tuple(found)


# --- Achievements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DoneMilestone:
    """A milestone finished within the achievements period."""

    title: str
    completed_date: dt.date
    stage: Stage
    stage_title: str


@dataclass(frozen=True)
class MovedMetric:
    """A metric whose latest reading has moved from its baseline towards its target.

    attainment: (latest - baseline) / (target - baseline), direction-aware, > 0 (1.0 = target
    met; figures.metric_attainment).
    """

    name: str
    unit: str
    baseline: float
    latest: float
    latest_on: dt.date
    target: float
    attainment: float

    @property
    def sentence(self) -> str:
        """E.g. "Council tax moves online: 34% to 61% (target 80%)". A unit that is a word
        already in the name ("Average days to reply", unit "days") is not repeated."""
        unit = self.unit
        if unit.isalpha() and unit.lower() in self.name.lower().split():
            unit = ""
        baseline, latest, target = (
            words.amount_text(value, unit) for value in (self.baseline, self.latest, self.target)
        )
        return f"{self.name}: {baseline} to {latest} (target {target})"


@dataclass(frozen=True)
class Achievements:
    """What one programme has achieved: milestones finished since `since` (newest first) and
    metrics that have moved towards their target (by name)."""

    since: dt.date
    milestones: tuple[DoneMilestone, ...]
    metrics: tuple[MovedMetric, ...]


def achievements(
    *,
    session: Session,
    viewer: Viewer,
    programme_id: int,
    today: dt.date,
    since_days: int = 180,
) -> Achievements:
    """The programme's milestones completed in the `since_days` days up to and including
    `today` (completed from `today - since_days`), newest first, and its metrics whose latest
    reading has moved from the baseline towards the target (attainment > 0). Empty when the
    programme is not one of the viewer's (staff_programme_ids). Raises ValueError when
    `since_days` is negative.
    """
    if since_days < 0:
        raise ValueError("since_days must not be negative")
    since = today - dt.timedelta(days=since_days)
    allowed = session.exec(
        select(Programme.id).where(
            Programme.id == programme_id, col(Programme.id).in_(staff_programme_ids(viewer))
        )
    ).first()
    if allowed is None:
        return Achievements(since=since, milestones=(), metrics=())
    completed = col(Milestone.completed_date)
    statement = (
        sa.select(col(Milestone.title), completed, col(Milestone.stage))
        .where(
            col(Milestone.programme_id) == programme_id,
            col(Milestone.status) == _DONE,
            completed >= since,
            completed <= today,
        )
        .order_by(completed.desc(), col(Milestone.title))
    )
    done = tuple(
        DoneMilestone(
            title=row["title"],
            completed_date=row["completed_date"],
            stage=Stage(row["stage"]),
            stage_title=STAGE_INFO[Stage(row["stage"])].title,
        )
        for row in _rows(session, statement)
    )
    moved = tuple(
        MovedMetric(
            name=row["name"],
            unit=row["unit"],
            baseline=float(row["baseline"]),
            latest=float(row["latest"]),
            latest_on=row["latest_on"],
            target=float(row["target"]),
            attainment=float(row["attainment"]),
        )
        for row in read.programme.metric_status(session=session, programme_id=programme_id).to_dict(
            "records"
        )
        if row["attainment"] is not None and row["attainment"] > 0
    )
    return Achievements(since=since, milestones=done, metrics=moved)
