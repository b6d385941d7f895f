"""RSQRT: 1 / sqrt(x) elementwise (TFLite's decomposition of LayerNormalization). No attributes.

The integer reference follows TFLite Micro's elementwise.cc for int8: v = x - x_zp; v == 0 gives
127; otherwise TFLite's GetInvSqrtQuantizedMultiplierExp (a Newton-Raphson iteration in gemmlowp
fixed point) gives 1/sqrt(v) as a multiplier, applied to 1 with 20 bits of headroom, then
requantized by 1 / (sqrt(x_scale) * out_scale) (double). Negative v are invalid in TFLM (it
stops); here they give 127 like zero. One byte in, one out: the C side is a lookup table.
"""

from __future__ import annotations

import math

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import (
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    saturating_rounding_doubling_high_mul,
    saturating_rounding_multiply_by_pot,
)

SHIFT = 20
INT32_MAX = (1 << 31) - 1


def _srdhm(a: int, b: int) -> int:
    return int(saturating_rounding_doubling_high_mul(a, b))


def _pot(x: int, exponent: int) -> int:
    return int(saturating_rounding_multiply_by_pot(x, exponent))


def inv_sqrt_multiplier(value: int) -> tuple[int, int]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp(value, reverse_shift=-1): (multiplier, shift)."""
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= 1 << 29:
        value //= 4
        shift += 1
    pairs = ((32 - value.bit_length()) - 1) // 2 - 1  # (leading zeros - 1) / 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    # Fixed point with 3 integer bits (F3); a product of Fm and Fn has m + n integer bits.
    half_input = _pot(value >> 1, -1)
    half_three = (1 << 28) + (1 << 27)
    x = 1 << 28  # F3 one
    for _ in range(5):
        x3 = _pot(_srdhm(_srdhm(x, x), x), 6)  # F9 -> F3
        x = _pot(_srdhm(half_three, x) - _srdhm(half_input, x3), 3)  # F6 -> F3
    x = _srdhm(x, 1518500250)  # times sqrt(2)/2 (F0)
    if shift < 0:
        x <<= -shift
        shift = 0
    return x, -shift


def rsqrt_float(ctx: Ctx, xs: Arrays) -> Arrays:
    with np.errstate(divide="ignore", invalid="ignore"):
        return [(np.float32(1) / np.sqrt(xs[0].astype(np.float32))).astype(np.float32)]


def rsqrt_int(ctx: Ctx, xs: Arrays) -> Arrays:
    (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
    real = 1.0 / (math.sqrt(float(np.float32(x_scale))) * float(np.float32(out_scale)))
    out_mult, out_shift = quantize_multiplier(real)
    table: dict[int, int] = {}
    for q in np.unique(xs[0]).tolist():
        v = int(q) - x_zp
        if v <= 0:
            table[q] = 127
            continue
        m, s = inv_sqrt_multiplier(v)
        data = int(multiply_by_quantized_multiplier(1, m, s + SHIFT))
        y = int(multiply_by_quantized_multiplier(data, out_mult, out_shift - SHIFT)) + out_zp
        table[q] = min(max(y, -128), 127)
    lookup = np.vectorize(lambda q: table[int(q)], otypes=[np.int64])
    return [lookup(xs[0]).astype(np.int8) if xs[0].size else xs[0].astype(np.int8)]


RSQRT = register(OpDef(
    kind="RSQRT", shape=same_shape, ref_float=rsqrt_float, ref_int=rsqrt_int, doc="1 / sqrt(x)",
    lut=True,
))
