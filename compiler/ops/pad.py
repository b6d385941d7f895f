"""PAD with a constant. attrs: pads ((before, after) per axis), value (real value, float)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def pad_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    return [tuple(d + lo + hi for d, (lo, hi) in zip(x, op.attrs["pads"]))]


def pad_float(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    return [np.pad(xs[0], a["pads"], constant_values=np.float32(a["value"]))]


PAD = register(OpDef(
    kind="PAD", shape=pad_shape, ref_float=pad_float, attrs=("pads", "value"),
    doc="pad with a constant value",
))
