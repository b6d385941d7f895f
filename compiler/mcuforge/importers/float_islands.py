"""Fold DEQUANTIZE -> float unary op -> QUANTIZE into the unary op on the integer tensors.

TFLite's converter keeps ops without an int8 kernel in float between a DEQUANTIZE and a QUANTIZE
(NEG in its decomposition of LayerNormalization); TFLite Micro runs them in float. Ops listed in
`FOLDABLE` have an integer reference that repeats those float steps exactly, so the triple
becomes one integer op reading the DEQUANTIZE's input and writing the QUANTIZE's output.
"""

from __future__ import annotations

from mcuforge.ir.graph import Graph

FOLDABLE = frozenset({"NEG"})


def fold_float_islands(graph: Graph) -> None:
    producers = graph.producers()
    consumers = graph.consumers()
    for op in [op for op in graph.ops if op.kind in FOLDABLE]:
        src = producers.get(op.inputs[0])
        readers = consumers.get(op.outputs[0], [])
        if (src is None or src.kind != "DEQUANTIZE" or len(readers) != 1 or readers[0].kind != "QUANTIZE"
                or len(consumers.get(src.outputs[0], [])) != 1):
            continue
        quant = readers[0]
        if (graph.tensors[src.inputs[0]].dtype not in ("int8", "int16")
                or graph.tensors[quant.outputs[0]].dtype != graph.tensors[src.inputs[0]].dtype
                or {src.outputs[0], op.outputs[0]} & set(graph.outputs)):
            continue
        op.inputs[0] = src.inputs[0]
        op.outputs[0] = quant.outputs[0]
        graph.ops.remove(src)
        graph.ops.remove(quant)
