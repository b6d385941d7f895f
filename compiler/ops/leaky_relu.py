"""LEAKY_RELU: x if x >= 0 else alpha * x. attrs: alpha."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def leaky_relu_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0]
    return [np.where(x >= 0, x, np.float32(ctx.op.attrs["alpha"]) * x).astype(np.float32)]


LEAKY_RELU = register(OpDef(
    kind="LEAKY_RELU", shape=same_shape, ref_float=leaky_relu_float, attrs=("alpha",),
    doc="leaky rectifier with a constant slope",
))
