"""TRANSPOSE: permute axes. attrs: perm."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def transpose_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    return [tuple(x[p] for p in op.attrs["perm"])]


def transpose_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    return [np.ascontiguousarray(xs[0].transpose(ctx.op.attrs["perm"]))]


def transpose_is_identity(op: Op, ins: list[Shape | None], outs: list[Shape]) -> bool:
    return list(op.attrs["perm"]) == list(range(len(op.attrs["perm"])))


TRANSPOSE = register(OpDef(
    kind="TRANSPOSE", shape=transpose_shape, ref_float=transpose_ref, ref_int=transpose_ref,
    attrs=("perm",), out_quant="same_as_input", int16=True, doc="permute axes",
    identity=transpose_is_identity,
))
