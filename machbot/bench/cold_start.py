"""3. Cold start and the registry's cache vs fetching the model from the bucket for every message.

- registry, cold: a new ModelRegistry with an empty cache directory answers its first message
  (CURRENT, manifest, download, checksums, load, smoke inference, then classify + reply);
- registry, warm: later messages (models cached by version; CURRENT re-read at most every 5 s);
- registry, warm, re-check every call: CURRENT read from the bucket on every get;
- baseline, the seed system's way: download the classifier and the replier and load them for every
  message, then answer it.

The bucket is the Storage emulator when the emulators run, else a directory standing in for it.
"""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from google.api_core import exceptions as gexc

from machbot.bench.common import Context, ratio, stats, timed
from machbot_fn.admin.publish import publish_version
from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.registry import Bucket, ModelRegistry, read_current, version_prefix
from machbot_fn.models.replier import Replier


class DirBlob:
    def __init__(self, root: Path, name: str) -> None:
        self.path = root / name
        self.name = name

    def download_as_bytes(self, **kwargs: Any) -> bytes:
        if not self.path.is_file():
            raise gexc.NotFound(self.name)
        return self.path.read_bytes()

    def download_to_filename(self, filename: str, **kwargs: Any) -> None:
        if not self.path.is_file():
            raise gexc.NotFound(self.name)
        shutil.copyfile(self.path, filename)

    def upload_from_filename(self, filename: str, **kwargs: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(filename, self.path)

    def upload_from_string(self, data: str | bytes, content_type: str = "", **kwargs: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(data.encode() if isinstance(data, str) else data)

    def exists(self, **kwargs: Any) -> bool:
        return self.path.is_file()


class DirBucket:
    """A local directory standing in for the bucket (same object names), for runs without emulators."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def blob(self, name: str) -> DirBlob:
        return DirBlob(self.root, name)


def publish_all(bucket: Bucket, ctx: Context) -> None:
    """Every version under test into `bucket`, CURRENT pointing at it."""
    for directory in ctx.versions.values():
        publish_version(bucket, None, directory, promote=True, smoke=False)


def per_call_answer(bucket: Bucket, clf_id: str, rep_id: str, text: str) -> str:
    """The seed system's way: fetch both models from the bucket, load them, answer, throw them away."""
    with tempfile.TemporaryDirectory(prefix="machbot-percall-") as tmp:
        runners: dict[str, Any] = {}
        for model_id in (clf_id, rep_id):
            version = read_current(bucket, model_id)
            if version is None:
                raise ValueError(f"{model_id} is not published")
            manifest = ModelRegistry(bucket, Path(tmp)).fetch_manifest(model_id, version)
            directory = Path(tmp) / model_id
            directory.mkdir()
            for name in manifest.files:
                bucket.blob(f"{version_prefix(model_id, version)}/{name}").download_to_filename(str(directory / name))
            kind = EmotionClassifier if manifest.is_classifier else Replier
            runners[model_id] = kind(manifest, directory, threads=1)
        emotion = runners[clf_id](text)
        return runners[rep_id](text, emotion.label)


def registry_answer(registry: ModelRegistry, clf_id: str, rep_id: str, text: str) -> str:
    emotion = registry.classifier(clf_id).runner(text)
    return registry.replier(rep_id).runner(text, emotion.label)


def run(ctx: Context, bucket: Bucket, bucket_kind: str) -> dict[str, Any]:
    if not ctx.classifier_ids or ctx.replier_id is None:
        return {"skipped": "needs a classifier and the replier"}
    clf_id = "bert" if "bert" in ctx.classifier_ids else ctx.classifier_ids[0]
    rep_id = ctx.replier_id
    texts = ctx.messages.texts
    n_per_call, n_warm = ctx.n(8, 2), ctx.n(30, 5)
    with tempfile.TemporaryDirectory(prefix="machbot-bench-cache-") as cache:
        registry = ModelRegistry(bucket, Path(cache), threads=1)
        _, fetch_clf_ms = timed(lambda: registry.classifier(clf_id))
        _, fetch_rep_ms = timed(lambda: registry.replier(rep_id))
        _, first_answer_ms = timed(lambda: registry_answer(registry, clf_id, rep_id, texts[0]))
        cold_ms = fetch_clf_ms + fetch_rep_ms + first_answer_ms
        # Warm and per-call interleaved: a per-call answer, then a warm one, message by message.
        per_call, warm = [], []
        for i in range(max(n_per_call, n_warm)):
            text = texts[(i + 1) % len(texts)]
            if i < n_per_call:
                per_call.append(timed(partial(per_call_answer, bucket, clf_id, rep_id, text))[1])
            warm.append(timed(partial(registry_answer, registry, clf_id, rep_id, text))[1])
        eager = ModelRegistry(bucket, Path(cache), threads=1, recheck_seconds=0.0)
        registry_answer(eager, clf_id, rep_id, texts[0])  # loads from the now-filled local cache
        recheck = [timed(partial(registry_answer, eager, clf_id, rep_id, t))[1] for t in texts[1 : n_warm + 1]]
    result: dict[str, Any] = {
        "description": f"classifier {clf_id} + replier {rep_id}, one message at a time, one thread",
        "bucket": bucket_kind,
        "baseline": "download + load both models for every message (the seed system's way)",
        "cold_first_reply_ms": round(cold_ms, 1),
        "cold_parts_ms": {
            f"fetch_load_{clf_id}": round(fetch_clf_ms, 1),
            f"fetch_load_{rep_id}": round(fetch_rep_ms, 1),
            "first_answer": round(first_answer_ms, 1),
        },
        "per_message_ms": {
            "per_call_download": stats(per_call),
            "registry_warm": stats(warm),
            "registry_warm_recheck_every_call": stats(recheck),
        },
    }
    pm = result["per_message_ms"]
    base = pm["per_call_download"]["p50"]
    result["speedup_vs_per_call_download"] = {k: ratio(base, v["p50"]) for k, v in pm.items()}
    result["speedup_vs_per_call_download"]["registry_cold"] = ratio(base, cold_ms)
    return result
