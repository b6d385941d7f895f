"""CLAMP: min(max(x, min), max); standalone Relu, Relu6 and Clip. attrs: min, max (floats, +-inf)."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def clamp_float(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    return [np.clip(xs[0], a["min"], a["max"]).astype(np.float32)]


CLAMP = register(OpDef(
    kind="CLAMP", shape=same_shape, ref_float=clamp_float, attrs=("min", "max"),
    doc="clamp to [min, max] (Relu, Relu6, Clip)",
))
