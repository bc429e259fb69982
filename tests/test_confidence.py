"""Delivery confidence (tracker/confidence.py): every rating each rule can raise and its
boundaries, how the suggestion and its deciding rule are chosen, the overrides a manager records,
and docs/delivery-confidence.md agreeing with the code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from tests import factories
from tests.factories import SYSTEM
from tracker import access, confidence, db, read
from tracker.confidence import Evidence, Override, Source, effective, elapsed_share, suggest
from tracker.errors import DomainError
from tracker.models import ConfidenceOverride, DeliveryConfidence, Programme, Role
from tracker.services import programmes

GREEN = DeliveryConfidence.green
AMBER_GREEN = DeliveryConfidence.amber_green
AMBER = DeliveryConfidence.amber
AMBER_RED = DeliveryConfidence.amber_red
RED = DeliveryConfidence.red

TARGET = date(2026, 12, 31)
DOC = Path(__file__).resolve().parents[1] / "docs" / "delivery-confidence.md"


def evidence(**changes: Any) -> Evidence:
    """A programme no rule worries about, with `changes`."""
    calm = Evidence(
        overdue_share=0.0,
        blocked_share=0.0,
        forecast_p50=date(2026, 10, 1),
        forecast_p85=date(2026, 11, 1),
        target_end_date=TARGET,
        hotspots=0,
        hotspots_blocking=0,
        mean_attainment=None,
        elapsed_share=0.5,
        remaining=5,
    )
    return dataclasses.replace(calm, **changes)


def result_of(suggestion: confidence.Suggestion, key: str) -> confidence.RuleResult:
    (found,) = [result for result in suggestion.results if result.key == key]
    return found


# --- Each rule: each rating reached, each boundary ------------------------------------------

after = dt.timedelta(days=1)

RULE_CASES = [
    # (rule key, evidence changes, rating the rule raises)
    ("overdue_share", {"overdue_share": 0.30}, RED),
    ("overdue_share", {"overdue_share": 0.2999}, AMBER_RED),
    ("overdue_share", {"overdue_share": 0.20}, AMBER_RED),
    ("overdue_share", {"overdue_share": 0.1999}, AMBER),
    ("overdue_share", {"overdue_share": 0.10}, AMBER),
    ("overdue_share", {"overdue_share": 0.0999}, AMBER_GREEN),
    ("overdue_share", {"overdue_share": 0.05}, AMBER_GREEN),
    ("overdue_share", {"overdue_share": 0.0499}, None),
    ("overdue_share", {"overdue_share": None}, None),
    ("blocked_share", {"blocked_share": 0.40}, RED),
    ("blocked_share", {"blocked_share": 0.3999}, AMBER_RED),
    ("blocked_share", {"blocked_share": 0.25}, AMBER_RED),
    ("blocked_share", {"blocked_share": 0.2499}, AMBER),
    ("blocked_share", {"blocked_share": 0.15}, AMBER),
    ("blocked_share", {"blocked_share": 0.1499}, AMBER_GREEN),
    ("blocked_share", {"blocked_share": 0.05}, AMBER_GREEN),
    ("blocked_share", {"blocked_share": 0.0499}, None),
    ("blocked_share", {"blocked_share": None}, None),
    ("forecast", {"forecast_p50": TARGET + after, "forecast_p85": TARGET + after}, RED),
    (
        "forecast",
        {"forecast_p50": TARGET, "forecast_p85": TARGET + dt.timedelta(days=57)},
        AMBER_RED,
    ),
    ("forecast", {"forecast_p50": TARGET, "forecast_p85": TARGET + dt.timedelta(weeks=8)}, AMBER),
    ("forecast", {"forecast_p85": TARGET + after}, AMBER),
    ("forecast", {"forecast_p85": TARGET}, None),
    ("forecast", {"forecast_p50": None, "forecast_p85": None, "remaining": 1}, AMBER_GREEN),
    ("forecast", {"forecast_p50": None, "forecast_p85": None, "remaining": 0}, None),
    ("resistance", {"hotspots": 3, "hotspots_blocking": 3}, AMBER_RED),
    ("resistance", {"hotspots": 2, "hotspots_blocking": 2}, AMBER_RED),
    ("resistance", {"hotspots": 2, "hotspots_blocking": 1}, AMBER),
    ("resistance", {"hotspots": 2, "hotspots_blocking": 0}, AMBER_GREEN),
    ("resistance", {"hotspots": 0, "hotspots_blocking": 0}, None),
    ("metric_attainment", {"mean_attainment": 0.09, "elapsed_share": 0.5}, AMBER_RED),
    ("metric_attainment", {"mean_attainment": 0.10, "elapsed_share": 0.5}, AMBER),
    ("metric_attainment", {"mean_attainment": 0.29, "elapsed_share": 0.5}, AMBER),
    ("metric_attainment", {"mean_attainment": 0.30, "elapsed_share": 0.5}, None),
    # 0.7 - 0.2 is 0.49999... in floating point: still exactly 20 points, so no concern.
    ("metric_attainment", {"mean_attainment": 0.50, "elapsed_share": 0.7}, None),
    ("metric_attainment", {"mean_attainment": 1.2, "elapsed_share": 1.0}, None),
    ("metric_attainment", {"mean_attainment": None, "elapsed_share": 1.0}, None),
]


@pytest.mark.parametrize(("key", "changes", "rating"), RULE_CASES)
def test_each_rule_raises_the_rating_of_the_band_the_evidence_falls_in(
    key: str, changes: dict[str, Any], rating: DeliveryConfidence | None
) -> None:
    suggestion = suggest(evidence(**changes))
    assert result_of(suggestion, key).rating is rating
    # Every other rule is calm, so this rule alone decides.
    assert suggestion.rating is (rating or GREEN)
    assert (suggestion.deciding.key if suggestion.deciding else None) == (key if rating else None)


def test_every_rating_on_the_scale_can_be_suggested() -> None:
    reached = {suggest(evidence(**changes)).rating for _key, changes, _rating in RULE_CASES}
    assert reached == set(DeliveryConfidence)


@pytest.mark.parametrize(
    ("changes", "key", "evidence_text", "threshold_text"),
    [
        (
            {"overdue_share": 0.14},
            "overdue_share",
            "14% of planned work is overdue",
            ">= 10% gives Amber",
        ),
        # 29.6% is shown rounded down, so the figure never crosses the 30% it did not reach.
        (
            {"overdue_share": 8 / 27},
            "overdue_share",
            "29% of planned work is overdue",
            ">= 20% gives Amber/Red",
        ),
        (
            {"overdue_share": None},
            "overdue_share",
            "Nothing planned",
            "nothing planned: no concern",
        ),
        (
            {"blocked_share": 0.02},
            "blocked_share",
            "2% of planned work is blocked",
            "below 5%: no concern",
        ),
        (
            {"forecast_p50": date(2027, 1, 4), "forecast_p85": date(2027, 3, 1)},
            "forecast",
            "P50 4 January 2027, P85 1 March 2027, target end date 31 December 2026",
            "P50 after the target end date gives Red",
        ),
        (
            {"forecast_p50": None, "forecast_p85": None, "remaining": 7},
            "forecast",
            "Cannot forecast: no milestones done recently, 7 milestones remaining",
            "no forecast while work remains gives Amber/Green",
        ),
        (
            {"hotspots": 3, "hotspots_blocking": 2},
            "resistance",
            "2 hotspots of 3 block open work",
            ">= 2 hotspots blocking open work gives Amber/Red",
        ),
        (
            {"hotspots": 1, "hotspots_blocking": 0},
            "resistance",
            "1 hotspot, who blocks no open work",
            "hotspots blocking no open work gives Amber/Green",
        ),
        (
            {"hotspots": 3, "hotspots_blocking": 0},
            "resistance",
            "3 hotspots, none of whom blocks open work",
            "hotspots blocking no open work gives Amber/Green",
        ),
        (
            {"hotspots": 3, "hotspots_blocking": 1},
            "resistance",
            "1 hotspot of 3 blocks open work",
            ">= 1 hotspot blocking open work gives Amber",
        ),
        (
            {"mean_attainment": 0.25, "elapsed_share": 0.6},
            "metric_attainment",
            "Metrics are 25% of the way to target with 60% of the programme's time gone "
            "(35 points behind)",
            "more than 20 points behind time elapsed gives Amber",
        ),
        (
            {"mean_attainment": None},
            "metric_attainment",
            "No metric readings yet",
            "nothing to compare: no concern",
        ),
    ],
)
def test_each_rule_says_what_it_found_and_which_band_applied(
    changes: dict[str, Any], key: str, evidence_text: str, threshold_text: str
) -> None:
    result = result_of(suggest(evidence(**changes)), key)
    assert (result.evidence_text, result.threshold_text) == (evidence_text, threshold_text)
    assert result.description == next(
        rule.description for rule in confidence.RULES if rule.key == key
    )


# --- Choosing the rating --------------------------------------------------------------------


def test_a_programme_no_rule_worries_about_is_green_with_no_deciding_rule() -> None:
    suggestion = suggest(evidence())
    assert suggestion.rating is GREEN
    assert suggestion.deciding is None
    assert [result.key for result in suggestion.results] == [rule.key for rule in confidence.RULES]
    assert all(result.rating is None for result in suggestion.results)


def test_the_worst_rating_any_rule_raises_is_suggested_and_its_rule_decides() -> None:
    suggestion = suggest(
        evidence(
            overdue_share=0.12,  # Amber
            hotspots=2,
            hotspots_blocking=2,  # Amber/Red
            mean_attainment=0.0,
            elapsed_share=0.3,  # Amber
        )
    )
    assert suggestion.rating is AMBER_RED
    assert suggestion.deciding is not None
    assert suggestion.deciding.key == "resistance"
    assert [result.rating for result in suggestion.results] == [AMBER, None, None, AMBER_RED, AMBER]


@pytest.mark.parametrize(
    ("changes", "deciding"),
    [
        # Three rules raise Amber: the first in RULES order decides.
        (
            {
                "overdue_share": 0.15,
                "forecast_p85": TARGET + after,
                "mean_attainment": 0.0,
                "elapsed_share": 0.25,
            },
            "overdue_share",
        ),
        ({"forecast_p85": TARGET + after, "hotspots": 1, "hotspots_blocking": 1}, "forecast"),
        ({"blocked_share": 0.3, "hotspots": 2, "hotspots_blocking": 2}, "blocked_share"),
    ],
)
def test_on_a_tie_the_first_rule_in_order_decides(changes: dict[str, Any], deciding: str) -> None:
    suggestion = suggest(evidence(**changes))
    assert suggestion.deciding is not None
    assert suggestion.deciding.key == deciding
    assert suggestion.deciding.rating is suggestion.rating


def test_the_rules_are_stated_once_with_their_bands_worst_first() -> None:
    keys = [rule.key for rule in confidence.RULES]
    assert keys == ["overdue_share", "blocked_share", "forecast", "resistance", "metric_attainment"]
    for rule in confidence.RULES:
        severities = [confidence.severity(band.rating) for band in rule.bands]
        assert severities == sorted(severities, reverse=True)
        assert len(set(severities)) == len(severities)
        assert set(rule.reads) <= {field.name for field in dataclasses.fields(Evidence)}
    assert [confidence.severity(rating) for rating in confidence.SCALE] == [0, 1, 2, 3, 4]
    assert confidence.SCALE[0] is GREEN and confidence.SCALE[-1] is RED


@pytest.mark.parametrize(
    ("start", "target", "today", "share"),
    [
        (date(2026, 1, 1), date(2026, 12, 31), date(2025, 12, 1), 0.0),
        (date(2026, 1, 1), date(2026, 12, 31), date(2026, 1, 1), 0.0),
        (date(2026, 1, 1), date(2026, 1, 11), date(2026, 1, 6), 0.5),
        (date(2026, 1, 1), date(2026, 12, 31), date(2026, 12, 31), 1.0),
        (date(2026, 1, 1), date(2026, 12, 31), date(2027, 6, 1), 1.0),
        (date(2026, 1, 1), date(2026, 1, 1), date(2025, 12, 31), 0.0),
        (date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 1), 1.0),
    ],
)
def test_elapsed_share_is_the_share_of_programme_time_gone_clamped_to_0_and_1(
    start: date, target: date, today: date, share: float
) -> None:
    assert elapsed_share(start=start, target=target, today=today) == share


# --- Overrides ------------------------------------------------------------------------------

SET_AT = dt.datetime(2026, 6, 15, 9, 30, tzinfo=dt.UTC)


def test_an_override_wins_over_the_suggestion_and_says_so() -> None:
    suggestion = suggest(evidence(overdue_share=0.12))
    override = Override(AMBER_RED, "Main supplier in administration", "maya@example.org", SET_AT)
    assert effective(suggestion, override) == (AMBER_RED, Source.override)
    assert effective(suggestion, None) == (AMBER, Source.suggested)
    assert (Source.override.label, Source.suggested.label) == ("Override", "Suggested")


def test_the_explanation_gives_the_rating_shown_and_why_in_words() -> None:
    suggestion = suggest(evidence(overdue_share=0.12))
    explained = confidence.explain(suggestion, None)
    assert (explained.rating, explained.source) == (AMBER, Source.suggested)
    assert explained.reason == "12% of planned work is overdue (>= 10% gives Amber)"
    assert explained.summary == explained.reason
    assert explained.suggested_sentence(strong=lambda s: f"**{s}**") == (
        "Suggested: **Amber**, because 12% of planned work is overdue (>= 10% gives Amber): "
        "the rule on overdue work sets the rating."
    )
    assert explained.override_sentence() == "No override: the suggested rating stands."
    assert [r.name for r in explained.rules if r.deciding] == ["Overdue work"]
    assert [r.evidence for r in explained.rules] == [r.evidence_text for r in suggestion.results]


def test_the_explanation_of_an_override_shows_it_beside_the_suggestion() -> None:
    suggestion = suggest(evidence(overdue_share=0.12))
    override = Override(AMBER_RED, "Main supplier in administration", "maya@example.org", SET_AT)
    explained = confidence.explain(suggestion, override)
    assert (explained.rating, explained.source) == (AMBER_RED, Source.override)
    assert explained.summary == "Override: Main supplier in administration (suggested Amber)"
    assert explained.override_sentence(text=str.upper) == (
        "Overridden to Amber/Red by MAYA@EXAMPLE.ORG on 15 June 2026. "
        "Reason: MAIN SUPPLIER IN ADMINISTRATION"
    )


def test_a_green_explanation_says_no_rule_raises_a_concern() -> None:
    explained = confidence.explain(suggest(evidence()), None)
    assert explained.reason is None
    assert explained.summary == "No rule raises a concern"
    assert explained.suggested_sentence() == "Suggested: Green, as no rule raises a concern."
    assert not any(r.deciding for r in explained.rules)


def leader_of(engine: Engine, programme_id: int) -> access.Viewer:
    """A leadership viewer of the programme's organisation."""
    with db.read_session(engine) as session:
        organisation_id = programmes.records.get(session, Programme, programme_id).organisation_id
    email = f"leader{programme_id}@example.org"
    factories.user(engine, [organisation_id], role=Role.leadership, email=email)
    with db.read_session(engine) as session:
        viewer = access.load_viewer(session, email=email)
    assert viewer is not None
    return viewer


def record_override(engine: Engine, programme_id: int, rating: str, reason: str, by: str) -> None:
    with db.write_session(engine, actor=by) as session:
        programmes.override_confidence(
            session=session,
            viewer=SYSTEM,
            programme_id=programme_id,
            rating=rating,
            reason=reason,
            set_by=by,
        )


def overrides_of(engine: Engine, programme_id: int) -> list[ConfidenceOverride]:
    with db.read_session(engine) as session:
        return list(
            session.exec(
                select(ConfidenceOverride).where(ConfidenceOverride.programme_id == programme_id)
            ).all()
        )


@pytest.mark.parametrize("reason", ["", "          ", "Too short", "  Too short  "])
def test_an_override_needs_a_reason_of_at_least_ten_characters_and_writes_nothing_without(
    engine: Engine, reason: str
) -> None:
    pid = factories.programme(engine)
    with pytest.raises(DomainError) as refused:
        record_override(engine, pid, "red", reason, "maya@example.org")
    assert refused.value.field == "reason"
    assert overrides_of(engine, pid) == []
    with db.read_session(engine) as session:
        suggestion, override = read.programme.confidence_for(
            session=session, programme_id=pid, today=factories.TODAY
        )
    assert override is None


def test_an_override_is_recorded_with_who_when_and_why_and_the_latest_stands(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = factories.programme(engine)
    # Half the open work overdue: the suggestion is Red.
    factories.milestone(engine, pid, due_date=date(2026, 6, 1), weight=2)
    factories.milestone(engine, pid, due_date=date(2026, 9, 30), weight=2)
    before = dt.datetime.now(dt.UTC)
    record_override(
        engine, pid, "amber", "Supplier has caught up since the last board", "dev@x.org"
    )
    record_override(
        engine, pid, "amber_red", "  Catch-up plan not yet agreed by finance  ", "maya@x.org"
    )
    after_both = dt.datetime.now(dt.UTC)

    recorded = sorted(overrides_of(engine, pid), key=lambda row: row.id or 0)
    assert [(row.rating, row.set_by) for row in recorded] == [
        (AMBER, "dev@x.org"),
        (AMBER_RED, "maya@x.org"),
    ]
    assert recorded[1].reason == "Catch-up plan not yet agreed by finance"
    assert all(before <= row.set_at.astimezone(dt.UTC) <= after_both for row in recorded)

    with db.read_session(engine) as session:
        suggestion, override = read.programme.confidence_for(
            session=session, programme_id=pid, today=factories.TODAY
        )
    assert suggestion.rating is RED
    assert override is not None
    assert (override.rating, override.reason, override.set_by) == (
        AMBER_RED,
        "Catch-up plan not yet agreed by finance",
        "maya@x.org",
    )
    assert override.set_at.astimezone(dt.UTC) == recorded[1].set_at.astimezone(dt.UTC)
    assert effective(suggestion, override) == (AMBER_RED, Source.override)

    with db.read_session(engine) as session:
        frame = read.portfolio.portfolio_dashboard(
            session=session, viewer=leader_of(engine, pid), today=factories.TODAY
        )
    row = frame.iloc[0]
    assert (row["suggested"], row["suggested_label"]) == ("red", "Red")
    assert row["deciding_rule"] == "50% of planned work is overdue"
    assert (row["override"], row["override_reason"], row["override_by"]) == (
        "amber_red",
        "Catch-up plan not yet agreed by finance",
        "maya@x.org",
    )
    assert row["override_at"].astimezone(dt.UTC) == recorded[1].set_at.astimezone(dt.UTC)
    assert (row["confidence"], row["confidence_label"]) == ("amber_red", "Amber/Red")


def test_an_override_of_a_missing_programme_is_refused(engine: Engine) -> None:
    with pytest.raises(DomainError):
        record_override(engine, 999_999, "red", "A reason long enough", "maya@x.org")
    with db.read_session(engine) as session:
        assert session.exec(select(sa.func.count()).select_from(ConfidenceOverride)).one() == 0


# --- The documentation agrees with the code -------------------------------------------------


def section(heading: str) -> str:
    """The text of the document's section under `heading`, up to the next heading."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_document_states_every_rule_and_band_the_code_applies() -> None:
    text = section("The rules and their bands")
    for rule in confidence.RULES:
        row = next(
            (line for line in text.splitlines() if line.startswith(f"| `{rule.key}` |")), None
        )
        assert row is not None, f"no table row for {rule.key}"
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        by_rating = dict(zip(["Red", "Amber/Red", "Amber", "Amber/Green"], cells[2:], strict=True))
        stated = {label: cell for label, cell in by_rating.items() if cell != "—"}
        assert stated == {band.rating.label: band.condition for band in rule.bands}, rule.key
    table_keys = re.findall(r"^\| `(\w+)` \|", text, flags=re.MULTILINE)
    assert table_keys == [rule.key for rule in confidence.RULES]
    assert f"{confidence.FORECAST_SLACK_WEEKS} weeks" in text
    scale = section("The scale")
    for rating in DeliveryConfidence:
        assert f"| {rating.label} | `{rating.value}` |" in scale
    evidence_names = re.findall(r"`(\w+)`", section("The evidence"))
    assert set(evidence_names) == {field.name for field in dataclasses.fields(Evidence)}


def test_the_documents_worked_example_is_what_the_code_suggests() -> None:
    example = Evidence(
        overdue_share=6 / 40,
        blocked_share=0 / 40,
        forecast_p50=date(2026, 12, 14),
        forecast_p85=date(2027, 1, 21),
        target_end_date=date(2026, 12, 31),
        hotspots=1,
        hotspots_blocking=0,
        mean_attainment=(0.4 + 0.2) / 2,
        elapsed_share=elapsed_share(
            start=date(2026, 1, 1), target=date(2026, 12, 31), today=date(2026, 7, 1)
        ),
        remaining=6,
    )
    suggestion = suggest(example)
    text = section("Worked example")
    for result in suggestion.results:
        rating = result.rating.label if result.rating else "—"
        assert (
            f"| `{result.key}` | {result.evidence_text} | {result.threshold_text} | {rating} |"
            in text
        ), result.key
    assert suggestion.rating is AMBER
    assert suggestion.deciding is not None
    assert suggestion.deciding.key == "overdue_share"
