"""Graph optimization passes: small pure functions graph -> graph, one per file.

`optimize` runs `PIPELINE` in order until nothing changes, verifying the graph after every pass.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from mcuforge.ir.graph import Graph
from mcuforge.ir.verify import verify
from mcuforge.passes.dead_code import remove_dead_code
from mcuforge.passes.depthwise_as_conv import depthwise_one_channel_as_conv
from mcuforge.passes.fold_batch_norm import fold_batch_norm
from mcuforge.passes.fold_constants import fold_constants
from mcuforge.passes.fold_float_island import fold_float_island
from mcuforge.passes.fold_pad import fold_pad
from mcuforge.passes.fold_transpose_fc import fold_transpose_into_fc
from mcuforge.passes.fuse_activation import fuse_activation
from mcuforge.passes.fuse_unary_pattern import fuse_unary_pattern
from mcuforge.passes.remove_identity import remove_identity

Pass = Callable[[Graph], Graph]

PIPELINE: list[Pass] = [
    fold_constants,
    remove_identity,
    fold_batch_norm,
    fuse_activation,
    fold_pad,
    fold_transpose_into_fc,
    remove_dead_code,
    fold_float_island,  # elementwise-ops
    fuse_unary_pattern,  # elementwise-ops
    depthwise_one_channel_as_conv,  # real models: micro_speech's one-channel depthwise
]


def optimize(graph: Graph, passes: list[Pass] | None = None, max_rounds: int = 8) -> Graph:
    """Run the passes to a fixed point; the input graph is left untouched."""
    graph = copy.deepcopy(graph)
    for _ in range(max_rounds):
        before = _signature(graph)
        for p in passes or PIPELINE:
            graph = p(graph)
            verify(graph)
        if _signature(graph) == before:
            break
    return graph


def _signature(graph: Graph) -> tuple:
    return tuple((op.kind, tuple(op.inputs), tuple(op.outputs)) for op in graph.ops)
