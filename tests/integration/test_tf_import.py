"""TensorFlow/Keras checkpoints become served models: build tiny ones, `machbot import-tf`, publish, chat.

The TF side runs in .venv-tf (`make tf-setup`; `make test` installs it): tiny random checkpoints are
built there, the CLI of .venv hands the conversion over to it, and TensorFlow's own answers come from
tf_reference.py, which uses only transformers / Keras, not the import code under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from emulator import User, wait_final

from machbot.tf_env import tf_python
from machbot_fn.admin.publish import publish_version
from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import EmotionClassifier
from machbot_train.tf_parity import FP32_TOLERANCE, INT8_MIN_AGREEMENT
from machbot_train.version_dir import read_manifest

HERE = Path(__file__).parent
VERSION = "tf-1"
# id -> (tiny source key, kind for tf_reference.py, what the model outputs)
MODELS = {
    "tfbert": ("hf", "hf", "logits"),
    "tfdistilbert": ("hf_distilbert", "hf", "logits"),
    "tfkeras": ("keras", "keras", "probabilities"),
    "tfkerash5": ("keras_h5", "keras", "logits"),
}
TEXTS = [
    "i feel so happy and grateful today",
    "i am sad and lonely tonight",
    "this traffic makes me furious",
    "i am terrified of the exam tomorrow",
    "wow i did not expect that at all",
    "i love the way you smile",
    "",
    "long " * 300,
]


@pytest.fixture(scope="module")
def tf_env() -> Path:
    python = tf_python()
    if python is None:
        message = "needs the TensorFlow environment .venv-tf: run `make tf-setup`"
        if os.environ.get("MACHBOT_REQUIRE_EMULATORS") == "1":
            pytest.fail(message + " (scripts/test.sh installs it)")
        pytest.skip(message)
    return python


def run_tf(tf_env: Path, args: list[str], stdin: str | None = None) -> str:
    result = subprocess.run([str(tf_env), *args], input=stdin, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "machbot.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def sources(tf_env: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("tf-sources")
    return json.loads(run_tf(tf_env, ["-m", "machbot_train.tiny_tf", str(root)]).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def imported(sources: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each tiny source converted through `.venv/bin/machbot import-tf` (which hands over to .venv-tf)."""
    registry = tmp_path_factory.mktemp("tf-registry")
    out = {}
    for model_id, (key, kind, _) in MODELS.items():
        args = ["import-tf", sources[key], "--id", model_id, "--out", str(registry), "--version", VERSION]
        if kind == "keras":
            args += ["--tokenizer", str(Path(sources[key]).parent / "tokenizer.json")]
        result = cli(*args, "--untrained", "--data", "none: a random test model")
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        assert "parity" in result.stdout and "int8 same label" in result.stdout
        out[model_id] = registry / model_id / VERSION
    return out


@pytest.fixture(scope="module")
def tensorflow_answers(tf_env: Path, sources: dict[str, str]) -> dict[str, dict]:
    request = {"texts": TEXTS, "sources": {}}
    for model_id, (key, kind, outputs) in MODELS.items():
        tokenizer = str(Path(sources[key]).parent / "tokenizer.json")
        request["sources"][model_id] = {"kind": kind, "path": sources[key], "tokenizer": tokenizer, "outputs": outputs}
    return json.loads(run_tf(tf_env, [str(HERE / "tf_reference.py")], json.dumps(request)).strip().splitlines()[-1])


def tf_probabilities(answer: dict) -> list[dict[str, float]]:
    return [dict(zip(answer["labels"], row, strict=True)) for row in answer["probs"]]


@pytest.mark.parametrize("model_id", MODELS)
def test_manifest_says_where_the_model_came_from(imported: dict[str, Path], model_id: str) -> None:
    manifest = read_manifest(imported[model_id])
    assert manifest.format == "onnx-int8" and set(manifest.files) == {"model.onnx", "tokenizer.json"}
    prov = manifest.provenance
    assert prov["init"].startswith("converted from TensorFlow checkpoint ")
    assert prov["frameworks"]["tensorflow"] == "2.21.0"
    assert prov["frameworks"]["transformers"].startswith("4.")
    assert prov["converter"].startswith("tf2onnx ")
    assert len(prov["source"]["weights_sha256"]) == 64
    assert prov["data"] == "none: a random test model"
    parity = prov["parity"]
    assert parity["texts"] >= 200
    assert parity["fp32_max_abs_diff"] <= parity["fp32_tolerance"] <= FP32_TOLERANCE * 100
    assert parity["int8_decided_agreement"] >= INT8_MIN_AGREEMENT and parity["decided_texts"] > 100


def test_labels_follow_the_model_outputs(imported: dict[str, Path]) -> None:
    # The HF checkpoint names its labels alphabetically in config.json; the Keras models have no names.
    assert read_manifest(imported["tfbert"]).labels == tuple(sorted(EMOTIONS))
    assert read_manifest(imported["tfdistilbert"]).arch == "distilbert"
    assert read_manifest(imported["tfkeras"]).labels == EMOTIONS
    assert "softmax probabilities" in read_manifest(imported["tfkeras"]).provenance["source"]["outputs"]


@pytest.mark.parametrize("model_id", MODELS)
def test_served_model_answers_like_tensorflow(
    imported: dict[str, Path], tensorflow_answers: dict[str, dict], model_id: str
) -> None:
    classifier = EmotionClassifier(read_manifest(imported[model_id]), imported[model_id])
    expected = tf_probabilities(tensorflow_answers[model_id])
    for text, tf_scores in zip(TEXTS, expected, strict=True):
        served = classifier(text)
        assert served.label == max(tf_scores, key=tf_scores.get), text
        worst = max(abs(served.scores[label] - p) for label, p in tf_scores.items())
        assert worst < 0.05, f"{text!r}: int8 probabilities off by {worst:.3f}"


def test_imported_models_answer_through_the_pipeline(
    db, bucket, published, imported: dict[str, Path], tensorflow_answers: dict[str, dict], user: User
) -> None:
    for directory in imported.values():
        assert publish_version(bucket, db, directory).promoted
    paths = {model_id: user.send(TEXTS[0], model=model_id) for model_id in MODELS}
    for model_id, path in paths.items():
        doc = wait_final(db, path)
        assert doc["status"]["state"] == "done", doc.get("error")
        served = doc["servedBy"]["classifier"]
        assert (served["id"], served["version"]) == (model_id, VERSION)
        tf_scores = tf_probabilities(tensorflow_answers[model_id])[0]
        assert doc["emotion"]["label"] == max(tf_scores, key=tf_scores.get)
        assert np.isclose(sum(doc["emotion"]["scores"].values()), 1.0, atol=1e-4)
        assert doc["reply"]["text"].strip()
        catalog = db.document(f"models/{model_id}").get().to_dict()
        assert catalog["version"] == VERSION


def test_without_the_tf_environment_the_cli_says_how_to_install_it(sources: dict[str, str]) -> None:
    result = cli("import-tf", sources["hf"], "--id", "tfbert", env={"MACHBOT_TF_PYTHON": "/nonexistent/python"})
    assert result.returncode == 2
    assert "make tf-setup" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/model.keras", "--id", "x"], "does not exist"),
        (["{hf}", "--id", "Bad_Id"], "--id"),
        (["{hf}", "--id", "x", "--labels", "joy,sadness"], "six emotions"),
        (["{keras}", "--id", "x"], "--tokenizer"),
    ],
)
def test_user_mistakes_end_in_one_clear_line(sources: dict[str, str], args: list[str], message: str) -> None:
    result = cli("import-tf", *(a.format(**sources) for a in args))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
