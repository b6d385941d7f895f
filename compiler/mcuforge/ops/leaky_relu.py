"""LEAKY_RELU: x if x >= 0 else alpha * x. attrs: alpha."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import INT_RANGES, same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import multiply_by_quantized_multiplier, quantize_multiplier


def leaky_relu_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0]
    return [np.where(x >= 0, x, np.float32(ctx.op.attrs["alpha"]) * x).astype(np.float32)]


def leaky_multipliers(ctx: Ctx) -> tuple[tuple[int, int], tuple[int, int]]:
    """(multiplier, shift) for x >= 0 (x_scale / out_scale) and for x < 0 (times alpha), as
    TFLM's LeakyReluPrepare computes them."""
    x_scale, out_scale = ctx.in_quant()[0], ctx.out_quant()[0]
    return (quantize_multiplier(x_scale / out_scale),
            quantize_multiplier(x_scale * ctx.op.attrs["alpha"] / out_scale))


def leaky_relu_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's QuantizeLeakyRelu: x - x_zp scaled by x_scale / out_scale where it is >= 0 and by
    x_scale * alpha / out_scale (double) where it is negative; int8 and int16 (16x8 mode, its
    QuantizeLeakyRelu<int16_t>) alike, clamped to the output type's range."""
    (_, x_zp), (_, out_zp) = ctx.in_quant(), ctx.out_quant()
    (m_id, s_id), (m_alpha, s_alpha) = leaky_multipliers(ctx)
    d = xs[0].astype(np.int64) - x_zp
    y = np.where(d >= 0, multiply_by_quantized_multiplier(d, m_id, s_id),
                 multiply_by_quantized_multiplier(d, m_alpha, s_alpha))
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    return [np.clip(y + out_zp, lo, hi).astype(ctx.outs[0].dtype)]


LEAKY_RELU = register(OpDef(
    kind="LEAKY_RELU", shape=same_shape, ref_float=leaky_relu_float, ref_int=leaky_relu_int, attrs=("alpha",),
    doc="leaky rectifier with a constant slope",
    lut=True, int16=True,
))
