"""Fuse a CLAMP whose range is one of the fused activations (Relu, Relu6, ...) into the op
that produces its input, when that op takes a fused activation (`OpDef.fused_activation`) and
has no other reader."""

from __future__ import annotations

from mcuforge.ir.graph import Graph
from mcuforge.ops.clamp import CLAMP
from mcuforge.ops.common import ACTIVATIONS
from mcuforge.ops.registry import lookup
from mcuforge.passes.rewrite import sole_consumer

BY_RANGE = {rng: name for name, rng in ACTIVATIONS.items() if name != "NONE"}


def fuse_activation(graph: Graph) -> Graph:
    producers = graph.producers()
    for clamp in [op for op in graph.ops if op.kind == CLAMP.kind]:
        act = BY_RANGE.get((float(clamp.attrs["min"]), float(clamp.attrs["max"])))
        prod = producers.get(clamp.inputs[0])
        if act is None or prod is None or not lookup(prod.kind).fused_activation:
            continue
        if prod.attrs.get("activation") != "NONE" or sole_consumer(graph, clamp.inputs[0]) is not clamp:
            continue
        if graph.tensors[clamp.inputs[0]].dtype != "float32":
            continue  # quantized graphs were fused before their ranges were chosen
        prod.attrs["activation"] = act
        prod.outputs = [clamp.outputs[0]]
        graph.ops.remove(clamp)
    graph.prune_unused_tensors()
    return graph
