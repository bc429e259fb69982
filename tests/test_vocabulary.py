"""The fixed vocabularies and their labels (tracker/vocabulary.py), in one place that pure rules
import without loading the tables."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tracker import vocabulary as v


def test_the_vocabulary_loads_no_table() -> None:
    code = "import sys, tracker.vocabulary; print('tracker.models' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("member", "label"),
    [
        (v.MilestoneStatus.in_progress, "In progress"),
        (v.Role.leadership, "Leadership"),
        (v.Stage.influencers, "Influencers"),
        (v.DeliveryConfidence.amber_green, "Amber/Green"),
        (v.DeliveryConfidence.amber, "Amber"),
        (v.BarrierCategory.legal_data_protection, "Legal and data protection"),
        (v.AuditAction.update, "Changed"),
        (v.AuditAction.subject_access, "Exported (subject access)"),
        (v.SignInMethod.sso, "Single sign-on"),
        (v.SignInOutcome.throttled, "Refused: too many failures"),
        (v.Stance.passive_resistor, "Passive resistor"),
    ],
)
def test_each_member_has_its_label(member: v.Vocabulary | v.Stance, label: str) -> None:
    assert member.label == label


def test_every_label_override_names_a_real_member() -> None:
    for vocabulary, labels in v.LABELS.items():
        assert set(labels) <= {member.value for member in vocabulary}, vocabulary


def test_the_adkar_elements_are_in_order_with_their_labels() -> None:
    assert v.ADKAR == ("awareness", "desire", "knowledge", "ability", "reinforcement")
    assert [v.ADKAR_LABELS[element] for element in v.ADKAR] == [
        "Awareness",
        "Desire",
        "Knowledge",
        "Ability",
        "Reinforcement",
    ]
