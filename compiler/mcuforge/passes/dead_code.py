"""Remove ops none of whose outputs reach a graph output."""

from __future__ import annotations

from mcuforge.ir.graph import Graph


def remove_dead_code(graph: Graph) -> Graph:
    needed = set(graph.outputs)
    kept = []
    for op in reversed(graph.ops):
        if any(o in needed for o in op.outputs):
            kept.append(op)
            needed.update(n for n in op.inputs if n)
    graph.ops = kept[::-1]
    graph.prune_unused_tensors()
    return graph
