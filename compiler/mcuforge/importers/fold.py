"""Evaluate an op at import when every input is a constant (tflite-import area).

Shape arithmetic (`SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE`, as TensorFlow writes for every
Keras `Flatten`/`Reshape` of a model with a free batch) only depends on static shapes and
constants once the batch is fixed to 1, so the importer folds it op by op with the registry's
references: the same definitions the interpreter runs, applied to int32 data. Unquantized
tensors (shapes, float constants) go through the float reference, quantized ones through the
integer reference.
"""

from __future__ import annotations

from mcuforge.ir.graph import Graph, Op
from mcuforge.ops.registry import Ctx, lookup


def all_inputs_const(graph: Graph, op: Op) -> bool:
    ins = graph.op_inputs(op)
    return bool(ins) and all(t is None or t.is_const for t in ins)


def fold_op(graph: Graph, op: Op) -> bool:
    """Give `op`'s outputs their values and return True when every input is constant and no
    output is a graph output; the caller then drops the op."""
    if not all_inputs_const(graph, op) or any(o in graph.outputs for o in op.outputs):
        return False
    opdef = lookup(op.kind)
    first = graph.op_inputs(op)[0]
    plain = first is None or first.dtype == "float32" or first.quant is None
    impl = opdef.ref_float if plain else opdef.ref_int
    if impl is None:
        return False
    values = impl(Ctx.of(graph, op), [t.data if t is not None else None for t in graph.op_inputs(op)])
    for name, value in zip(op.outputs, values, strict=True):
        t = graph.tensors[name]
        t.data = value.astype(t.dtype).reshape(t.shape)
    return True
