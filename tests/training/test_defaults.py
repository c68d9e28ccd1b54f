"""The entry functions' bookkeeping: versions, finished runs, teacher choice, placeholders."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from machbot_fn.labels import CLASSIFIER_IDS, REPLIER_ID
from machbot_train.defaults import RebuildError, best_teacher, build_placeholders, next_version, run_finished
from machbot_train.version_dir import read_manifest, verify_files


def _fake_run(runs: Path, arch: str, macro_f1: float, finished: bool) -> None:
    best = runs / arch / "best"
    best.mkdir(parents=True)
    (best / "training.json").write_text(json.dumps({"val": {"macro_f1": macro_f1}}))
    log = "12:00:00 epoch 1: ...\n" + ("12:10:00 done: best val acc 0.9 macro-F1 0.9\n" if finished else "")
    (runs / arch / "train.log").write_text(log)


def test_best_teacher_picks_the_best_finished_run(tmp_path: Path) -> None:
    _fake_run(tmp_path, "bert", 0.88, finished=True)
    _fake_run(tmp_path, "roberta", 0.95, finished=False)  # better, but still training: not a teacher yet
    _fake_run(tmp_path, "electra", 0.90, finished=True)
    assert best_teacher(tmp_path) == tmp_path / "electra" / "best"
    assert run_finished(tmp_path / "bert") and not run_finished(tmp_path / "roberta")


def test_best_teacher_falls_back_to_interrupted_runs(tmp_path: Path) -> None:
    _fake_run(tmp_path, "bert", 0.90, finished=False)
    _fake_run(tmp_path, "distilbert", 0.88, finished=False)
    assert best_teacher(tmp_path) == tmp_path / "bert" / "best"


def test_best_teacher_without_runs_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RebuildError, match="no trained classifier"):
        best_teacher(tmp_path)


def test_next_version_counts_up(tmp_path: Path) -> None:
    day = time.strftime("%Y%m%d", time.gmtime())
    assert next_version(tmp_path, "bert") == f"{day}-1"
    (tmp_path / "bert" / f"{day}-1").mkdir(parents=True)
    assert next_version(tmp_path, "bert") == f"{day}-2"


def test_placeholders_for_all_six_models(tmp_path: Path) -> None:
    built = build_placeholders(tmp_path)
    assert set(built) == {*CLASSIFIER_IDS, REPLIER_ID}
    for model_id, version_dir in built.items():
        manifest = read_manifest(version_dir)
        assert manifest.id == model_id and not manifest.trained
        assert verify_files(version_dir) == []
        assert (tmp_path / model_id / "CURRENT").read_text().strip() == "tiny-1"


def test_a_distilled_model_records_its_teacher_by_architecture_and_epoch(tmp_path: Path) -> None:
    from machbot_train.classifier import describe_teacher
    from machbot_train.evaluate import teacher_name

    best = tmp_path / "bert" / "best"
    best.mkdir(parents=True)
    record = {"val": {"macro_f1": 0.68, "epoch": 1}, "provenance": {"arch": "bert"}}
    (best / "training.json").write_text(json.dumps(record))
    teacher = describe_teacher(best)
    assert teacher == {"path": str(best), "arch": "bert", "epoch": 1, "val_macro_f1": 0.68}
    assert teacher_name(teacher) == "bert"
    assert teacher_name("/work/runs/electra/best") == "electra"  # manifests written before the teacher was described
    assert describe_teacher(tmp_path / "gone") == {"path": str(tmp_path / "gone")}
