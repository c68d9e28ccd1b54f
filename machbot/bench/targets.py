"""DESIGN.md's "Numbers to beat", each with the value this run measured and its ratio to the baseline."""

from __future__ import annotations

from typing import Any

from machbot.bench.common import fmt_ratio, ratio


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _row(what: str, target: str, value: str, ok: bool | None, baseline: str, ratio_text: str) -> dict[str, Any]:
    return {"what": what, "target": target, "value": value, "meets": ok, "baseline": baseline, "ratio": ratio_text}


def _x(r: float | None, word: str = "faster") -> str:
    return fmt_ratio(r, word) if r is not None else "n/a"


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    cold = results.get("cold_start") or {}
    per_call = _get(cold, "per_message_ms", "per_call_download", "p50")
    e2e = results.get("e2e") or {}
    warm = e2e.get("warm_ms") or {}
    if warm.get("p50") is not None:
        p50, p95 = warm["p50"] / 1000, warm["p95"] / 1000
        rows.append(
            _row(
                "warm end-to-end, written -> reply visible (emulators)",
                "p50 <= 0.5 s, p95 <= 1 s",
                f"p50 {p50:.3f} s, p95 {p95:.3f} s",
                p50 <= 0.5 and p95 <= 1.0,
                f"per-call download, in-process: {per_call / 1000:.2f} s" if per_call else "n/a",
                _x(ratio(per_call, warm["p50"])),
            )
        )
    else:
        rows.append(_row("warm end-to-end (emulators)", "p50 <= 0.5 s, p95 <= 1 s", "not measured", None, "", ""))
    rows.extend(_reply_rows(results.get("reply_latency") or {}))
    models = _get(results, "classifier_latency", "models") or {}
    if models:
        # The target is for the real (trained) models; tiny placeholders count only when nothing is trained.
        judged = {m: v for m, v in models.items() if v["trained"]} or models
        slowest = max(judged, key=lambda m: judged[m]["latency_ms"]["int8"]["p50"])
        main = "bert" if "bert" in judged else slowest
        lat = judged[main]["latency_ms"]
        # Judged on CPU time of the one inference thread: wall time on a shared machine also counts the
        # time the thread waited for a core while other jobs ran (both are shown).
        p50s = [(judged[m].get("cpu_ms") or judged[m]["latency_ms"])["int8"]["p50"] for m in judged]
        speed = _get(judged[main], "speedup_vs_torch", "int8", "p50")
        cpu_speed = _get(judged[main], "cpu_speedup_vs_torch", "int8")
        which = "trained" if judged is not models else "untrained tiny placeholders"
        spread = (
            f"; {len(judged)} {which}: {min(p50s):.2f}-{max(p50s):.2f} ms CPU" if len(judged) > 1 else f" ({which})"
        )
        rows.append(
            _row(
                "classify one message, int8 ONNX, one thread",
                "<= 5 ms (6 layers x 384), judged on CPU time",
                f"{main} p50 {lat['int8']['p50']:.2f} ms wall, {judged[main]['cpu_ms']['int8']['p50']:.2f} ms CPU{spread}",
                max(p50s) <= 5.0,
                f"PyTorch eager {lat['torch']['p50']:.2f} ms" if "torch" in lat else "n/a",
                _x(speed) + (f" ({fmt_ratio(cpu_speed)} in CPU time)" if cpu_speed else ""),
            )
        )
    if cold.get("cold_first_reply_ms") is not None:
        c = cold["cold_first_reply_ms"]
        e2e_cold = e2e.get("cold_first_message_ms")
        fn_cold = _get(e2e, "cold_first_message_server", "totalMs")  # the function's own fetch + load + reply
        value = f"{c / 1000:.2f} s in-process ({cold['bucket']})"
        if fn_cold:
            value += f"; {fn_cold / 1000:.2f} s in the function's first message"
        if e2e_cold:
            value += f" ({e2e_cold / 1000:.2f} s write -> reply, the emulator starting a Python worker included)"
        rows.append(
            _row(
                "cold start: fetch + load + first reply",
                "<= 3 s",
                value,
                c <= 3000 and (fn_cold is None or fn_cold <= 3000),
                f"download + load per message (seed's way): {per_call / 1000:.2f} s" if per_call else "n/a",
                f"{_x(_get(cold, 'speedup_vs_per_call_download', 'registry_cold'), 'as fast on the first message')}, then "
                f"{_x(_get(cold, 'speedup_vs_per_call_download', 'registry_warm'), 'faster per message')}",
            )
        )
    mem = results.get("memory") or {}
    if mem.get("rss_after_mib") is not None:
        n = len(mem.get("models", []))
        tiny = [m for m in mem.get("models", []) if not _get(results, "meta", "models", m, "trained")]
        tiny_text = f", {len(tiny)} of them untrained tiny placeholders" if tiny else ""
        rows.append(
            _row(
                "memory, all five classifiers + replier resident",
                "<= 1 GiB RSS",
                f"{mem['rss_after_mib']:.0f} MiB with {n} models{tiny_text} (+{mem['rss_models_mib']:.0f} MiB)",
                mem["rss_after_mib"] <= 1024,
                f"process before loading: {mem['rss_before_mib']:.0f} MiB",
                _x(mem.get("rss_ratio_vs_before"), "the empty process"),
            )
        )
    best = None
    for model_id in models:
        metrics = (results.get("meta", {}).get("models", {}).get(model_id) or {}).get("metrics") or {}
        if "accuracy" in metrics and (best is None or metrics["accuracy"] > best[1]["accuracy"]):
            best = (model_id, metrics)
    if best:
        mid, met = best
        rows.append(
            _row(
                "best classifier on the test split",
                "acc >= 0.93, macro-F1 >= 0.89",
                f"{mid}: acc {met['accuracy']:.3f}, macro-F1 {met.get('macro_f1', float('nan')):.3f} (manifest)",
                met["accuracy"] >= 0.93 and met.get("macro_f1", 0) >= 0.89,
                "seed: 0.928 / 0.880",
                f"{100 * (met['accuracy'] - 0.928):+.1f} pts acc vs seed",
            )
        )
    else:
        rows.append(
            _row(
                "best classifier on the test split", "acc >= 0.93, macro-F1 >= 0.89", "no evaluated model", None, "", ""
            )
        )
    drops, source = {}, "manifest metrics (full test split)"
    for model_id in models:
        met = (results.get("meta", {}).get("models", {}).get(model_id) or {}).get("metrics") or {}
        if "fp32_accuracy" in met and "accuracy" in met:
            drops[model_id] = 100 * (met["fp32_accuracy"] - met["accuracy"])
    if not drops:
        source = f"bench sample ({_get(results, 'classifier_latency', 'messages')} test messages)"
        for model_id, m in models.items():
            acc = m.get("accuracy_on_sample") or {}
            if "fp32" in acc:
                drops[model_id] = 100 * (acc["fp32"] - acc["int8"])
    if drops:
        worst = max(drops, key=lambda k: abs(drops[k]))
        agree = _get(models[worst], "argmax_agreement_with_int8", "fp32")
        agree_text = f", int8/fp32 agree on {agree:.1%} of the bench messages" if agree is not None else ""
        rows.append(
            _row(
                "int8 vs fp32 accuracy",
                "within 0.5 points",
                f"worst {worst}: {-drops[worst]:+.2f} pts, {source}{agree_text}",
                abs(drops[worst]) <= 0.5,
                "fp32, same weights",
                f"{-drops[worst]:+.2f} pts",
            )
        )
    return rows


def _reply_rows(c: dict[str, Any]) -> list[dict[str, Any]]:
    """The served reply path (the pool, and the T5's rewrite of its reply when the T5 refines; the T5 loop
    without a pool) against <= 60 ms."""
    served = c.get("served_path")
    lat = c.get("cpu_ms") or c.get("latency_ms") or {}
    if served not in lat:
        return []
    # Beside the rewrite: the pool alone; beside the pool: the T5 loop it replaced; beside the loop: generate().
    order = ("pool_embed_and_choose", "onnx_kv_cache", "onnx_plain", "torch_generate")
    loops = [k for k in order if k in lat and k != served]
    baseline = loops[0] if loops else None
    value = lat[served]["p50"]
    return [
        _row(
            "reply, retrieval + generation, one thread (CPU time)",
            "<= 60 ms p50",
            f"{served} p50 {value:.1f} ms",
            value <= 60.0,
            f"{baseline} p50 {lat[baseline]['p50']:.1f} ms" if baseline else "n/a",
            _x(ratio(lat[baseline]["p50"], value)) if baseline and value > 0 else "",
        )
    ]
