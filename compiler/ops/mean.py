"""MEAN over `axes` (GlobalAveragePool is MEAN over H, W). attrs: axes, keepdims."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def mean_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    axes = {a % len(x) for a in op.attrs["axes"]}
    if op.attrs["keepdims"]:
        return [tuple(1 if i in axes else d for i, d in enumerate(x))]
    return [tuple(d for i, d in enumerate(x) if i not in axes)]


def mean_float(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    y = np.mean(xs[0], axis=tuple(a["axes"]), keepdims=a["keepdims"])
    return [y.astype(np.float32)]


MEAN = register(OpDef(
    kind="MEAN", shape=mean_shape, ref_float=mean_float,
    attrs=("axes", "keepdims"), doc="mean over axes",
))
