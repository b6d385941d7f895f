"""Whether every op of a graph fits its C kernel, checked the same way by `compile` and
`inspect` (tflite-import area).

An int8 graph is checked by building each op's kernel call (`kernel_params.kernel_call`), which
is what codegen does; a float graph (quantized later) by the shape limits of the kernels: most
take 4-D NHWC shapes (lower ranks padded with 1s), while the lookup tables, softmax, reshapes and
the strided-copy ops (slices, splits, tiles, gathers, transposes and concatenations) take any
rank the copy kernel can merge down to its limit.
"""

from __future__ import annotations

from mcuforge.codegen.sanitize import c_text
from mcuforge.ir.graph import Graph
from mcuforge.kernel_params import BINDINGS, LUT_KINDS, kernel_call
from mcuforge.ops.registry import Ctx

ANY_RANK = frozenset({*LUT_KINDS, "RESHAPE", "SOFTMAX", "TRANSPOSE", "CONCATENATION", "STRIDED_SLICE",
                      "SPLIT", "TILE", "BROADCAST_TO", "GATHER"})
MAX_RANK = 4


def kernel_problems(graph: Graph) -> list[str]:
    """One line per op its kernel cannot run, naming the op and why ([] when all fit)."""
    problems = []
    for op in graph.ops:
        if op.kind == "RESHAPE" or op.kind not in BINDINGS:
            continue  # ops without a kernel are refused by codegen's own check, by name
        ctx = Ctx.of(graph, op)
        tensors = [t for t in [*ctx.ins, *ctx.outs] if t is not None]
        if all(t.dtype == "int8" or t.is_const for t in tensors):
            try:
                kernel_call(ctx)
            except ValueError as e:
                problems.append(str(e))
        elif op.kind not in ANY_RANK:
            deep = [t for t in tensors if not t.is_const and len(t.shape) > MAX_RANK]
            if deep:
                problems.append(f"{op.kind} '{c_text(op.name)}': tensor '{c_text(deep[0].name)}' has shape "
                                f"{deep[0].shape} (rank {len(deep[0].shape)}); its kernel takes at most "
                                f"{MAX_RANK} axes")
    return problems
