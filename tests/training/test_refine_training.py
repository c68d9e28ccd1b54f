"""Retrieve-and-refine end to end on miniature data and tiny models: a pool built from the training
conversations, a T5 trained on sources carrying retrieved replies, exported with the prompt it reads,
evaluated on the same kind of sources, and serving through `draft` with the pool's reply in its prompt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from machbot_fn.admin.publish import read_local_version
from machbot_fn.labels import REPLIER_ID
from machbot_fn.models.classifier import Emotion
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.manifest import PROMPT_RETRIEVED
from machbot_fn.models.replier import Replier
from machbot_fn.models.reply_pool import POOL_FILE
from machbot_fn.serving.reply import FIXED, MODEL, POOL, REFINED, draft, from_pool
from machbot_train.defaults import rebuild_all
from machbot_train.embedder import build_tiny_embedder
from machbot_train.evaluate import evaluate_replier
from machbot_train.export import build_tiny_classifier, export_replier
from machbot_train.replier_train import ReplierConfig, train_replier
from machbot_train.reply_pool import add_pool_to_version, build_reply_pool
from machbot_train.version_dir import read_manifest


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, mini_data_dir: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("refine")
    classifier = build_tiny_classifier(root, "bert", "bert", "tiny-1")
    embedder = build_tiny_embedder(root)
    pool = root / "pool" / POOL_FILE
    build_reply_pool(pool, classifier_dir=classifier, embedder_dir=embedder, data_dir=mini_data_dir)
    cfg = ReplierConfig(
        out_dir=root / "runs",
        epochs=1,
        batch_size=8,
        vocab_size=300,
        size="tiny",
        limit=48,
        refine=True,
        pool=pool,
        embedder_dir=embedder,
        source_max_length=128,
        data_dir=mini_data_dir,
    )
    train_replier(cfg)
    version = export_replier(cfg.run_dir / "best", root / "models", "r-1")
    add_pool_to_version(version, pool, {"data": "miniature"})
    return {"run": cfg.run_dir, "version": version, "embedder": embedder, "data": mini_data_dir}


def test_training_reads_retrieved_replies_and_the_export_says_so(trained: dict[str, Path]) -> None:
    record = json.loads((trained["run"] / "best" / "training.json").read_text())
    assert record["provenance"]["hyperparameters"]["refine"] is True
    cached = sorted(trained["run"].glob("refine-*.json"))
    assert [p.name.split("-")[1] for p in cached] == ["train", "validation"]
    sources = [row["source"] for row in json.loads(cached[0].read_text())]
    assert sources and all(" retrieved: " in s and " context: " in s for s in sources)
    manifest = read_manifest(trained["version"])
    assert manifest.generation["prompt"] == PROMPT_RETRIEVED and manifest.max_length == 128
    assert Replier(manifest, trained["version"]).refines


def test_the_served_reply_is_the_t5s_rewrite_of_the_pools(trained: dict[str, Path]) -> None:
    replier = Replier(read_manifest(trained["version"]), trained["version"])
    embedder = SentenceEmbedder(read_manifest(trained["embedder"]), trained["embedder"])
    text, name = "my dog died this morning", embedder.manifest.versioned_id
    # Surprise conflicts with no reply's polarity: whatever the tiny classifier read, the pool can answer.
    surprised = Emotion(
        "surprise", 0.9, {"surprise": 0.9, **dict.fromkeys(("sadness", "joy", "love", "anger", "fear"), 0.02)}
    )
    pooled = from_pool(replier, surprised, embedder(text), name, "k")
    assert pooled is not None
    drafted = draft(replier, text, surprised, embedder(text), name, "k", lambda: ["an earlier turn"])
    rewrite = replier.generate(text, "surprise", ["an earlier turn"], retrieved=pooled)
    assert (drafted.source, drafted.text) == ((REFINED, rewrite.text) if rewrite.generated else (POOL, pooled))
    alone = draft(replier, text, surprised, None, name, "k", lambda: [])
    assert alone.source in (MODEL, FIXED)
    assert alone.text == replier.generate(text, "surprise", [], retrieved="").text


def test_the_evaluation_replays_the_refine_validation_sources(trained: dict[str, Path], tmp_path: Path) -> None:
    result = evaluate_replier(
        trained["version"],
        trained["run"] / "best",
        data_dir=trained["data"],
        generate=6,
        samples=3,
        report_dir=tmp_path,
    )
    assert result["refines"] is True and result["generated"] == 6 and "val_loss" in result
    report = (tmp_path / "replier" / "t5.md").read_text()
    assert "retrieve-and-refine" in report


def test_a_refining_run_rebuilds_with_the_installed_pool_when_its_training_pool_is_gone(
    trained: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MACHBOT_DATA", str(trained["data"]))
    runs = tmp_path / "runs"
    shutil.copytree(trained["run"], runs / REPLIER_ID)
    record = runs / REPLIER_ID / "best" / "training.json"  # trained with a pool version pruned since
    saved = json.loads(record.read_text())
    saved["provenance"]["hyperparameters"]["pool"] = str(tmp_path / "pruned" / POOL_FILE)
    record.write_text(json.dumps(saved))
    installed = trained["version"] / POOL_FILE
    rebuilt = rebuild_all(
        root=tmp_path / "models",
        runs_dir=runs,
        version="r-2",
        models=REPLIER_ID,
        train_missing=False,
        report_dir=tmp_path / "reports",
        pool=installed,
    )[REPLIER_ID]
    assert (rebuilt / POOL_FILE).read_bytes() == installed.read_bytes()
    assert "distinct_2" in read_local_version(rebuilt).metrics  # evaluated on the shipped pool's retrievals
    assert "retrieve-and-refine" in (tmp_path / "reports" / "replier" / "t5.md").read_text()
