"""Each source's labels onto our six: what maps where, what is dropped, multi-label rows."""

from __future__ import annotations

import pytest

from machbot_fn.labels import EMOTIONS
from machbot_train.data import default_data_dir
from machbot_train.label_mapping import (
    DAILYDIALOG_DROPPED,
    DAILYDIALOG_TO_SIX,
    ED_TO_SIX,
    FIVE_LABELS,
    GOEMOTIONS_DROPPED,
    GOEMOTIONS_TO_SIX,
    MELD_DROPPED,
    MELD_TO_SIX,
    map_labels,
)


def test_the_issue_s_named_goemotions_groups_map_as_asked() -> None:
    for label in ("love", "caring", "desire"):
        assert GOEMOTIONS_TO_SIX[label] == "love"
    for label in ("grief", "remorse", "disappointment"):
        assert GOEMOTIONS_TO_SIX[label] == "sadness"
    assert GOEMOTIONS_TO_SIX["nervousness"] == "fear"


def test_every_goemotions_label_is_mapped_or_dropped_never_both() -> None:
    path = default_data_dir() / "goemotions" / "emotions.txt"
    if not path.is_file():
        pytest.skip("GoEmotions not present")
    names = set(path.read_text().split())
    assert len(names) == 28
    assert set(GOEMOTIONS_TO_SIX) | set(GOEMOTIONS_DROPPED) == names
    assert not set(GOEMOTIONS_TO_SIX) & set(GOEMOTIONS_DROPPED)
    assert "neutral" in GOEMOTIONS_DROPPED


@pytest.mark.parametrize(
    ("mapping", "dropped", "expected_targets"),
    [
        (GOEMOTIONS_TO_SIX, GOEMOTIONS_DROPPED, set(EMOTIONS)),
        (DAILYDIALOG_TO_SIX, DAILYDIALOG_DROPPED, set(FIVE_LABELS)),
        (MELD_TO_SIX, MELD_DROPPED, set(FIVE_LABELS)),
        (ED_TO_SIX, (), set(EMOTIONS)),
    ],
)
def test_each_source_reaches_exactly_the_labels_it_can_express(mapping, dropped, expected_targets) -> None:
    assert set(mapping.values()) == expected_targets
    assert not set(mapping) & set(dropped)


def test_dailydialog_ids_follow_its_readme() -> None:
    # 0 no emotion, 1 anger, 2 disgust, 3 fear, 4 happiness, 5 sadness, 6 surprise
    assert DAILYDIALOG_TO_SIX == {1: "anger", 2: "anger", 3: "fear", 4: "joy", 5: "sadness", 6: "surprise"}
    assert DAILYDIALOG_DROPPED == (0,)


def test_the_32_empathetic_dialogues_emotions_all_have_a_home() -> None:
    assert len(set(ED_TO_SIX) - {"surprisedacknowledging"}) == 32


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["joy"], "joy"),
        (["love", "caring"], "love"),  # several labels, one of ours: kept
        (["grief", "sadness", "remorse"], "sadness"),
        (["joy", "love"], None),  # two of ours: ambiguous, dropped
        (["sadness", "neutral"], None),  # a dropped label: the writer may have meant it
        (["admiration"], None),
        ([], None),
    ],
)
def test_multi_label_rows_are_kept_only_when_all_labels_agree(labels, expected) -> None:
    assert map_labels(labels, GOEMOTIONS_TO_SIX) == expected
