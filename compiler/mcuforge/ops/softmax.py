"""SOFTMAX over the last axis: exp(beta * x) normalised. attrs: beta.
Quantized output is fixed at scale 1/256, zero point -128."""

from __future__ import annotations

import numpy as np

from mcuforge.ops import int16_tables
from mcuforge.ops.common import INT_RANGES, same_shape
from mcuforge.ops.logistic import require_int8
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference import qmath

DIFF_INTEGER_BITS = 5  # x - max(x) is rescaled to Q5.26
ACCUM_INTEGER_BITS = 12  # the sum of exponentials is kept in Q12.19


def softmax_float(ctx: Ctx, xs: Arrays) -> Arrays:
    z = xs[0].astype(np.float64) * ctx.op.attrs["beta"]
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return [(e / e.sum(axis=-1, keepdims=True)).astype(np.float32)]


def softmax_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's int8 Softmax: exp of (x - row max) in gemmlowp fixed point, summed, multiplied by
    the fixed-point reciprocal of the sum; output at scale 1/256, zero point -128, or, for an int16
    output (TFLM's softmax of int8 in, int16 out, as in its keyword model), the same value shifted
    to 16 bits at scale 1/65536, zero point -32768. int16 input (16x8 mode): TFLM's SoftmaxInt16
    with its interpolated tables (ops/int16_tables.py)."""
    if ctx.ins[0] is not None and ctx.ins[0].dtype == "int16":  # issue 11
        multiplier, shift = int16_tables.softmax_params(ctx.in_quant()[0], ctx.op.attrs["beta"])
        return [int16_tables.softmax_s16(xs[0], multiplier, shift)]
    require_int8(ctx)
    x_scale, _ = ctx.in_quant()
    real = min(ctx.op.attrs["beta"] * x_scale * float(1 << (31 - DIFF_INTEGER_BITS)), 2.0**31 - 1)
    multiplier, left_shift = qmath.quantize_multiplier(real)
    diff_min = -qmath.calculate_input_radius(DIFF_INTEGER_BITS, left_shift)
    x = xs[0].astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    used = diff >= diff_min
    # MultiplyByQuantizedMultiplierGreaterThanOne: shift left, then the doubling high multiply.
    scaled = qmath.saturating_rounding_doubling_high_mul(np.where(used, diff, 0) << left_shift, multiplier)
    exps = qmath.exp_on_negative_values(scaled, DIFF_INTEGER_BITS)
    terms = qmath.rounding_divide_by_pot(exps, ACCUM_INTEGER_BITS)
    total = np.where(used, terms, 0).sum(axis=-1, keepdims=True)
    reciprocal, bits_over_unit = qmath.get_reciprocal(total, ACCUM_INTEGER_BITS)
    dtype = ctx.outs[0].dtype  # int16: TFLM's int8 -> int16 softmax, scale 1/65536, zp -32768
    lo, hi = INT_RANGES[dtype]
    y = qmath.rounding_divide_by_pot(
        qmath.saturating_rounding_doubling_high_mul(reciprocal, exps),
        bits_over_unit + 31 - np.iinfo(dtype).bits)
    y = np.where(used, np.clip(y + lo, lo, hi), lo)
    return [y.astype(dtype)]


SOFTMAX = register(OpDef(kind="SOFTMAX", shape=same_shape, ref_float=softmax_float, ref_int=softmax_int,
                         attrs=("beta",), out_quant=(1 / 256, -128), doc="softmax over the last axis",
                         int16=True,
                         same_dtype=False))  # int8 -> int16 as in TFLM's keyword model (int16-ops)
