"""HARD_SWISH: x * relu6(x + 3) / 6."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def hard_swish_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0]
    return [(x * np.clip(x + 3.0, 0.0, 6.0) / 6.0).astype(np.float32)]


HARD_SWISH = register(OpDef(kind="HARD_SWISH", shape=same_shape, ref_float=hard_swish_float,
                            doc="x * relu6(x + 3) / 6"))
