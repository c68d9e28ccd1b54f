"""Users' reports -> exported dataset -> retrained tiny model -> candidate published (not served)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from emulator import User, wait_final

from machbot_fn.admin.publish import publish_version
from machbot_fn.labels import EMOTIONS
from machbot_fn.models.registry import read_current
from machbot_train.bundle import package_classifier
from machbot_train.tiny_models import tiny_classifier_model, tiny_wordpiece

MODEL = "retrainmodel"
REPORTS = {
    "i am so angry at my boss for yelling": "anger",
    "i feel scared walking home in the dark": "fear",
    "i am heartbroken and lonely tonight": "sadness",
    "wow i never expected that gift": "surprise",
    "i adore my little sister so much": "love",
    "today was a wonderful happy day": "joy",
}


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory, db, bucket, published) -> Path:
    """A tiny classifier serving as `MODEL`, with the PyTorch checkpoint it was exported from."""
    root = tmp_path_factory.mktemp("retrain")
    tokenizer = tiny_wordpiece()
    model = tiny_classifier_model("distilbert", tokenizer.get_vocab_size())
    checkpoint = root / "checkpoint"
    model.save_pretrained(checkpoint)
    tokenizer.save(str(checkpoint / "tokenizer.json"))
    version_dir = package_classifier(
        model, tokenizer, root / "versions", MODEL, "r1", trained=False, provenance={"init": "random (test)"}
    )
    publish_version(bucket, db, version_dir)
    return checkpoint


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "machbot.cli", *args], capture_output=True, text=True, timeout=600)


def retrain(feedback: Path, checkpoint: Path, out: Path, version: str, epochs: int, replay: int, weight: int):
    """`machbot feedback retrain` on the tiny model, quick settings (a high rate: it starts from random)."""
    return cli(
        "feedback", "retrain", MODEL, "--feedback", str(feedback), "--checkpoint", str(checkpoint),
        "--out-dir", str(out), "--version", version, "--epochs", str(epochs), "--lr", "0.003",
        "--replay", str(replay), "--feedback-weight", str(weight), "--test-limit", "300",
    )  # fmt: skip


def report_wrong_emotions(user: User, db) -> None:
    for text, label in REPORTS.items():
        path = user.send(text, model=MODEL)
        assert wait_final(db, path)["status"]["state"] == "done"
        # As the web app does: only `feedback`, its time stamped by the server (the rules insist).
        r = user.commit(path, {"feedback": {"label": label}}, server_time_fields=("feedback.at",), exists=True)
        assert r.status_code == 200, r.text


def test_reports_are_exported_without_user_ids_and_retrain_publishes_a_candidate(
    db, bucket, current, user: User, tmp_path: Path
) -> None:
    report_wrong_emotions(user, db)
    out = tmp_path / "feedback.jsonl"
    result = cli("feedback", "export", "--model", MODEL, "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["text"]: r["label"] for r in rows} == REPORTS
    assert all(set(r) == {"text", "label", "predicted", "model", "version", "reportedAt"} for r in rows)
    assert user.uid not in out.read_text()
    assert all(r["model"] == MODEL and r["version"] == "r1" and r["predicted"] in EMOTIONS for r in rows)

    result = retrain(out, current, tmp_path / "candidates", "r2", epochs=3, replay=256, weight=8)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "published as a candidate" in result.stdout
    summary = json.loads((tmp_path / "candidates" / MODEL / "r2.retrain.json").read_text())
    assert summary["accepted"] is True
    assert summary["candidate"]["report_accuracy"] >= summary["current"]["report_accuracy"]
    assert summary["candidate"]["test_accuracy"] >= summary["current"]["test_accuracy"]

    assert read_current(bucket, MODEL) == "r1"  # a candidate, never promoted by retraining
    assert bucket.blob(f"models/{MODEL}/r2/manifest.json").exists()
    entry = db.document(f"models/{MODEL}").get().to_dict()["versions"]["r2"]
    assert entry["status"] == "candidate" and "user reports" in entry["init"]


def test_a_candidate_that_is_worse_on_the_test_split_is_not_published(db, bucket, current, tmp_path: Path) -> None:
    out = tmp_path / "feedback.jsonl"
    # Reports that contradict the data: every text labelled `surprise`.
    out.write_text("".join(json.dumps({"text": t, "label": "surprise"}) + "\n" for t in REPORTS) * 20)
    result = retrain(out, current, tmp_path / "candidates", "r3", epochs=2, replay=0, weight=4)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not published" in result.stderr and "Traceback" not in result.stderr
    assert not bucket.blob(f"models/{MODEL}/r3/manifest.json").exists()


def test_bad_feedback_files_are_refused_with_the_line(current, tmp_path: Path) -> None:
    out = tmp_path / "bad.jsonl"
    out.write_text(
        json.dumps({"text": "fine", "label": "joy"}) + "\n" + json.dumps({"text": "x", "label": "meh"}) + "\n"
    )
    result = cli("feedback", "retrain", MODEL, "--feedback", str(out), "--checkpoint", str(current))
    assert result.returncode == 2 and f"{out}:2" in result.stderr and "Traceback" not in result.stderr
