"""TANH. Quantized output is fixed at scale 1/128, zero point 0."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def tanh_float(ctx: Ctx, xs: Arrays) -> Arrays:
    return [np.tanh(xs[0]).astype(np.float32)]


TANH = register(OpDef(kind="TANH", shape=same_shape, ref_float=tanh_float,
                      doc="hyperbolic tangent"))
