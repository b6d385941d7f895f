"""SOFTMAX over the last axis: exp(beta * x) normalised. attrs: beta.
Quantized output is fixed at scale 1/256, zero point -128."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def softmax_float(ctx: Ctx, xs: Arrays) -> Arrays:
    z = xs[0].astype(np.float64) * ctx.op.attrs["beta"]
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return [(e / e.sum(axis=-1, keepdims=True)).astype(np.float32)]


SOFTMAX = register(OpDef(kind="SOFTMAX", shape=same_shape, ref_float=softmax_float,
                         attrs=("beta",), doc="softmax over the last axis"))
