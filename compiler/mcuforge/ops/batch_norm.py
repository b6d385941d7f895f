"""BATCH_NORM over the last (channel) axis: (x - mean) / sqrt(var + eps) * scale + bias.

Inputs: x, scale, bias, mean, var (each (C,)). attrs: epsilon. Float only: a pass folds it away.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def batch_norm_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x, scale, bias, mean, var = xs
    inv = scale / np.sqrt(var + np.float32(ctx.op.attrs["epsilon"]))
    return [((x - mean) * inv + bias).astype(np.float32)]


BATCH_NORM = register(OpDef(
    kind="BATCH_NORM", shape=same_shape, ref_float=batch_norm_float, num_inputs=(5, 5),
    attrs=("epsilon",), doc="inference batch normalization, channels last",
))
