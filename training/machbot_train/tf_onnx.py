"""A TensorFlow function -> an fp32 ONNX classifier graph, with tf2onnx.

The graph gets the serving signature (machbot_fn.models.manifest): int64 `input_ids`, `attention_mask`
[batch, seq] -> float32 `logits` [batch, labels], opset 17 like the PyTorch exports.

TensorFlow 2.21 computes the exact GELU as `0.5 x erfc(-x / sqrt 2)`, and tf2onnx 1.17 has no
handler for `Erfc` (ONNX has no such operator), so it is rewritten here as `1 - Erf(x)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from machbot_train.tf_source import INPUTS, SourceError, signature

OPSET = 17
OUTPUT = "logits"
DIM_NAMES = {"input_ids": ("batch", "seq"), "attention_mask": ("batch", "seq"), OUTPUT: ("batch", None)}


def _erfc_as_one_minus_erf(ctx: Any, node: Any, name: str, args: list[Any]) -> Any:
    """tf2onnx handler (its dict form): Erfc(x) -> Sub(1, Erf(x))."""
    from tf2onnx import utils

    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
    node.type = "Erf"
    one = ctx.make_const(utils.make_name(f"{name}_one"), np.array(1, dtype=dtype))
    ctx.insert_new_node_on_output("Sub", node.output[0], inputs=[one.output[0], node.output[0]])
    return node


CUSTOM_OP_HANDLERS: dict[str, tuple[Callable[..., Any], list[Any]]] = {"Erfc": (_erfc_as_one_minus_erf, [])}


def converter_description() -> str:
    import tf2onnx

    return f"tf2onnx {tf2onnx.__version__} (tf.function, opset {OPSET}; Erfc rewritten as 1 - Erf)"


def _name_dims(model: onnx.ModelProto) -> None:
    """Readable dynamic axes (tf2onnx names them unk__N)."""
    for value in [*model.graph.input, *model.graph.output]:
        for dim, name in zip(value.type.tensor_type.shape.dim, DIM_NAMES.get(value.name, ()), strict=False):
            if name is not None and not dim.HasField("dim_value"):
                dim.dim_param = name


def _check_signature(model: onnx.ModelProto) -> None:
    inputs = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    outputs = [o.name for o in model.graph.output]
    if set(inputs) != set(INPUTS) or any(t != onnx.TensorProto.INT64 for t in inputs.values()):
        raise SourceError(f"the converted graph takes {sorted(inputs)}; expected int64 {', '.join(INPUTS)}")
    if outputs != [OUTPUT]:
        raise SourceError(f"the converted graph returns {outputs}; expected [{OUTPUT!r}]")


def convert_to_onnx(logits_fn: Any, path: Path) -> Path:
    """Write the fp32 ONNX graph of `logits_fn` (tf.function over INPUTS returning {"logits": ...}) to path."""
    import tf2onnx

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    try:
        model, _ = tf2onnx.convert.from_function(
            logits_fn, input_signature=signature(), opset=OPSET, custom_op_handlers=dict(CUSTOM_OP_HANDLERS)
        )
    except SourceError:
        raise
    except Exception as exc:  # tf2onnx raises whatever the failing handler raised
        raise SourceError(f"tf2onnx could not convert the model: {type(exc).__name__}: {exc}") from exc
    _name_dims(model)
    _check_signature(model)
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise SourceError(f"the converted graph is not valid ONNX (an operation tf2onnx cannot map?): {first}") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
