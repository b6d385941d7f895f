"""Small graph-editing helpers the passes share."""

from __future__ import annotations

from mcuforge.ir.graph import Graph, Op


def sole_consumer(graph: Graph, tensor: str) -> Op | None:
    """The one op reading `tensor`, if exactly one does and the tensor is not a graph output."""
    if tensor in graph.outputs:
        return None
    users = [op for op in graph.ops if tensor in op.inputs]
    return users[0] if len(users) == 1 else None


def replace_uses(graph: Graph, old: str, new: str) -> None:
    """Make every reader of `old` read `new` instead (graph outputs included)."""
    for op in graph.ops:
        op.inputs = [new if n == old else n for n in op.inputs]
    graph.outputs = [new if n == old else n for n in graph.outputs]


def bypass(graph: Graph, op: Op) -> None:
    """Remove a single-input, single-output op whose output equals its input."""
    src, dst = op.inputs[0], op.outputs[0]
    graph.ops.remove(op)
    if dst in graph.outputs and src in graph.inputs:
        graph.ops.append(op)  # input -> output directly: keep the op, the C API needs both
        return
    if dst in graph.outputs:
        # Keep the output's name: the producer of src writes dst directly.
        for other in graph.ops:
            other.outputs = [dst if n == src else n for n in other.outputs]
            other.inputs = [dst if n == src else n for n in other.inputs]
    else:
        replace_uses(graph, dst, src)
    graph.prune_unused_tensors()
