"""The six cultural-change stages: order, titles and what "done" looks like (DOMAIN.md)."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.vocabulary import Stage


@dataclass(frozen=True)
class StageInfo:
    stage: Stage
    number: int
    title: str
    short: str
    done_looks_like: str


STAGES: tuple[StageInfo, ...] = (
    StageInfo(
        Stage.vision,
        1,
        "Get the vision and narrative right",
        "Vision",
        "A vision statement and change narrative agreed by the sponsor.",
    ),
    StageInfo(
        Stage.influencers,
        2,
        "Engage with influencers",
        "Influencers",
        "Key influencers mapped, engaged, and moving towards support.",
    ),
    StageInfo(
        Stage.test,
        3,
        "Test the ground and make decisions",
        "Test",
        "Pilots or discovery run, decisions recorded with evidence.",
    ),
    StageInfo(
        Stage.equip,
        4,
        "Equip people with skills and resources",
        "Equip",
        "Training and resources delivered to the groups affected.",
    ),
    StageInfo(
        Stage.launch,
        5,
        "Launch the change and open the way",
        "Launch",
        "The new way of working is live; old routes closed.",
    ),
    StageInfo(
        Stage.celebrate,
        6,
        "Celebrate, reinforce and renew",
        "Celebrate",
        "Wins celebrated, adoption sustained, lessons fed back.",
    ),
)

STAGE_INFO: dict[Stage, StageInfo] = {info.stage: info for info in STAGES}


def stage_title(stage: Stage | str) -> str:
    """The stage's interface title, e.g. "Engage with influencers"."""
    return STAGE_INFO[Stage(stage)].title
