"""int8 dynamic quantisation of an fp32 ONNX graph with onnxruntime (no torch: the TensorFlow import uses it too)."""

from __future__ import annotations

from pathlib import Path

from onnxruntime.quantization import QuantType, quantize_dynamic

# MatMul carries the encoder's weights, Gather the embedding tables (most of a small model's bytes).
QUANTIZED_OPS = ("MatMul", "Gather")


def quantize_int8(src: Path, dst: Path, per_channel: bool = True) -> Path:
    """Dynamic int8 quantisation: int8 weights, activations quantised on the fly per call.

    Per-channel scales by default: on the BERT classifier (validation split) they kept 99.5 % of
    fp32's predictions (accuracy 92.8 vs fp32 92.65) against 98.5 % (92.35) per-tensor, for +0.1 MB.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=per_channel,
        op_types_to_quantize=list(QUANTIZED_OPS),
    )
    return dst


def quantization_note(quantize: bool, per_channel: bool) -> str:
    """How a version's weights were quantised, for its manifest's provenance."""
    if not quantize:
        return "none (fp32)"
    return f"onnxruntime dynamic int8 (QInt8 weights, {'per-channel' if per_channel else 'per-tensor'})"
