"""PRELU: x if x >= 0 else alpha * x, alpha a constant tensor broadcast against x."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def prelu_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x, alpha = xs[0], xs[1]
    return [np.where(x >= 0, x, alpha * x).astype(np.float32)]


PRELU = register(OpDef(
    kind="PRELU", shape=same_shape, ref_float=prelu_float, num_inputs=(2, 2),
    doc="leaky rectifier with learned per-channel slopes",
))
