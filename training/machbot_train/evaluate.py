"""Evaluate exported models: classifiers (fp32 PyTorch vs int8 ONNX) and the T5 replier.

Each evaluation writes `<report_dir>/<kind>/<id>.json` (and a confusion-matrix PNG for classifiers);
`write_classifier_report` gathers those into `classifiers.md` / `classifiers.json`, so models
evaluated at different times end up in one table.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.manifest import Manifest
from machbot_fn.models.replier import Replier
from machbot_train.batching import onnx_logits
from machbot_train.data import load_emotion_split
from machbot_train.metrics import classification_scores, distinct_n, latency_ms
from machbot_train.plots import save_confusion
from machbot_train.version_dir import read_manifest

REPORT_DIR = Path(__file__).resolve().parents[1] / "reports"
LATENCY_SAMPLES = 200


def _onnx_bytes(version_dir: Path, manifest: Manifest) -> int:
    return sum(e.size for name, e in manifest.files.items() if name.endswith(".onnx"))


def _weights_bytes(trained_dir: Path) -> int:
    return sum(p.stat().st_size for p in trained_dir.glob("*.safetensors")) or sum(
        p.stat().st_size for p in trained_dir.glob("*.bin")
    )


def source_dir(manifest: Manifest, trained_dir: Path | None) -> Path | None:
    """The PyTorch weights behind an export: given explicitly, or recorded in the manifest's provenance."""
    if trained_dir is not None:
        return Path(trained_dir)
    recorded = manifest.provenance.get("source_dir")
    if not recorded:
        return None
    path = Path(recorded) if Path(recorded).is_absolute() else Path(__file__).resolve().parents[2] / recorded
    return path if (path / "config.json").is_file() else None


def short_init(manifest: Manifest) -> str:
    """A few words for the report table; the manifest's provenance has the full description."""
    prov = manifest.provenance
    if not manifest.trained:
        return "untrained placeholder"
    base = prov.get("base")
    if base == "minilm":
        return "MiniLM-L6 (mapped)"
    if base == "random":
        extras = []
        if (prov.get("hyperparameters") or {}).get("embedding_init"):
            extras.append("MiniLM PCA embeddings")
        if prov.get("teacher"):
            extras.append(f"distilled from {teacher_name(prov['teacher'])}")
        return "random" + (f" + {', '.join(extras)}" if extras else "")
    return str(base or prov.get("init", "?"))


def teacher_name(teacher: dict | str) -> str:
    """The teacher's architecture: as training records it (classifier.describe_teacher), or read off
    the run path (<runs>/<arch>/best) that earlier manifests hold instead."""
    if isinstance(teacher, dict):
        return str(teacher.get("arch") or Path(str(teacher.get("path", "?"))).parent.name)
    return Path(str(teacher)).parent.name


def _epochs(manifest: Manifest) -> str:
    """ "completed/planned" epochs of the run the version came from ("" when unknown)."""
    done, planned = manifest.provenance.get("epochs_completed"), manifest.provenance.get("epochs_planned")
    return f"{done}/{planned}" if done is not None and planned is not None else ""


def _fp32_eval(source: Path, clf: EmotionClassifier, texts: list[str], labels: list[int], lat_texts: list[str]) -> dict:
    from transformers import AutoModelForSequenceClassification

    from machbot_train.classifier import collate, encode, predict_logits

    torch.set_num_threads(1)  # the same one-thread budget as the int8 measurement
    model = AutoModelForSequenceClassification.from_pretrained(source).eval()
    tokenizer = clf.tokenizer  # the exported tokenizer is the trained one, copied
    logits = predict_logits(model, encode(tokenizer, texts, clf.manifest.max_length), clf.pad_id)

    @torch.no_grad()
    def one(text: str) -> np.ndarray:
        ids, mask = collate(encode(tokenizer, [text], clf.manifest.max_length), clf.pad_id)
        return model(input_ids=ids, attention_mask=mask).logits.numpy()

    return {
        **classification_scores(labels, logits.argmax(-1).tolist()),
        "latency_ms": latency_ms(one, lat_texts),
        "size_bytes": _weights_bytes(source),
        "_predictions": logits.argmax(-1),
    }


def evaluate_classifier(
    version_dir: Path,
    trained_dir: Path | None = None,
    *,
    split: str = "test",
    data_dir: Path | None = None,
    report_dir: Path = REPORT_DIR,
    latency_samples: int = LATENCY_SAMPLES,
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class F1, confusion matrix, latency (batch 1, one thread) and size.

    The int8 ONNX model is what serves; with the PyTorch weights available (`trained_dir`, or the
    manifest's recorded source) the fp32 model is measured beside it on the same texts.
    """
    version_dir = Path(version_dir)
    manifest = read_manifest(version_dir)
    data = load_emotion_split(split, data_dir)
    lat_texts = random.Random(0).sample(data.texts, min(latency_samples, len(data.texts)))
    clf = EmotionClassifier(manifest, version_dir, threads=1)
    int8_pred = onnx_logits(clf, data.texts).argmax(-1)
    served_key = "int8" if manifest.format == "onnx-int8" else "onnx-fp32"
    result: dict[str, Any] = {
        "id": manifest.id,
        "version": manifest.version,
        "arch": manifest.arch,
        "display_name": manifest.display_name,
        "trained": manifest.trained,
        "init": short_init(manifest),
        "epochs": _epochs(manifest),
        "split": split,
        "n": len(data),
        "served": served_key,
        served_key: {
            **classification_scores(data.labels, int8_pred.tolist()),
            "latency_ms": latency_ms(clf, lat_texts),
            "size_bytes": _onnx_bytes(version_dir, manifest),
        },
    }
    served = result[served_key]
    source = source_dir(manifest, trained_dir)
    if source is not None:
        fp32 = _fp32_eval(source, clf, data.texts, data.labels, lat_texts)
        fp32_pred = fp32.pop("_predictions")
        result["fp32"] = fp32
        result["argmax_agreement"] = float((fp32_pred == int8_pred).mean())
        result["accuracy_drop_points"] = round(100 * (fp32["accuracy"] - served["accuracy"]), 2)
    panels = {k: result[k]["confusion"] for k in ("fp32", served_key) if k in result}
    png = save_confusion(
        panels,
        f"{manifest.display_name} {manifest.version} ({split})",
        Path(report_dir) / "classifiers" / f"{manifest.id}.png",
    )
    result["confusion_png"] = str(png.relative_to(report_dir)) if png.is_relative_to(report_dir) else str(png)
    write_json(Path(report_dir) / "classifiers" / f"{manifest.id}.json", result)
    return result


def manifest_metrics(result: dict[str, Any]) -> dict[str, Any]:
    """The manifest's `metrics` from an evaluation: the served model's numbers, fp32 beside them."""
    served = result[result["served"]]
    out = {
        "split": result["split"],
        "accuracy": round(served["accuracy"], 4),
        "macro_f1": round(served["macro_f1"], 4),
        "per_class_f1": {k: round(v, 4) for k, v in served["per_class_f1"].items()},
        "latency_ms": round(served["latency_ms"]["p50"], 2),
        "latency_p95_ms": round(served["latency_ms"]["p95"], 2),
    }
    if "fp32" in result:
        out.update(
            fp32_accuracy=round(result["fp32"]["accuracy"], 4),
            fp32_macro_f1=round(result["fp32"]["macro_f1"], 4),
            int8_fp32_agreement=round(result["argmax_agreement"], 4),
        )
    return out


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def write_classifier_report(report_dir: Path = REPORT_DIR, order: tuple[str, ...] = ()) -> Path:
    """Gather `classifiers/*.json` into one Markdown table (classifiers.md) and one JSON (classifiers.json)."""
    report_dir = Path(report_dir)
    results = {p.stem: json.loads(p.read_text()) for p in sorted((report_dir / "classifiers").glob("*.json"))}
    ids = [i for i in order if i in results] + sorted(set(results) - set(order))
    lines = [
        "# Emotion classifiers on the test split",
        "",
        "Test split of CARER / dair-ai emotion (2,000 tweets). fp32 = the PyTorch model, int8 = the exported",
        "ONNX model the function serves (onnxruntime dynamic quantisation). Latency: one message at a time",
        "(tokenize + forward), one thread, p50 / p95 in ms, measured on a shared 2-core machine under load,",
        "so compare the columns with each other rather than with other machines. Size: weights file (fp32)",
        "and model.onnx (int8). Epochs: completed / planned in the run the model comes from.",
        "",
        "| model | init | epochs | fp32 acc | fp32 macro-F1 | int8 acc | int8 macro-F1 | surprise F1 (int8) | Δacc (pts) "
        "| fp32 ms p50/p95 | int8 ms p50/p95 | fp32 MB | int8 MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i in ids:
        r = results[i]
        fp, q = r.get("fp32"), r.get(r.get("served", "int8"))

        def cell(m: dict | None, key: str) -> str:
            return _pct(m[key]) if m else "–"

        def lat(m: dict | None) -> str:
            return f"{m['latency_ms']['p50']:.1f} / {m['latency_ms']['p95']:.1f}" if m else "–"

        def mb(m: dict | None) -> str:
            return f"{m['size_bytes'] / 1e6:.1f}" if m else "–"

        init = r.get("init") or ""
        lines.append(
            f"| {r['display_name']} `{r['version']}` | {init} | {r.get('epochs', '')} | {cell(fp, 'accuracy')} | {cell(fp, 'macro_f1')} | "
            f"{cell(q, 'accuracy')} | {cell(q, 'macro_f1')} | {_pct(q['per_class_f1']['surprise']) if q else '–'} | "
            f"{r.get('accuracy_drop_points', '–')} | {lat(fp)} | {lat(q)} | {mb(fp)} | {mb(q)} |"
        )
    lines += [
        "",
        "Per-class F1 (int8):",
        "",
        "| model | " + " | ".join(EMOTIONS) + " |",
        "|---|" + "---|" * len(EMOTIONS),
    ]
    for i in ids:
        q = results[i][results[i].get("served", "int8")]
        lines.append(
            f"| {results[i]['display_name']} | " + " | ".join(_pct(q["per_class_f1"][e]) for e in EMOTIONS) + " |"
        )
    lines += ["", "Confusion matrices: " + ", ".join(f"[{i}](classifiers/{i}.png)" for i in ids), ""]
    (report_dir / "classifiers.md").write_text("\n".join(lines), encoding="utf-8")
    write_json(report_dir / "classifiers.json", {"results": [results[i] for i in ids]})
    return report_dir / "classifiers.md"


def _replier_val_pairs(trained_dir: Path | None, manifest: Manifest, data_dir: Path | None, version_dir: Path) -> list:
    from machbot_train.replier_data import load_pairs, split_pairs

    hp = manifest.provenance.get("hyperparameters") or {}
    if hp.get("refine"):
        return _refine_val_pairs(trained_dir, hp, data_dir, version_dir)
    pairs = load_pairs(data_dir, bool(hp.get("include_meld", False)))
    _, val = split_pairs(pairs, float(hp.get("val_fraction", 0.05)), int(hp.get("seed", 13)))
    return val


def _refine_val_pairs(trained_dir: Path | None, hp: dict[str, Any], data_dir: Path | None, version_dir: Path) -> list:
    """The validation pairs a retrieve-and-refine T5 was trained against, with the replies retrieved from
    its pool (the one it ships, else the one it was trained with), as training built them."""
    from machbot_fn.models.reply_pool import POOL_FILE
    from machbot_train.locations import BUILD
    from machbot_train.progress import RunLog
    from machbot_train.replier_train import ReplierConfig, refine_splits
    from machbot_train.reply_pool import default_embedder_dir

    pool = version_dir / POOL_FILE if (version_dir / POOL_FILE).is_file() else Path(str(hp.get("pool", "")))
    if not pool.is_file():
        raise FileNotFoundError(f"{version_dir} ships no {POOL_FILE} and the training pool {pool} is gone")
    # runs/t5/best: the run directory holds training's cache; otherwise build into build/refine/.
    run_dir = Path(trained_dir).parent if trained_dir else BUILD / "refine" / "t5"
    cfg = ReplierConfig(
        out_dir=run_dir.parent,
        name=run_dir.name,
        refine=True,
        pool=pool,
        embedder_dir=Path(hp["embedder_dir"])
        if Path(str(hp.get("embedder_dir", ""))).is_dir()
        else default_embedder_dir(BUILD),
        seed=int(hp.get("seed", 13)),
        data_dir=data_dir,
    )
    return refine_splits(cfg, RunLog(), ("validation",))["validation"]


def evaluate_replier(
    version_dir: Path,
    trained_dir: Path | None = None,
    *,
    data_dir: Path | None = None,
    generate: int = 200,
    samples: int = 20,
    report_dir: Path = REPORT_DIR,
) -> dict[str, Any]:
    """Validation loss / perplexity (PyTorch, if the weights are available), distinct-1/2 of replies the
    served ONNX model generates for held-out messages, latency per reply, and sample replies."""
    version_dir = Path(version_dir)
    manifest = read_manifest(version_dir)
    val = _replier_val_pairs(trained_dir, manifest, data_dir, version_dir)
    picked = random.Random(0).sample(val, min(generate, len(val)))
    replier = Replier(manifest, version_dir, threads=1)
    # Each pair's source is the served prompt (build_prompt), with the retrieved reply for a refining T5.
    replies = [replier.reply_to_prompt(p.source).text for p in picked]
    # The same weights decoded without the repetition penalty, side by side, to show what it changes.
    unpenalised: list[str] | None = None
    if replier.repetition_penalty != 1.0:
        plain = Replier(manifest, version_dir, threads=1)
        plain.repetition_penalty = 1.0
        unpenalised = [plain.reply_to_prompt(p.source).text for p in picked]
    result: dict[str, Any] = {
        "id": manifest.id,
        "version": manifest.version,
        "trained": manifest.trained,
        "format": manifest.format,
        "held_out_pairs": len(val),
        "refines": replier.refines,
        "generated": len(picked),
        "distinct_1": distinct_n(replies, 1),
        "distinct_2": distinct_n(replies, 2),
        "reference_distinct_1": distinct_n([p.target for p in picked], 1),
        "reference_distinct_2": distinct_n([p.target for p in picked], 2),
        "mean_reply_words": float(np.mean([len(r.split()) for r in replies])),
        "latency_ms": latency_ms(lambda p: replier.reply_to_prompt(p.source), picked[:50], warmup=2),
        "size_bytes": _onnx_bytes(version_dir, manifest),
        "repetition_penalty": replier.repetition_penalty,
        "samples": [
            {"emotion": p.emotion, "history": list(p.history), "message": p.message, "reference": p.target, "reply": r}
            for p, r in list(zip(picked, replies, strict=True))[:samples]
        ],
    }
    if unpenalised is not None:
        result["without_penalty"] = {
            "distinct_1": distinct_n(unpenalised, 1),
            "distinct_2": distinct_n(unpenalised, 2),
            "mean_reply_words": float(np.mean([len(r.split()) for r in unpenalised])),
        }
        for sample, reply in zip(result["samples"], unpenalised, strict=False):
            sample["reply_without_penalty"] = reply
    source = source_dir(manifest, trained_dir)
    if source is not None:
        result.update(_replier_val_loss(source, val))
    write_json(Path(report_dir) / "replier" / f"{manifest.id}.json", result)
    _write_replier_markdown(result, Path(report_dir) / "replier" / f"{manifest.id}.md")
    return result


def _replier_val_loss(source: Path, val: list) -> dict[str, float]:
    from tokenizers import Tokenizer
    from transformers import T5ForConditionalGeneration

    from machbot_train.bundle import training_record
    from machbot_train.replier_train import ReplierConfig, encode_pairs, validation_loss

    torch.set_num_threads(1)
    model = T5ForConditionalGeneration.from_pretrained(source).eval()
    tok = Tokenizer.from_file(str(source / "tokenizer.json"))
    hp = training_record(source).get("provenance", {}).get("hyperparameters", {})
    cfg = ReplierConfig(
        source_max_length=int(hp.get("source_max_length", ReplierConfig.source_max_length)),
        target_max_length=int(hp.get("target_max_length", ReplierConfig.target_max_length)),
    )
    loss = validation_loss(model, encode_pairs(tok, val, cfg))
    return {"val_loss": loss, "val_perplexity": math.exp(loss)}


def _write_replier_markdown(r: dict[str, Any], path: Path) -> None:
    lines = [
        f"# T5 replier `{r['version']}` ({r['format']}, {'trained' if r['trained'] else 'untrained'})",
        "",
        f"Validation pairs (conversations never seen in training): {r['held_out_pairs']}"
        + (", each prompt with a retrieved reply (retrieve-and-refine)." if r.get("refines") else "."),
        "",
        "| metric | value |",
        "|---|---|",
    ]
    if "val_loss" in r:
        lines += [
            f"| validation loss (per target token) | {r['val_loss']:.3f} |",
            f"| validation perplexity | {r['val_perplexity']:.1f} |",
        ]
    lines += [
        f"| distinct-1 / distinct-2 of {r['generated']} generated replies | {r['distinct_1']:.3f} / {r['distinct_2']:.3f} |",
        f"| distinct-1 / distinct-2 of their references | {r['reference_distinct_1']:.3f} / {r['reference_distinct_2']:.3f} |",
        f"| mean reply length (words) | {r['mean_reply_words']:.1f} |",
        f"| latency per reply, int8, one thread (p50 / p95 ms) | {r['latency_ms']['p50']:.0f} / {r['latency_ms']['p95']:.0f} |",
        f"| encoder + decoder size (MB) | {r['size_bytes'] / 1e6:.1f} |",
    ]
    plain = r.get("without_penalty")
    if plain:
        lines += [
            f"| the same weights without the repetition penalty ({r['repetition_penalty']:g}): distinct-1 / distinct-2, "
            f"mean words | {plain['distinct_1']:.3f} / {plain['distinct_2']:.3f}, {plain['mean_reply_words']:.1f} |",
        ]
    header = "| emotion | message | reference | model |" + (" without the penalty |" if plain else "")
    lines += ["", "## Sample replies to held-out messages", "", header, "|---" * (header.count("|") - 1) + "|"]

    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    for s in r["samples"]:
        row = f"| {s['emotion']} | {esc(s['message'])} | {esc(s['reference'])} | {esc(s['reply'])} |"
        if plain:
            row += f" {esc(s.get('reply_without_penalty', ''))} |"
        lines.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
