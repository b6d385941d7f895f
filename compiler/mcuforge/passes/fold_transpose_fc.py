"""Remove the NHWC -> NCHW TRANSPOSE that precedes a flatten into a dense layer by permuting
the dense layer's weight columns instead (ONNX models flatten in NCHW order)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Graph
from mcuforge.ops.fully_connected import FULLY_CONNECTED
from mcuforge.ops.reshape import RESHAPE
from mcuforge.ops.transpose import TRANSPOSE
from mcuforge.passes.rewrite import sole_consumer


def fold_transpose_into_fc(graph: Graph) -> Graph:
    for tr in [op for op in graph.ops if op.kind == TRANSPOSE.kind]:
        perm = list(tr.attrs["perm"])
        reshape = sole_consumer(graph, tr.outputs[0])
        if reshape is None or reshape.kind != RESHAPE.kind or perm[0] != 0:
            continue
        fc = sole_consumer(graph, reshape.outputs[0])
        src = graph.tensors[tr.inputs[0]]
        flat = graph.tensors[reshape.outputs[0]].shape
        if fc is None or fc.kind != FULLY_CONNECTED.kind or len(flat) != 2 or flat[0] != src.shape[0]:
            continue
        w = graph.tensors[fc.inputs[1]]
        if w.data is None or w.dtype != "float32":
            continue
        # Column j of the new weights reads what element j of the untransposed tensor held.
        inner = src.shape[1:]
        order = np.arange(int(np.prod(inner))).reshape(inner).transpose([p - 1 for p in perm[1:]])
        new_w = np.empty_like(w.data)
        new_w[:, order.reshape(-1)] = w.data
        fc.inputs[1] = graph.add_const(f"{w.name}_nhwc", new_w)
        reshape.inputs[0] = tr.inputs[0]
        graph.ops.remove(tr)
    graph.prune_unused_tensors()
    return graph
