"""int8 quantisation of an fp32 ONNX graph (no torch: the TensorFlow import uses it too).

Two ways, both storing the large weights as int8 (a quarter of the fp32 bytes):
- `quantize_weights_int8` (classifiers): int8 weights with per-channel scales behind a
  `DequantizeLinear`; the runtime folds them back to fp32 once, when the session loads
  (`session.disable_quant_qdq`, machbot_fn.models.runtime), so every call computes in fp32. The
  models trained on the chat mix moved by up to 1.2 points under dynamic int8 (activations rounded
  too, at every call) and by at most about 0.4 this way.
- `quantize_int8` (the replier, the embedder, imports): onnxruntime's dynamic int8, int8 arithmetic
  with activations quantised on the fly; about twice as fast per call as fp32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

# MatMul carries the encoder's weights, Gather the embedding tables (most of a small model's bytes).
QUANTIZED_OPS = ("MatMul", "Gather")
MIN_WEIGHT_ELEMENTS = 4096  # smaller tensors (biases, norms, the 6-way head) stay fp32: they weigh nothing


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


def _weight_axis(op_type: str, position: int) -> int | None:
    """The channel axis of a weight input, or None when this input is not a quantisable weight:
    MatMul's right operand [in, out] per output column, Gather's table [rows, dim] per row."""
    if op_type == "MatMul" and position == 1:
        return 1
    if op_type == "Gather" and position == 0:
        return 0
    return None


def symmetric_int8(weight: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and float32 scales (one per channel along `axis`), zero point 0."""
    reduce_over = tuple(i for i in range(weight.ndim) if i != axis)
    peak = np.abs(weight).max(axis=reduce_over)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    shape = [1] * weight.ndim
    shape[axis] = -1
    values = np.clip(np.rint(weight / scale.reshape(shape)), -127, 127).astype(np.int8)
    return values, scale


def quantize_weights_int8(src: Path, dst: Path) -> Path:
    """Weights-only int8: each large MatMul/Gather weight becomes int8 + per-channel scale + DequantizeLinear.

    Raises ValueError when the graph has no weight to quantise (nothing would be gained, and a caller
    expecting an int8 file would silently ship fp32).
    """
    model = onnx.load(str(src))
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    axes: dict[str, int] = {}
    for node in graph.node:
        for position, name in enumerate(node.input):
            axis = _weight_axis(node.op_type, position)
            init = initializers.get(name)
            if axis is None or init is None or init.data_type != onnx.TensorProto.FLOAT:
                continue
            if len(init.dims) == 2 and int(np.prod(init.dims)) >= MIN_WEIGHT_ELEMENTS and axes.get(name, axis) == axis:
                axes[name] = axis
    if not axes:
        raise ValueError(f"{src} has no MatMul or Gather weight of {MIN_WEIGHT_ELEMENTS}+ elements to quantise")
    dequantize = []
    for name, axis in axes.items():
        values, scale = symmetric_int8(numpy_helper.to_array(initializers[name]), axis)
        graph.initializer.remove(initializers[name])
        graph.initializer.extend(
            [
                numpy_helper.from_array(values, f"{name}_int8"),
                numpy_helper.from_array(scale, f"{name}_scale"),
                numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), f"{name}_zero_point"),
            ]
        )
        dequantize.append(
            helper.make_node(
                "DequantizeLinear",
                [f"{name}_int8", f"{name}_scale", f"{name}_zero_point"],
                [name],
                name=f"{name}_dequantize",
                axis=axis,
            )
        )
    # DequantizeLinear first: a graph's nodes must stay in topological order.
    nodes = [*dequantize, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
    return dst


def quantization_note(quantize: bool, per_channel: bool, weights_only: bool = False) -> str:
    """How a version's weights were quantised, for its manifest's provenance."""
    if not quantize:
        return "none (fp32)"
    if weights_only:
        return "int8 weights (per-channel symmetric scales, DequantizeLinear folded to fp32 at load), fp32 arithmetic"
    return f"onnxruntime dynamic int8 (QInt8 weights, {'per-channel' if per_channel else 'per-tensor'})"
