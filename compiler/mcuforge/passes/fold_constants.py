"""Evaluate ops whose inputs are all constants (weight transposes, reshapes, dequantized
weights) at compile time, replacing them by constant tensors."""

from __future__ import annotations

from mcuforge.ir.graph import Graph
from mcuforge.ops.registry import Ctx, lookup


def fold_constants(graph: Graph) -> Graph:
    for op in list(graph.ops):
        ins = graph.op_inputs(op)
        if not ins or any(t is not None and not t.is_const for t in ins):
            continue
        if any(o in graph.outputs for o in op.outputs):
            continue
        opdef = lookup(op.kind)
        first = ins[0]
        impl = opdef.ref_float if first is None or first.dtype == "float32" else opdef.ref_int
        if impl is None:
            continue
        values = impl(Ctx.of(graph, op), [t.data if t is not None else None for t in ins])
        for name, value in zip(op.outputs, values):
            t = graph.tensors[name]
            t.data = value.astype(t.dtype).reshape(t.shape)
        graph.ops.remove(op)
    graph.prune_unused_tensors()
    return graph
