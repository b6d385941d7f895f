"""Remove ops that do nothing: same-shape RESHAPE, identity TRANSPOSE, unbounded CLAMP;
collapse RESHAPE chains into one RESHAPE."""

from __future__ import annotations

import math

import numpy as np

from mcuforge.ir.graph import Graph, Op
from mcuforge.passes.rewrite import bypass, sole_consumer


def _is_identity(graph: Graph, op: Op) -> bool:
    if op.kind == "RESHAPE":
        return graph.tensors[op.inputs[0]].shape == graph.tensors[op.outputs[0]].shape
    if op.kind == "TRANSPOSE":
        return list(op.attrs["perm"]) == list(range(len(op.attrs["perm"])))
    if op.kind == "CLAMP":
        return op.attrs["min"] == -math.inf and op.attrs["max"] == math.inf
    return False


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
        if op.kind == "RESHAPE":
            nxt = sole_consumer(graph, op.outputs[0])
            if nxt is not None and nxt.kind == "RESHAPE":
                nxt.inputs[0] = op.inputs[0]
                graph.ops.remove(op)
                graph.prune_unused_tensors()
                continue
        if _is_identity(graph, op) and _same_encoding(graph, op.inputs[0], op.outputs[0]):
            bypass(graph, op)
    return graph
