"""The chat evaluation suite: every classifier on five test sets, fp32 beside int8, one "chat" figure.

Test sets (`chat_corpora`): tweets (CARER), GoEmotions -> 6, DailyDialog -> 5, EmpatheticDialogues
first turns -> 6, MELD -> 5. Per set: accuracy, macro-F1 (over the labels the set has), per-class
F1 and a confusion matrix (PNG, fp32 and int8 side by side). The chat figure is the mean int8
macro-F1 over the four non-tweet sets: what the default model is chosen by.

Each model version gets `reports/chat/<id>@<version>.json`; `write_chat_report` gathers them all
into `reports/chat.md` and `chat.json`, so the shipped models and new ones sit in one table.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from machbot_fn.labels import EMOTIONS, ENSEMBLE_ID
from machbot_fn.models.classifier import Emotion, EmotionClassifier
from machbot_fn.models.ensemble import average
from machbot_train.batching import onnx_logits
from machbot_train.calibration import expected_calibration_error, softmax
from machbot_train.chat_corpora import CHAT_CORPORA, CORPORA, LabelledText
from machbot_train.classifier import macro_labels
from machbot_train.emotion_mix import test_sets
from machbot_train.evaluate import REPORT_DIR, _epochs, short_init, source_dir, write_json
from machbot_train.metrics import classification_scores, latency_ms
from machbot_train.plots import save_confusion
from machbot_train.version_dir import read_manifest

SET_NAMES = {
    "tweets": "tweets (CARER)",
    "goemotions": "GoEmotions → 6",
    "dailydialog": "DailyDialog → 5",
    "empathetic": "EmpatheticDialogues → 6",
    "meld": "MELD → 5",
}
LATENCY_SAMPLES = 200
# Ordinary messages of our own (in no data set), emoji-only messages and ones with no emotion at all:
# every report shows what each model answers to them.
EXAMPLE_MESSAGES: tuple[str, ...] = (
    "I am so in love with my husband, he makes every day better.",
    "Nobody called me on my birthday.",
    "My friends threw me a surprise party and I had no idea!",
    "I finally got the job I wanted!",
    "But I'm a bit nervous about my first day",
    "My landlord kept my whole deposit for no reason. I'm furious.",
    "I miss my grandma so much, it's been a year today.",
    "There's a weird noise downstairs and I'm home alone.",
    "Wait, you're moving to Japan?? Since when?",
    "Thanks for listening, you always know what to say.",
    "Ugh, the train is late again and I'll miss my meeting.",
    "I can't stop smiling, we're having a baby!",
    "😭😭😭",
    "😍❤️",
    "🎉",
    "👍",
    "😡",
    "ok",
    "?",
    "asdfghjkl",
    "¿Dónde está la estación de tren?",
)


def fp32_logits(source: Path, tokenizer: Any, max_length: int, pad_id: int, texts: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModelForSequenceClassification

    from machbot_train.classifier import encode, predict_logits

    torch.set_num_threads(1)
    model = AutoModelForSequenceClassification.from_pretrained(source).eval()
    return predict_logits(model, encode(tokenizer, texts, max_length), pad_id)


def score_set(rows: list[LabelledText], logits: np.ndarray) -> dict[str, Any]:
    labels = [EMOTIONS.index(row.label) for row in rows]
    return classification_scores(labels, logits.argmax(-1).tolist(), macro_over=macro_labels(rows))


LogitsFn = Callable[[list[str]], np.ndarray]


def evaluate_suite(
    version_dir: Path,
    trained_dir: Path | None = None,
    *,
    corpora: tuple[str, ...] = CORPORA,
    data_dir: Path | None = None,
    report_dir: Path = REPORT_DIR,
    latency_samples: int = LATENCY_SAMPLES,
) -> dict[str, Any]:
    """Score one exported classifier on every test set; write its JSON and confusion PNGs."""
    version_dir = Path(version_dir)
    manifest = read_manifest(version_dir)
    clf = EmotionClassifier(manifest, version_dir, threads=1)
    source = source_dir(manifest, trained_dir)
    fp32 = None
    if source is not None:

        def fp32(texts: list[str]) -> np.ndarray:
            return fp32_logits(source, clf.tokenizer, manifest.max_length, clf.pad_id, texts)

    meta = {
        "id": manifest.id,
        "version": manifest.version,
        "display_name": manifest.display_name,
        "init": short_init(manifest),
        "epochs": _epochs(manifest),
        "training_data": sorted((manifest.provenance.get("training_data") or {}).get("train", {"tweets": 0})),
        "calibration": manifest.calibration,
    }
    temperature = float(manifest.calibration.get("temperature", 1.0))
    return _suite(
        meta, partial(onnx_logits, clf), fp32, clf, temperature, corpora, data_dir, report_dir, latency_samples
    )


def evaluate_ensemble_suite(
    version_dirs: list[Path],
    *,
    corpora: tuple[str, ...] = CORPORA,
    data_dir: Path | None = None,
    report_dir: Path = REPORT_DIR,
    latency_samples: int = LATENCY_SAMPLES,
) -> dict[str, Any]:
    """The members voting as the function has them vote: the mean of their calibrated probabilities."""
    from machbot_train.evaluate_ensemble import load_members

    members = load_members(version_dirs)

    def log_mean_probs(texts: list[str]) -> np.ndarray:
        probs = np.mean([softmax(onnx_logits(c, texts), c.temperature) for c in members], axis=0)
        return np.log(np.maximum(probs, 1e-12))  # softmax of these is the averaged probability

    meta = {
        "id": ENSEMBLE_ID,
        "version": "+".join(f"{c.manifest.id}@{c.manifest.version}" for c in members),
        "members": {c.manifest.id: c.manifest.version for c in members},
        "display_name": "Ensemble",
        "init": "probability average of the classifiers",
        "epochs": "",
        "training_data": [],
        "calibration": {},
    }
    threshold = float(np.mean([c.unsure_below for c in members]))

    def vote(text: str) -> Emotion:  # what the function's `ensemble` computes for one message
        return average([c(text) for c in members], threshold)

    return _suite(meta, log_mean_probs, None, vote, 1.0, corpora, data_dir, report_dir, latency_samples)


def _suite(
    meta: dict[str, Any],
    int8_logits: LogitsFn,
    fp32: LogitsFn | None,
    call: Callable[[str], object],
    temperature: float,
    corpora: tuple[str, ...],
    data_dir: Path | None,
    report_dir: Path,
    latency_samples: int,
) -> dict[str, Any]:
    tests = test_sets(data_dir, corpora)
    key = f"{meta['id']}@{meta['version']}"
    result: dict[str, Any] = {**meta, "sets": {}}
    for name, rows in tests.items():
        texts = [row.text for row in rows]
        labels = np.array([EMOTIONS.index(row.label) for row in rows])
        int8 = int8_logits(texts)
        entry: dict[str, Any] = {
            "n": len(rows),
            "int8": score_set(rows, int8),
            "ece": expected_calibration_error(softmax(int8), labels),
        }
        if temperature != 1.0:
            entry["ece_calibrated"] = expected_calibration_error(softmax(int8, temperature), labels)
        panels = {"int8": entry["int8"]["confusion"]}
        if fp32 is not None:
            reference = fp32(texts)
            entry["fp32"] = score_set(rows, reference)
            entry["argmax_agreement"] = float((reference.argmax(-1) == int8.argmax(-1)).mean())
            panels = {"fp32": entry["fp32"]["confusion"], **panels}
        png = save_confusion(
            panels, f"{meta['display_name']} {meta['version']}: {SET_NAMES[name]}", _png_path(report_dir, key, name)
        )
        entry["confusion_png"] = str(png.relative_to(report_dir)) if png.is_relative_to(report_dir) else str(png)
        result["sets"][name] = entry
    chat = [n for n in CHAT_CORPORA if n in result["sets"]]
    if chat:
        result["chat_macro_f1"] = float(np.mean([result["sets"][n]["int8"]["macro_f1"] for n in chat]))
        if all("fp32" in result["sets"][n] for n in chat):
            result["chat_macro_f1_fp32"] = float(np.mean([result["sets"][n]["fp32"]["macro_f1"] for n in chat]))
    result["examples"] = [{"text": text, **_answer(call(text))} for text in EXAMPLE_MESSAGES]
    everyday = [row.text for n in chat for row in tests[n]] or [row.text for rows in tests.values() for row in rows]
    result["latency_ms"] = latency_ms(call, random.Random(0).sample(everyday, min(latency_samples, len(everyday))))
    write_json(Path(report_dir) / "chat" / f"{key}.json", result)
    return result


def _answer(emotion: Any) -> dict[str, Any]:
    return {"label": emotion.label, "score": round(float(emotion.score), 4), "unsure": bool(emotion.unsure)}


def _png_path(report_dir: Path, key: str, set_name: str) -> Path:
    return Path(report_dir) / "chat" / f"{key.replace('@', '-')}-{set_name}.png"


def manifest_chat_metrics(result: dict[str, Any]) -> dict[str, Any]:
    """The manifest's per-set figures: what the catalog and the model picker show."""
    out: dict[str, Any] = {
        f"{name}_{k}": round(entry["int8"][k], 4)
        for name, entry in result["sets"].items()
        for k in ("accuracy", "macro_f1")
    }
    if "chat_macro_f1" in result:
        out["chat_macro_f1"] = round(result["chat_macro_f1"], 4)
    return out


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def write_chat_report(report_dir: Path = REPORT_DIR, order: tuple[str, ...] = ()) -> Path:
    """`reports/chat.md` and `chat.json`: every evaluated version, best chat figure first."""
    report_dir = Path(report_dir)
    results = [json.loads(p.read_text()) for p in sorted((report_dir / "chat").glob("*.json"))]
    results.sort(key=lambda r: (-(r.get("chat_macro_f1") or 0), r["id"], r["version"]))
    sets = [n for n in CORPORA if any(n in r["sets"] for r in results)]
    lines = [
        "# Emotion classifiers on chat-like text",
        "",
        "Every classifier version evaluated on five test sets (`machbot evaluate`; `training/machbot_train/evaluate_chat.py`).",
        "int8 = the ONNX model the function serves; fp32 = the PyTorch model it was exported from (where its",
        "weights are at hand). Macro-F1 averages the labels a set has (DailyDialog and MELD have no love).",
        "**chat** = the mean int8 macro-F1 over the four non-tweet sets: the default model is the best on it.",
        "Test splits share no text with any training or validation split (normalised; `tests/training/test_emotion_mix.py`).",
        "",
        "## Accuracy / macro-F1 (int8), and the chat figure",
        "",
        "| model | version | trained on | " + " | ".join(SET_NAMES[n] for n in sets) + " | chat |",
        "|---|---|---|" + "---|" * len(sets) + "---|",
    ]
    for r in results:
        cells = [
            f"{_pct(r['sets'][n]['int8']['accuracy'])} / {_pct(r['sets'][n]['int8']['macro_f1'])}"
            if n in r["sets"]
            else "–"
            for n in sets
        ]
        trained_on = "tweets" if r.get("training_data") in (["tweets"], []) else "mix of 5"
        lines.append(
            f"| {r['display_name']} | `{r['version']}` | {trained_on} | "
            + " | ".join(cells)
            + f" | **{_pct(r.get('chat_macro_f1'))}** |"
        )
    lines += ["", "## fp32 beside int8 (accuracy / macro-F1; Δ = int8 − fp32 accuracy, points)", ""]
    lines += ["| model | version | " + " | ".join(SET_NAMES[n] for n in sets) + " |", "|---|---|" + "---|" * len(sets)]
    for r in results:
        if not any("fp32" in r["sets"].get(n, {}) for n in sets):
            continue
        cells = []
        for n in sets:
            e = r["sets"].get(n)
            if not e or "fp32" not in e:
                cells.append("–")
                continue
            delta = 100 * (e["int8"]["accuracy"] - e["fp32"]["accuracy"])
            cells.append(f"{_pct(e['fp32']['accuracy'])} / {_pct(e['fp32']['macro_f1'])} (Δ {delta:+.2f})")
        lines.append(f"| {r['display_name']} | `{r['version']}` | " + " | ".join(cells) + " |")
    lines += ["", "## Per-class F1 (int8)", ""]
    for n in sets:
        lines += [f"### {SET_NAMES[n]}", "", "| model | version | " + " | ".join(EMOTIONS) + " |"]
        lines.append("|---|---|" + "---|" * len(EMOTIONS))
        for r in results:
            if n in r["sets"]:
                f1 = r["sets"][n]["int8"]["per_class_f1"]
                lines.append(
                    f"| {r['display_name']} | `{r['version']}` | " + " | ".join(_pct(f1[e]) for e in EMOTIONS) + " |"
                )
        lines.append("")
    lines += [
        "## Calibration",
        "",
        "Expected calibration error (15 bins) of the int8 probabilities on each test set, before and after the",
        'temperature fitted on the validation splits; the "not sure" threshold is chosen there too (`calibration.py`).',
        "",
        "| model | version | temperature | not sure below | "
        + " | ".join(f"ECE {n} before → after" for n in sets)
        + " |",
        "|---|---|---|---|" + "---|" * len(sets),
    ]
    for r in results:
        cal = r.get("calibration") or {}
        cells = []
        for n in sets:
            e = r["sets"].get(n, {})
            after = f" → {_pct(e['ece_calibrated'])}" if "ece_calibrated" in e else ""
            cells.append(f"{_pct(e.get('ece'))}{after}" if e else "–")
        lines.append(
            f"| {r['display_name']} | `{r['version']}` | {cal.get('temperature', '–')} | {cal.get('unsure_below', '–')} | "
            + " | ".join(cells)
            + " |"
        )
    with_examples = [r for r in results if r.get("examples")][:4]
    if with_examples:
        lines += [
            "",
            "## What the models answer to ordinary messages",
            "",
            "Messages of our own, in no data set (`EXAMPLE_MESSAGES`); calibrated probability, *not sure* under the model's threshold.",
            "",
            "| message | " + " | ".join(f"{r['display_name']} `{r['version']}`" for r in with_examples) + " |",
            "|---|" + "---|" * len(with_examples),
        ]
        for i, text in enumerate(EXAMPLE_MESSAGES):
            cells = []
            for r in with_examples:
                ex = r["examples"][i] if i < len(r["examples"]) and r["examples"][i]["text"] == text else None
                if ex is None:
                    cells.append("–")
                else:
                    head = f"{ex['label']} {100 * ex['score']:.0f}%"
                    cells.append(f"*not sure* ({head})" if ex["unsure"] else head)
            lines.append(f"| {text} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Latency (one message, tokenize + forward, one thread, p50 ms): "
        + ", ".join(f"{r['display_name']} `{r['version']}` {r['latency_ms']['p50']:.1f}" for r in results),
        "",
        "Confusion matrices: `reports/chat/<id>-<version>-<set>.png`.",
        "",
    ]
    (report_dir / "chat.md").write_text("\n".join(lines), encoding="utf-8")
    write_json(report_dir / "chat.json", {"results": results})
    return report_dir / "chat.md"
