"""RESHAPE (also Flatten, Squeeze, Unsqueeze): same bytes, new shape. attrs: shape (no -1)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def reshape_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    shape = tuple(op.attrs["shape"])
    if int(np.prod(shape)) != int(np.prod(x)):
        raise ValueError(f"RESHAPE '{op.name}': cannot reshape {x} to {shape}")
    return [shape]


def reshape_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    return [xs[0].reshape(ctx.op.attrs["shape"])]


def reshape_is_identity(op: Op, ins: list[Shape | None], outs: list[Shape]) -> bool:
    return ins[0] is not None and tuple(ins[0]) == tuple(outs[0])


RESHAPE = register(OpDef(
    kind="RESHAPE", shape=reshape_shape, ref_float=reshape_ref, ref_int=reshape_ref,
    attrs=("shape",), out_quant="same_as_input", int16=True, doc="reinterpret with a new shape",
    alias=True, identity=reshape_is_identity,
))
