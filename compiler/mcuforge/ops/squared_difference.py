"""SQUARED_DIFFERENCE: (a - b)^2 elementwise with numpy broadcasting (TFLite's decomposition of
LayerNormalization's variance). No attributes.

The integer reference follows TFLite Micro's squared_difference.cc for int8: both inputs are
offset, shifted left by 7 bits, scaled to a common scale of twice the larger input scale (ADD's
multipliers, in double), subtracted; the difference is squared in int32 and requantized by
(2 * max scale)^2 / (2^14 * out_scale) (double), output zero point added, saturated.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import INT_RANGES
from mcuforge.ops.elementwise import broadcast_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import multiply_by_quantized_multiplier, quantize_multiplier

LEFT_SHIFT = 7  # TFLM: 255^2 * 2^14 still fits int32


def squared_difference_reals(s1: float, s2: float, so: float) -> tuple[float, float, float]:
    """Input 1, input 2 and output real multipliers as TFLM's PrepareQuantized computes them."""
    twice_max = 2.0 * max(float(np.float32(s1)), float(np.float32(s2)))
    out = twice_max * twice_max / float(np.float32((1 << (2 * LEFT_SHIFT)) * np.float32(so)))
    return s1 / twice_max, s2 / twice_max, out


def squared_difference_float(ctx: Ctx, xs: Arrays) -> Arrays:
    d = xs[0].astype(np.float32) - xs[1].astype(np.float32)
    return [(d * d).astype(np.float32)]


def squared_difference_int(ctx: Ctx, xs: Arrays) -> Arrays:
    (s1, z1), (s2, z2), (so, zo) = ctx.in_quant(0), ctx.in_quant(1), ctx.out_quant()
    (m1, e1), (m2, e2), (mo, eo) = (quantize_multiplier(r) for r in squared_difference_reals(s1, s2, so))
    a = multiply_by_quantized_multiplier((xs[0].astype(np.int64) - z1) << LEFT_SHIFT, m1, e1)
    b = multiply_by_quantized_multiplier((xs[1].astype(np.int64) - z2) << LEFT_SHIFT, m2, e2)
    diff = a - b
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    y = multiply_by_quantized_multiplier(diff * diff, mo, eo) + zo
    return [np.clip(y, lo, hi).astype(ctx.outs[0].dtype)]


SQUARED_DIFFERENCE = register(OpDef(
    kind="SQUARED_DIFFERENCE", shape=broadcast_shape, ref_float=squared_difference_float,
    ref_int=squared_difference_int, num_inputs=(2, 2), doc="elementwise (a - b)^2",
    data_operands=True,
))
