"""`machbot rebuild` end to end on finished (tiny) runs: export, evaluate, install, ensemble, report.

Training itself is covered by its own tests; here the runs directory holds tiny models saved the
way training saves them, so the one rebuild command's other steps all run for real, in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from machbot_fn.admin.publish import read_local_version
from machbot_fn.labels import CLASSIFIER_IDS, ENSEMBLE_ID, REPLIER_ID
from machbot_fn.models.reply_pool import POOL_FILE, ReplyPool
from machbot_train.defaults import RECIPES, rebuild_all
from machbot_train.embedder import build_tiny_embedder
from machbot_train.export import build_tiny_classifier, build_tiny_replier
from machbot_train.reply_pool import build_pool_version
from machbot_train.tiny_models import tiny_classifier_model, tiny_replier_model, tiny_unigram, tiny_wordpiece


def _finished_run(run_dir: Path, model, tokenizer, val: dict) -> None:
    best = run_dir / "best"
    model.save_pretrained(best)
    tokenizer.save(str(best / "tokenizer.json"))
    (best / "training.json").write_text(json.dumps({"val": val, "provenance": {"init": "tiny random (test)"}}))
    (run_dir / "train.log").write_text(f"00:00:00 {run_dir.name} epoch 1: val ...\n00:00:01 done: best val\n")


def test_rebuild_installs_every_default_model_with_metrics_and_a_report(
    tmp_path: Path, mini_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MACHBOT_DATA", str(mini_data_dir))
    runs, root, reports = tmp_path / "runs", tmp_path / "models", tmp_path / "reports"
    wordpiece = tiny_wordpiece()
    for model_id in CLASSIFIER_IDS:
        arch = RECIPES[model_id].arch
        model = tiny_classifier_model(arch, wordpiece.get_vocab_size())
        _finished_run(runs / arch, model, wordpiece, {"macro_f1": 0.2, "accuracy": 0.3})
    unigram = tiny_unigram()
    _finished_run(runs / REPLIER_ID, tiny_replier_model(unigram.get_vocab_size()), unigram, {"val_loss": 6.0})

    embedder = build_tiny_embedder(tmp_path / "embedder")
    built = rebuild_all(
        root=root, runs_dir=runs, version="t-1", train_missing=False, report_dir=reports, embedder_dir=embedder
    )

    assert set(built) == {*CLASSIFIER_IDS, REPLIER_ID}
    for model_id, version_dir in built.items():
        assert (root / model_id / "CURRENT").read_text().strip() == "t-1"
        manifest = read_local_version(version_dir)  # checksums and schema, as publishing checks them
        assert manifest.trained and manifest.format == "onnx-int8"
        key = "accuracy" if manifest.is_classifier else "distinct_2"
        assert 0 <= manifest.metrics[key] <= 1
        if manifest.is_classifier:  # calibrated on validation, scored on the five test sets
            assert manifest.calibration["temperature"] > 0 and 0 <= manifest.calibration["unsure_below"] < 1
            assert 0 <= manifest.metrics["chat_macro_f1"] <= 1 and 0 <= manifest.metrics["meld_macro_f1"] <= 1
    ensemble = json.loads((root / "ensemble.json").read_text())
    assert ensemble["members"] == dict.fromkeys(CLASSIFIER_IDS, "t-1") and "accuracy" in ensemble["metrics"]
    table = (reports / "classifiers.md").read_text()
    assert table.count("`t-1`") == len(CLASSIFIER_IDS) and "| Ensemble `bert@t-1+" in table
    assert ENSEMBLE_ID in (reports / "classifiers.json").read_text() and (reports / "replier" / "t5.md").is_file()
    chat = (reports / "chat.md").read_text()
    assert chat.count("`t-1`") >= len(CLASSIFIER_IDS) and "GoEmotions → 6" in chat and "MELD → 5" in chat
    replier = read_local_version(built[REPLIER_ID])  # ships its reply pool, listed with its checksum
    assert POOL_FILE in replier.files and replier.provenance["reply_pool"]["rows"] > 0
    pool = ReplyPool.load(built[REPLIER_ID] / POOL_FILE)
    chat_figures = {m: read_local_version(built[m]).metrics["chat_macro_f1"] for m in CLASSIFIER_IDS}
    reader, version = pool.classifier.split("@")
    assert version == "t-1" and chat_figures[reader] == max(chat_figures.values())  # the best on chat read the replies
    assert pool.embedder == f"minilm@{read_local_version(embedder).version}"


def test_a_rebuilt_replier_can_ship_an_installed_pool_as_it_is(
    tmp_path: Path, mini_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MACHBOT_DATA", str(mini_data_dir))
    runs, root = tmp_path / "runs", tmp_path / "models"
    unigram = tiny_unigram()
    _finished_run(runs / REPLIER_ID, tiny_replier_model(unigram.get_vocab_size()), unigram, {"val_loss": 6.0})
    installed, _ = build_pool_version(  # an installed replier version with its pool
        build_tiny_replier(tmp_path / "installed"),
        None,
        classifier_dir=build_tiny_classifier(tmp_path / "installed", "bert", "bert", "tiny-1"),
        embedder_dir=build_tiny_embedder(tmp_path / "embedder"),
        data_dir=mini_data_dir,
    )
    shipped = installed / POOL_FILE
    rebuilt = rebuild_all(
        root=root,
        runs_dir=runs,
        version="t-2",
        models=REPLIER_ID,
        train_missing=False,
        report_dir=tmp_path / "reports",
        pool=shipped,
    )[REPLIER_ID]
    assert (rebuilt / POOL_FILE).read_bytes() == shipped.read_bytes()  # the same bytes: git stores one blob
    again, before = read_local_version(rebuilt), read_local_version(installed)  # checksums verified
    assert again.files[POOL_FILE].sha256 == before.files[POOL_FILE].sha256
    assert again.provenance["reply_pool"]["rows"] == before.provenance["reply_pool"]["rows"] > 0
