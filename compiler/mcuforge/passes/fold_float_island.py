"""Fold a float island of one elementwise op in an integer graph, DEQUANTIZE -> op -> QUANTIZE,
into the op on the integer tensors with attrs["float_island"] = True.

TF's converter leaves NEG (e.g. in its decomposition of LayerNormalization), POW and ELU in
float this way even for full-int8 models (TFLite Micro then dequantizes, computes in float32 and
quantizes again). The folded op's integer reference follows those three steps (ops/unary.py
`float_island_int`), so it stays bit-exact and becomes a 256-entry table in C. The ops that can
fold are `ops.unary.FLOAT_ISLAND_KINDS`; int8 and int16 (16x8 mode, reference only) tensors.

The driver runs this before it looks for float ops without scales (compile.to_int8,
compile.check_compiles), and it is in the pass pipeline for graphs built otherwise.
"""

from __future__ import annotations

from mcuforge.ir.graph import Graph
from mcuforge.ops.quantize import DEQUANTIZE, QUANTIZE
from mcuforge.ops.unary import FLOAT_ISLAND_KINDS
from mcuforge.passes.rewrite import sole_consumer


def fold_float_island(graph: Graph) -> Graph:
    producers = graph.producers()
    for op in [op for op in graph.ops if op.kind in FLOAT_ISLAND_KINDS]:
        deq = producers.get(op.inputs[0])
        if deq is None or deq.kind != DEQUANTIZE.kind or sole_consumer(graph, deq.outputs[0]) is not op:
            continue
        quant = sole_consumer(graph, op.outputs[0])
        if quant is None or quant.kind != QUANTIZE.kind:
            continue
        src, dst = graph.tensors[deq.inputs[0]], graph.tensors[quant.outputs[0]]
        if (src.dtype not in ("int8", "int16") or dst.dtype != src.dtype
                or graph.tensors[op.outputs[0]].dtype != "float32"):
            continue
        op.inputs = [src.name]
        op.outputs = [dst.name]
        op.attrs = {**op.attrs, "float_island": True}
        graph.ops.remove(deq)
        graph.ops.remove(quant)
    graph.prune_unused_tensors()
    return graph
