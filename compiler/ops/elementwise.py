"""ADD, SUB, MUL: numpy broadcasting over NHWC tensors, fused activation. attrs: activation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import apply_activation
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def broadcast_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    a, b = ins[0], ins[1]
    assert a is not None and b is not None
    try:
        return [tuple(np.broadcast_shapes(a, b))]
    except ValueError:
        raise ValueError(f"{op.kind} '{op.name}': shapes {a} and {b} do not broadcast") from None


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[Ctx, Arrays], Arrays]:
    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        y = fn(xs[0], xs[1]).astype(np.float32)
        return [apply_activation(y, ctx.op.attrs["activation"])]

    return ref


ADD = register(OpDef(
    kind="ADD", shape=broadcast_shape, ref_float=_binary(np.add), num_inputs=(2, 2),
    attrs=("activation",), doc="elementwise a + b",
))
SUB = register(OpDef(
    kind="SUB", shape=broadcast_shape, ref_float=_binary(np.subtract), num_inputs=(2, 2),
    attrs=("activation",), doc="elementwise a - b",
))
MUL = register(OpDef(
    kind="MUL", shape=broadcast_shape, ref_float=_binary(np.multiply), num_inputs=(2, 2),
    attrs=("activation",), doc="elementwise a * b",
))
