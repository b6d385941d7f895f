"""Fold a zero PAD of H and W into the convolution after it (an op with `OpDef.absorbs_pad`: its
own padding grows). In int8 graphs a zero pad fills with the zero point, which is what
convolution padding means too."""

from __future__ import annotations

from mcuforge.ir.graph import Graph
from mcuforge.ops.pad import PAD
from mcuforge.ops.registry import lookup
from mcuforge.passes.rewrite import sole_consumer


def fold_pad(graph: Graph) -> Graph:
    for pad in [op for op in graph.ops if op.kind == PAD.kind]:
        conv = sole_consumer(graph, pad.outputs[0])
        pads = [tuple(p) for p in pad.attrs["pads"]]
        if conv is None or not lookup(conv.kind).absorbs_pad or conv.inputs[0] != pad.outputs[0]:
            continue
        if pad.attrs["value"] != 0.0 or len(pads) != 4 or pads[0] != (0, 0) or pads[3] != (0, 0):
            continue
        src, dst = graph.tensors[pad.inputs[0]], graph.tensors[pad.outputs[0]]
        if src.quant is not None and (dst.quant is None or src.scalar_quant() != dst.scalar_quant()):
            continue  # an int8 PAD may also requantize; convolution padding cannot
        top, left, bottom, right = conv.attrs["pads"]
        conv.attrs["pads"] = (top + pads[1][0], left + pads[2][0], bottom + pads[1][1], right + pads[2][1])
        conv.inputs[0] = pad.inputs[0]
        graph.ops.remove(pad)
    graph.prune_unused_tensors()
    return graph
