"""Delivery confidence (shared/DOMAIN.md, "Derived figures"): a suggested rating on the five-point
scale from stated rules over a programme's figures, always with the why.

Pure: no session, no I/O. `tracker.read.programme` gathers the `Evidence`; `suggest` applies
every rule in
`RULES` and takes the worst rating any of them raises; `effective` lets a manager's override win.
Every threshold is a module constant below, and docs/delivery-confidence.md states the same rules
(a test checks that every rule key and band appears there).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from tracker.vocabulary import DeliveryConfidence, key_words
from tracker.words import date_words

__all__ = [
    "ATTAINMENT_LAG_BANDS",
    "BLOCKED_SHARE_BANDS",
    "BLOCKING_HOTSPOT_BANDS",
    "FORECAST_SLACK_WEEKS",
    "NEEDS_DECISION",
    "OVERDUE_SHARE_BANDS",
    "RULES",
    "SCALE",
    "Band",
    "Evidence",
    "Explanation",
    "Override",
    "Rule",
    "RuleResult",
    "RuleRow",
    "Source",
    "Suggestion",
    "effective",
    "needs_decision",
    "elapsed_share",
    "explain",
    "rule_name",
    "severity",
    "suggest",
]

GREEN = DeliveryConfidence.green
AMBER_GREEN = DeliveryConfidence.amber_green
AMBER = DeliveryConfidence.amber
AMBER_RED = DeliveryConfidence.amber_red
RED = DeliveryConfidence.red

# The scale, best first.
SCALE: tuple[DeliveryConfidence, ...] = (GREEN, AMBER_GREEN, AMBER, AMBER_RED, RED)

# --- Thresholds: every number the rules use -------------------------------------------------

# Share of planned work (by weight, milestones not cancelled) that is overdue:
# (at least this share, rating), worst first.
OVERDUE_SHARE_BANDS: tuple[tuple[float, DeliveryConfidence], ...] = (
    (0.30, RED),
    (0.20, AMBER_RED),
    (0.10, AMBER),
    (0.05, AMBER_GREEN),
)
# Share of planned work (by weight, milestones not cancelled) that is blocked. Blocked work
# that stays blocked soon shows as overdue too, so blocking alone stops short of Red unless it
# is most of what is left.
BLOCKED_SHARE_BANDS: tuple[tuple[float, DeliveryConfidence], ...] = (
    (0.40, RED),
    (0.25, AMBER_RED),
    (0.15, AMBER),
    (0.05, AMBER_GREEN),
)
# How far the P85 forecast may run past the target end date before Amber becomes Amber/Red.
FORECAST_SLACK_WEEKS = 8
# Resistance hotspots blocking open milestones: (at least this many, rating), worst first; the
# last band must start at 1. Hotspots who block nothing yet still raise Amber/Green.
BLOCKING_HOTSPOT_BANDS: tuple[tuple[int, DeliveryConfidence], ...] = ((2, AMBER_RED), (1, AMBER))
# Metric attainment behind the share of programme time elapsed, in percentage points:
# (more than this many points behind, rating), worst first.
ATTAINMENT_LAG_BANDS: tuple[tuple[int, DeliveryConfidence], ...] = ((40, AMBER_RED), (20, AMBER))


def severity(rating: DeliveryConfidence) -> int:
    """0 for Green up to 4 for Red: higher is worse."""
    return SCALE.index(rating)


# --- Evidence -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """The figures of one programme that the rules read, as of one day.

    overdue_share, blocked_share: weight of overdue (blocked) milestones over the weight of
    milestones not cancelled, in [0, 1]; None when nothing is planned. Measured against all
    planned work, not only the open part, so a nearly finished programme with one late item is
    not judged as harshly as one that is late across the board.
    forecast_p50, forecast_p85: figures.forecast_finish dates, None when it cannot forecast.
    target_end_date: the programme's target end date.
    hotspots: resistance hotspots (influence >= 4, stance <= -1); hotspots_blocking: those of
    them on whom an open (not done, not cancelled) milestone depends.
    mean_attainment: mean metric attainment from latest readings (1.0 = target met), None with
    no readings. elapsed_share: share of programme time gone, in [0, 1] (see elapsed_share).
    remaining: milestones neither done nor cancelled.
    """

    overdue_share: float | None
    blocked_share: float | None
    forecast_p50: dt.date | None
    forecast_p85: dt.date | None
    target_end_date: dt.date
    hotspots: int
    hotspots_blocking: int
    mean_attainment: float | None
    elapsed_share: float
    remaining: int


def elapsed_share(*, start: dt.date, target: dt.date, today: dt.date) -> float:
    """(today - start) / (target - start), clamped to [0, 1]. A programme whose target end date is
    its start date has used all its time from that day on (1.0), and none before it (0.0)."""
    if target <= start:
        return 1.0 if today >= start else 0.0
    return min(1.0, max(0.0, (today - start).days / (target - start).days))


# --- Rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """One rating a rule can raise and the condition for it, e.g. (Amber, ">= 10%")."""

    rating: DeliveryConfidence
    condition: str

    @property
    def text(self) -> str:
        """e.g. ">= 10% gives Amber"."""
        return f"{self.condition} gives {self.rating.label}"


@dataclass(frozen=True)
class RuleResult:
    """What one rule found: its evidence in words (e.g. "14% of planned work is overdue"), the band
    that applied (e.g. ">= 10% gives Amber", or why there is no concern) and the rating it raises
    (None when it raises no concern)."""

    key: str
    description: str
    evidence_text: str
    threshold_text: str
    rating: DeliveryConfidence | None


@dataclass(frozen=True)
class _Finding:
    evidence_text: str
    band: Band | None
    no_concern: str = ""


@dataclass(frozen=True)
class Rule:
    """A stated rule: its key, what it checks in plain English, the Evidence fields it reads, its
    bands (worst first) and how it judges the evidence."""

    key: str
    description: str
    reads: tuple[str, ...]
    bands: tuple[Band, ...]
    judge: Callable[[Evidence], _Finding]

    def evaluate(self, evidence: Evidence) -> RuleResult:
        """This rule applied to `evidence`."""
        finding = self.judge(evidence)
        return RuleResult(
            key=self.key,
            description=self.description,
            evidence_text=finding.evidence_text,
            threshold_text=finding.band.text if finding.band else finding.no_concern,
            rating=finding.band.rating if finding.band else None,
        )


def _whole_percent(share: float) -> int:
    """A share as whole percent, rounded down so the figure shown never crosses a threshold the
    share did not reach (29.6% shows as 29%, not as 30%)."""
    return math.floor(share * 100 + 1e-9)


def _share_bands(bands: tuple[tuple[float, DeliveryConfidence], ...]) -> tuple[Band, ...]:
    return tuple(Band(rating, f">= {_whole_percent(share)}%") for share, rating in bands)


_OVERDUE_BANDS = _share_bands(OVERDUE_SHARE_BANDS)
_BLOCKED_BANDS = _share_bands(BLOCKED_SHARE_BANDS)


def _share_rule(
    share: float | None,
    limits: tuple[tuple[float, DeliveryConfidence], ...],
    bands: tuple[Band, ...],
    what: str,
) -> _Finding:
    if share is None:
        return _Finding("Nothing planned", None, "nothing planned: no concern")
    evidence = f"{_whole_percent(share)}% of planned work is {what}"
    for (threshold, _rating), band in zip(limits, bands, strict=True):
        if share >= threshold:
            return _Finding(evidence, band)
    return _Finding(evidence, None, f"below {_whole_percent(limits[-1][0])}%: no concern")


def _overdue(evidence: Evidence) -> _Finding:
    return _share_rule(evidence.overdue_share, OVERDUE_SHARE_BANDS, _OVERDUE_BANDS, "overdue")


def _blocked(evidence: Evidence) -> _Finding:
    return _share_rule(evidence.blocked_share, BLOCKED_SHARE_BANDS, _BLOCKED_BANDS, "blocked")


_FORECAST_BANDS = (
    Band(RED, "P50 after the target end date"),
    Band(AMBER_RED, f"P85 more than {FORECAST_SLACK_WEEKS} weeks after the target end date"),
    Band(AMBER, "P85 after the target end date"),
    Band(AMBER_GREEN, "no forecast while work remains"),
)


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _forecast(evidence: Evidence) -> _Finding:
    target = evidence.target_end_date
    if evidence.remaining <= 0:
        return _Finding("No work remaining", None, "nothing left to forecast: no concern")
    if evidence.forecast_p50 is None or evidence.forecast_p85 is None:
        plural = "milestone" if evidence.remaining == 1 else "milestones"
        return _Finding(
            f"Cannot forecast: no milestones done recently, {evidence.remaining} {plural} "
            "remaining",
            _FORECAST_BANDS[3],
        )
    text = (
        f"P50 {_day(evidence.forecast_p50)}, P85 {_day(evidence.forecast_p85)}, "
        f"target end date {_day(target)}"
    )
    if evidence.forecast_p50 > target:
        return _Finding(text, _FORECAST_BANDS[0])
    if evidence.forecast_p85 > target + dt.timedelta(weeks=FORECAST_SLACK_WEEKS):
        return _Finding(text, _FORECAST_BANDS[1])
    if evidence.forecast_p85 > target:
        return _Finding(text, _FORECAST_BANDS[2])
    return _Finding(text, None, "P85 on or before the target end date: no concern")


def _hotspots(count: int) -> str:
    return f"{count} hotspot" if count == 1 else f"{count} hotspots"


_RESISTANCE_BANDS = (
    *(
        Band(rating, f">= {count} {'hotspot' if count == 1 else 'hotspots'} blocking open work")
        for count, rating in BLOCKING_HOTSPOT_BANDS
    ),
    Band(AMBER_GREEN, "hotspots blocking no open work"),
)


def _resistance(evidence: Evidence) -> _Finding:
    blocking, everyone = evidence.hotspots_blocking, evidence.hotspots
    if everyone == 0:
        return _Finding("No resistance hotspots", None, "no hotspots: no concern")
    if blocking == 0:
        who = "who blocks no open work" if everyone == 1 else "none of whom blocks open work"
        return _Finding(f"{_hotspots(everyone)}, {who}", _RESISTANCE_BANDS[-1])
    text = f"{_hotspots(blocking)} of {everyone} {'blocks' if blocking == 1 else 'block'} open work"
    for (count, _rating), band in zip(BLOCKING_HOTSPOT_BANDS, _RESISTANCE_BANDS, strict=False):
        if blocking >= count:
            return _Finding(text, band)
    raise AssertionError("unreachable: the last band starts at one blocking hotspot")


_ATTAINMENT_BANDS = tuple(
    Band(rating, f"more than {points} points behind time elapsed")
    for points, rating in ATTAINMENT_LAG_BANDS
)


def _attainment(evidence: Evidence) -> _Finding:
    attainment = evidence.mean_attainment
    if attainment is None:
        return _Finding("No metric readings yet", None, "nothing to compare: no concern")
    # Whole-number points, so 0.7 - 0.2 compares as exactly 50 and not 49.999...
    lag = round((evidence.elapsed_share - attainment) * 100, 6)
    text = (
        f"Metrics are {round(attainment * 100)}% of the way to target with "
        f"{round(evidence.elapsed_share * 100)}% of the programme's time gone"
    )
    if lag > 0:
        # Rounded up, to agree with the bands' "more than N points".
        text += f" ({math.ceil(lag)} points behind)"
    for (points, _rating), band in zip(ATTAINMENT_LAG_BANDS, _ATTAINMENT_BANDS, strict=True):
        if lag > points:
            return _Finding(text, band)
    return _Finding(
        text, None, f"no more than {ATTAINMENT_LAG_BANDS[-1][0]} points behind: no concern"
    )


RULES: tuple[Rule, ...] = (
    Rule(
        key="overdue_share",
        description="How much of the planned work (by weight) is past its due date.",
        reads=("overdue_share",),
        bands=_OVERDUE_BANDS,
        judge=_overdue,
    ),
    Rule(
        key="blocked_share",
        description="How much of the planned work (by weight) is blocked.",
        reads=("blocked_share",),
        bands=_BLOCKED_BANDS,
        judge=_blocked,
    ),
    Rule(
        key="forecast",
        description=(
            "When the remaining milestones will be done at the recent pace (P50 and P85), "
            "against the target end date."
        ),
        reads=("forecast_p50", "forecast_p85", "target_end_date", "remaining"),
        bands=_FORECAST_BANDS,
        judge=_forecast,
    ),
    Rule(
        key="resistance",
        description=(
            "Resistance hotspots (influence 4 or 5, resisting), and whether open milestones "
            "depend on them."
        ),
        reads=("hotspots", "hotspots_blocking"),
        bands=_RESISTANCE_BANDS,
        judge=_resistance,
    ),
    Rule(
        key="metric_attainment",
        description=(
            "Whether the promised metrics have moved as far towards target as the programme "
            "has moved through its time."
        ),
        reads=("mean_attainment", "elapsed_share"),
        bands=_ATTAINMENT_BANDS,
        judge=_attainment,
    ),
)


# --- The rating -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """The suggested rating, every rule's result in RULES order, and the rule that set the rating
    (the first in RULES order among those raising the worst rating; None when Green)."""

    rating: DeliveryConfidence
    results: tuple[RuleResult, ...]
    deciding: RuleResult | None


def suggest(evidence: Evidence) -> Suggestion:
    """The worst rating any rule raises, Green when none raises a concern."""
    results = tuple(rule.evaluate(evidence) for rule in RULES)
    rating = GREEN
    deciding: RuleResult | None = None
    for result in results:
        # Strictly worse only, so on a tie the earlier rule in RULES stays the deciding one.
        if result.rating is not None and (
            deciding is None or severity(result.rating) > severity(rating)
        ):
            rating, deciding = result.rating, result
    return Suggestion(rating=rating, results=results, deciding=deciding)


@dataclass(frozen=True)
class Override:
    """A manager's rating in place of the suggestion: the reason, who set it and when (UTC)."""

    rating: DeliveryConfidence
    reason: str
    set_by: str
    set_at: dt.datetime


class Source(StrEnum):
    """Where the rating shown comes from."""

    suggested = "suggested"
    override = "override"

    @property
    def label(self) -> str:
        """The interface wording: "Suggested" or "Override"."""
        return self.value.capitalize()


# Ratings that put a programme on the portfolio's "needs a decision" list.
NEEDS_DECISION: frozenset[DeliveryConfidence] = frozenset({AMBER_RED, RED})


def needs_decision(rating: DeliveryConfidence | str) -> bool:
    """True for a rating a board must decide on: Red or Amber/Red."""
    return DeliveryConfidence(rating) in NEEDS_DECISION


def effective(
    suggestion: Suggestion, override: Override | None
) -> tuple[DeliveryConfidence, Source]:
    """The rating to show and where it comes from: a manager's override wins over the suggestion;
    without one, the suggestion stands."""
    if override is not None:
        return override.rating, Source.override
    return suggestion.rating, Source.suggested


# --- The explanation: the rating shown and why, in words ------------------------------------

RULE_NAMES = {
    "overdue_share": "Overdue work",
    "blocked_share": "Blocked work",
    "forecast": "Forecast finish",
    "resistance": "Resistance hotspots",
    "metric_attainment": "Metric attainment",
}


def rule_name(key: str) -> str:
    """A rule's short name, e.g. "Overdue work" for "overdue_share"."""
    return RULE_NAMES.get(key, key_words(key))


def _sentence_middle(text: str) -> str:
    """Evidence text to follow "because": "12% of ..." stays, "Cannot forecast" becomes
    "cannot forecast", and "P50 2 June" keeps its capital."""
    if text[:1].isupper() and text[1:2].islower():
        return text[0].lower() + text[1:]
    return text


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class RuleRow:
    """One row of the rules table: a rule, its evidence, the band that applied, the rating it
    raises (None: no concern) and whether it set the suggested rating."""

    name: str
    description: str
    evidence: str
    threshold: str
    raises: DeliveryConfidence | None
    deciding: bool


@dataclass(frozen=True)
class Explanation:
    """The delivery confidence shown for a programme and why, as every screen and pack words it.

    rating: the rating shown (the override wins over the suggestion); source: where it comes
    from; suggestion and override as found; reason: the deciding rule's evidence and band, e.g.
    "12% of planned work is overdue (>= 10% gives Amber)", None when no rule raises a concern;
    rules: the rules table, in RULES order."""

    rating: DeliveryConfidence
    source: Source
    suggestion: Suggestion
    override: Override | None
    reason: str | None
    rules: tuple[RuleRow, ...]

    @property
    def summary(self) -> str:
        """The why in one line, for a table cell: the deciding rule's reason, or the override's
        reason with the rating it replaced."""
        if self.override is not None:
            return f"Override: {self.override.reason} (suggested {self.suggestion.rating.label})"
        return self.reason or "No rule raises a concern"

    @property
    def source_sentence(self) -> str:
        if self.source is Source.override:
            return "A manager's override of the suggested rating"
        return "Suggested by the rules below; no manager has overridden it"

    def suggested_sentence(
        self, *, strong: Callable[[str], str] = _same, text: Callable[[str], str] = _same
    ) -> str:
        """E.g. "Suggested: Amber, because 12% of planned work is overdue (>= 10% gives Amber):
        the rule on overdue work sets the rating." `strong` marks the rating up (bold) and
        `text` makes generated text safe for the format it is written in."""
        rating = strong(self.suggestion.rating.label)
        deciding = self.suggestion.deciding
        if deciding is None:
            return f"Suggested: {rating}, as no rule raises a concern."
        return (
            f"Suggested: {rating}, because {text(_sentence_middle(deciding.evidence_text))} "
            f"({text(deciding.threshold_text)}): the rule on "
            f"{text(rule_name(deciding.key).lower())} sets the rating."
        )

    def override_sentence(
        self, *, strong: Callable[[str], str] = _same, text: Callable[[str], str] = _same
    ) -> str:
        """Who overrode the suggestion, when and why; or that the suggestion stands. `text` makes
        the user's words (name, reason) safe for the format."""
        override = self.override
        if override is None:
            return "No override: the suggested rating stands."
        return (
            f"Overridden to {strong(override.rating.label)} by {text(override.set_by)} on "
            f"{date_words(override.set_at.date())}. Reason: {text(override.reason)}"
        )


def explain(suggestion: Suggestion, override: Override | None) -> Explanation:
    """The rating shown (`effective`) with its why and the rules table."""
    rating, source = effective(suggestion, override)
    deciding = suggestion.deciding
    return Explanation(
        rating=rating,
        source=source,
        suggestion=suggestion,
        override=override,
        reason=None
        if deciding is None
        else f"{deciding.evidence_text} ({deciding.threshold_text})",
        rules=tuple(
            RuleRow(
                name=rule_name(result.key),
                description=result.description,
                evidence=result.evidence_text,
                threshold=result.threshold_text,
                raises=result.rating,
                deciding=deciding is not None and result.key == deciding.key,
            )
            for result in suggestion.results
        ),
    )
