"""HARD_SWISH: x * relu6(x + 3) / 6."""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import INT_RANGES, same_shape
from mcuforge.ops.logistic import require_int8
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference import qmath


def hard_swish_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0]
    return [(x * np.clip(x + 3.0, 0.0, 6.0) / 6.0).astype(np.float32)]


def _int16_multiplier(real: np.float32) -> tuple[int, int]:
    """QuantizeMultiplier of a float32 real, then DownScaleInt32ToInt16Multiplier."""
    m32, exponent = qmath.quantize_multiplier(float(real))
    m16 = 32767 if m32 >= qmath.INT32_MAX - (1 << 15) else (m32 + (1 << 15)) >> 16
    return m16, exponent


def hard_swish_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLite's 16-bit fixed-point HardSwish: x on a finer scale times a 'reluish' factor in
    [0, 1] (relu6(x + 3) / 6), each step in int16 as the reference kernel does it."""
    require_int8(ctx)
    (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
    hires_scale = np.float32(1.0 / 128.0) * np.float32(x_scale)
    out_m, out_exp = _int16_multiplier(hires_scale / np.float32(out_scale))
    relu_m, relu_exp = _int16_multiplier(hires_scale / np.float32(3.0 / 32768.0))
    hires = (xs[0].astype(np.int64) - x_zp) * 128
    preshift_out = qmath.saturating_rounding_doubling_high_mul(hires, out_m, bits=16)
    reluish = hires
    if relu_exp > 0:
        # All but the last bit of the left shift before the multiply, the last bit after it, so
        # only the final shift can saturate.
        reluish = qmath.saturating_left_shift(reluish, relu_exp - 1)
    reluish = qmath.saturating_rounding_doubling_high_mul(reluish, relu_m, bits=16)
    if relu_exp > 0:
        reluish = qmath.saturating_left_shift(reluish, 1)
    if relu_exp < 0:
        reluish = qmath.rounding_divide_by_pot(reluish, -relu_exp)
    reluish = (reluish + (1 << 15)) >> 1  # [-1, 1] to [0, 1]
    y = qmath.saturating_doubling_high_mul(reluish, preshift_out, bits=16)
    y = qmath.rounding_divide_by_pot(y, -out_exp) + out_zp
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    return [np.clip(y, lo, hi).astype(ctx.outs[0].dtype)]


HARD_SWISH = register(OpDef(kind="HARD_SWISH", shape=same_shape, ref_float=hard_swish_float,
                            ref_int=hard_swish_int, doc="x * relu6(x + 3) / 6", lut=True))
