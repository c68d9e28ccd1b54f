"""1. Classifier latency, batch 1, one thread: served int8 ONNX vs fp32 ONNX vs PyTorch eager.

All three run the same weights on the same messages through the same tokenizer (the exported one,
truncating at the manifest's max_length); the calls are interleaved message by message. The fp32
ONNX graph is exported here from the PyTorch model (the export keeps only the int8 one) and cached.
The PyTorch model is the export's recorded source, else runs/<id>/best for a trained model, else,
for an untrained placeholder, the seeded tiny configuration rebuilt (the same weights).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from machbot.bench.common import Context, interleaved, quiet_transformers, ratio, stats, torch_source
from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.manifest import Manifest
from machbot_fn.models.runtime import load_tokenizer

BACKENDS = ("int8", "fp32", "torch")


def torch_classifier(model_id: str, manifest: Manifest, vocab_size: int) -> tuple[Any | None, str]:
    """The PyTorch model behind a classifier export and where it came from (None: not available)."""
    from transformers import AutoModelForSequenceClassification

    source, note = torch_source(model_id, manifest)
    if source is not None:
        return AutoModelForSequenceClassification.from_pretrained(source).eval(), note
    if not manifest.trained:
        from machbot_train.tiny_models import tiny_classifier_model

        model = tiny_classifier_model(manifest.arch, vocab_size)
        return model, "tiny configuration rebuilt with the placeholder's seed (the same weights)"
    return None, "no PyTorch weights found for this trained export: fp32 and eager baselines skipped"


def fp32_dir(ctx: Context, model_id: str, version_dir: Path, model: Any) -> Path:
    """A directory with the fp32 ONNX graph of `model` and the version's tokenizer (cached by int8 checksum)."""
    from machbot_train.onnx_export import export_classifier_onnx

    key = hashlib.sha256((version_dir / "model.onnx").read_bytes()).hexdigest()[:12]
    out = ctx.cache_dir / "fp32" / model_id / key
    if not (out / "model.onnx").is_file():
        out.mkdir(parents=True, exist_ok=True)
        export_classifier_onnx(model, out / "model.part.onnx")
        (out / "model.part.onnx").replace(out / "model.onnx")
    shutil.copyfile(version_dir / "tokenizer.json", out / "tokenizer.json")
    return out


def torch_runner(model: Any, version_dir: Path, max_length: int) -> Any:
    """Batch-1 PyTorch eager inference through the exported tokenizer (no padding needed)."""
    import torch

    tokenizer = load_tokenizer(version_dir / "tokenizer.json", max_length)

    def run(text: str) -> np.ndarray:
        ids = torch.tensor([tokenizer.encode(text).ids], dtype=torch.long)
        with torch.inference_mode():
            return model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits.numpy()

    return run


def bench_model(ctx: Context, model_id: str, texts: list[str], labels: list[int] | None) -> dict[str, Any]:
    manifest, version_dir = ctx.manifests[model_id], ctx.versions[model_id]
    int8 = EmotionClassifier(manifest, version_dir, threads=1)
    runners = {"int8": lambda t: int8.predict_logits([t])}
    model, source = torch_classifier(model_id, manifest, int8.tokenizer.get_vocab_size())
    if model is not None:
        fp32 = EmotionClassifier(manifest, fp32_dir(ctx, model_id, version_dir, model), threads=1)
        runners["fp32"] = lambda t: fp32.predict_logits([t])
        runners["torch"] = torch_runner(model, version_dir, manifest.max_length)
    timings = interleaved(runners, texts)
    preds = {k: np.asarray([int(np.argmax(o)) for o in v]) for k, v in timings.outputs.items()}
    result: dict[str, Any] = {
        "version": manifest.version,
        "arch": manifest.arch,
        "trained": manifest.trained,
        "max_length": manifest.max_length,
        "baseline_source": source,
        "latency_ms": {k: stats(v) for k, v in timings.wall.items()},
        "cpu_ms": {k: stats(v) for k, v in timings.cpu.items()},
    }
    lat = result["latency_ms"]
    if "torch" in lat:  # speed-up = baseline time / time: above 1 is faster than PyTorch eager
        result["speedup_vs_torch"] = {
            k: {q: ratio(lat["torch"][q], lat[k][q]) for q in ("p50", "p95")} for k in ("int8", "fp32")
        }
        result["int8_speedup_vs_fp32"] = {q: ratio(lat["fp32"][q], lat["int8"][q]) for q in ("p50", "p95")}
        cpu = result["cpu_ms"]
        result["cpu_speedup_vs_torch"] = {k: ratio(cpu["torch"]["p50"], cpu[k]["p50"]) for k in ("int8", "fp32")}
    result["argmax_agreement_with_int8"] = {
        k: round(float((p == preds["int8"]).mean()), 4) for k, p in preds.items() if k != "int8"
    }
    if labels is not None:
        truth = np.asarray(labels)
        result["accuracy_on_sample"] = {k: round(float((p == truth).mean()), 4) for k, p in preds.items()}
    return result


def run(ctx: Context) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    quiet_transformers()
    n = ctx.n(150, 20)
    texts = ctx.messages.texts[:n]
    labels = ctx.messages.labels[:n] if ctx.messages.labels else None
    models = {model_id: bench_model(ctx, model_id, texts, labels) for model_id in ctx.classifier_ids}
    return {
        "description": "one message per call (batch 1), one thread; tokenization included; calls interleaved",
        "messages": len(texts),
        "baseline": "PyTorch eager (the training stack); speed-up = eager time / time",
        "models": models,
    }
