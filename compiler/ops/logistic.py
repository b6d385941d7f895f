"""LOGISTIC: 1 / (1 + exp(-x)). Quantized output is fixed at scale 1/256, zero point -128."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def logistic_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0].astype(np.float64)
    return [(1.0 / (1.0 + np.exp(-x))).astype(np.float32)]


LOGISTIC = register(OpDef(kind="LOGISTIC", shape=same_shape, ref_float=logistic_float,
                          doc="sigmoid"))
