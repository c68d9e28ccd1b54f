"""The ensemble's evaluation scores exactly what the function serves: the members' averaged votes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.ensemble import average
from machbot_train.evaluate_ensemble import evaluate_ensemble, save_for_catalog
from machbot_train.tiny_models import build_tiny_classifier
from machbot_train.version_dir import read_manifest


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, emotion_sample) -> Path:
    texts, labels = emotion_sample
    root = tmp_path_factory.mktemp("data")
    (root / "emotion").mkdir()
    lines = [f"{t};{EMOTIONS[y]}" for t, y in zip(texts[:60], labels[:60], strict=True)]
    (root / "emotion" / "test.txt").write_text("\n".join(lines) + "\n")
    return root


def test_ensemble_accuracy_matches_the_served_vote(tmp_path: Path, data_dir: Path) -> None:
    members = [build_tiny_classifier(tmp_path, mid, mid) for mid in ("bert", "distilbert", "electra")]
    result = evaluate_ensemble(members, data_dir=data_dir, report_dir=tmp_path / "reports", latency_samples=10)

    lines = (data_dir / "emotion" / "test.txt").read_text().splitlines()
    served = [EmotionClassifier(read_manifest(d), d) for d in members]
    hits = sum(average([c(line.rpartition(";")[0]) for c in served]).label == line.rpartition(";")[2] for line in lines)
    assert result["int8"]["accuracy"] == pytest.approx(hits / len(lines))
    assert result["members"] == {"bert": "tiny-1", "distilbert": "tiny-1", "electra": "tiny-1"}
    assert (tmp_path / "reports" / "classifiers" / "ensemble.png").is_file()

    saved = json.loads(save_for_catalog(result, tmp_path).read_text())
    assert saved["members"] == result["members"] and saved["metrics"]["accuracy"] == round(hits / len(lines), 4)


def test_one_member_is_not_an_ensemble(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(ValueError, match="at least two"):
        evaluate_ensemble([build_tiny_classifier(tmp_path, "bert", "bert")], data_dir=data_dir)
