"""Remove ops that do nothing (their `OpDef.identity` rule says so for this instance: a
same-shape RESHAPE, an identity TRANSPOSE, an unbounded CLAMP, ...); collapse chains of alias
ops (`OpDef.alias`, RESHAPE) into one."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Graph, Op
from mcuforge.ops.registry import lookup
from mcuforge.passes.rewrite import bypass, sole_consumer


def _is_identity(graph: Graph, op: Op) -> bool:
    rule = lookup(op.kind).identity
    if rule is None:
        return False
    ins = [graph.tensors[n].shape if n else None for n in op.inputs]
    return rule(op, ins, [graph.tensors[n].shape for n in op.outputs])


def _same_encoding(graph: Graph, a: str, b: str) -> bool:
    """Same dtype and quantization, so passing the bytes through changes no value."""
    ta, tb = graph.tensors[a], graph.tensors[b]
    if ta.dtype != tb.dtype:
        return False
    if ta.quant is None or tb.quant is None:
        return ta.quant is tb.quant
    return (np.array_equal(ta.quant.scale, tb.quant.scale)
            and np.array_equal(ta.quant.zero_point, tb.quant.zero_point))


def remove_identity(graph: Graph) -> Graph:
    for op in list(graph.ops):
        if lookup(op.kind).alias:
            nxt = sole_consumer(graph, op.outputs[0])
            if nxt is not None and nxt.kind == op.kind:
                nxt.inputs[0] = op.inputs[0]
                graph.ops.remove(op)
                graph.prune_unused_tensors()
                continue
        if _is_identity(graph, op) and _same_encoding(graph, op.inputs[0], op.outputs[0]):
            bypass(graph, op)
    return graph
