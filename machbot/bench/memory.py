"""4. Resident memory with every model loaded, and 6b. cost as models become resident one by one.

Measured in a fresh child process that imports only the serving stack (ONNX Runtime, tokenizers,
numpy, machbot_fn: what the Cloud Function imports; no torch), so the figures are the function's,
not this benchmark's. The baseline is the same process before any model is loaded. After each
model is loaded (as the registry loads it: session + tokenizer + smoke inference) the child records
its RSS and the latency of classifying a message with the first classifier.

Run as a module by the bench: `python -m machbot.bench.memory` reads a JSON request on stdin, prints JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from machbot.bench.common import Context, ratio

MIB = 2**20


def child(request: dict[str, Any]) -> dict[str, Any]:
    import psutil

    from machbot.bench.common import stats
    from machbot_fn.admin.publish import read_local_version
    from machbot_fn.models.classifier import EmotionClassifier
    from machbot_fn.models.registry import load_runner

    proc = psutil.Process()
    before = proc.memory_info().rss
    texts: list[str] = request["texts"]
    steps, probe = [], None
    for model_id, directory in request["versions"]:
        manifest = read_local_version(Path(directory))
        t0 = time.perf_counter()
        runner = load_runner(manifest, Path(directory), threads=1)
        load_ms = (time.perf_counter() - t0) * 1000
        if probe is None and isinstance(runner, EmotionClassifier):
            probe = (model_id, runner)
        step: dict[str, Any] = {
            "model": model_id,
            "load_ms": round(load_ms, 1),
            "rss_mib": round(proc.memory_info().rss / MIB, 1),
        }
        if probe is not None:
            for text in texts[:3]:
                probe[1](text)
            times, cpu = [], []
            for text in texts:
                c0, t0 = time.thread_time(), time.perf_counter()
                probe[1](text)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.thread_time() - c0) * 1000)
            step["probe"] = probe[0]
            step["probe_classify_ms"] = stats(times)
            step["probe_classify_cpu_ms"] = stats(cpu)
        steps.append(step)
    return {"rss_before_mib": round(before / MIB, 1), "steps": steps}


def run(ctx: Context) -> dict[str, Any]:
    order = [*ctx.classifier_ids, *([ctx.replier_id] if ctx.replier_id else [])]
    request = {
        "versions": [(m, str(ctx.versions[m])) for m in order],
        "texts": ctx.messages.texts[: ctx.n(60, 10)],
    }
    proc = subprocess.run(
        [sys.executable, "-m", "machbot.bench.memory"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the memory probe failed: {proc.stderr.strip()[-2000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    before, steps = data["rss_before_mib"], data["steps"]
    after = steps[-1]["rss_mib"] if steps else before
    # CPU time of the classify calls: the cost itself, steady while other jobs load the machine.
    first_probe = next((s["probe_classify_cpu_ms"]["p50"] for s in steps if "probe_classify_cpu_ms" in s), None)
    for i, step in enumerate(steps, 1):
        step["resident"] = i
        step["rss_ratio_vs_before"] = ratio(step["rss_mib"], before)
        if "probe_classify_cpu_ms" in step:
            step["probe_cpu_p50_ratio_vs_one_resident"] = ratio(step["probe_classify_cpu_ms"]["p50"], first_probe)
    return {
        "description": "a fresh process with the serving stack only (no torch); models loaded as the registry does",
        "baseline": "the same process before loading any model (imports done)",
        "models": order,
        "rss_before_mib": before,
        "rss_after_mib": after,
        "rss_models_mib": round(after - before, 1),
        "rss_ratio_vs_before": ratio(after, before),
        "resident_steps": steps,
    }


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.stdin.read()))))
